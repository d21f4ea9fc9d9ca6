"""Backtest the shipped forecaster without retraining it, against the baselines, at the same origins.

What `crimecast demo` (and anyone with a model folder) runs so the report's backtest is never empty and
takes seconds, not the hours a retraining backtest takes. The origins are chosen from the model's own
metadata so the network never saw the days it is scored on:

- counts that reach past the model's training data (`train_end`, else `training.data_range`): origins after it, fully
  out-of-sample (scope "out-of-sample");
- otherwise: origins after the last day the network's weights were fitted on (the held-out calibration
  block, `training.train_origin_range` + horizon). The weights never saw these days, but the blend weights
  and the interval widths were fitted on them, so the coverage there is optimistic (scope "calibration block").

Output: {model name: metrics dict} in the `crimecast backtest` metrics.json format (overall,
by_horizon_week, by_series, n_origins, n_series, run{model, scope, origins, ...}).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

BASELINES = ("seasonal_naive", "moving_average", "ets")
SCOPE_TEXT = {
    "other data": "the model was trained on other data (none of these series): every day here is unseen",
    "out-of-sample": "origins after the model's training data: fully out-of-sample",
    "calibration block": "origins in the model's held-out calibration block: the network never saw these days, "
                         "but its blend weights and interval widths were fitted on them (coverage is optimistic)",
}


def pick_origins(meta: dict[str, Any], counts_end: pd.Timestamp, horizon: int, n_origins: int,
                 step: int, series: set[tuple[str, str]] | None = None) -> tuple[list[pd.Timestamp], str]:
    """Origins (first forecast days) after what the model was fitted on, each with a full horizon of truth.
    `series`: the counts' (district, category) pairs; none of them among the model's `known_series` means the
    model was trained on other data, so every day is unseen (scope "other data")."""
    training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    data_end = meta.get("train_end") or training.get("data_range", [None, None])[-1]  # the last day it saw
    last_origin = counts_end - pd.Timedelta(days=horizon - 1)
    known = {tuple(map(str, k)) for k in meta.get("known_series") or []}
    if series is not None and known and not (known & series):
        origins = [last_origin - pd.Timedelta(days=i * step) for i in range(n_origins)]
        return sorted(origins), "other data"
    if data_end and pd.Timestamp(data_end) + pd.Timedelta(days=1) <= last_origin:
        first, scope = pd.Timestamp(data_end) + pd.Timedelta(days=1), "out-of-sample"
    else:
        tr = training.get("train_origin_range")
        if not tr:
            raise ValueError("the forecaster's metadata has neither a training data range before these counts' end "
                             "nor a train_origin_range: no day is known to be unseen by it")
        # the last training origin's targets end horizon-1 days after it
        first, scope = pd.Timestamp(tr[1]) + pd.Timedelta(days=horizon), "calibration block"
    if first > last_origin:
        raise ValueError(f"no origin after the model's fitted data ({first.date()}) leaves a full {horizon}-day "
                         f"horizon before the counts end ({counts_end.date()})")
    # newest first, `step` days apart, then oldest → newest
    origins = [last_origin - pd.Timedelta(days=i * step) for i in range(n_origins)]
    return sorted(o for o in origins if o >= first), scope


def _truth(counts: pd.DataFrame) -> pd.DataFrame:
    c = counts[["date", "district", "category", "count"]].copy()
    c["date"] = pd.to_datetime(c["date"])
    c["district"], c["category"] = c["district"].astype(str), c["category"].astype(str)
    return c


def _mase_scales(truth: pd.DataFrame, origin: pd.Timestamp, season: int = 7) -> pd.DataFrame:
    from crimecast.forecast.metrics import mase_scale

    past = truth[truth["date"] < origin]
    wide = past.pivot_table(index=["district", "category"], columns="date", values="count", aggfunc="sum")
    return pd.DataFrame({"origin": origin, "district": [k[0] for k in wide.index],
                         "category": [k[1] for k in wide.index],
                         "mase_scale": mase_scale(wide.fillna(0).to_numpy(float), season)})


def evaluate_shipped(forecaster: Any, counts: pd.DataFrame, events: pd.DataFrame | None = None,
                     weather: pd.DataFrame | None = None, districts: pd.DataFrame | None = None,
                     n_origins: int = 4, step: int = 28, baselines: tuple[str, ...] = BASELINES) -> dict[str, Any]:
    """{model: metrics.json dict} for the shipped forecaster (LiteRT, no retraining) and the baselines."""
    from crimecast.forecast.backtest import run_backtest
    from crimecast.forecast.metrics import compute_metrics

    t0 = time.perf_counter()
    truth = _truth(counts)
    horizon = int(forecaster.horizon)
    series = set(zip(truth["district"], truth["category"], strict=True))
    origins, scope = pick_origins(forecaster.metadata, truth["date"].max(), horizon, n_origins, step, series)
    rows, scales = [], []
    for o in origins:
        fc = forecaster.predict_next_30_days(counts, events=events, weather=weather, districts=districts,
                                             as_of=(o - pd.Timedelta(days=1)).date())
        fc = fc.assign(origin=o, district=fc["district"].astype(str), category=fc["category"].astype(str))
        rows.append(fc.merge(truth.rename(columns={"count": "y_true"}), on=["date", "district", "category"],
                             how="left"))
        scales.append(_mase_scales(truth, o))
    pred = pd.concat(rows, ignore_index=True)
    if pred["y_true"].isna().any():
        raise RuntimeError("internal: a backtest day has no recorded count")
    pred = pred.merge(pd.concat(scales, ignore_index=True), on=["origin", "district", "category"], how="left")
    lstm_s = time.perf_counter() - t0
    name = f"lstm (shipped {forecaster.version})"
    out = {name: compute_metrics(pred)}
    run = {"model": name, "scope": scope, "scope_text": SCOPE_TEXT[scope], "origins": [str(o.date()) for o in origins],
           "horizon": horizon, "retrained": False, "seconds": round(lstm_s, 2)}
    out[name]["run"] = run
    first = str(origins[0].date())
    for b in baselines:
        t = time.perf_counter()
        res = run_backtest(counts, b, n_origins=len(origins), step=step, first_origin=first, horizon=horizon,
                           progress=False)
        got = [str(pd.Timestamp(x).date()) for x in res.origins]
        if got != run["origins"]:
            raise RuntimeError(f"internal: baseline {b} used origins {got}, the model {run['origins']}")
        p = res.predictions.merge(res.mase_scale, on=["origin", "district", "category"], how="left")
        out[b] = compute_metrics(p)
        out[b]["run"] = {"model": b, "scope": scope, "origins": got, "horizon": horizon,
                         "seconds": round(time.perf_counter() - t, 2)}
    log.info("shipped-model backtest: %d origins (%s), %d series, %.1f s", len(origins), scope,
             out[name]["n_series"], time.perf_counter() - t0)
    return out


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The report's backtest dict: {"models": {...}, "n_origins": n, "scope": text}."""
    first = next(iter(result.values()))
    from crimecast.report.summary import SCOPE_SHORT as short
    return {"models": result, "n_origins": first["n_origins"], "scope": first["run"].get("scope_text", ""),
            "scope_short": short.get(first["run"].get("scope", ""), ""),
            "protocol": "shipped model scored without retraining at origins "
                        + ", ".join(first["run"]["origins"]) + f" ({first['run']['horizon']} days each)"}

