"""The structural base forecast the network corrects, and the one post-processing step (`combine`).

Base (ratio-to-scale units): the 28-day mean × the series' day-of-week profile of the last year × the
seasonal shift seen over the same days in earlier years (shrunk) × the series' first-of-month profile
(Chicago records many crimes on the 1st: a recording artefact, large for some categories). Pure numpy,
only days before each origin; shared by training (crimecast_training), the backtest and the LiteRT server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from crimecast.forecast.features import FeatureSpec

RATIO_CLIP = 8.0
BASE_FLOOR = 0.1  # the base never drops below this ratio of the scale (all-zero history → 0.01 crimes/day)
SCALE_EPS = 0.1  # crimes/day added to the trailing mean so all-zero series stay finite


def series_scale(y_hist: np.ndarray, scale_days: int) -> np.ndarray:
    """Per-series scale (crimes/day): trailing mean of the last `scale_days` days + SCALE_EPS."""
    return y_hist[..., -scale_days:].mean(axis=-1) + SCALE_EPS


def scaled_window(yp: np.ndarray, scale_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Past counts (..., W) → (scale (...), clipped ratio yp / scale (..., W)): the per-series scaling the
    network sees."""
    scale = series_scale(yp, scale_days)
    return scale, np.minimum(yp / scale[..., None], RATIO_CLIP)


def _cumsum0(y: np.ndarray) -> np.ndarray:
    """(S, T + 1) running sums with a leading 0, so the sum of y[:, a:b] is c[:, b] - c[:, a]."""
    return np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1, dtype=np.float64)], axis=1)


def yearly_ratio(y: np.ndarray, origins: np.ndarray, horizon: int, scale_days: int) -> np.ndarray:
    """(S, O, H): the 7-day-smoothed counts 364 and 728 days before each forecast day, divided by the
    trailing `scale_days` mean before the matching origin a year (two years) earlier; averaged over the
    years available, 1.0 where there is no such history. Uses only days before the origin."""
    s, t = y.shape
    csum = _cumsum0(y)

    def mean_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # mean of y[:, a:b], a/b arrays
        return (csum[:, b] - csum[:, a]) / np.maximum(b - a, 1)

    acc = np.zeros((s, len(origins), horizon))
    n = np.zeros((1, len(origins), 1))
    for lag in (364, 728):
        o = origins - lag
        ok = o - scale_days >= 0
        if not ok.any():
            continue
        oo = np.where(ok, o, scale_days)
        base = mean_between(oo - scale_days, oo) + SCALE_EPS  # (S, O)
        days = oo[:, None] + np.arange(horizon)[None, :]  # (O, H), all < origin
        lo = np.clip(days - 3, 0, t)
        hi = np.clip(days + 4, 0, np.minimum(origins, t)[:, None])
        sm = (csum[:, hi] - csum[:, lo]) / np.maximum(hi - lo, 1)  # (S, O, H)
        r = np.minimum(sm / base[..., None], RATIO_CLIP)
        acc += np.where(ok[None, :, None], r, 0.0)
        n += ok[None, :, None]
    out = np.where(n > 0, acc / np.maximum(n, 1), 1.0)
    return out.astype(np.float32)


