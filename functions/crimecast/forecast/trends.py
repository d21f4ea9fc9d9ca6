"""Trend and seasonality tables for reports: city-wide rolling means, year-over-year change, STL."""

from __future__ import annotations

import numpy as np
import pandas as pd


def citywide_trends(counts: pd.DataFrame) -> pd.DataFrame:
    """City-wide daily totals with 7- and 28-day trailing means and year-over-year change of the
    28-day mean (in %, vs the same day 364 days earlier: same weekday). Columns: date, count, roll7,
    roll28, yoy_pct (NaN where a year of history is missing or the earlier mean is 0)."""
    if counts is None or len(counts) == 0:
        raise ValueError("counts: no rows")
    daily = counts.groupby(pd.to_datetime(counts["date"]))["count"].sum().sort_index()
    daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"), fill_value=0)
    roll7 = daily.rolling(7, min_periods=7).mean()
    roll28 = daily.rolling(28, min_periods=28).mean()
    prev = roll28.shift(364)
    yoy = (roll28 / prev.where(prev > 0) - 1.0) * 100.0
    out = pd.DataFrame({"date": daily.index.astype("datetime64[ns]"), "count": daily.to_numpy().astype(np.int64),
                        "roll7": roll7.to_numpy(), "roll28": roll28.to_numpy(), "yoy_pct": yoy.to_numpy()})
    return out.reset_index(drop=True)


def stl_decompose(series: pd.Series, period: int = 7) -> pd.DataFrame:
    """STL (statsmodels, robust) of a daily series with a DatetimeIndex. Missing days are filled with 0
    (counts are zero-filled by contract). Columns: date, observed, trend, seasonal, resid."""
    from statsmodels.tsa.seasonal import STL

    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("stl_decompose: the series needs a DatetimeIndex (daily)")
    s = series.sort_index().astype(float)
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
    if len(s) < 2 * period + 1:
        raise ValueError(f"stl_decompose: {len(s)} days is too short for period {period} (needs ≥ {2 * period + 1})")
    res = STL(s.to_numpy(), period=period, robust=True).fit()
    return pd.DataFrame({"date": s.index.astype("datetime64[ns]"), "observed": s.to_numpy(),
                         "trend": res.trend, "seasonal": res.seasonal, "resid": res.resid})


def series_trends(counts: pd.DataFrame, period: int = 7) -> pd.DataFrame:
    """STL per district × category series, stacked with district/category columns."""
    parts = []
    for (d, c), g in counts.groupby(["district", "category"], sort=True):
        s = pd.Series(g["count"].to_numpy(float), index=pd.DatetimeIndex(g["date"]))
        t = stl_decompose(s, period)
        t.insert(1, "district", d)
        t.insert(2, "category", c)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)
