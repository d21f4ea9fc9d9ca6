"""Summaries of the monitoring table: what the report, the metrics and the alarm read.

Windows are by forecast *date*: the last 28 / 90 days up to the last complete day. Relative MAE divides
the model's MAE by a baseline's MAE over exactly the same rows (rows where the baseline exists).
Everything is a ratio of sums, so the table is first reduced to sums per (date, district, horizon)
(`aggregate`: a few hundred rows per run) and the summary is computed from those (`summarize_sums`): the
forecast job never holds 10 k series × 90 runs of rows at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

WINDOWS = (28, 90)
KEYS = ["date", "district", "horizon"]
SUMS = ["n", "err", "y", "in80", "in95", "n_ma28", "err_ma28", "base_ma28", "n_snaive", "err_snaive",
        "base_snaive", "pred"]


def aggregate(mon: pd.DataFrame) -> pd.DataFrame:
    """Sums per (date, district, horizon) of one or more runs' monitoring rows."""
    if not len(mon):
        return pd.DataFrame(columns=KEYS + SUMS)
    y = mon["y_true"].to_numpy(dtype=np.float64)
    err = mon["abs_err"].to_numpy(dtype=np.float64)
    cols: dict[str, Any] = {"date": pd.to_datetime(mon["date"]).to_numpy(), "district": mon["district"].array,
                            "horizon": mon["horizon"].to_numpy(), "n": np.ones(len(mon)), "err": err, "y": y,
                            "in80": mon["in80"].to_numpy(dtype=np.float64),
                            "in95": mon["in95"].to_numpy(dtype=np.float64),
                            "pred": mon["y_pred"].to_numpy(dtype=np.float64)}
    for base in ("ma28", "snaive"):
        b = mon[f"y_{base}"].to_numpy(dtype=np.float64)
        ok = ~np.isnan(b)
        cols[f"n_{base}"] = ok.astype(np.float64)
        cols[f"err_{base}"] = np.where(ok, err, 0.0)
        cols[f"base_{base}"] = np.where(ok, np.abs(np.nan_to_num(b) - y), 0.0)
    return pd.DataFrame(cols).groupby(KEYS, sort=False, observed=True)[SUMS].sum().reset_index()


def _stats(s: pd.Series | dict) -> dict[str, Any]:
    n = int(s["n"])
    if not n:
        return {"n": 0}
    out: dict[str, Any] = {"n": n, "mae": s["err"] / n, "mean_actual": s["y"] / n, "coverage80": s["in80"] / n,
                           "coverage95": s["in95"] / n}
    for base in ("ma28", "snaive"):
        if s[f"n_{base}"] > 0:
            mb = s[f"base_{base}"] / s[f"n_{base}"]
            out[f"mae_{base}"] = float(mb)
            out[f"rel_mae_{base}"] = float(s[f"err_{base}"] / s[f"base_{base}"]) if mb > 0 else None
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in out.items()}


def summarize_sums(agg: pd.DataFrame, through: pd.Timestamp | str, run_date: str | None = None,
                   runs: int = 0) -> dict[str, Any]:
    """{"through", "rows", "runs", "windows": {"28": {overall, by_district}, "90": ...}, "by_horizon", "daily"}"""
    through = pd.Timestamp(through)
    d = pd.to_datetime(agg["date"]) if len(agg) else pd.Series(dtype="datetime64[ns]")
    out: dict[str, Any] = {"run_date": run_date, "through": through.date().isoformat(),
                           "rows": int(agg["n"].sum()) if len(agg) else 0, "runs": int(runs), "windows": {}}
    for w in WINDOWS:
        sel = agg[(d > through - pd.Timedelta(days=w)).to_numpy()] if len(agg) else agg
        by_d = {str(k): _stats(g[SUMS].sum()) for k, g in sel.groupby("district", sort=True)} if len(sel) else {}
        out["windows"][str(w)] = {"overall": _stats(sel[SUMS].sum()) if len(sel) else {"n": 0},
                                  "by_district": by_d}
    sel = agg[(d > through - pd.Timedelta(days=max(WINDOWS))).to_numpy()] if len(agg) else agg
    out["by_horizon"] = [{"horizon": int(h), **_stats(g[SUMS].sum())} for h, g in sel.groupby("horizon", sort=True)] \
        if len(sel) else []
    daily = []
    if len(sel):
        for day, g in sel.groupby(pd.to_datetime(sel["date"]), sort=True):
            s = _stats(g[SUMS].sum())
            daily.append({"date": day.date().isoformat(), "mae": s["mae"], "mae_ma28": s.get("mae_ma28"),
                          "coverage80": s["coverage80"], "coverage95": s["coverage95"],
                          "actual": float(g["y"].sum()), "predicted": float(g["pred"].sum())})
    out["daily"] = daily
    return out


def summarize(mon: pd.DataFrame, through: pd.Timestamp | str, run_date: str | None = None) -> dict[str, Any]:
    """The summary of a whole monitoring table (small tables, tests); the job streams through `aggregate`."""
    runs = int(mon["run_date"].nunique()) if len(mon) else 0
    return summarize_sums(aggregate(mon), through, run_date, runs)
