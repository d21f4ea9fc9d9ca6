"""Large files: POST /v1/uploads (presigned S3 PUT) and GET /v1/classifications/{id} (the S3-drop result)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from crimecast.api.context import ApiContext, Ctx
from crimecast.api.problems import Problem, problem_doc
from crimecast.api.schemas import StoredClassification, UploadRequest, UploadTicket
from crimecast.layout import incoming_key, incoming_prefix_of, upload_record_key

router = APIRouter(prefix="/v1", tags=["uploads"])
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_MEDIA_TYPE = re.compile(r"[A-Za-z]+/[A-Za-z0-9.+-]{1,80}")  # no parameters, no spaces, no CR/LF: it is signed
_UPLOAD_TYPES = ("image/", "video/", "application/octet-stream")
_S3_URI = re.compile(r"s3://[^\s/]+/?")
# Stored result fields that are internal (bucket names, storage keys of the result row): not served.
_INTERNAL = ("bucket", "row_key", "model_uri")


def _record_key(ctx: ApiContext, uid: str) -> str:
    return upload_record_key(ctx.settings.uploads_prefix, uid)


UPLOAD_RESPONSES: dict[int | str, dict] = {
    413: problem_doc("The declared size is over the upload limit"),
    415: problem_doc("content_type is not an image or video type"),
}
LOOKUP_RESPONSES: dict[int | str, dict] = {
    404: problem_doc("Unknown id, or not classified yet (state: awaiting-upload, classifying or expired; "
                     "Retry-After says when to poll again)"),
}


@router.post("/uploads", response_model=UploadTicket, status_code=201, responses=UPLOAD_RESPONSES,
             summary="Get a presigned S3 PUT URL for a large image or video")
def create_upload(ctx: Ctx, req: UploadRequest | None = None) -> UploadTicket:
    """Upload the file with the returned URL; the S3-drop classifier picks it up, poll `result_url`."""
    req = req or UploadRequest()
    s = ctx.settings
    ctype = req.content_type
    if ctype is not None and not (_MEDIA_TYPE.fullmatch(ctype) and ctype.lower().startswith(_UPLOAD_TYPES)):
        raise Problem(415, f"content_type {req.content_type!r} is not an image or video type",
                      slug="unsupported-media-type")
    if req.size is not None and req.size > s.max_object_bytes:
        raise Problem(413, f"size {req.size} bytes exceeds the {s.max_object_bytes}-byte limit for uploads",
                      slug="payload-too-large", limit_bytes=s.max_object_bytes)
    name = _SAFE.sub("_", req.filename.rsplit("/", 1)[-1]).strip("._") or "upload.bin"
    uid = uuid.uuid4().hex
    key = incoming_key(s.incoming_prefix, uid, name)
    url = ctx.stores.uploads.presign_put(key, s.presign_expires_s, req.content_type)
    expires = datetime.now(UTC) + timedelta(seconds=s.presign_expires_s)
    record = {"id": uid, "key": key, "filename": name, "content_type": req.content_type, "size": req.size,
              "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "expires_at": expires.isoformat(timespec="seconds")}
    ctx.stores.uploads.put_bytes(_record_key(ctx, uid), json.dumps(record).encode(), "application/json")
    headers = {"Content-Type": req.content_type} if req.content_type else {}
    return UploadTicket(id=uid, url=url, key=key, headers=headers, expires_at=record["expires_at"],
                        expires_in_s=s.presign_expires_s, max_bytes=s.max_object_bytes,
                        result_url=f"/v1/classifications/{uid}")


def _lookup(ctx: ApiContext, uid: str) -> dict[str, Any]:
    from crimecast.layout import latest_result
    from crimecast.storage import NotFound

    s = ctx.settings
    result = latest_result(ctx.stores.results, uid, s.results_prefix)
    if result is not None:
        if result.get("status") == "error":
            why = _S3_URI.sub("", str(result.get("error") or "unknown error"))[:500]
            raise Problem(422, f"the uploaded object could not be classified: {why}", slug="unreadable-media",
                          error_type=str(result.get("error_type") or "error"), id=uid)
        out = {k: v for k, v in result.items() if k not in _INTERNAL}
        if result.get("model_kind") == "clip":  # a video answered by the deployed clip model
            from crimecast.vision.clip_router import CLIP_MODEL_NAME, clip_model_key

            out["model"] = ctx.model_summary(CLIP_MODEL_NAME, clip_model_key(), result.get("model_version"))
        else:
            out["model"] = ctx.model_summary("classifier", s.classifier_model_key, result.get("model_version"))
        return out
    try:
        record = json.loads(ctx.stores.uploads.get_bytes(_record_key(ctx, uid)))
    except NotFound:
        record = None
    arrived = any(True for _ in ctx.stores.uploads.list(incoming_prefix_of(s.incoming_prefix, uid)))
    if record is None and not arrived:
        raise Problem(404, f"no upload or classification with id {uid!r}", slug="unknown-id")
    if arrived:
        raise Problem(404, f"upload {uid} arrived and is being classified; retry shortly", slug="pending",
                      headers={"Retry-After": "2"}, state="classifying")
    expired = record is not None and datetime.fromisoformat(record["expires_at"]) < datetime.now(UTC)
    if expired:
        raise Problem(404, f"upload {uid} never arrived: its URL expired at {record['expires_at']}; "
                           "request a new one with POST /v1/uploads", slug="upload-never-arrived", state="expired")
    raise Problem(404, f"upload {uid} has not arrived yet (URL valid until {record['expires_at']})",
                  slug="pending", headers={"Retry-After": "5"}, state="awaiting-upload")


@router.get("/classifications/{upload_id}", summary="The classification of an uploaded file (404 until ready)",
            response_model=StoredClassification, responses=LOOKUP_RESPONSES)
async def get_classification(ctx: Ctx, upload_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$",
                                                                          description="id from POST /v1/uploads")]
                             ) -> dict[str, Any]:
    """The stored result of the S3-drop classifier for an upload id."""
    return await run_in_threadpool(_lookup, ctx, upload_id)
