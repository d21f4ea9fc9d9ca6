"""The FastAPI app: routers per resource, problem-details errors. Same app in Lambda (Mangum) and locally.

The contract is strict: unknown query parameters are refused (400, naming them and the valid ones), every
route declares its request body, response model and error responses (application/problem+json), and /docs
is served from local Swagger UI assets (the fastapi-offline package), so it works without a CDN.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from crimecast import __version__
from crimecast.api import problems
from crimecast.api.context import ApiContext, Stores
from crimecast.api.problems import Problem
from crimecast.api.routers import classify, forecasts, health, uploads
from crimecast.settings import Settings

DOCS_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}
ASSETS_URL = "/docs/assets"


async def reject_unknown_query(request: Request) -> None:
    """400 for a query parameter the route does not declare (a typo must not be silently ignored).

    `async` on purpose: a plain `def` dependency costs a thread-pool hop on every request."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    valid = sorted({p.alias for p in _query_params(dependant)})
    unknown = sorted({k for k in request.query_params.keys() if k not in valid})
    if unknown:
        raise Problem(400, f"unknown query parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
                           f" for {request.method} {request.url.path}; valid: {', '.join(valid) or '(none)'}",
                      slug="unknown-query-parameter", unknown=unknown, valid=valid)


def _query_params(dependant: Any) -> list[Any]:
    out = list(dependant.query_params)
    for sub in dependant.dependencies:
        out += _query_params(sub)
    return out


def _assets_dir() -> Any:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "static"


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI, with file upload for /v1/classify) from assets installed with the package."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - docs",
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png")

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        media = DOCS_ASSETS.get(name)  # a fixed list: no request path reaches the file system
        folder = _assets_dir()
        if media is None or folder is None or not (folder / name).is_file():
            raise Problem(404, f"no docs asset {name!r}", slug="not-found")
        return Response((folder / name).read_bytes(), media_type=media,
                        headers={"Cache-Control": "public, max-age=86400"})


def create_app(settings: Settings | None = None, stores: Stores | None = None) -> FastAPI:
    """Build the app; settings/stores default to the environment's (S3) at the first request."""
    app = FastAPI(title="crimecast API", version=__version__, docs_url=None, redoc_url=None,
                  description="Surveillance risk triage, 30-day crime forecasts, hotspots and patrol allocation. "
                              "Errors are problem documents (RFC 9457, application/problem+json).",
                  dependencies=[Depends(reject_unknown_query)])
    if settings is not None or stores is not None:
        from crimecast.settings import get_settings

        s = settings or get_settings()
        app.state.ctx = ApiContext(s, stores or Stores.from_settings(s))
    problems.install(app)
    for r in (health.router, classify.router, uploads.router, forecasts.router):
        app.include_router(r, responses=problems.COMMON_RESPONSES)
    install_docs(app)
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    """Put ProblemDetails into components/schemas (the error responses refer to it); drop FastAPI's unused
    HTTPValidationError schemas (our 422 is a problem document)."""
    from crimecast.api.schemas import ProblemDetails

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        comps["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
        for unused in ("HTTPValidationError", "ValidationError"):
            if not _refers(schema["paths"], f"#/components/schemas/{unused}"):
                comps.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _refers(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, ref) for v in node)
    return False
