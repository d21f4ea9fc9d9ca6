"""Forecast routes over the latest complete forecast run (its numpy serving artifact: no pandas, no pyarrow)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from crimecast.api.context import ApiContext, Ctx
from crimecast.api.problems import Problem, problem_doc
from crimecast.api.schemas import Allocation, ForecastPage, Hotspots

router = APIRouter(prefix="/v1", tags=["forecasts"])
MAX_ROWS = 20_000  # keeps a response under the 6 MB Lambda response limit (≈ 200 bytes per row)
MAX_UNITS = 100_000
RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: problem_doc("No complete forecast run yet, or an unknown district/category (the detail lists the "
                     "known ones)"),
    503: problem_doc("The latest run cannot be served (written by an older job without the serving artifact)"),
}
RANKING = ("districts by expected severity-weighted incidents that day (crimecast.hotspots.rank_hotspots, the "
           "report's ranking; ties by district name)")


def _latest(ctx: ApiContext) -> tuple[dict[str, Any], Any]:
    from crimecast.serving import ArtifactError

    try:
        got = ctx.latest_forecasts()
    except ArtifactError as exc:
        raise Problem(503, str(exc), slug="run-not-servable") from None
    if got is None:
        raise Problem(404, "no complete forecast run yet (the forecast job writes one; "
                           "a run counts once its manifest.json exists)", slug="no-forecast-run")
    return got


def _member(value: str | None, known: list[str], index: int | None, what: str) -> int | None:
    if value is None:
        return None
    if index is None:
        shown = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        raise Problem(404, f"unknown {what} {value!r}; the latest run has: {shown}", slug=f"unknown-{what}",
                      known=known[:200])
    return index


def _forecasts(ctx: ApiContext, district: str | None, category: str | None, start: date | None, end: date | None,
               offset: int, limit: int) -> dict[str, Any]:
    manifest, run = _latest(ctx)
    d = _member(district, run.districts, run.district_index(district) if district else None, "district")
    c = _member(category, run.categories, run.category_index(category) if category else None, "category")
    if start and end and start > end:
        raise Problem(400, f"from={start} is after to={end}", slug="bad-date-range")
    rows = run.select(d, c, start, end)
    total = int(len(rows))
    page = rows[offset:offset + limit]
    return {"run_date": manifest["run_date"], "model_version": manifest.get("model_version"),
            "forecast_from": run.dates[0], "forecast_to": run.dates[-1], "total": total, "offset": offset,
            "count": int(len(page)), "next_offset": offset + limit if offset + limit < total else None,
            "units": "crimes/day", "rows": run.records(page)}


@router.get("/forecasts", summary="30-day forecasts with 80/95 % intervals from the latest run",
            response_model=ForecastPage, responses=RUN_RESPONSES)
async def forecasts(ctx: Ctx,
                    district: Annotated[str | None, Query(max_length=200, description="only this district")] = None,
                    category: Annotated[str | None, Query(max_length=200, description="only this category")] = None,
                    from_: Annotated[date | None, Query(alias="from", description="first date, YYYY-MM-DD")] = None,
                    to: Annotated[date | None, Query(description="last date, YYYY-MM-DD")] = None,
                    offset: Annotated[int, Query(ge=0, le=10**9, description="rows to skip (paging)")] = 0,
                    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="rows per page")] = 5000,
                    ) -> dict[str, Any]:
    """Forecast rows (date, district, category, horizon, y_pred, lo80, hi80, lo95, hi95), paged."""
    return await run_in_threadpool(_forecasts, ctx, district, category, from_, to, offset, limit)


def _pick_day(run: Any, day: date | None) -> tuple[int, str]:
    if day is None:
        return 0, run.dates[0]
    t = run.day_index(day)
    if t is None:
        raise Problem(422, f"date {day} is outside the latest run's forecast range {run.dates[0]} … {run.dates[-1]}",
                      slug="date-out-of-range", forecast_from=run.dates[0], forecast_to=run.dates[-1])
    return t, run.dates[t]


def _hotspots(ctx: ApiContext, day: date | None, top: int) -> dict[str, Any]:
    manifest, run = _latest(ctx)
    t, iso = _pick_day(run, day)
    return {"run_date": manifest["run_date"], "date": iso, "units": "crimes/day",
            "model_version": manifest.get("model_version"), "ranking": RANKING, "hotspots": run.hotspots(t, top)}


@router.get("/hotspots", summary="Districts ranked by expected severity-weighted crime on one day",
            response_model=Hotspots, responses=RUN_RESPONSES)
async def hotspots(ctx: Ctx,
                   date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: the first "
                                                                                 "forecast day)")] = None,
                   top: Annotated[int, Query(ge=1, le=500, description="how many districts")] = 5) -> dict[str, Any]:
    """Top districts by expected severity-weighted incidents on `date`: the report's ranking."""
    return await run_in_threadpool(_hotspots, ctx, date_, top)


def _allocation(ctx: ApiContext, units: int, day: date | None) -> dict[str, Any]:
    manifest, run = _latest(ctx)
    t, iso = _pick_day(run, day)
    try:
        rows = run.allocation(t, units)
    except ValueError as exc:
        raise Problem(422, str(exc), slug="allocation-infeasible") from None
    return {"run_date": manifest["run_date"], "date": iso, "units": units,
            "model_version": manifest.get("model_version"), "districts": rows}


@router.get("/allocation", summary="Patrol units per district for one forecast day",
            response_model=Allocation, responses=RUN_RESPONSES)
async def allocation(ctx: Ctx,
                     units: Annotated[int, Query(ge=1, le=MAX_UNITS, description="patrol units per shift")],
                     date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: the first "
                                                                                   "forecast day)")] = None,
                     ) -> dict[str, Any]:
    """Greedy concave allocation of `units` over districts from the latest run (as `crimecast allocate`)."""
    return await run_in_threadpool(_allocation, ctx, units, date_)
