"""Helpers for the Lambda integration tests: real-shaped events (tests/events/*.json) and small builders."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _root_conftest() -> Any:
    # tests/integration has its own conftest.py, so `from conftest import run_cli` would find that one.
    import importlib.util

    spec = importlib.util.spec_from_file_location("crimecast_tests_root_conftest", EVENTS.parent / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


run_cli = _root_conftest().run_cli  # the shared helper: `crimecast ...` in a subprocess


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of tests/events/<name>.json (real-shaped AWS events)."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def s3_put_event(bucket: str, key: str, *, version_id: str | None = None, etag: str = "", size: int = 0,
                 event_time: str = "2026-11-27T10:00:05.123Z") -> dict[str, Any]:
    """The S3 ObjectCreated fixture for `key`, URL-encoded the way S3 encodes it (space → '+')."""
    ev = load_event("s3_object_created")
    rec = ev["Records"][0]
    rec["eventTime"] = event_time
    rec["s3"]["bucket"]["name"] = bucket
    rec["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = rec["s3"]["object"]
    obj.update(key=quote_plus(key, safe="/"), size=size, eTag=etag)
    if version_id:
        obj["versionId"] = version_id
    else:
        obj.pop("versionId", None)
    return ev


def api_event(method: str, path: str, *, body: bytes | str | None = None, content_type: str | None = None,
              query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event; binary bodies are base64-encoded as API Gateway does."""
    ev = load_event("api_v2_post_classify" if method == "POST" else "api_v2_get_health")
    ev["rawPath"] = path
    ev["requestContext"]["http"].update(method=method, path=path)
    ev["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    query = query or {}
    ev["rawQueryString"] = "&".join(f"{k}={quote_plus(v)}" for k, v in query.items())
    ev["queryStringParameters"] = query or None
    headers = {k: v for k, v in ev["headers"].items() if k not in ("content-type", "content-length")}
    if body is not None:
        raw = body.encode() if isinstance(body, str) else body
        ev["body"] = base64.b64encode(raw).decode()
        ev["isBase64Encoded"] = True
        headers["content-length"] = str(len(raw))
    else:
        ev.pop("body", None)
        ev["isBase64Encoded"] = False
    if content_type:
        headers["content-type"] = content_type
    ev["headers"] = headers
    return ev


@dataclass
class LambdaContext:
    function_name: str = "crimecast-test"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:crimecast-test"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/crimecast-test"
    log_stream_name: str = "2026/11/27/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def import_handler(name: str) -> Any:
    """(Re-)import crimecast.handlers.<name> so its module-level set-up reads the current environment."""
    mod = f"crimecast.handlers.{name}"
    if mod in sys.modules:
        return importlib.reload(sys.modules[mod])
    return importlib.import_module(mod)


def sample_image(synth_dir: Path, level: str | None = None) -> Path:
    """A synthetic JPEG (optionally of one risk level) from the synth fixture."""
    images = sorted(p for p in (synth_dir / "images").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if level:
        images = [p for p in images if level.lower() in p.as_posix().lower()] or images
    assert images, f"no images under {synth_dir / 'images'}"
    return images[0]


def sample_video(synth_dir: Path) -> Path:
    videos = sorted(p for p in (synth_dir / "videos").rglob("*") if p.suffix.lower() in (".mp4", ".avi", ".mov"))
    assert videos, f"no videos under {synth_dir / 'videos'}"
    return videos[0]
