"""GET /v1/health: model versions and the latest forecast run."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from crimecast import __version__
from crimecast.api.context import ApiContext, Ctx
from crimecast.api.schemas import Health

router = APIRouter(prefix="/v1", tags=["health"])
log = logging.getLogger(__name__)


def _health(ctx: ApiContext) -> dict[str, Any]:
    from crimecast.layout import list_runs
    from crimecast.models_cache import list_versions

    s = ctx.settings
    problems: list[str] = []
    models: dict[str, Any] = {}
    summaries: list[dict[str, Any]] = []
    for name, key, version in (("classifier", s.classifier_model_key, s.classifier_model_version),
                               ("forecaster", s.forecaster_model_key, s.forecaster_model_version)):
        try:
            versions = list_versions(ctx.stores.models, key)
        except Exception as exc:  # health must answer even when the store does not (no internals in the body)
            log.warning("health: cannot list %s: %s", key, exc)
            versions = []
            problems.append(f"{name}: cannot list the models store under {key}/")
        resolved = (versions[-1] if versions else None) if version == "latest" else version
        if resolved is None or (versions and resolved not in versions):
            problems.append(f"{name}: no model at {key}/{version}")
            resolved = None
        models[name] = {"key": key, "configured_version": version, "version": resolved, "available": versions}
        summaries.append(ctx.model_summary(name, key, resolved))
    try:
        runs = list_runs(ctx.stores.results, ctx.prefixes())
    except Exception as exc:
        log.warning("health: cannot list forecast runs: %s", exc)
        runs = []
        problems.append("forecasts: cannot list the forecast runs")
    warnings = [m["warning"] for m in summaries if m["warning"]]
    return {"status": "ok" if not problems else "degraded", "version": __version__, "models": models,
            "model_summaries": summaries, "warnings": warnings,
            "latest_run": runs[-1] if runs else None, "runs": len(runs), "problems": problems}


@router.get("/health", summary="Service health, model versions (with training-data warnings), latest forecast run",
            response_model=Health)
async def health(ctx: Ctx) -> dict[str, Any]:
    """Always 200 with `status` ok|degraded, what is missing, and a plain warning per synthetic-only model."""
    return await run_in_threadpool(_health, ctx)
