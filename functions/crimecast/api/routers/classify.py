"""POST /v1/classify: an image or a short video in the request body → the classifier's result."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from crimecast.api.context import ApiContext, Ctx
from crimecast.api.problems import Problem, problem_doc
from crimecast.api.schemas import Classification

router = APIRouter(prefix="/v1", tags=["classify"])
log = logging.getLogger(__name__)

RAW_TYPES = ("image/", "video/", "application/octet-stream")
ACCEPTED = "image/*, video/*, application/octet-stream (raw bytes) or multipart/form-data (field 'file')"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")
_BINARY = {"schema": {"type": "string", "format": "binary"}}
REQUEST_BODY = {
    "required": True,
    "description": "The image or short video: raw bytes with its media type, or a multipart form with field 'file' "
                   "(at most CRIMECAST_MAX_INLINE_BYTES, 6 MB by default; larger files go through POST /v1/uploads).",
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "the image or video file"}}}},
        "image/jpeg": _BINARY, "image/png": _BINARY, "image/webp": _BINARY, "image/*": _BINARY,
        "video/mp4": _BINARY, "video/*": _BINARY, "application/octet-stream": _BINARY,
    },
}
RESPONSES: dict[int | str, dict] = {
    400: problem_doc("Empty body, malformed multipart (no 'file' part) or a bad Content-Length, or an unknown "
                     "query parameter"),
    413: problem_doc("Body larger than the inline limit: use POST /v1/uploads"),
    415: problem_doc("Not an image/video media type, or a video this deployment cannot decode inline"),
    422: problem_doc("The bytes are not a readable image or video (the detail says what is wrong)"),
    503: problem_doc("No classifier model is deployed (or it cannot be loaded) yet"),
}


def too_large(limit: int, got: int | None = None) -> Problem:
    size = f"{got} bytes" if got is not None else "more bytes"
    return Problem(413, f"request body is {size}; /v1/classify accepts at most {limit} bytes inline "
                        "(the Lambda request limit). For larger files call POST /v1/uploads for a presigned S3 "
                        "PUT URL, upload there, then GET /v1/classifications/{id}.",
                   slug="payload-too-large", limit_bytes=limit, upload_route="/v1/uploads")


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            n = int(declared)
        except ValueError:
            raise Problem(400, f"invalid Content-Length header {declared!r}") from None
        if n > limit:
            raise too_large(limit, n)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


async def _from_multipart(request: Request, body: bytes) -> tuple[bytes, str | None, str | None]:
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    try:
        form = await MultiPartParser(request.headers, _once(body), max_files=1, max_fields=10).parse()
    except MultiPartException as exc:
        raise Problem(400, f"malformed multipart body: {exc.message}") from None
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not files:
        raise Problem(400, "multipart body has no file part; send the image or video as field 'file'")
    f = files[0]
    data = await f.read()
    await form.close()
    return data, f.filename, f.content_type


def _filename(request: Request, query_name: str | None) -> str | None:
    if query_name:
        return _SAFE_NAME.sub("_", query_name.rsplit("/", 1)[-1])[:200]
    cd = request.headers.get("content-disposition", "")
    m = re.search(r'filename="?([^";]+)"?', cd)
    return _SAFE_NAME.sub("_", m.group(1).rsplit("/", 1)[-1])[:200] if m else None


def _classify(ctx: ApiContext, data: bytes, filename: str | None, content_type: str | None) -> dict[str, Any]:
    from crimecast.models_cache import ModelNotFoundError
    from crimecast.provenance import model_summary
    from crimecast.vision import InputError

    try:
        model, ref = ctx.classifier()
    except ModelNotFoundError as exc:
        log.warning("classify: no model: %s", exc)  # the store's URI goes to the log, not the response
        raise Problem(503, f"no classifier model is deployed under {ctx.settings.classifier_model_key}/"
                           f"{ctx.settings.classifier_model_version}; see GET /v1/health", slug="no-model") from None
    try:
        out = model.classify_bytes(data, filename=filename, content_type=content_type)  # serialised per model
    except InputError as exc:
        raise Problem(422, str(exc), slug="unreadable-media") from None
    except ModuleNotFoundError as exc:
        if exc.name != "cv2":
            raise
        # The zip-packaged API ships without OpenCV (Lambda size limit); videos go through the upload route.
        raise Problem(415, "this deployment does not decode video inline; upload it with POST /v1/uploads and "
                           "poll GET /v1/classifications/{id}", slug="video-via-uploads") from None
    return {**out, "model_key": f"{ref.key}/{ref.version}",
            "model": model_summary(model.metadata, name="classifier", version=ref.version)}


@router.post("/classify", summary="Classify an image or a short video sent in the request body",
             response_model=Classification, responses=RESPONSES, openapi_extra={"requestBody": REQUEST_BODY})
async def classify(request: Request, ctx: Ctx,
                   filename: str | None = Query(None, max_length=200,
                                                description="original file name (helps tell video formats)"),
                   ) -> dict[str, Any]:
    """Risk level (High/Medium/Low), confidence, probabilities and recommended action for one image or clip."""
    t0 = time.perf_counter()
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not ctype:
        raise Problem(415, f"missing Content-Type; send one of {ACCEPTED}", slug="unsupported-media-type")
    is_multipart = ctype == "multipart/form-data"
    if not is_multipart and not ctype.startswith(RAW_TYPES):
        raise Problem(415, f"Content-Type {ctype!r} is not accepted; send one of {ACCEPTED}",
                      slug="unsupported-media-type")
    body = await read_limited(request, ctx.settings.max_inline_bytes)
    if not body:
        raise Problem(400, "empty request body: send the image or video bytes", slug="empty-body")
    name = _filename(request, filename)
    if is_multipart:
        data, part_name, part_type = await _from_multipart(request, body)
        name = name or (_SAFE_NAME.sub("_", part_name.rsplit("/", 1)[-1]) if part_name else None)
        ctype = (part_type or "application/octet-stream").lower()
        if not data:
            raise Problem(400, f"the uploaded file part {name or ''!r} is empty (0 bytes)", slug="empty-body")
    else:
        data = body
    result = await run_in_threadpool(_classify, ctx, data, name, ctype)
    result.setdefault("timings_ms", {})
    if isinstance(result["timings_ms"], dict):
        result["timings_ms"]["request"] = round((time.perf_counter() - t0) * 1000.0, 2)
    return result
