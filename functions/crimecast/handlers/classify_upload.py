"""S3-drop Lambda: ObjectCreated under incoming/ → classification result JSON + Parquet row."""

from __future__ import annotations

from typing import Any

from crimecast.handlers import Units, make_logger, make_metrics
from crimecast.jobs.classify_upload import handle_event
from crimecast.models_cache import load_classifier
from crimecast.settings import get_settings
from crimecast.storage import Stores

logger = make_logger("classify_upload")
metrics = make_metrics()
settings = get_settings()
stores = Stores.from_settings(settings)  # one S3 client per cold start


# S3's request id of the upload ties our logs to the S3 server access log and CloudTrail entry.
@logger.inject_lambda_context(correlation_id_path='Records[0].responseElements."x-amz-request-id"')
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    classifier, ref = load_classifier(stores.models, settings)  # fetched to /tmp once per cold start
    results = handle_event(event, stores.uploads, stores.results, classifier,  # type: ignore[arg-type]
                           incoming_prefix=settings.incoming_prefix, results_prefix=settings.results_prefix,
                           model_key=f"{ref.key}/{ref.version}", max_object_bytes=settings.max_object_bytes)
    for r in results:
        status = r.get("status")
        if r.get("duplicate"):
            metrics.add_metric(name="DuplicateDeliveries", unit=Units.Count, value=1)
            logger.info("duplicate delivery ignored", extra={"key": r.get("key"), "version": r.get("version")})
        elif status == "ok":
            metrics.add_metric(name=f"Classified{str(r.get('risk_level', 'Unknown')).capitalize()}",
                               unit=Units.Count, value=1)
            metrics.add_metric(name="ClassifyLatency", unit=Units.Milliseconds, value=float(r.get("latency_ms", 0)))
            logger.info("classified", extra={k: r.get(k) for k in ("key", "version", "risk_level", "confidence",
                                                                     "model_version", "latency_ms")})
        elif status == "error":
            metrics.add_metric(name="ClassifyErrors", unit=Units.Count, value=1)
            logger.warning("bad object", extra={k: r.get(k) for k in ("key", "version", "error_type", "error")})
        else:
            metrics.add_metric(name="SkippedKeys", unit=Units.Count, value=1)
            logger.warning("skipped", extra={"key": r.get("key"), "reason": r.get("error")})
    return {"processed": len(results), "results": [{k: r.get(k) for k in ("id", "key", "status", "risk_level",
                                                                          "duplicate")} for r in results]}
