"""The one hotspot ranking: districts ordered by expected severity-weighted recorded incidents in a window.

Used by the report (heat map order, action summary) and meant for the API's `/v1/hotspots`, so both rank
the same way. Input: a forecasts-contract table (one run; `latest_run` picks the newest run_date).

    rank = order of Σ_{days in window} Σ_c severity_c · ŷ_{d,c,day}   (descending; ties by district name)

Severity weights come from `crimecast.allocation.severity_for` (the caller's, else the defaults, else 1),
so with a single category (e.g. Chicago's `ALL`) the ranking is by expected incidents.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

RANK_COLUMNS = ["rank", "district", "weighted", "y_pred", "lo80", "hi80", "share", "top_category", "by_category",
                "first_day", "last_day", "days"]


def latest_run(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Only the newest run_date's rows (a forecasts table may hold several runs); dates normalised."""
    df = forecasts.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    if "run_date" in df.columns:
        rd = pd.to_datetime(df["run_date"])
        df = df[rd == rd.max()]
    return df


def rank_hotspots(forecasts: pd.DataFrame, *, start: object = None, days: int = 1,
                  severity: Mapping[str, float] | None = None, top: int | None = None) -> pd.DataFrame:
    """Districts ranked by expected severity-weighted incidents over `days` days from `start` (default: the
    first forecast day). Columns RANK_COLUMNS: y_pred/lo80/hi80 are sums of the per-series values over the
    window and categories (interval sums are a rough band, not a joint interval); share = the district's share
    of the window's weighted total; by_category {category: y_pred sum}. ValueError when the window holds no
    forecast day."""
    from crimecast.allocation import severity_for

    if days < 1:
        raise ValueError(f"days must be ≥ 1, got {days}")
    fc = latest_run(forecasts)
    first = pd.Timestamp(start).normalize() if start is not None else fc["date"].min()
    last = first + pd.Timedelta(days=days - 1)
    sub = fc[(fc["date"] >= first) & (fc["date"] <= last)].copy()
    if sub.empty:
        raise ValueError(f"no forecast day in {first.date()} … {last.date()}; the forecasts cover "
                         f"{fc['date'].min().date()} … {fc['date'].max().date()}")
    sub["category"] = sub["category"].astype(str)
    sub["district"] = sub["district"].astype(str)
    w = severity_for(sorted(sub["category"].unique()), severity)
    sub["weighted"] = sub["y_pred"] * sub["category"].map(w)
    for c in ("lo80", "hi80"):
        if c not in sub.columns:
            sub[c] = float("nan")
    agg = sub.groupby("district", as_index=False).agg(weighted=("weighted", "sum"), y_pred=("y_pred", "sum"),
                                                      lo80=("lo80", "sum"), hi80=("hi80", "sum"))
    total = float(agg["weighted"].sum())
    agg["share"] = agg["weighted"] / total if total > 0 else 0.0
    agg = agg.sort_values(["weighted", "district"], ascending=[False, True]).reset_index(drop=True)
    agg.insert(0, "rank", range(1, len(agg) + 1))
    by_cat = sub.pivot_table(index="district", columns="category", values="y_pred", aggfunc="sum")
    cats = [by_cat.loc[d].sort_values(ascending=False) for d in agg["district"]]
    agg["top_category"] = [str(c.index[0]) for c in cats]
    agg["by_category"] = [{str(k): float(v) for k, v in c.items()} for c in cats]
    agg["first_day"], agg["last_day"] = first, min(last, fc["date"].max())
    agg["days"] = int(sub["date"].nunique())
    return (agg.head(top) if top else agg)[RANK_COLUMNS]
