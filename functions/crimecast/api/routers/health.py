"""GET /v1/health: model versions and the latest forecast run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from crimecast import __version__
from crimecast.api.context import ApiContext, Ctx

router = APIRouter(prefix="/v1", tags=["health"])


def _health(ctx: ApiContext) -> dict[str, Any]:
    from crimecast.layout import list_runs
    from crimecast.models_cache import list_versions

    s = ctx.settings
    problems: list[str] = []
    models: dict[str, Any] = {}
    for name, key, version in (("classifier", s.classifier_model_key, s.classifier_model_version),
                               ("forecaster", s.forecaster_model_key, s.forecaster_model_version)):
        try:
            versions = list_versions(ctx.stores.models, key)
        except Exception as exc:  # health must answer even when the store does not
            versions = []
            problems.append(f"{name}: cannot list {ctx.stores.models.uri(key)}: {type(exc).__name__}: {exc}")
        resolved = (versions[-1] if versions else None) if version == "latest" else version
        if resolved is None or (versions and resolved not in versions):
            problems.append(f"{name}: no model at {ctx.stores.models.uri(key)}/{version}")
        models[name] = {"key": key, "configured_version": version, "version": resolved, "available": versions}
    try:
        runs = list_runs(ctx.stores.results, ctx.prefixes())
    except Exception as exc:
        runs = []
        problems.append(f"forecasts: cannot list runs: {type(exc).__name__}: {exc}")
    return {"status": "ok" if not problems else "degraded", "version": __version__, "models": models,
            "latest_run": runs[-1] if runs else None, "runs": len(runs), "problems": problems}


@router.get("/health", summary="Service health, model versions and the latest forecast run")
async def health(ctx: Ctx) -> dict[str, Any]:
    """Always 200 with `status` ok|degraded and what is missing."""
    return await run_in_threadpool(_health, ctx)
