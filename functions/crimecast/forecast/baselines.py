"""Baseline forecasters on the same footing as the LSTM: they see only the history before the origin.

All take `hist` (S, T) counts (crimes/day) and return point forecasts (S, horizon), ≥ 0.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def seasonal_naive(hist: np.ndarray, horizon: int, season: int = 7) -> np.ndarray:
    """The last `season` days repeated (last week repeated for season=7)."""
    hist = np.atleast_2d(hist)
    last = hist[:, -season:]
    reps = int(np.ceil(horizon / season))
    return np.tile(last, (1, reps))[:, :horizon].astype(np.float64)


def moving_average(hist: np.ndarray, horizon: int, days: int = 28) -> np.ndarray:
    """The mean of the last `days` days, flat over the horizon."""
    hist = np.atleast_2d(hist)
    m = hist[:, -days:].mean(axis=1, keepdims=True)
    return np.repeat(m, horizon, axis=1).astype(np.float64)


def dow_profile(hist: np.ndarray, horizon: int, days: int = 28, weeks: int = 8) -> np.ndarray:
    """The mean of the last `days` days × each series' day-of-week profile of the last `weeks` weeks
    (mean on that weekday / overall mean; flat where the weeks hold no crime)."""
    hist = np.atleast_2d(hist).astype(np.float64)
    t = hist.shape[1]
    n = min(weeks, t // 7) * 7
    m = hist[:, -days:].mean(axis=1, keepdims=True)
    if n == 0:
        return np.repeat(m, horizon, axis=1)
    wk = hist[:, t - n:].reshape(hist.shape[0], n // 7, 7).mean(axis=1)  # column c: the weekday of day t + c
    overall = wk.mean(axis=1, keepdims=True)
    prof = np.where(overall > 0, wk / np.where(overall > 0, overall, 1.0), 1.0)
    return m * prof[:, np.arange(horizon) % 7]


def ets(hist: np.ndarray, horizon: int, season: int = 7, fit_days: int = 730,
        alphas: tuple[float, ...] = (0.2, 0.05)) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
    """ETS(A, Ad, A) with weekly seasonality (statsmodels ETSModel), fitted per series on the last
    `fit_days` days. Returns (point (S, H), {alpha: (lo, hi)}) with model-based intervals.

    Falls back to ETS(A, N, A) and then to the 28-day mean when a fit fails (e.g. an all-zero series)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel


    hist = np.atleast_2d(hist).astype(np.float64)
    s = hist.shape[0]
    fallbacks = 0
    point = np.zeros((s, horizon))
    ints = {a: (np.zeros((s, horizon)), np.zeros((s, horizon))) for a in alphas}
    for i in range(s):
        y = hist[i, -fit_days:]
        # statsmodels' ETS prediction needs a pandas index (a bare ndarray fails inside get_prediction)
        ys = pd.Series(y, index=pd.date_range("2000-01-01", periods=len(y), freq="D"))
        done = False
        if y.std() > 0 and len(y) >= 3 * season:
            for trend in ("add", None):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        m = ETSModel(ys, error="add", trend=trend, damped_trend=trend is not None, seasonal="add",
                                     seasonal_periods=season)
                        r = m.fit(disp=False, maxiter=200)
                        pred = r.get_prediction(start=len(y), end=len(y) + horizon - 1)
                        point[i] = np.asarray(pred.predicted_mean)
                        for a in alphas:
                            sf = pred.summary_frame(alpha=a)
                            ints[a][0][i] = sf["pi_lower"].to_numpy()
                            ints[a][1][i] = sf["pi_upper"].to_numpy()
                    if np.all(np.isfinite(point[i])):
                        done = True
                        break
                except Exception:  # noqa: BLE001 - statsmodels raises many types on degenerate series
                    continue
        if not done:
            fallbacks += 1
            m28 = moving_average(y[None], horizon)[0]
            point[i] = m28
            sd = np.sqrt(m28 + 1e-9)
            for a in alphas:
                z = {0.2: 1.2816, 0.05: 1.96}.get(a, 1.96)
                ints[a][0][i] = m28 - z * sd
                ints[a][1][i] = m28 + z * sd
    if fallbacks:
        log.warning("ETS: %d of %d series could not be fitted (all-zero or degenerate): 28-day mean used",
                    fallbacks, s)
    point = np.maximum(point, 0.0)
    ints = {a: (np.maximum(lo, 0.0), np.maximum(hi, 0.0)) for a, (lo, hi) in ints.items()}
    return point, ints


BASELINES = {"seasonal_naive": seasonal_naive, "moving_average": moving_average, "dow_profile": dow_profile}
