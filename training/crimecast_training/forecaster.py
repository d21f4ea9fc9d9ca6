"""Global LSTM forecaster: Keras model, training protocol and TFLite export (the only TF code path).

Protocol (all on data strictly before the end of the given counts):
1. Panel + windows from `crimecast.forecast.features` (the same code the LiteRT server uses).
2. The last `cal_days` origins (and the `horizon` days before them) are held out: training windows
   end before the calibration targets start.
3. The network outputs a multiplicative correction of the structural base forecast (28-day mean ×
   day-of-week profile, `features.base_forecast`). Train with a Poisson loss on count scale (target
   y/(scale·base), sample weight = scale), keep the epoch with the best calibration loss.
4. On the held-out origins fit (a) a per-horizon shrinkage weight of the correction toward 1 (w = 0: the
   base alone) and (b) split-conformal interval quantiles per horizon day; both are stored in
   metadata.json and applied by the server (`features.combine`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from crimecast.forecast import conformal
from crimecast.forecast.features import (
    FeatureSpec,
    FeatureState,
    Panel,
    build_panel,
    combine,
    fit_districts,
    fit_weather,
    input_dims,
    make_windows,
)

log = logging.getLogger("crimecast.train_forecaster")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TARGET_CLIP = 20.0


@dataclass
class TrainConfig:
    hidden: tuple[int, int] = (32, 32)
    dense: int = 32
    dropout: float = 0.1
    epochs: int = 8
    batch_size: int = 256
    samples_per_epoch: int = 8000
    # Chosen on development origins 2013-03-01 … 2015-07-14 (6 × 173 days, before the benchmark's 2016–2019
    # origins): an exponential moving average of the weights, a lower rate and 3 seeds steady the network
    # (epoch-to-epoch calibration MAE swung by up to 15 % with lr 2e-3, one seed, no averaging).
    learning_rate: float = 1e-3
    ema: float = 0.99  # > 0: the weights kept are an exponential moving average of the steps (momentum)
    history_days: int = 1460  # training origins within this many days before the calibration block
    cal_days: int = 90
    seeds: int = 3  # ensemble members, averaged inside the one TFLite graph
    seed: int = 0
    max_train_windows: int = 60000  # memory bound (≈ 5 KB per window): thin the origins for large panels
    max_cal_windows: int = 20000

    def with_options(self, seeds: int | None = None, learning_rate: float | None = None,
                     ema: float | None = None) -> TrainConfig:
        """A copy with the given command-line options (None or a 0 seed count keeps the default); checked, so a
        bad flag fails early. The one place train-forecaster and the backtest apply their flags."""
        import dataclasses

        if learning_rate is not None and not 0 < learning_rate < 1:
            raise ValueError(f"--learning-rate {learning_rate}: must be between 0 and 1")
        if ema is not None and not 0 <= ema < 1:
            raise ValueError(f"--ema {ema}: must be 0 (off) or a momentum in (0, 1)")
        given = {"seeds": seeds or None, "learning_rate": learning_rate, "ema": ema}
        return dataclasses.replace(self, **{k: v for k, v in given.items() if v is not None})

    @classmethod
    def quick(cls) -> TrainConfig:
        return cls(hidden=(32, 16), dense=16, epochs=4, samples_per_epoch=3000, cal_days=60, batch_size=128, seeds=1,
                   learning_rate=2e-3, ema=0.0)


@dataclass
class Trained:
    model: Any
    spec: FeatureSpec
    state: FeatureState
    config: TrainConfig
    quantiles: dict[str, list[float]]
    blend: list[float]
    info: dict[str, Any] = field(default_factory=dict)


def _import_keras() -> Any:
    import keras

    return keras


def member_name(k: int) -> str:
    """The Keras name of ensemble member k (names must differ inside the ensemble's graph)."""
    return "crimecast_forecaster" if k == 0 else f"crimecast_forecaster_{k}"


def build_model(spec: FeatureSpec, state: FeatureState, cfg: TrainConfig, unroll: bool = False,
                name: str = "crimecast_forecaster") -> Any:
    """LSTM encoder over the past window + a direct per-horizon head.

    seq (N, W, F) → LSTM → LSTM → context; context ⊕ static → Dense, repeated for every forecast day and
    joined with that day's inputs (fut (N, H, C2): calendar, events, horizon history features, base) →
    Dense → Dense → softplus: one multiplicative correction of the base per day (weights shared across days).

    Training uses unroll=False (a 60-step unrolled graph takes ~30 s to trace); export rebuilds the same
    layers with unroll=True (the only LSTM form that converts to builtin TFLite ops) and copies weights."""
    keras = _import_keras()
    from keras import layers

    dims = input_dims(spec, state)
    seq = keras.Input((spec.window, dims["seq_features"]), name="seq")
    fut = keras.Input((spec.horizon, dims["fut_features"]), name="fut")
    static = keras.Input((dims["static_features"],), name="static")
    x = layers.LSTM(cfg.hidden[0], return_sequences=True, unroll=unroll, name="lstm1")(seq)
    x = layers.Dropout(cfg.dropout)(x)
    x = layers.LSTM(cfg.hidden[1], unroll=unroll, name="lstm2")(x)
    x = layers.Dropout(cfg.dropout)(x)
    ctx = layers.Dense(cfg.dense, activation="relu", name="context")(layers.Concatenate()([x, static]))
    z = layers.Concatenate(axis=-1)([layers.RepeatVector(spec.horizon)(ctx), fut])
    z = layers.Dense(cfg.dense, activation="relu", name="day1")(z)
    z = layers.Dense(cfg.dense, activation="relu", name="day2")(z)
    # Output: correction of the base; softplus keeps forecasts ≥ 0; the bias starts at softplus⁻¹(1).
    out = layers.Dense(1, activation="softplus", name="correction",
                       bias_initializer=keras.initializers.Constant(0.5413))(z)
    out = layers.Reshape((spec.horizon,), name="ratio")(out)
    return keras.Model([seq, fut, static], out, name=name)


def _ensemble(models: list[Any], spec: FeatureSpec, state: FeatureState) -> Any:
    keras = _import_keras()
    if len(models) == 1:
        return models[0]
    dims = input_dims(spec, state)
    seq = keras.Input((spec.window, dims["seq_features"]), name="seq")
    fut = keras.Input((spec.horizon, dims["fut_features"]), name="fut")
    static = keras.Input((dims["static_features"],), name="static")
    outs = [m([seq, fut, static]) for m in models]
    out = keras.layers.Average(name="ratio_mean")(outs)
    return keras.Model([seq, fut, static], out, name="crimecast_forecaster_ensemble")


def prepare(counts: pd.DataFrame, spec: FeatureSpec, events: pd.DataFrame | None = None,
            weather: pd.DataFrame | None = None, districts: pd.DataFrame | None = None) -> tuple[Panel, FeatureState]:
    """Fit feature statistics on the given (training) tables and build the panel."""
    end = pd.to_datetime(counts["date"]).max()
    w_train = None if weather is None else weather[pd.to_datetime(weather["date"]) <= end]
    state = fit_weather(w_train) if spec.weather else FeatureState()
    if spec.district:
        state = fit_districts(districts, state)
    panel = build_panel(counts, spec, state, events=events if spec.events else None,
                        weather=weather if spec.weather else None)
    return panel, state


def _predict_ratio(model: Any, x: dict[str, np.ndarray], batch: int = 2048) -> np.ndarray:
    out = []
    for i in range(0, len(x["seq"]), batch):
        out.append(np.asarray(model([x["seq"][i:i + batch], x["fut"][i:i + batch], x["static"][i:i + batch]],
                                    training=False)))
    return np.concatenate(out) if out else np.zeros((0,))


def fit_blend(corr: np.ndarray, x: dict[str, np.ndarray], y: np.ndarray) -> list[float]:
    """Per-horizon weight w in [0, 1] of the network's correction (w·corr + 1 − w; w = 0 is the base
    forecast alone), minimising calibration MAE in counts."""
    grid = np.linspace(0, 1, 11)
    ws = []
    for j in range(corr.shape[1]):
        m = x["scale"] * x["base"][:, j]
        best = min(grid, key=lambda w: np.nanmean(np.abs(y[:, j] - m * (w * corr[:, j] + 1 - w))))
        ws.append(float(best))
    # Smooth across horizon days: per-day choices on overlapping windows are noisy.
    return [float(v) for v in pd.Series(ws).rolling(7, center=True, min_periods=1).mean().round(3)]


def per_series_trust(panel: Panel, x: dict[str, np.ndarray], yhat: np.ndarray, base: np.ndarray) -> list[dict[
        str, Any]]:
    """Per series, on the held-out calibration windows (the network's weights never saw their targets): MAE of
    the shipped forecast, of the base alone and of the simple baselines (seasonal-naive, 28-day mean, 28-day
    mean × day-of-week profile), the best baseline, and whether it beats the shipped forecast."""
    from crimecast.forecast import baselines

    y = x["target"]
    simple = {name: np.stack([fn(panel.y[s, :o][None], y.shape[1])[0] for s, o in zip(x["series"], x["origin"],
                                                                                      strict=True)])
              for name, fn in baselines.BASELINES.items()}
    out = []
    for i, (d, c) in enumerate(panel.keys):
        m = x["series"] == i
        if not m.any():
            continue
        row: dict[str, Any] = {"district": d, "category": c, "mae_model": round(float(np.mean(np.abs(yhat[m] - y[m]))),
                                                                                 4),
                               "mae_base": round(float(np.mean(np.abs(base[m] - y[m]))), 4)}
        maes = {k: float(np.mean(np.abs(v[m] - y[m]))) for k, v in simple.items()}
        best = min(maes, key=maes.__getitem__)
        row.update({f"mae_{k}": round(v, 4) for k, v in maes.items()})
        row.update({"best_baseline": best, "mae_best_baseline": round(maes[best], 4),
                    "baseline_wins": bool(maes[best] < row["mae_model"])})
        out.append(row)
    return out


def train(counts: pd.DataFrame, events: pd.DataFrame | None = None, weather: pd.DataFrame | None = None,
          districts: pd.DataFrame | None = None, spec: FeatureSpec | None = None, cfg: TrainConfig | None = None,
          init_from: Trained | None = None, epochs: int | None = None, progress: bool = False) -> Trained:
    """Train a global forecaster on every series of `counts` (all data is treated as the past)."""
    keras = _import_keras()
    spec = spec or FeatureSpec()
    cfg = cfg or TrainConfig()
    t0 = time.time()
    panel, state = prepare(counts, spec, events, weather, districts)
    n_t = len(panel.dates)
    w, h = spec.window, spec.horizon
    need = w + h + max(cfg.cal_days // 3, 7) + h
    if n_t < need:
        raise ValueError(f"counts cover {n_t} days; training needs at least {need} (window {w} + horizon {h} + "
                         f"calibration + training windows)")
    cal_days = min(cfg.cal_days, max(7, (n_t - w - 2 * h) // 3))
    cal_first = n_t - h - cal_days + 1  # first calibration origin
    cal_origins = np.arange(cal_first, n_t - h + 1)
    train_last = cal_first - h  # last training origin: its targets end before calibration targets start
    train_first = max(w, train_last - cfg.history_days)
    train_origins = np.arange(train_first, train_last + 1)
    n_s = len(panel.keys)
    if n_s * len(train_origins) > cfg.max_train_windows:  # many series: every k-th origin (newest kept)
        k = int(np.ceil(n_s * len(train_origins) / cfg.max_train_windows))
        train_origins = train_origins[::-1][::k][::-1]
    if n_s * len(cal_origins) > cfg.max_cal_windows:
        k = int(np.ceil(n_s * len(cal_origins) / cfg.max_cal_windows))
        cal_origins = cal_origins[::-1][::k][::-1]
    xtr = make_windows(panel, spec, train_origins)
    xcal = make_windows(panel, spec, cal_origins)
    # Correction targets; a rare event on a near-zero base would give a ratio in the hundreds, so clip it.
    ytr = np.minimum(xtr["target"] / (xtr["scale"][:, None] * xtr["base"]), TARGET_CLIP)
    if not np.isfinite(ytr).all():
        raise RuntimeError("internal: non-finite training targets (base or scale not positive)")
    n = len(ytr)
    log.info("training windows %d (%d series × %d origins), calibration %d, features seq=%s fut=%s static=%s",
             n, len(panel.keys), len(train_origins), len(xcal["seq"]), xtr["seq"].shape[1:], xtr["fut"].shape[1:],
             xtr["static"].shape[1:])
    models = []
    epoch_log: list[dict[str, float]] = []
    n_epochs = epochs if epochs is not None else cfg.epochs
    for k in range(cfg.seeds):
        seed = cfg.seed + 1000 * k
        keras.utils.set_random_seed(seed)
        if init_from is not None and len(init_from.info.get("_members", [])) > k:
            # Warm start (backtest): continue training the previous origin's model, which saw only older
            # data. Reusing the object also reuses its traced training graph.
            model = init_from.info["_members"][k]
        else:
            model = build_model(spec, state, cfg, name=member_name(k))
            opt = keras.optimizers.Adam(cfg.learning_rate, clipnorm=1.0, use_ema=cfg.ema > 0,
                                        ema_momentum=cfg.ema if cfg.ema > 0 else 0.99)
            model.compile(optimizer=opt, loss="poisson", jit_compile=False)
        rng = np.random.default_rng(seed)
        best, best_w = np.inf, model.get_weights()
        y_cal = xcal["target"]
        history = []
        for ep in range(n_epochs):
            idx = rng.choice(n, size=min(cfg.samples_per_epoch, n), replace=False)
            model.fit([xtr["seq"][idx], xtr["fut"][idx], xtr["static"][idx]], ytr[idx],
                      sample_weight=xtr["scale"][idx], batch_size=cfg.batch_size, epochs=1, verbose=0, shuffle=True)
            pc = _predict_ratio(model, xcal) * xcal["scale"][:, None] * xcal["base"]
            pcl = np.maximum(pc, 1e-6)
            loss = float(np.nanmean(pcl - y_cal * np.log(pcl)))
            mae = float(np.nanmean(np.abs(pc - y_cal)))
            if progress:
                log.info("seed %d epoch %d/%d: calibration Poisson loss %.4f MAE %.3f (%.0f s)", k, ep + 1,
                         n_epochs, loss, mae, time.time() - t0)
            history.append({"seed": k, "epoch": ep + 1, "calibration_poisson_loss": loss, "calibration_mae": mae})
            if not np.isfinite(loss):
                log.warning("seed %d epoch %d: calibration loss is not finite; keeping the best earlier weights "
                            "and stopping this member", k, ep + 1)
                break
            if loss < best:
                best, best_w = loss, model.get_weights()
        epoch_log.extend(history)
        model.set_weights(best_w)
        models.append(model)
    model = _ensemble(models, spec, state)
    r_cal = _predict_ratio(model, xcal)
    blend = fit_blend(r_cal, xcal, xcal["target"])
    yhat_cal = combine(r_cal, xcal, blend)
    base_cal = xcal["scale"][:, None] * xcal["base"]
    ma_cal = xcal["scale"][:, None] * xcal["seq"][:, -spec.scale_days:, 0].mean(axis=1)[:, None]
    q = conformal.fit_quantiles(xcal["target"], yhat_cal)
    iv = conformal.apply_quantiles(yhat_cal, q)
    y_cal = xcal["target"]
    info = {
        "train_seconds": round(time.time() - t0, 1),
        "n_train_windows": int(n),
        "n_calibration_windows": int(len(y_cal)),
        "train_origin_range": [str(panel.dates[train_origins[0]].date()), str(panel.dates[train_origins[-1]].date())],
        "calibration_origin_range": [str(panel.dates[cal_origins[0]].date()), str(panel.dates[cal_origins[-1]].date())],
        "calibration": {
            "mae_model_only": float(np.mean(np.abs(r_cal * base_cal - y_cal))),
            "mae_blended": float(np.mean(np.abs(yhat_cal - y_cal))),
            "mae_base": float(np.mean(np.abs(base_cal - y_cal))),
            "mae_ma28": float(np.mean(np.abs(ma_cal - y_cal))),
            "coverage80_in_sample": float(np.mean((y_cal >= iv["lo80"]) & (y_cal <= iv["hi80"]))),
        },
        "per_series": per_series_trust(panel, xcal, yhat_cal, base_cal),
        "weather_imputed_days": int(panel.weather_imputed),
        "epochs": epoch_log,
        "_members": models,
    }
    return Trained(model, spec, state, cfg, q, blend, info)


class KerasRunner:
    """Forecasts with a trained Keras model through the same post-processing as the LiteRT server
    (used by the backtest to avoid a TFLite export per origin)."""

    def __init__(self, tr: Trained) -> None:
        self.tr = tr

    def forecast(self, panel: Panel, origin_idx: int, level: Sequence[int] = conformal.LEVELS) -> dict[
            str, np.ndarray]:
        x = make_windows(panel, self.tr.spec, np.array([origin_idx]))
        corr = _predict_ratio(self.tr.model, x)
        yhat = combine(corr, x, self.tr.blend)
        iv = conformal.apply_quantiles(yhat, self.tr.quantiles, level)
        base = x["scale"][:, None] * x["base"]
        # the ablation's parts: the structural base alone and the network alone (its correction in full)
        return {"y_pred": yhat, **iv, "components": {"base": base, "network": base * corr}}


from crimecast_training.forecaster_export import data_hash, export  # noqa: E402,F401 - the public export API
