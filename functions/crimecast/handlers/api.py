"""API Lambda: API Gateway HTTP API (v2) events → the FastAPI app via Mangum.

Lean on purpose (issue 16): no Powertools in the API function. One JSON log line per request (with the
API Gateway request id as correlation id) that is also a CloudWatch EMF document carrying the request
metrics (ApiLatency, ApiRequests, ApiClientErrors/ApiErrors, and ColdStart once), written with the
standard library. Nothing heavy is imported here: each route imports what it needs when first called.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from crimecast import env_names
from crimecast.api import create_app
from crimecast.settings import get_settings

SERVICE = os.environ.get(env_names.POWERTOOLS_SERVICE_NAME, "crimecast")
NAMESPACE = os.environ.get(env_names.POWERTOOLS_METRICS_NAMESPACE, "crimecast")
METRICS_OFF = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")

settings = get_settings()  # validated once per cold start; a bad environment fails the init, not a request
app = create_app(settings)
# Problem documents are JSON text: without this Mangum would base64-encode them as binary.
asgi = Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"])
_cold = True


def emf_line(event: dict[str, Any], context: Any, status: int, latency_ms: float, cold: bool) -> str:
    """The request's log line: JSON with the EMF `_aws` block, so CloudWatch extracts the metrics from it."""
    names = [("ApiLatency", "Milliseconds"), ("ApiRequests", "Count")]
    values: dict[str, float] = {"ApiLatency": round(latency_ms, 2), "ApiRequests": 1}
    if status >= 400:
        name = "ApiClientErrors" if status < 500 else "ApiErrors"
        names.append((name, "Count"))
        values[name] = 1
    if cold:
        names.append(("ColdStart", "Count"))
        values["ColdStart"] = 1
    ctx = event.get("requestContext") or {}
    doc: dict[str, Any] = {
        "level": "ERROR" if status >= 500 else "INFO", "message": "request", "service": SERVICE,
        "function": "api", "path": event.get("rawPath"), "method": (ctx.get("http") or {}).get("method"),
        "status": status, "correlation_id": ctx.get("requestId"),
        "function_request_id": getattr(context, "aws_request_id", None), "cold_start": cold,
        "timestamp": int(time.time() * 1000),
    }
    if not METRICS_OFF:
        doc["_aws"] = {"Timestamp": doc["timestamp"], "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["service"]],
            "Metrics": [{"Name": n, "Unit": u} for n, u in names]}]}
        doc.update(values)
    return json.dumps(doc, separators=(",", ":"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _cold
    t0 = time.perf_counter()
    cold, _cold = _cold, False
    response = asgi(event, context)
    status = int(response.get("statusCode", 500))
    sys.stdout.write(emf_line(event, context, status, (time.perf_counter() - t0) * 1000.0, cold) + "\n")
    return response
