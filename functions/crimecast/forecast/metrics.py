"""Forecast accuracy metrics over a backtest predictions table.

- RMSE, MAE (crimes/day).
- MAPE over days with y_true > 0 only (zero days are excluded: MAPE is undefined there), in %.
- sMAPE = mean 200·|y-ŷ|/(|y|+|ŷ|), with 0/0 counted as 0, in %.
- MASE: MAE / in-sample seasonal-naive MAE (mean |y_t - y_{t-7}| over the history before each origin,
  per series), averaged over cells. Needs `mase_scale` per (origin, district, category).
- Poisson deviance: mean 2·(y·log(y/ŷ) - (y-ŷ)), ŷ floored at 1e-6.
- coverage80 / coverage95: share of y_true inside [lo, hi] (inclusive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _cell_metrics(df: pd.DataFrame) -> dict[str, float]:
    y = df["y_true"].to_numpy(float)
    p = df["y_pred"].to_numpy(float)
    err = y - p
    nz = y > 0
    denom = np.abs(y) + np.abs(p)
    smape = np.where(denom > 0, 200.0 * np.abs(err) / np.where(denom > 0, denom, 1.0), 0.0)
    pf = np.maximum(p, 1e-6)
    dev = 2.0 * (np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / pf), 0.0) - (y - pf))
    out = {
        "n": int(len(y)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "mape_nonzero_pct": float(np.mean(np.abs(err[nz]) / y[nz]) * 100) if nz.any() else float("nan"),
        "smape_pct": float(np.mean(smape)),
        "poisson_deviance": float(np.mean(dev)),
    }
    if "mase_scale" in df.columns:
        sc = df["mase_scale"].to_numpy(float)
        ok = sc > 0
        out["mase"] = float(np.mean(np.abs(err[ok]) / sc[ok])) if ok.any() else float("nan")
    for lvl in ("80", "95"):
        lo, hi = f"lo{lvl}", f"hi{lvl}"
        if lo in df.columns and df[lo].notna().all():
            out[f"coverage{lvl}"] = float(np.mean((y >= df[lo].to_numpy(float)) & (y <= df[hi].to_numpy(float))))
    return out


def compute_metrics(pred: pd.DataFrame) -> dict[str, object]:
    """Overall, per horizon week (days 1-7, 8-14, 15-21, 22-28, 29-30 → week 5) and per series."""
    df = pred.copy()
    h = (pd.to_datetime(df["date"]) - pd.to_datetime(df["origin"])).dt.days + 1
    df["week"] = (h - 1) // 7 + 1
    out: dict[str, object] = {
        "notes": {
            "mape": "MAPE is computed over days with y_true > 0 only",
            "mase": "scaled by the in-sample seasonal-naive (lag 7) MAE before each origin",
            "week": "horizon week: days 1-7 = 1, ..., days 29-30 = 5",
        },
        "overall": _cell_metrics(df),
        "by_horizon_week": {str(int(w)): _cell_metrics(g) for w, g in df.groupby("week")},
        "by_series": {f"{d}|{c}": _cell_metrics(g) for (d, c), g in df.groupby(["district", "category"])},
        "n_origins": int(df["origin"].nunique()),
        "n_series": int(df.groupby(["district", "category"]).ngroups),
    }
    return out


def mase_scale(hist: np.ndarray, season: int = 7) -> np.ndarray:
    """(S,) in-sample seasonal-naive MAE of each series' history (crimes/day)."""
    hist = np.atleast_2d(hist).astype(float)
    if hist.shape[1] <= season:
        return np.full(hist.shape[0], np.nan)
    return np.mean(np.abs(hist[:, season:] - hist[:, :-season]), axis=1)
