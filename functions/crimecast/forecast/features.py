"""Feature code shared by training (crimecast_training) and serving (CrimeForecaster).

One global model sees every district × category series. Each series is divided by its own trailing
28-day mean (the *scale*, crimes/day), so the network learns ratios and shape, not levels. The network
does not forecast from scratch: it outputs a multiplicative correction (≈ 1) of a structural base forecast
(28-day mean × the series' day-of-week profile of the last year × the seasonal shift seen over the same
days in earlier years, shrunk × the first-of-month profile; `crimecast.forecast.base`). Inputs:

- `seq`    (N, window, F): past ratio y/scale (clipped) + past calendar, events and weather.
- `fut`    (N, horizon, C2), one row per forecast day: known-future calendar (incl. day of month and
           holidays) + scheduled events, the direct history inputs of `crimecast.forecast.horizon`
           (recent levels, same-weekday means, last year's same days) and the structural base.
- `static` (N, K): log1p(scale) + standardised district features.

Everything the network needs at serving time (feature flags, weather and district statistics) is in
`FeatureSpec` / `FeatureState`, which round-trip through metadata.json.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crimecast.contract import EVENT_KINDS
from crimecast.forecast.base import (  # noqa: F401 - re-exported: the base model's public names
    BASE_FLOOR,
    RATIO_CLIP,
    SCALE_EPS,
    base_forecast,
    combine,
    dow_profile,
    scaled_window,
    seasonal_shift,
    series_scale,
    yearly_ratio,
)
from crimecast.forecast.horizon import HORIZON_FEATURES, horizon_features

log = logging.getLogger(__name__)

WEATHER_COLS = ("tmax_c", "tmin_c", "precip_mm", "snow_mm")


@dataclass
class FeatureSpec:
    """Which inputs the model uses and the window geometry."""

    window: int = 60
    horizon: int = 30
    scale_days: int = 28
    calendar: bool = True
    events: bool = True
    weather: bool = True
    district: bool = True
    # Direct per-horizon history inputs (crimecast.forecast.horizon: recent levels, same-weekday means, last
    # year's same days); off → zeros (the ablation's "base + calendar only" network).
    yearly: bool = True
    # Structural base forecast the network corrects multiplicatively: 28-day mean × day-of-week profile of
    # the last `dow_days` days (shrunk toward flat by `dow_shrink` crimes/day). base=False: flat 28-day mean.
    # The base also carries the seasonal change a year (up to `shift_years` years) earlier, shrunk by
    # `shift_power` (0.5 chosen on 2012–2015 origins, before the benchmark's 2016–2019 origins).
    base: bool = True
    dow_days: int = 364
    dow_shrink: float = 1.0
    shift_years: int = 5
    shift_power: float = 0.5
    dom1: bool = True  # the base carries the series' first-of-month profile (a recording artefact in Chicago)
    long_days: int = 91  # the base's second level estimate: the long mean × its seasonal change (weight below)
    long_weight: float = 0.5
    holiday_country: str = "US"
    holiday_subdiv: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSpec:
        # fields older models lack are off for them, so they keep forecasting as they were trained
        return cls(**{"dom1": False, "long_weight": 0.0,
                      **{k: v for k, v in d.items() if k in cls.__dataclass_fields__}})


@dataclass
class FeatureState:
    """Statistics fitted on training data only and reused verbatim at serving time."""

    weather_mean: list[float] = field(default_factory=lambda: [0.0] * len(WEATHER_COLS))
    weather_std: list[float] = field(default_factory=lambda: [1.0] * len(WEATHER_COLS))
    # Day-of-year climatology (366 × 4, standardised units) used to impute missing weather days.
    weather_clim: list[list[float]] | None = None
    district_cols: list[str] = field(default_factory=list)
    district_values: dict[str, list[float]] = field(default_factory=dict)  # already standardised

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureState:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# --------------------------------------------------------------------------- calendar / events


def calendar_features(dates: pd.DatetimeIndex, spec: FeatureSpec) -> np.ndarray:
    """(len(dates), 15): day-of-week one-hot, day-of-year sin/cos, first-of-month, Jan-1, public holiday,
    last day of the month, day-of-month sin/cos."""
    import holidays

    dates = pd.DatetimeIndex(dates)
    dow = np.eye(7, dtype=np.float32)[np.asarray(dates.dayofweek)]
    ang = 2 * np.pi * (np.asarray(dates.dayofyear) - 1) / 365.25
    years = sorted(set(int(y) for y in dates.year))
    try:
        hol = holidays.country_holidays(spec.holiday_country, subdiv=spec.holiday_subdiv, years=years)
    except NotImplementedError as exc:
        raise ValueError(f"holidays: unknown country/subdivision {spec.holiday_country}/{spec.holiday_subdiv}") from exc
    is_hol = np.array([d in hol for d in dates.date], dtype=np.float32)
    first = np.asarray(dates.day == 1).astype(np.float32)
    jan1 = np.asarray((dates.day == 1) & (dates.month == 1)).astype(np.float32)
    last = np.asarray(dates.is_month_end).astype(np.float32)
    dang = 2 * np.pi * (np.asarray(dates.day) - 1) / np.asarray(dates.days_in_month)
    return np.column_stack([dow, np.sin(ang), np.cos(ang), first, jan1, is_hol, last, np.sin(dang),
                            np.cos(dang)]).astype(np.float32)


N_CALENDAR = 15


def event_features(dates: pd.DatetimeIndex, districts: list[str], events: pd.DataFrame | None) -> np.ndarray:
    """(n_districts, len(dates), 4): one flag per event kind, citywide events count for every district."""
    out = np.zeros((len(districts), len(dates), len(EVENT_KINDS)), dtype=np.float32)
    if events is None or len(events) == 0:
        return out
    pos = {d: i for i, d in enumerate(pd.DatetimeIndex(dates))}
    dix = {d: i for i, d in enumerate(districts)}
    kix = {k: i for i, k in enumerate(EVENT_KINDS)}
    ev_dist = events["district"] if "district" in events.columns else pd.Series([""] * len(events))
    for day, kind, dist in zip(pd.to_datetime(events["date"]), events["kind"], ev_dist.fillna(""), strict=True):
        t = pos.get(pd.Timestamp(day).normalize())
        if t is None:
            continue
        k = kix[str(kind)]
        if dist == "" or dist is None:
            out[:, t, k] = 1.0
        elif dist in dix:
            out[dix[dist], t, k] = 1.0
    return out


# --------------------------------------------------------------------------- weather / districts


def fit_weather(weather: pd.DataFrame | None) -> FeatureState:
    """Mean/std and a day-of-year climatology from a (training-period) weather table."""
    st = FeatureState()
    if weather is None or len(weather) == 0:
        return st
    w = weather.copy()
    for c in WEATHER_COLS:
        if c not in w.columns:
            w[c] = 0.0
    vals = w[list(WEATHER_COLS)].to_numpy(dtype=np.float64)
    mean = np.nanmean(vals, axis=0)
    std = np.nanstd(vals, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
    z = (vals - mean) / std
    doy = np.asarray(pd.DatetimeIndex(w["date"]).dayofyear) - 1
    clim = np.zeros((366, len(WEATHER_COLS)))
    for j in range(len(WEATHER_COLS)):
        s = pd.Series(z[:, j]).groupby(doy).mean()
        full = s.reindex(range(366))
        # Smooth and wrap: ±7-day circular mean, so a short weather table still gives a climatology.
        arr = np.concatenate([full.to_numpy()[-7:], full.to_numpy(), full.to_numpy()[:7]])
        sm = pd.Series(arr).rolling(15, center=True, min_periods=1).mean().to_numpy()[7:-7]
        clim[:, j] = np.nan_to_num(sm, nan=0.0)
    st.weather_mean = mean.tolist()
    st.weather_std = std.tolist()
    st.weather_clim = clim.round(4).tolist()
    return st


def weather_features(dates: pd.DatetimeIndex, weather: pd.DataFrame | None, state: FeatureState) -> tuple[
        np.ndarray, int]:
    """(len(dates), 4) standardised weather; missing/NaN days take the climatology. Returns (x, n_imputed)."""
    dates = pd.DatetimeIndex(dates)
    x = np.full((len(dates), len(WEATHER_COLS)), np.nan)
    if weather is not None and len(weather):
        w = weather.set_index(pd.DatetimeIndex(weather["date"]))
        w = w[~w.index.duplicated()].reindex(dates)
        for j, c in enumerate(WEATHER_COLS):
            if c in w.columns:
                x[:, j] = (w[c].to_numpy(dtype=np.float64) - state.weather_mean[j]) / state.weather_std[j]
            elif c == "snow_mm":
                x[:, j] = (0.0 - state.weather_mean[j]) / state.weather_std[j]
    miss = ~np.isfinite(x)
    n_imputed = int(miss.any(axis=1).sum())
    if miss.any():
        clim = np.asarray(state.weather_clim) if state.weather_clim else np.zeros((366, len(WEATHER_COLS)))
        fill = clim[np.asarray(dates.dayofyear) - 1]
        x[miss] = fill[miss]
    return np.clip(x, -6, 6).astype(np.float32), n_imputed


def fit_districts(districts: pd.DataFrame | None, state: FeatureState) -> FeatureState:
    """Standardised log population, log area, log density (+ any other numeric columns)."""
    if districts is None or len(districts) == 0:
        return state
    d = districts.copy()
    feats = pd.DataFrame(index=d["district"].astype(str))
    feats["log_pop"] = np.log1p(d["population"].to_numpy(dtype=float))
    feats["log_area"] = np.log1p(d["area_km2"].to_numpy(dtype=float))
    feats["log_density"] = np.log1p(d["population"].to_numpy(dtype=float) / np.maximum(d["area_km2"].to_numpy(
        dtype=float), 1e-3))
    for c in d.columns:
        if c in ("district", "population", "area_km2"):
            continue
        if pd.api.types.is_numeric_dtype(d[c]):
            feats[c] = d[c].to_numpy(dtype=float)
    mu, sd = feats.mean(), feats.std(ddof=0).replace(0, 1.0).fillna(1.0)
    z = ((feats - mu) / sd).fillna(0.0).clip(-6, 6)
    state.district_cols = list(z.columns)
    state.district_values = {k: [round(float(v), 5) for v in row] for k, row in zip(z.index, z.to_numpy(),
                                                                                     strict=True)}
    return state


def district_features(districts: list[str], state: FeatureState) -> np.ndarray:
    k = len(state.district_cols)
    out = np.zeros((len(districts), k), dtype=np.float32)
    for i, d in enumerate(districts):
        v = state.district_values.get(d)
        if v is not None:
            out[i] = v
    return out


# --------------------------------------------------------------------------- panel + windows


@dataclass
class Panel:
    """A counts table as arrays, plus exogenous features on an extended date axis (dates + horizon)."""

    dates: pd.DatetimeIndex  # T observed days
    keys: list[tuple[str, str]]  # S series (district, category)
    y: np.ndarray  # (S, T) float32 counts
    cal: np.ndarray  # (T + H, C) calendar, shared by every series
    ev: np.ndarray  # (S, T + H, E) event flags
    wx: np.ndarray  # (T + H, 4) weather (future part is climatology; only the past is used)
    static: np.ndarray  # (S, K) district features
    weather_imputed: int = 0
    dom: np.ndarray | None = None  # (T + H,) day of month of every day index


def counts_to_matrix(counts: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[tuple[str, str]], np.ndarray]:
    """Counts (long, zero-filled) → (dates, keys, Y[S, T])."""
    wide = counts.pivot_table(index=["district", "category"], columns="date", values="count", aggfunc="sum",
                              fill_value=0, observed=True)
    wide = wide.sort_index()
    dates = pd.DatetimeIndex(wide.columns)
    full = pd.date_range(dates.min(), dates.max(), freq="D")
    if len(full) != len(dates):
        wide = wide.reindex(columns=full, fill_value=0)
        dates = full
    keys = [(str(d), str(c)) for d, c in wide.index]
    return dates, keys, wide.to_numpy(dtype=np.float32)


def build_panel(counts: pd.DataFrame, spec: FeatureSpec, state: FeatureState, events: pd.DataFrame | None = None,
                weather: pd.DataFrame | None = None) -> Panel:
    """Arrange a counts table and its exogenous tables for `make_windows`. Features that are switched
    off in `spec` (or whose table is missing) are zeros, so the input shapes never change."""
    dates, keys, y = counts_to_matrix(counts)
    ext = pd.date_range(dates[0], dates[-1] + pd.Timedelta(days=spec.horizon), freq="D")
    s = len(keys)
    cal = calendar_features(ext, spec) if spec.calendar else np.zeros((len(ext), N_CALENDAR), np.float32)
    dists = sorted({k[0] for k in keys})
    if spec.events:
        evd = event_features(ext, dists, events)
        dix = {d: i for i, d in enumerate(dists)}
        ev = evd[[dix[k[0]] for k in keys]]
    else:
        ev = np.zeros((s, len(ext), len(EVENT_KINDS)), np.float32)
    n_imp = 0
    if spec.weather:
        wx, n_imp = weather_features(ext[: len(dates)], weather, state)
        wx = np.concatenate([wx, np.zeros((spec.horizon, len(WEATHER_COLS)), np.float32)])
    else:
        wx = np.zeros((len(ext), len(WEATHER_COLS)), np.float32)
    if spec.district:
        static = district_features([k[0] for k in keys], state)
    else:
        static = np.zeros((s, len(state.district_cols)), np.float32)
    return Panel(dates, keys, y, cal, ev, wx, static, n_imp, np.asarray(ext.day, dtype=np.int64))


def make_windows(panel: Panel, spec: FeatureSpec, origins: np.ndarray,
                 series: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Model inputs for forecasts made at each origin index t (first forecast day = dates[t]).

    Returns dict with `seq` (N, W, F), `fut` (N, H, C2), `static` (N, K), `scale` (N,), `base` (N, H),
    `series` (N,),
    `origin` (N,) and `target` (N, H) in ratio units where available (NaN beyond the data).
    Rows are ordered origin-major (all series for origins[0], then origins[1], ...).
    """
    w, h = spec.window, spec.horizon
    s_idx = np.arange(len(panel.keys)) if series is None else np.asarray(series)
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) and (origins.min() < w):
        raise ValueError(f"origin index {int(origins.min())} leaves fewer than window={w} days of history")
    n_s, n_o = len(s_idx), len(origins)
    past = origins[:, None] + np.arange(-w, 0)[None, :]  # (O, W)
    fut = origins[:, None] + np.arange(h)[None, :]  # (O, H)
    yp = panel.y[s_idx][:, past]  # (S, O, W)
    scale, ratio = scaled_window(yp, spec.scale_days)  # (S, O), (S, O, W)
    cal_p = panel.cal[past]  # (O, W, C)
    wx_p = panel.wx[past]  # (O, W, 4)
    ev_p = panel.ev[s_idx][:, past]  # (S, O, W, E)
    c = cal_p.shape[-1]
    seq = np.concatenate([
        ratio[..., None],
        np.broadcast_to(cal_p[None], (n_s, n_o, w, c)),
        ev_p,
        np.broadcast_to(wx_p[None], (n_s, n_o, w, wx_p.shape[-1])),
    ], axis=-1)
    cal_f = panel.cal[fut]  # (O, H, C)
    ev_f = panel.ev[s_idx][:, fut]  # (S, O, H, E)
    hz = horizon_features(panel.y[s_idx], origins, h, spec.scale_days) if spec.yearly else np.zeros(
        (n_s, n_o, h, len(HORIZON_FEATURES)), np.float32)
    base = base_forecast(panel.y[s_idx], ratio, origins, spec, panel.dom)  # (S, O, H)
    futx = np.concatenate([np.broadcast_to(cal_f[None], (n_s, n_o, h, c)), ev_f, hz,
                           (base[..., None] - 1.0) if spec.base else np.zeros_like(base[..., None])], axis=-1)
    static = np.concatenate([np.log1p(scale)[..., None],
                             np.broadcast_to(panel.static[s_idx][:, None, :], (n_s, n_o, panel.static.shape[1]))],
                            axis=-1)
    t_len = panel.y.shape[1]
    tgt = np.full((n_s, n_o, h), np.nan, dtype=np.float32)
    ok = fut < t_len
    yy = panel.y[s_idx][:, np.minimum(fut, t_len - 1)]
    tgt[:, ok] = yy[:, ok]

    # origin-major ordering
    def om(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.swapaxes(a, 0, 1).reshape((n_o * n_s,) + a.shape[2:]))

    return {
        "seq": om(seq).astype(np.float32),
        "fut": om(futx).astype(np.float32),  # (N, H, C2) per forecast day
        "static": om(static).astype(np.float32),
        "scale": om(scale).astype(np.float32),
        "base": om(base).astype(np.float32),  # (N, H) base forecast, ratio-to-scale units
        "series": np.tile(s_idx, n_o),
        "origin": np.repeat(origins, n_s),
        "target": om(tgt),  # counts (crimes/day)
    }


def input_dims(spec: FeatureSpec, state: FeatureState) -> dict[str, int]:
    """Static shapes of the model inputs for a spec (used to build and to check a model)."""
    from crimecast.contract import EVENT_KINDS as EK

    return {
        "seq_features": 1 + N_CALENDAR + len(EK) + len(WEATHER_COLS),
        "fut_features": N_CALENDAR + len(EK) + len(HORIZON_FEATURES) + 1,  # per forecast day (fut is N×H×this)
        "static_features": 1 + len(state.district_cols),
    }