def dow_profile(y: np.ndarray, origins: np.ndarray, horizon: int, days: int = 364, shrink: float = 1.0) -> np.ndarray:
    """(S, O, H): each series' day-of-week profile over the `days` days before each origin, aligned to the
    forecast days: (mean on that weekday + shrink) / (overall mean + shrink). ≈ 1 for sparse series, where a
    per-weekday mean is noise. Uses only days before the origin; a day index's weekday phase is t mod 7."""
    s, t = y.shape
    origins = np.asarray(origins, dtype=np.int64)
    starts = np.maximum(origins - days, 0)
    sums = np.zeros((s, len(origins), 7))
    cnts = np.zeros((len(origins), 7))
    for k in range(7):
        cs = _cumsum0(y[:, k::7])

        # how many of the indices k, k+7, ... are < x
        hi, lo = (np.clip((np.minimum(x, t) - k + 6) // 7, 0, cs.shape[1] - 1) for x in (origins, starts))
        sums[:, :, k] = cs[:, hi] - cs[:, lo]
        cnts[:, k] = hi - lo
    mean_k = sums / np.maximum(cnts, 1)[None]
    overall = sums.sum(axis=2) / np.maximum(cnts.sum(axis=1), 1)[None]
    prof = (mean_k + shrink) / (overall[..., None] + shrink)
    prof = np.where(cnts[None] > 0, prof, 1.0)
    phase = (origins[:, None] + np.arange(horizon)[None, :]) % 7  # (O, H)
    return np.take_along_axis(prof, np.broadcast_to(phase[None], (s,) + phase.shape), axis=2).astype(np.float32)


def seasonal_shift(y: np.ndarray, origins: np.ndarray, horizon: int, scale_days: int = 28, years: int = 5,
                   smooth: float = 0.5) -> np.ndarray:
    """(S, O): per series, the median over the previous `years` years (364-day lags) of
    (mean of the `horizon` days from the origin's anniversary + smooth) / (mean of the `scale_days` days
    before it + smooth): how much the level moved over the same stretch of the year before. 1.0 where no
    earlier year is available. Uses only days before the origin (horizon < 364)."""
    s, t = y.shape
    origins = np.asarray(origins, dtype=np.int64)
    csum = _cumsum0(y)
    rs = np.full((years, s, len(origins)), np.nan)
    for k in range(1, years + 1):
        a = origins - 364 * k
        ok = (a - scale_days >= 0) & (a + horizon <= np.minimum(origins, t))
        aa = np.where(ok, a, scale_days)
        # where not ok the value is masked below; clip so a short history never indexes past its end
        tgt = (csum[:, np.minimum(aa + horizon, t)] - csum[:, np.minimum(aa, t)]) / horizon
        bas = (csum[:, np.minimum(aa, t)] - csum[:, np.minimum(aa - scale_days, t)]) / scale_days
        rs[k - 1] = np.where(ok[None], (tgt + smooth) / (bas + smooth), np.nan)
    have = np.isfinite(rs).any(axis=0)
    with np.errstate(all="ignore"):
        med = np.nanmedian(np.where(have[None], rs, 1.0), axis=0)
    return np.where(have, med, 1.0)


def dom1_profile(y: np.ndarray, origins: np.ndarray, horizon: int, day_of_month: np.ndarray, days: int = 730,
                 shrink: float = 1.0) -> np.ndarray:
    """(S, O, H): 1 except on forecast days that are the 1st of a month, where it is the series' ratio
    (mean on the 1sts of the `days` days before the origin + shrink) / (mean over all those days + shrink).
    `day_of_month` (≥ T + H,) is the day of month of every day index. Uses only days before the origin."""
    s, t = y.shape
    origins = np.asarray(origins, dtype=np.int64)
    dom = np.asarray(day_of_month)
    first = (dom[:t] == 1).astype(np.float64)
    c_all, c_1 = _cumsum0(y), _cumsum0(y * first[None, :])
    n_1 = np.concatenate([[0.0], np.cumsum(first)])
    lo = np.maximum(origins - days, 0)
    hi = np.minimum(origins, t)
    m_all = (c_all[:, hi] - c_all[:, lo]) / np.maximum(hi - lo, 1)
    k = n_1[hi] - n_1[lo]
    m_1 = (c_1[:, hi] - c_1[:, lo]) / np.maximum(k, 1)
    prof = np.where(k[None] >= 3, (m_1 + shrink) / (m_all + shrink), 1.0)  # (S, O)
    is1 = dom[origins[:, None] + np.arange(horizon)[None, :]] == 1  # (O, H)
    return np.where(is1[None], prof[..., None], 1.0).astype(np.float32)


def base_forecast(panel_y: np.ndarray, ratio: np.ndarray, origins: np.ndarray, spec: FeatureSpec,
                  day_of_month: np.ndarray | None = None) -> np.ndarray:
    """(S, O, H) structural base in ratio-to-scale units. Level: the 28-day mean (of the clipped input ratio) ×
    the shrunk seasonal shift of earlier years, averaged (spec.long_weight) with the `long_days` mean × the
    seasonal change from such a window to the forecast days in earlier years; times the day-of-week profile
    and (spec.dom1, with `day_of_month` given) the first-of-month profile. spec.base off: the 28-day mean."""
    ma = ratio[..., -spec.scale_days:].mean(axis=-1)  # (S, O)
    out = np.repeat(ma[..., None], spec.horizon, axis=-1)
    if spec.base:
        if spec.shift_years > 0 and spec.shift_power > 0:
            shift = seasonal_shift(panel_y, origins, spec.horizon, spec.scale_days, spec.shift_years)
            out = out * np.clip(shift, 1 / RATIO_CLIP, RATIO_CLIP)[..., None] ** spec.shift_power
        lw = getattr(spec, "long_weight", 0.0)
        if lw > 0 and spec.shift_years > 0:
            # A second level estimate: the longer mean × the seasonal change from that window to the forecast
            # days in earlier years (unshrunk), averaged with the first (weights chosen on 2012–2015 origins).
            d = int(spec.long_days)
            origins_ = np.asarray(origins, dtype=np.int64)
            csum = _cumsum0(panel_y)
            lo = np.maximum(origins_ - d, 0)
            hi = np.minimum(origins_, panel_y.shape[1])
            long_mean = (csum[:, hi] - csum[:, lo]) / np.maximum(hi - lo, 1)
            scale = (csum[:, hi] - csum[:, np.maximum(hi - spec.scale_days, 0)]) / spec.scale_days + SCALE_EPS
            shift_l = seasonal_shift(panel_y, origins_, spec.horizon, d, spec.shift_years)
            long_lvl = np.minimum(long_mean / scale * np.clip(shift_l, 1 / RATIO_CLIP, RATIO_CLIP), RATIO_CLIP)
            out = (1 - lw) * out + lw * long_lvl[..., None]
        out = out * dow_profile(panel_y, origins, spec.horizon, spec.dow_days, spec.dow_shrink)
        if getattr(spec, "dom1", False) and day_of_month is not None:
            out = out * np.clip(dom1_profile(panel_y, origins, spec.horizon, day_of_month), 0.2, RATIO_CLIP)
    # A series with an all-zero window has a 28-day mean of 0: a zero base would make the correction
    # target y / base undefined. The floor keeps it finite (and the forecast ≈ 0.01 crimes/day).
    return np.maximum(out, BASE_FLOOR).astype(np.float32)


def combine(correction: np.ndarray, x: dict[str, np.ndarray], blend: list[float] | np.ndarray) -> np.ndarray:
    """Forecast in counts from the network output (a multiplicative correction of the base, ≈ 1):
    y = scale × base × (w·correction + 1 − w), w per horizon day (fitted on held-out origins). ≥ 0.
    The one post-processing step shared by training, the backtest and the LiteRT server."""
    h = correction.shape[1]
    w = np.asarray(blend, float)[None, :h]
    return np.maximum(x["scale"][:, None] * x["base"][:, :h] * (w * correction + 1.0 - w), 0.0)
