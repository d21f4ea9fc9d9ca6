"""Large files: POST /v1/uploads (presigned S3 PUT) and GET /v1/classifications/{id} (the S3-drop result)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from crimecast.api.context import ApiContext, Ctx
from crimecast.api.problems import Problem
from crimecast.layout import incoming_key, incoming_prefix_of, upload_record_key

router = APIRouter(prefix="/v1", tags=["uploads"])
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class UploadRequest(BaseModel):
    filename: str = Field("upload.bin", max_length=200, description="original file name (its extension matters)")
    content_type: str | None = Field(None, max_length=100, description="image/* or video/*; sign the PUT with it")
    size: int | None = Field(None, ge=1, description="bytes, if known (refused early when over the limit)")


class UploadTicket(BaseModel):
    id: str
    method: str = "PUT"
    url: str
    key: str
    headers: dict[str, str]
    expires_at: str
    expires_in_s: int
    result_url: str


def _record_key(ctx: ApiContext, uid: str) -> str:
    return upload_record_key(ctx.settings.uploads_prefix, uid)


@router.post("/uploads", response_model=UploadTicket, status_code=201,
             summary="Get a presigned S3 PUT URL for a large image or video")
def create_upload(ctx: Ctx, req: UploadRequest | None = None) -> UploadTicket:
    """Upload the file with the returned URL; the S3-drop classifier picks it up, poll `result_url`."""
    req = req or UploadRequest()
    s = ctx.settings
    if req.content_type and not req.content_type.lower().startswith(("image/", "video/", "application/octet-stream")):
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
                        expires_in_s=s.presign_expires_s, result_url=f"/v1/classifications/{uid}")


def _lookup(ctx: ApiContext, uid: str) -> dict[str, Any]:
    from crimecast.layout import latest_result
    from crimecast.storage import NotFound

    s = ctx.settings
    result = latest_result(ctx.stores.results, uid, s.results_prefix)
    if result is not None:
        if result.get("status") == "error":
            raise Problem(422, f"the uploaded object could not be classified: {result.get('error')}",
                          slug="unreadable-media", result=result)
        return result
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


@router.get("/classifications/{upload_id}", summary="The classification of an uploaded file (404 until ready)")
async def get_classification(ctx: Ctx, upload_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$",
                                                                          description="id from POST /v1/uploads")]
                             ) -> dict[str, Any]:
    """The stored result of the S3-drop classifier for an upload id."""
    return await run_in_threadpool(_lookup, ctx, upload_id)
