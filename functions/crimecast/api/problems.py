"""Errors as RFC 9457 problem details (`application/problem+json`), never a bare 500 for bad input."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE = "https://crimecast.example/problems/"


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, slug: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.slug = slug or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def problem_response(request: Request, status: int, detail: str, *, title: str | None = None, slug: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + (slug or HTTPStatus(status).phrase.lower().replace(" ", "-")),
            "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry: a problem document with `description`."""
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}


# Declared on every route (errors any route can give).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_doc("Bad request: an unknown query parameter (the detail names it and lists the valid ones), or a "
                     "malformed header or body"),
    422: problem_doc("A parameter or body field is invalid (the detail says which and why)"),
    500: problem_doc("Internal error: the detail says only that, with a request id to quote; never internals"),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, title=exc.title, slug=exc.slug,
                                headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem_response(request, 422, f"invalid request: {where}", slug="validation-error", errors=errors)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Never internals (paths, buckets, stack) in the body: they go to the log under a request id.
        import logging
        import uuid

        rid = uuid.uuid4().hex[:12]
        logging.getLogger("crimecast.api").exception("unhandled error %s on %s %s", rid, request.method,
                                                     request.url.path)
        return problem_response(request, 500, f"internal error (request id {rid}); the service log has the "
                                              "details", slug="internal-error", request_id=rid)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}; see /docs"
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))
