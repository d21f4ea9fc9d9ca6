"""Summaries of the monitoring table: what the report, the metrics and the alarm read.

Windows are by forecast *date*: the last 28 / 90 days up to the last complete day. Relative MAE divides
the model's MAE by a baseline's MAE over exactly the same rows (rows where the baseline exists).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

WINDOWS = (28, 90)


def _stats(df: pd.DataFrame) -> dict[str, Any]:
    n = int(len(df))
    if not n:
        return {"n": 0}
    err = df["abs_err"].to_numpy()
    yt = df["y_true"].to_numpy()
    out: dict[str, Any] = {"n": n, "mae": float(err.mean()), "mean_actual": float(yt.mean()),
                           "coverage80": float(df["in80"].mean()), "coverage95": float(df["in95"].mean())}
    for base, col in (("ma28", "y_ma28"), ("snaive", "y_snaive")):
        b = df[col].to_numpy()
        ok = ~np.isnan(b)
        if ok.any():
            mb = float(np.abs(b[ok] - yt[ok]).mean())
            out[f"mae_{base}"] = mb
            out[f"rel_mae_{base}"] = float(err[ok].mean() / mb) if mb > 0 else None
    return out


def summarize(mon: pd.DataFrame, through: pd.Timestamp | str, run_date: str | None = None) -> dict[str, Any]:
    """{"through", "windows": {"28": {overall, by_district}, "90": {...}}, "by_horizon": [...], "daily": [...]}"""
    through = pd.Timestamp(through)
    d = pd.to_datetime(mon["date"]) if len(mon) else pd.Series(dtype="datetime64[ns]")
    out: dict[str, Any] = {"run_date": run_date, "through": through.date().isoformat(), "rows": int(len(mon)),
                           "runs": int(mon["run_date"].nunique()) if len(mon) else 0, "windows": {}}
    for w in WINDOWS:
        sel = mon[(d > through - pd.Timedelta(days=w)).to_numpy()] if len(mon) else mon
        by_d = {str(k): _stats(g) for k, g in sel.groupby("district", sort=True)} if len(sel) else {}
        out["windows"][str(w)] = {"overall": _stats(sel), "by_district": by_d}
    sel = mon[(d > through - pd.Timedelta(days=max(WINDOWS))).to_numpy()] if len(mon) else mon
    out["by_horizon"] = [{"horizon": int(h), **_stats(g)} for h, g in sel.groupby("horizon", sort=True)] \
        if len(sel) else []
    daily = []
    if len(sel):
        for day, g in sel.groupby(pd.to_datetime(sel["date"]), sort=True):
            s = _stats(g)
            daily.append({"date": day.date().isoformat(), "mae": s["mae"], "mae_ma28": s.get("mae_ma28"),
                          "coverage80": s["coverage80"], "coverage95": s["coverage95"],
                          "actual": float(g["y_true"].sum()), "predicted": float(g["y_pred"].sum())})
    out["daily"] = daily
    return out
