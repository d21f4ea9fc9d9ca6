"""Forecast routes over the latest complete forecast run in S3 (pandas is imported per request, lazily)."""

from __future__ import annotations

import importlib.util
import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from crimecast.api.context import ApiContext, Ctx
from crimecast.api.problems import Problem

router = APIRouter(prefix="/v1", tags=["forecasts"])
MAX_ROWS = 20_000  # keeps a response under the 6 MB Lambda response limit (≈ 200 bytes per row)


def _latest(ctx: ApiContext) -> tuple[dict[str, Any], Any]:
    got = ctx.latest_forecasts()
    if got is None:
        raise Problem(404, "no complete forecast run yet (the forecast job writes one; "
                           "a run counts once its manifest.json exists)", slug="no-forecast-run")
    return got


def _check_member(value: str | None, known: list[str], what: str) -> None:
    if value is not None and value not in known:
        shown = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        raise Problem(404, f"unknown {what} {value!r}; the latest run has: {shown}", slug=f"unknown-{what}",
                      known=known[:200])


def _records(df: Any) -> list[dict[str, Any]]:
    out = df.copy()
    for c in ("run_date", "date"):
        if c in out.columns:
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    recs = out.to_dict(orient="records")
    for r in recs:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                r[k] = None
    return recs


def _day_range(df: Any) -> tuple[date, date]:
    return df["date"].min().date(), df["date"].max().date()


def _forecasts(ctx: ApiContext, district: str | None, category: str | None, start: date | None, end: date | None,
               offset: int, limit: int) -> dict[str, Any]:
    import pandas as pd

    manifest, df = _latest(ctx)
    _check_member(district, sorted(df["district"].unique().tolist()), "district")
    _check_member(category, sorted(df["category"].unique().tolist()), "category")
    if start and end and start > end:
        raise Problem(400, f"from={start} is after to={end}", slug="bad-date-range")
    mask = pd.Series(True, index=df.index)
    if district is not None:
        mask &= df["district"] == district
    if category is not None:
        mask &= df["category"] == category
    if start is not None:
        mask &= df["date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= df["date"] <= pd.Timestamp(end)
    sel = df[mask]
    total = int(len(sel))
    page = sel.iloc[offset:offset + limit]
    lo, hi = _day_range(df)
    return {"run_date": manifest["run_date"], "model_version": manifest.get("model_version"),
            "forecast_from": lo.isoformat(), "forecast_to": hi.isoformat(), "total": total, "offset": offset,
            "count": int(len(page)), "next_offset": offset + limit if offset + limit < total else None,
            "units": "crimes/day", "rows": _records(page)}


@router.get("/forecasts", summary="30-day forecasts with 80/95 % intervals from the latest run")
async def forecasts(ctx: Ctx, district: str | None = None, category: str | None = None,
                    from_: Annotated[date | None, Query(alias="from", description="first date, YYYY-MM-DD")] = None,
                    to: Annotated[date | None, Query(description="last date, YYYY-MM-DD")] = None,
                    offset: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 5000) -> dict[str, Any]:
    """Forecast rows (date, district, category, horizon, y_pred, lo80, hi80, lo95, hi95), paged."""
    return await run_in_threadpool(_forecasts, ctx, district, category, from_, to, offset, limit)


def _pick_day(df: Any, day: date | None) -> Any:
    import pandas as pd

    lo, hi = _day_range(df)
    d = pd.Timestamp(day) if day is not None else pd.Timestamp(lo)
    if not (pd.Timestamp(lo) <= d <= pd.Timestamp(hi)):
        raise Problem(422, f"date {d.date()} is outside the latest run's forecast range {lo} … {hi}",
                      slug="date-out-of-range", forecast_from=lo.isoformat(), forecast_to=hi.isoformat())
    return d


def _hotspots(ctx: ApiContext, day: date | None, top: int) -> dict[str, Any]:
    manifest, df = _latest(ctx)
    d = _pick_day(df, day)
    sub = df[df["date"] == d]
    agg = sub.groupby("district", as_index=False).agg(y_pred=("y_pred", "sum"), hi80=("hi80", "sum"))
    by_cat = sub.pivot_table(index="district", columns="category", values="y_pred", aggfunc="sum")
    total = float(agg["y_pred"].sum())
    agg["share"] = agg["y_pred"] / total if total > 0 else 0.0
    agg = agg.sort_values(["y_pred", "district"], ascending=[False, True]).head(top).reset_index(drop=True)
    rows = []
    for i, r in agg.iterrows():
        cats = by_cat.loc[r["district"]].sort_values(ascending=False)
        rows.append({"rank": int(i) + 1, "district": r["district"], "y_pred": float(r["y_pred"]),
                     "hi80_sum": float(r["hi80"]), "share": float(r["share"]),
                     "top_category": str(cats.index[0]),
                     "by_category": {str(k): float(v) for k, v in cats.items()}})
    return {"run_date": manifest["run_date"], "date": d.date().isoformat(), "units": "crimes/day",
            "model_version": manifest.get("model_version"), "hotspots": rows}


@router.get("/hotspots", summary="Districts ranked by forecast crimes on one day")
async def hotspots(ctx: Ctx, date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD")] = None,
                   top: Annotated[int, Query(ge=1, le=500)] = 5) -> dict[str, Any]:
    """Top districts by total predicted crimes/day (all categories) on `date` (default: first forecast day)."""
    return await run_in_threadpool(_hotspots, ctx, date_, top)


def _allocation(ctx: ApiContext, units: int, day: date | None) -> dict[str, Any]:
    from crimecast.allocation import allocate

    manifest, df = _latest(ctx)
    d = _pick_day(df, day)
    try:
        plan = allocate(df, units, date=d)
    except ValueError as exc:
        raise Problem(422, str(exc), slug="allocation-infeasible") from None
    return {"run_date": manifest["run_date"], "date": d.date().isoformat(), "units": units,
            "model_version": manifest.get("model_version"), "districts": _records(plan)}


if importlib.util.find_spec("crimecast.allocation") is not None:

    @router.get("/allocation", summary="Patrol units per district for one forecast day")
    async def allocation(ctx: Ctx, units: Annotated[int, Query(ge=1, le=100_000, description="patrol units/shift")],
                         date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD")] = None,
                         ) -> dict[str, Any]:
        """Greedy concave allocation of `units` over districts from the latest run's forecasts."""
        return await run_in_threadpool(_allocation, ctx, units, date_)
