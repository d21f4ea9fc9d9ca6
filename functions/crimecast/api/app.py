"""The FastAPI app: routers per resource, problem-details errors. Same app in Lambda (Mangum) and locally."""

from __future__ import annotations

from fastapi import FastAPI

from crimecast import __version__
from crimecast.api import problems
from crimecast.api.context import ApiContext, Stores
from crimecast.api.routers import classify, forecasts, health, uploads
from crimecast.settings import Settings


def create_app(settings: Settings | None = None, stores: Stores | None = None) -> FastAPI:
    """Build the app; settings/stores default to the environment's (S3) at the first request."""
    app = FastAPI(title="crimecast API", version=__version__,
                  description="Surveillance risk triage, 30-day crime forecasts, hotspots and patrol allocation.")
    if settings is not None or stores is not None:
        from crimecast.settings import get_settings

        s = settings or get_settings()
        app.state.ctx = ApiContext(s, stores or Stores.from_settings(s))
    problems.install(app)
    for r in (health.router, classify.router, uploads.router, forecasts.router):
        app.include_router(r)
    return app
