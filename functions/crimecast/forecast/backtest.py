"""Rolling-origin backtest: the same harness for the LSTM and every baseline.

At each origin every model sees only counts strictly before the origin (scaling, calibration, blend
weights and interval quantiles included) and forecasts the next `horizon` days for every series.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crimecast.forecast import baselines, conformal
from crimecast.forecast.features import counts_to_matrix
from crimecast.forecast.metrics import mase_scale

log = logging.getLogger(__name__)

MODELS = ("lstm", "seasonal_naive", "moving_average", "ets")
PRED_COLUMNS = ["origin", "date", "district", "category", "y_true", "y_pred", "lo80", "hi80", "lo95", "hi95"]
BASELINE_CAL_ORIGINS = 90  # past origins used to calibrate baseline intervals


@dataclass
class BacktestResult:
    predictions: pd.DataFrame
    mase_scale: pd.DataFrame  # origin, district, category, mase_scale
    origins: list[pd.Timestamp]
    skipped_origins: list[str]
    info: dict[str, Any]


def choose_origins(dates: pd.DatetimeIndex, horizon: int, min_history: int, n_origins: int, step: int,
                   first_origin: str | pd.Timestamp | None) -> tuple[list[pd.Timestamp], list[str]]:
    """Origins (first forecast days) that have `min_history` days before them and a full horizon after."""
    start, end = dates[0], dates[-1]
    if first_origin is not None:
        try:
            first = pd.Timestamp(first_origin).normalize()
        except ValueError:
            raise ValueError(f"--first-origin {first_origin!r} is not a date (YYYY-MM-DD)") from None
        cand = [first + pd.Timedelta(days=i * step) for i in range(n_origins)]
    else:
        last = end - pd.Timedelta(days=horizon - 1)
        cand = [last - pd.Timedelta(days=(n_origins - 1 - i) * step) for i in range(n_origins)]
    ok, skipped = [], []
    for o in cand:
        hist = (o - start).days
        if hist < min_history:
            skipped.append(f"{o.date()} (only {hist} days of history; needs {min_history})")
        elif o + pd.Timedelta(days=horizon - 1) > end:
            skipped.append(f"{o.date()} (the {horizon}-day horizon runs past the last date {end.date()})")
        else:
            ok.append(o)
    return ok, skipped


def _conformal_baseline(fn: Any, hist: np.ndarray, horizon: int, n_cal: int = BASELINE_CAL_ORIGINS) -> dict[
        str, list[float]] | None:
    """Interval quantiles for a cheap baseline from its own errors at past origins (targets < origin)."""
    t = hist.shape[1]
    first = max(28, t - horizon - n_cal + 1)
    last = t - horizon
    if last < first:
        return None
    ys, ps = [], []
    for o in range(first, last + 1):
        ps.append(fn(hist[:, :o], horizon))
        ys.append(hist[:, o:o + horizon])
    return conformal.fit_quantiles(np.concatenate(ys), np.concatenate(ps))


def run_backtest(counts: pd.DataFrame, model: str = "lstm", events: pd.DataFrame | None = None,
                 weather: pd.DataFrame | None = None, districts: pd.DataFrame | None = None, window: int = 60,
                 horizon: int = 30, n_origins: int = 8, step: int = 30, first_origin: str | None = None,
                 quick: bool = False, epochs: int | None = None, finetune_epochs: int | None = None,
                 seeds: int = 1, features: dict[str, bool] | None = None, progress: bool = True) -> BacktestResult:
    """Run the rolling-origin backtest for one model. Returns predictions in the contract columns."""
    from tqdm import tqdm

    if model not in MODELS:
        raise ValueError(f"--model {model!r}: expected one of {', '.join(MODELS)}")
    if not 1 <= horizon <= 30:
        raise ValueError(f"--horizon {horizon}: must be between 1 and 30 days (the forecaster's output length)")
    if window < 7:
        raise ValueError(f"--window {window}: must be at least 7 days")
    if n_origins < 1 or step < 1:
        raise ValueError("--origins and --step must be ≥ 1")
    dates, keys, y = counts_to_matrix(counts)
    if model == "lstm":
        min_hist = window + 3 * horizon + 60  # training windows + the held-out calibration block
    else:
        min_hist = max(window, 28, 14)
    origins, skipped = choose_origins(dates, horizon, min_hist, n_origins, step, first_origin)
    if skipped:
        log.warning("skipping %d origin(s): %s", len(skipped), "; ".join(skipped))
    if not origins:
        raise ValueError(f"no usable origin: the counts cover {dates[0].date()}..{dates[-1].date()} "
                         f"({len(dates)} days); model {model} needs ≥ {min_hist} days of history before an "
                         f"origin plus {horizon} days after it. Try fewer --origins, a smaller --step or "
                         f"another --first-origin")
    zero = [f"{d}/{c}" for (d, c), row in zip(keys, y, strict=True) if not row.any()]
    if zero:
        log.warning("%d all-zero series (forecast as ~0): %s", len(zero), ", ".join(zero[:10]))
    if model == "lstm":
        for name, tab in (("events", events), ("weather", weather), ("districts", districts)):
            if tab is None:
                log.info("no %s table: %s features are off (inputs are zeros)", name, name)
    rows, scales = [], []
    t0 = time.time()
    prev = None
    train_seconds = []
    it = tqdm(origins, desc=f"backtest {model}", unit="origin", disable=not progress)
    for o in it:
        oi = int((o - dates[0]).days)
        hist = y[:, :oi]
        truth = y[:, oi:oi + horizon]
        if model == "seasonal_naive" or model == "moving_average":
            fn = baselines.BASELINES[model]
            yhat = fn(hist, horizon)
            q = _conformal_baseline(fn, hist, horizon)
            iv = conformal.apply_quantiles(yhat, q) if q else {k: np.full_like(yhat, np.nan) for k in
                                                                ("lo80", "hi80", "lo95", "hi95")}
        elif model == "ets":
            yhat, ints = baselines.ets(hist, horizon)
            iv = {"lo80": ints[0.2][0], "hi80": ints[0.2][1], "lo95": ints[0.05][0], "hi95": ints[0.05][1]}
        else:
            yhat, iv, prev, secs = _lstm_origin(counts, o, events, weather, districts, window, horizon, quick,
                                                epochs, finetune_epochs, seeds, features, prev, keys)
            train_seconds.append(secs)
        s, h = yhat.shape
        fdates = pd.date_range(o, periods=h, freq="D")
        kk = np.array(keys, dtype=object)
        rows.append(pd.DataFrame({
            "origin": np.full(s * h, o, dtype="datetime64[ns]"),
            "date": np.tile(fdates.to_numpy(), s),
            "district": np.repeat(kk[:, 0], h),
            "category": np.repeat(kk[:, 1], h),
            "y_true": truth.ravel().astype(np.int64),
            "y_pred": np.maximum(yhat, 0.0).ravel(),
            **{k: iv[k].ravel() for k in ("lo80", "hi80", "lo95", "hi95")},
        }))
        scales.append(pd.DataFrame({"origin": o, "district": kk[:, 0], "category": kk[:, 1],
                                    "mase_scale": mase_scale(hist)}))
    pred = pd.concat(rows, ignore_index=True)[PRED_COLUMNS]
    pred["date"] = pred["date"].astype("datetime64[ns]")
    info = {"model": model, "seconds": round(time.time() - t0, 1), "window": window, "horizon": horizon,
            "n_series": len(keys), "origins": [str(o.date()) for o in origins], "skipped_origins": skipped,
            "all_zero_series": zero}
    if train_seconds:
        info["lstm_train_seconds_per_origin"] = [round(x, 1) for x in train_seconds]
    return BacktestResult(pred, pd.concat(scales, ignore_index=True), origins, skipped, info)


def _lstm_origin(counts: pd.DataFrame, origin: pd.Timestamp, events: pd.DataFrame | None,
                 weather: pd.DataFrame | None, districts: pd.DataFrame | None, window: int, horizon: int,
                 quick: bool, epochs: int | None, finetune_epochs: int | None, seeds: int,
                 features: dict[str, bool] | None, prev: Any, keys: list[tuple[str, str]]) -> tuple[
                     np.ndarray, dict[str, np.ndarray], Any, float]:
    """Train on counts strictly before `origin` (warm-started from the previous origin's model, which saw
    only older data) and forecast the next `horizon` days."""
    from crimecast_training.forecaster import KerasRunner, TrainConfig, train

    from crimecast.forecast.features import FeatureSpec, build_panel

    t0 = time.time()
    past = counts[pd.to_datetime(counts["date"]) < origin]
    spec = FeatureSpec(window=window, horizon=horizon, **(features or {}))
    cfg = TrainConfig.quick() if quick else TrainConfig()
    cfg.seeds = seeds
    if prev is None:
        n_ep = epochs if epochs is not None else cfg.epochs
    else:
        n_ep = finetune_epochs if finetune_epochs is not None else max(2, cfg.epochs // 3)
    w_past = None if weather is None else weather[pd.to_datetime(weather["date"]) < origin]
    tr = train(past, events, w_past, districts, spec, cfg, init_from=prev, epochs=n_ep, progress=True)
    secs = time.time() - t0
    panel = build_panel(past, tr.spec, tr.state, events=events if spec.events else None,
                        weather=w_past if spec.weather else None)
    if [tuple(k) for k in panel.keys] != [tuple(k) for k in keys]:
        raise RuntimeError("internal: series order differs between the backtest and the feature panel")
    out = KerasRunner(tr).forecast(panel, len(panel.dates))
    yhat = out.pop("y_pred")
    cal = tr.info["calibration"]
    log.info("origin %s: trained %d epochs in %.0f s (calibration MAE model %.3f, blended %.3f, base %.3f, "
             "MA28 %.3f)", origin.date(), n_ep, secs, cal["mae_model_only"], cal["mae_blended"], cal["mae_base"],
             cal["mae_ma28"])
    return yhat, out, tr, secs
