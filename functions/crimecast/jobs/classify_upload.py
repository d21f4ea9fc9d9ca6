"""Classify an object dropped under the uploads bucket's `incoming/` prefix.

Writes, in the results store (never under the trigger prefix, so it cannot re-trigger itself):
- `results/json/<id>/<version>.json`: the classification result (or an error result), and
- `results/rows/date=YYYY-MM-DD/<id>-<version>.parquet`: the same as one Parquet row (a Hive-style
  partitioned dataset Glue/Athena can read).
Both keys are derived from the object key and its version (VersionId, else ETag), so delivering the
same object version twice overwrites the same two objects: one result, one row. A bad object gives an
error result (status "error") instead of an exception, so S3/Lambda do not retry it; the input is
never deleted. `<id>` is the upload id for keys made by `POST /v1/uploads` (incoming/<id>/<name>),
otherwise a hash of the key.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote_plus

from crimecast import layout as L
from crimecast.layout import latest_result, result_json_key, result_row_key  # noqa: F401 (re-exported; new code imports crimecast.layout)
from crimecast.storage import NotFound, Storage
from crimecast.tables import CLASSIFICATION_ROWS, classification_row

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
ROW_COLUMNS = tuple(CLASSIFICATION_ROWS.names)  # the row contract lives in crimecast.tables


class Classifier(Protocol):
    version: str

    def classify_bytes(self, data: bytes, filename: str | None = None,
                       content_type: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ObjectEvent:
    """One 'object created' notification, whatever shape it arrived in."""

    bucket: str
    key: str  # decoded
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    event_time: str | None = None


def parse_s3_event(event: dict[str, Any]) -> list[ObjectEvent]:
    """S3 notification (`Records[].s3`, keys URL-encoded with '+' for space) or EventBridge 'Object Created'."""
    out: list[ObjectEvent] = []
    if "Records" in event:
        for rec in event["Records"]:
            if "s3" not in rec:
                # An SQS-wrapped S3 notification carries it as the message body.
                if "body" in rec:
                    out.extend(parse_s3_event(json.loads(rec["body"])))
                continue
            if not str(rec.get("eventName", "ObjectCreated")).startswith("ObjectCreated"):
                continue
            obj = rec["s3"]["object"]
            out.append(ObjectEvent(rec["s3"]["bucket"]["name"], unquote_plus(obj["key"]), obj.get("versionId"),
                                   obj.get("eTag"), obj.get("size"), rec.get("eventTime")))
    elif event.get("detail-type") == "Object Created" and "detail" in event:
        d = event["detail"]
        obj = d["object"]
        # EventBridge keys are URL-encoded as well (spaces as '+').
        out.append(ObjectEvent(d["bucket"]["name"], unquote_plus(obj["key"]), obj.get("version-id"),
                               obj.get("etag"), obj.get("size"), event.get("time")))
    else:
        raise ValueError("not an S3 ObjectCreated event: expected 'Records[].s3' or EventBridge 'Object Created'")
    return out


def make_s3_event(bucket: str, key: str, *, version_id: str | None = None, etag: str = "", size: int = 0,
                  event_time: str | None = None, region: str = "us-east-1") -> dict[str, Any]:
    """An S3 ObjectCreated:Put notification shaped like the ones S3 sends (key URL-encoded, space → '+')."""
    from urllib.parse import quote_plus

    when = event_time or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag,
                           "sequencer": f"{time.time_ns():020X}"}
    if version_id:
        obj["versionId"] = version_id
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventTime": when,
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:LOCAL"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "classify-upload",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "LOCAL"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj}}]}


def result_id_for(key: str, incoming_prefix: str) -> str:
    """Upload id for `incoming/<32 hex>/<name>` keys (from POST /v1/uploads), else a hash of the key."""
    rest = key[len(incoming_prefix):] if key.startswith(incoming_prefix) else key
    first = rest.split("/", 1)[0]
    if "/" in rest and _UPLOAD_ID.match(first):
        return first
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _version_token(version_id: str | None, etag: str | None) -> str:
    token = version_id if version_id and version_id != "null" else (etag or "").strip('"')
    if not token:
        raise ValueError("object has neither a VersionId nor an ETag; cannot make the result idempotent")
    return re.sub(r"[^A-Za-z0-9._-]", "_", token)


def _parquet_bytes(row: dict[str, Any]) -> bytes:
    # pyarrow directly (no pandas) keeps this function's import cost small.
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([row], schema=CLASSIFICATION_ROWS.arrow_schema())
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def classify_object(ev: ObjectEvent, uploads: Storage, results: Storage, classifier: Classifier, *,
                    incoming_prefix: str = L.INCOMING, results_prefix: str = L.RESULTS,
                    model_key: str | None = None, max_object_bytes: int = 200_000_000,
                    force: bool = False) -> dict[str, Any]:
    """Classify one uploaded object and store its result JSON + Parquet row; return the result.

    Returns the stored result; `result["duplicate"]` is True when this object version was already done.
    Raises ValueError for keys outside the trigger prefix (the caller skips them).
    """
    if not ev.key.startswith(incoming_prefix):
        raise ValueError(f"key {ev.key!r} is not under the trigger prefix {incoming_prefix!r}")
    if results_prefix.startswith(incoming_prefix) and results.name == uploads.name:
        raise ValueError("results prefix lies under the trigger prefix: writing there would re-trigger the job")
    t0 = time.perf_counter()
    rid = result_id_for(ev.key, incoming_prefix)
    base: dict[str, Any] = {"id": rid, "bucket": ev.bucket, "key": ev.key, "event_time": ev.event_time,
                            "model_key": model_key, "model_version": getattr(classifier, "version", None)}
    version_id, etag, size, ctype = ev.version_id, ev.etag, ev.size, None
    try:
        info = uploads.head(ev.key)
        version_id = version_id or info.version_id
        etag, size, ctype = etag or info.etag, info.size, info.content_type
    except NotFound:
        info = None
    version = _version_token(version_id, etag)
    json_key = result_json_key(results_prefix, rid, version)
    if not force and results.exists(json_key):
        done = json.loads(results.get_bytes(json_key))
        done["duplicate"] = True
        return done
    base.update(version=version, version_id=version_id, etag=etag, size=size, content_type=ctype)
    result: dict[str, Any]
    if info is None:
        result = {**base, "status": "error", "error_type": "ObjectMissing",
                  "error": f"{uploads.uri(ev.key)} no longer exists (deleted before it was classified)"}
    elif size is not None and size > max_object_bytes:
        result = {**base, "status": "error", "error_type": "TooLarge",
                  "error": f"object is {size} bytes; the classifier reads at most {max_object_bytes} bytes"}
    else:
        try:
            data = uploads.get_bytes(ev.key, version_id=version_id)
        except NotFound:
            data = None
        if data is None:
            result = {**base, "status": "error", "error_type": "ObjectMissing",
                      "error": f"{uploads.uri(ev.key)} disappeared while it was being read"}
        else:
            filename = ev.key.rsplit("/", 1)[-1]
            try:
                out = classifier.classify_bytes(data, filename=filename, content_type=ctype)
                result = {**base, **out, "status": "ok"}
                result["key"], result["id"] = ev.key, rid
            except Exception as exc:  # a bad object must give an error result, never a retry storm
                result = {**base, "status": "error", "error_type": type(exc).__name__,
                          "error": f"{filename}: {exc}"}
    now = datetime.now(UTC)
    result["classified_at"] = now.isoformat(timespec="seconds")
    result["latency_ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
    day = (ev.event_time or result["classified_at"])[:10]
    row_key = result_row_key(results_prefix, rid, version, day)
    result["row_key"] = row_key
    # The row first, the JSON last: the JSON marks the version as done for redeliveries.
    results.put_bytes(row_key, _parquet_bytes(classification_row(result)))
    results.put_bytes(json_key, json.dumps(result, default=str, indent=1).encode(), "application/json")
    result["duplicate"] = False
    return result


def handle_event(event: dict[str, Any], uploads: Storage, results: Storage, classifier: Classifier, *,
                 incoming_prefix: str = L.INCOMING, results_prefix: str = L.RESULTS,
                 model_key: str | None = None, max_object_bytes: int = 200_000_000) -> list[dict[str, Any]]:
    """Classify every object in an S3/EventBridge event; keys outside the trigger prefix are skipped."""
    out = []
    for ev in parse_s3_event(event):
        if not ev.key.startswith(incoming_prefix) or ev.key.endswith("/"):
            out.append({"key": ev.key, "status": "skipped",
                        "error": f"not an object under the trigger prefix {incoming_prefix!r}"})
            continue
        out.append(classify_object(ev, uploads, results, classifier, incoming_prefix=incoming_prefix,
                                   results_prefix=results_prefix, model_key=model_key,
                                   max_object_bytes=max_object_bytes))
    return out
