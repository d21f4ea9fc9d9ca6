"""The shipped forecaster behind the one forecaster interface (`crimecast.forecast.forecasters`), for the
rolling-origin backtest: at each origin it trains on the counts strictly before it (warm-started from the
previous origin's model, which saw only older data) and forecasts with the same post-processing as LiteRT.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from crimecast.forecast.conformal import LEVELS
from crimecast.forecast.features import FeatureSpec, build_panel
from crimecast.forecast.forecasters import Context

log = logging.getLogger("crimecast.forecast.backtest")


class LSTMForecaster:
    name = "lstm"

    def __init__(self, window: int = 60, quick: bool = False, epochs: int | None = None,
                 finetune_epochs: int | None = None, seeds: int | None = None,
                 features: dict[str, bool] | None = None, learning_rate: float | None = None,
                 ema: float | None = None, **_options: Any) -> None:
        self.window, self.quick, self.epochs, self.finetune_epochs = window, quick, epochs, finetune_epochs
        self.learning_rate, self.ema = learning_rate, ema
        self.seeds, self.features = seeds, features or {}
        self.prev: Any = None

    def min_history(self, window: int, horizon: int) -> int:
        return window + 3 * horizon + 60  # training windows + the held-out calibration block

    def forecast(self, y: np.ndarray, h: int, X: Context | None = None,
                 level: Sequence[int] = LEVELS) -> dict[str, np.ndarray]:
        from crimecast_training.forecaster import KerasRunner, TrainConfig, train

        if X is None or X.counts is None:
            raise ValueError("the LSTM forecaster needs the history as a counts table (Context.counts)")
        t0 = time.time()
        spec = FeatureSpec(window=self.window, horizon=h, **self.features)
        cfg = TrainConfig.quick() if self.quick else TrainConfig()
        cfg = cfg.with_options(seeds=self.seeds, learning_rate=self.learning_rate, ema=self.ema)
        if self.prev is None:
            n_ep = self.epochs if self.epochs is not None else cfg.epochs
        else:
            n_ep = self.finetune_epochs if self.finetune_epochs is not None else max(2, cfg.epochs // 3)
        for name, tab in (("events", X.events), ("weather", X.weather), ("districts", X.districts)):
            if tab is None and self.prev is None:
                log.info("no %s table: %s features are off (inputs are zeros)", name, name)
        tr = train(X.counts, X.events, X.weather, X.districts, spec, cfg, init_from=self.prev, epochs=n_ep,
                   progress=True)
        self.prev = tr
        secs = time.time() - t0
        panel = build_panel(X.counts, tr.spec, tr.state, events=X.events if spec.events else None,
                            weather=X.weather if spec.weather else None)
        if [tuple(k) for k in panel.keys] != [tuple(k) for k in X.keys]:
            raise RuntimeError("internal: series order differs between the backtest and the feature panel")
        out = KerasRunner(tr).forecast(panel, len(panel.dates), level)
        cal = tr.info["calibration"]
        log.info("origin %s: trained %d epochs in %.0f s (calibration MAE model %.3f, blended %.3f, base %.3f, "
                 "MA28 %.3f)", X.origin.date(), n_ep, secs, cal["mae_model_only"], cal["mae_blended"],
                 cal["mae_base"], cal["mae_ma28"])
        X.state.setdefault("info", {}).setdefault("lstm_train_seconds_per_origin", []).append(round(secs, 1))
        return {"mean": out.pop("y_pred"), **out}  # + "components": base alone, network alone (ablation)

