"""Direct per-horizon inputs: for every series, origin and forecast day, what the recent and the seasonal
history say about that day, in ratio-to-scale units (scale = trailing 28-day mean + SCALE_EPS).

The network (and the benchmark's LightGBM peer, which gets the very same table) forecasts each horizon
day directly from these instead of rolling a forecast forward. Pure numpy, only days before each origin.

Columns (HORIZON_FEATURES, each minus 1 so "same as the 28-day level" is 0, clipped to [-1, RATIO_CLIP - 1]):
- lvl7, lvl14, lvl91, lvl364: mean of the last 7/14/91/364 days (the known ones) / scale
- wd4, wd12: mean of the last 4/12 days on the forecast day's weekday / scale
- lag7: the same weekday in the last week (the seasonal-naive value) / scale
- ly: last year's same days (364 days earlier, ±3 days) / scale (the level a year ago, unadjusted)
- ly_ratio: last year's same days / the 28-day mean before last year's origin (seasonal change), 2-year mean
- h: the horizon day, (h - 1) / (H - 1) + 1 (so the column is (h - 1) / (H - 1))

Days before a series' first recorded crime are unknown, not zeros (a new district or category, a short history):
levels and weekday means average the known days only, and last year's inputs fall back to the long level
(ly) or to "no change" (ly_ratio) until a year is known.
"""

from __future__ import annotations

import numpy as np

from crimecast.forecast.base import RATIO_CLIP, SCALE_EPS, _cumsum0, yearly_ratio

HORIZON_FEATURES = ("lvl7", "lvl14", "lvl91", "lvl364", "wd4", "wd12", "lag7", "ly", "ly_ratio", "h")


def _same_weekday_sums(y: np.ndarray, k: int) -> np.ndarray:
    """(S, T) sum of y[t], y[t-7], ..., y[t-7(k-1)] (missing days before the start count as 0)."""
    out = np.zeros_like(y, dtype=np.float64)
    for j in range(k):
        if 7 * j < y.shape[1]:
            out[:, 7 * j:] += y[:, : y.shape[1] - 7 * j]
    return out


def horizon_features(y: np.ndarray, origins: np.ndarray, horizon: int, scale_days: int = 28) -> np.ndarray:
    """(S, O, H, len(HORIZON_FEATURES)) float32 for forecasts whose first day is each origin index."""
    y = np.asarray(y, dtype=np.float64)
    s, t = y.shape
    origins = np.asarray(origins, dtype=np.int64)
    n_o = len(origins)
    csum = _cumsum0(y)

    # A series' first recorded day: days before it are unknown, not zero (a new district or category).
    start = np.where(y.any(axis=1), np.argmax(y > 0, axis=1), 0)[:, None]  # (S, 1)

    def mean_before(o: np.ndarray, days: int) -> np.ndarray:  # (S, O) mean of the known days in y[o-days:o]
        lo = np.maximum(np.maximum(o - days, 0)[None, :], start)
        hi = np.broadcast_to(np.minimum(o, t)[None, :], lo.shape)
        lo = np.minimum(lo, hi)
        rows = np.arange(s)[:, None]
        return (csum[rows, hi] - csum[rows, lo]) / np.maximum(hi - lo, 1)

    scale = mean_before(origins, scale_days) + SCALE_EPS  # (S, O)
    hh = np.arange(horizon)
    feats = np.empty((s, n_o, horizon, len(HORIZON_FEATURES)), dtype=np.float64)
    for j, d in enumerate((7, 14, 91, 364)):
        feats[..., j] = (mean_before(origins, d) / scale)[..., None]
    # The latest day before the origin on the forecast day's weekday: o + h - 7·ceil((h + 1) / 7).
    last_same = origins[:, None] + hh[None, :] - 7 * np.ceil((hh[None, :] + 1) / 7).astype(np.int64)  # (O, H)
    ls = np.clip(last_same, 0, t - 1)
    for j, k in ((4, 4), (5, 12)):
        sums = _same_weekday_sums(y, k)
        n = np.minimum(k, (last_same[None] - start[..., None]) // 7 + 1).clip(min=1)  # known days only
        feats[..., j] = sums[:, ls] / n / scale[..., None]
    feats[..., 6] = y[:, ls] / scale[..., None]
    # last year's same days ±3 (7-day window centred 364 days before the forecast day; all before the origin)
    days = origins[:, None] + hh[None, :] - 364
    ok = days[None] - 3 >= start[..., None]  # (S, O, H): last year's days are known
    lo, hi = np.clip(days - 3, 0, t), np.clip(days + 4, 0, t)
    ly = (csum[:, hi] - csum[:, lo]) / np.maximum(hi - lo, 1)
    feats[..., 7] = np.where(ok, ly / scale[..., None], feats[..., 3])
    known = (origins[None, :] - 364 - scale_days >= start)[..., None]  # a full year + scale window known
    feats[..., 8] = np.where(known, yearly_ratio(y, origins, horizon, scale_days), 1.0)
    feats[..., 9] = 1.0 + hh[None, None, :] / max(horizon - 1, 1)
    return np.clip(feats - 1.0, -1.0, RATIO_CLIP - 1.0).astype(np.float32)
