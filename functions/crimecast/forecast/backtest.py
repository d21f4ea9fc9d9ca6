"""Rolling-origin backtest: the same harness for the LSTM and every baseline.

At each origin every model sees only counts strictly before the origin (scaling, calibration, blend
weights and interval quantiles included) and forecasts the next `horizon` days for every series, through
the one interface of `crimecast.forecast.forecasters` (no model is special-cased here).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crimecast.forecast import conformal, forecasters
from crimecast.forecast.conformal import LEVELS
from crimecast.forecast.features import counts_to_matrix
from crimecast.forecast.hotspot_metrics import naive_rankings
from crimecast.forecast.metrics import mase_scale
from crimecast.tables import BACKTEST_PREDICTIONS

log = logging.getLogger(__name__)

PRED_COLUMNS = BACKTEST_PREDICTIONS.names  # origin, date, district, category, y_true, y_pred, lo80 … hi95


@dataclass
class BacktestResult:
    predictions: pd.DataFrame
    mase_scale: pd.DataFrame  # origin, district, category, mase_scale + the hand-made hotspot ranking scores
    origins: list[pd.Timestamp]
    skipped_origins: list[str]
    info: dict[str, Any]
    components: pd.DataFrame | None = None  # origin, date, district, category, y_true, y_<part> (models with parts)


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


def run_backtest(counts: pd.DataFrame, model: str = "lstm", events: pd.DataFrame | None = None,
                 weather: pd.DataFrame | None = None, districts: pd.DataFrame | None = None, window: int = 60,
                 horizon: int = 30, n_origins: int = 8, step: int = 30, first_origin: str | None = None,
                 progress: bool = True, level: tuple[int, ...] = LEVELS, **options: Any) -> BacktestResult:
    """Run the rolling-origin backtest for one model (any name `forecasters.get` knows; `options` go to
    it, e.g. the LSTM's quick/epochs/finetune_epochs/seeds/features). Returns predictions in the
    contract columns."""
    from tqdm import tqdm

    if not 1 <= horizon <= 30:
        raise ValueError(f"--horizon {horizon}: must be between 1 and 30 days (the forecaster's output length)")
    if window < 7:
        raise ValueError(f"--window {window}: must be at least 7 days")
    if n_origins < 1 or step < 1:
        raise ValueError("--origins and --step must be ≥ 1")
    if model not in forecasters.NAMES and model not in forecasters.FORECASTERS:
        raise ValueError(f"--model {model!r}: expected one of {', '.join(forecasters.NAMES)}")
    fc = forecasters.get(model, window=window, **options)
    dates, keys, y = counts_to_matrix(counts)
    min_hist = fc.min_history(window, horizon)
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
    rows, scales, parts = [], [], []
    t0 = time.time()
    cdates = pd.to_datetime(counts["date"])
    wdates = None if weather is None else pd.to_datetime(weather["date"])
    state: dict[str, Any] = {}
    it = tqdm(origins, desc=f"backtest {model}", unit="origin", disable=not progress)
    for o in it:
        oi = int((o - dates[0]).days)
        hist = y[:, :oi]
        truth = y[:, oi:oi + horizon]
        ctx = forecasters.Context(o, dates[:oi], keys, counts[cdates < o], events,
                                  None if weather is None else weather[wdates < o], districts, state)
        out = fc.forecast(hist, horizon, ctx, level)
        yhat = np.maximum(out["mean"], 0.0)
        s, h = yhat.shape
        fdates = pd.date_range(o, periods=h, freq="D")
        kk = np.array(keys, dtype=object)
        rows.append(pd.DataFrame({
            "origin": np.full(s * h, o, dtype="datetime64[ns]"),
            "date": np.tile(fdates.to_numpy(), s),
            "district": np.repeat(kk[:, 0], h),
            "category": np.repeat(kk[:, 1], h),
            "y_true": truth.ravel().astype(np.int64),
            "y_pred": yhat.ravel(),
            **{k: np.asarray(out[k], float).ravel() for k in conformal.interval_names(level)},
        }))
        if out.get("components"):  # a model may also return its parts (the LSTM: base alone, network alone)
            parts.append(pd.DataFrame({"origin": np.full(s * h, o, dtype="datetime64[ns]"),
                                       "date": np.tile(fdates.to_numpy(), s), "district": np.repeat(kk[:, 0], h),
                                       "category": np.repeat(kk[:, 1], h), "y_true": truth.ravel().astype(np.int64),
                                       **{f"y_{k}": np.asarray(v, float).ravel()
                                          for k, v in out["components"].items()}}))
        scales.append(pd.DataFrame({"origin": o, "district": kk[:, 0], "category": kk[:, 1],
                                    "mase_scale": mase_scale(hist), **naive_rankings(y, oi)}))
    pred = pd.concat(rows, ignore_index=True)[["origin", "date", "district", "category", "y_true", "y_pred",
                                               *conformal.interval_names(level)]]
    pred["date"] = pred["date"].astype("datetime64[ns]")
    info = {"model": model, "seconds": round(time.time() - t0, 1), "window": window, "horizon": horizon,
            "n_series": len(keys), "origins": [str(o.date()) for o in origins], "skipped_origins": skipped,
            "all_zero_series": zero, **state.get("info", {})}
    comp = pd.concat(parts, ignore_index=True) if parts else None
    return BacktestResult(pred, pd.concat(scales, ignore_index=True), origins, skipped, info, comp)
