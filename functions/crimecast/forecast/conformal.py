"""Split-conformal prediction intervals for counts, calibrated per horizon day, named by level.

Residuals are normalised Poisson-style, e = (y - ŷ) / sqrt(ŷ + 1), so one set of quantiles per
horizon serves series of any level (and all-zero series). Calibrated on forecasts made at origins
whose targets lie strictly before the forecast origin (no leakage). An interval of level L (%) is
named `loL` / `hiL` (statsforecast's convention without the dash, the forecasts contract's columns).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crimecast.tables import LEVELS  # the levels every forecaster reports (the forecasts contract's lo80 … hi95)
from crimecast.tables import interval_columns as interval_names  # noqa: F401 - ["lo80", "hi80", …] by level


def normalised_residuals(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    return (y - yhat) / np.sqrt(np.maximum(yhat, 0.0) + 1.0)


def fit_quantiles(y: np.ndarray, yhat: np.ndarray, level: Sequence[int] = LEVELS) -> dict[str, list[float]]:
    """y, yhat: (N, H). Returns {"lo80": [H], "hi80": [H], ...} per level, in residual units."""
    e = normalised_residuals(np.asarray(y, float), np.asarray(yhat, float))
    out: dict[str, list[float]] = {}
    n = np.isfinite(e).sum(axis=0)
    for lv in level:
        ql = (1 - lv / 100) / 2
        qh = 1 - ql
        # finite-sample conformal correction: use the ceil((n+1)q)/n empirical quantile
        adj_h = np.minimum(1.0, np.ceil((n + 1) * qh) / np.maximum(n, 1))
        adj_l = np.maximum(0.0, np.floor((n + 1) * ql) / np.maximum(n, 1))
        out[f"lo{lv}"] = [float(np.nanquantile(e[:, j], adj_l[j])) for j in range(e.shape[1])]
        out[f"hi{lv}"] = [float(np.nanquantile(e[:, j], adj_h[j])) for j in range(e.shape[1])]
    return out


def apply_quantiles(yhat: np.ndarray, q: dict[str, list[float]], level: Sequence[int] = LEVELS) -> dict[
        str, np.ndarray]:
    """yhat (N, H) → {"lo80","hi80","lo95","hi95"} (N, H) for `level`, clipped at 0 and nested around yhat
    (a wider level always contains a narrower one)."""
    yhat = np.maximum(np.asarray(yhat, float), 0.0)
    sd = np.sqrt(yhat + 1.0)
    h = yhat.shape[1]
    out: dict[str, np.ndarray] = {}
    lo_in, hi_in = yhat, yhat
    for lv in sorted(level):
        lo = np.maximum(yhat + np.asarray(q[f"lo{lv}"], float)[None, :h] * sd, 0.0)
        hi = np.maximum(yhat + np.asarray(q[f"hi{lv}"], float)[None, :h] * sd, 0.0)
        lo_in, hi_in = np.minimum(lo, lo_in), np.maximum(hi, hi_in)
        out[f"lo{lv}"], out[f"hi{lv}"] = lo_in, hi_in
    return {k: out[k] for k in interval_names(level)}


def empty_intervals(yhat: np.ndarray, level: Sequence[int] = LEVELS) -> dict[str, np.ndarray]:
    """NaN intervals (a model that cannot calibrate any)."""
    return {k: np.full(np.shape(yhat), np.nan) for k in interval_names(level)}
