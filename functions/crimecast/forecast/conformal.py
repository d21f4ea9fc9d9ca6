"""Split-conformal prediction intervals for counts, calibrated per horizon day.

Residuals are normalised Poisson-style, e = (y - ŷ) / sqrt(ŷ + 1), so one set of quantiles per
horizon serves series of any level (and all-zero series). Calibrated on forecasts made at origins
whose targets lie strictly before the forecast origin (no leakage).
"""

from __future__ import annotations

import numpy as np

LEVELS = {"80": (0.10, 0.90), "95": (0.025, 0.975)}


def normalised_residuals(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    return (y - yhat) / np.sqrt(np.maximum(yhat, 0.0) + 1.0)


def fit_quantiles(y: np.ndarray, yhat: np.ndarray) -> dict[str, list[float]]:
    """y, yhat: (N, H). Returns {"lo80": [H], "hi80": [H], "lo95": [H], "hi95": [H]} in residual units."""
    e = normalised_residuals(np.asarray(y, float), np.asarray(yhat, float))
    out: dict[str, list[float]] = {}
    for lvl, (ql, qh) in LEVELS.items():
        n = np.isfinite(e).sum(axis=0)
        # finite-sample conformal correction: use the ceil((n+1)q)/n empirical quantile
        adj_h = np.minimum(1.0, np.ceil((n + 1) * qh) / np.maximum(n, 1))
        adj_l = np.maximum(0.0, np.floor((n + 1) * ql) / np.maximum(n, 1))
        out[f"lo{lvl}"] = [float(np.nanquantile(e[:, j], adj_l[j])) for j in range(e.shape[1])]
        out[f"hi{lvl}"] = [float(np.nanquantile(e[:, j], adj_h[j])) for j in range(e.shape[1])]
    return out


def apply_quantiles(yhat: np.ndarray, q: dict[str, list[float]]) -> dict[str, np.ndarray]:
    """yhat (N, H) → {"lo80","hi80","lo95","hi95"} (N, H), clipped at 0 and nested around yhat."""
    yhat = np.maximum(np.asarray(yhat, float), 0.0)
    sd = np.sqrt(yhat + 1.0)
    h = yhat.shape[1]
    out = {}
    for k in ("lo80", "hi80", "lo95", "hi95"):
        qq = np.asarray(q[k], float)[:h]
        out[k] = np.maximum(yhat + qq[None, :] * sd, 0.0)
    out["lo80"] = np.minimum(out["lo80"], yhat)
    out["hi80"] = np.maximum(out["hi80"], yhat)
    out["lo95"] = np.minimum(out["lo95"], out["lo80"])
    out["hi95"] = np.maximum(out["hi95"], out["hi80"])
    return out
