"""API Lambda: API Gateway HTTP API (v2) events → the FastAPI app via Mangum."""

from __future__ import annotations

import time
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from crimecast.api import create_app
from crimecast.handlers import CORRELATION_HTTP, Units, make_logger, make_metrics
from crimecast.settings import get_settings

logger = make_logger("api")
metrics = make_metrics()
settings = get_settings()  # validated once per cold start; a bad environment fails the init, not a request
app = create_app(settings)
# Problem documents are JSON text: without this Mangum would base64-encode them as binary.
asgi = Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"])


@logger.inject_lambda_context(correlation_id_path=CORRELATION_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    response = asgi(event, context)
    status = int(response.get("statusCode", 500))
    metrics.add_metric(name="ApiLatency", unit=Units.Milliseconds, value=(time.perf_counter() - t0) * 1000.0)
    metrics.add_metric(name="ApiRequests", unit=Units.Count, value=1)
    if status >= 400:
        metrics.add_metric(name="ApiClientErrors" if status < 500 else "ApiErrors", unit=Units.Count, value=1)
    logger.info("request", extra={"path": event.get("rawPath"), "status": status})
    return response
