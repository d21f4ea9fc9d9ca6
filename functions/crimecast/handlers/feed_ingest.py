"""S3-triggered Lambda: ingest each export dropped under feeds/incoming/ in the data bucket."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from crimecast.feed.config import IngestConfigError
from crimecast.feed.parse import FeedError
from crimecast.handlers import Units, make_logger, make_metrics
from crimecast.jobs.feed_ingest import ingest_export
from crimecast.settings import get_settings
from crimecast.storage import Stores

logger = make_logger("feed_ingest")
metrics = make_metrics()
settings = get_settings()
stores = Stores.from_settings(settings)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    out = []
    for rec in event.get("Records", []):
        s3 = rec.get("s3", {})
        key = unquote_plus(s3.get("object", {}).get("key", ""))
        version = s3.get("object", {}).get("versionId")
        etag = s3.get("object", {}).get("eTag")
        try:
            summary = ingest_export(stores.data, key, version_id=version, etag=etag, event_time=rec.get("eventTime"))
        except (FeedError, IngestConfigError) as exc:
            metrics.add_metric(name="FeedExportsFailed", unit=Units.Count, value=1)
            logger.error("export not ingested; error record written", extra={"key": key, "error": str(exc)})
            raise
        if summary["status"] == "duplicate":
            metrics.add_metric(name="FeedDuplicateDeliveries", unit=Units.Count, value=1)
        else:
            metrics.add_metric(name="FeedIncidents", unit=Units.Count, value=summary["incidents"])
            metrics.add_metric(name="FeedRejectedRows", unit=Units.Count, value=summary["rejected"])
        logger.info("export processed", extra={k: summary.get(k) for k in (
            "export", "status", "incidents", "rejected", "added", "updated", "last_complete_day")})
        out.append({k: summary.get(k) for k in ("export", "status", "incidents", "rejected", "last_complete_day")})
    return {"exports": out}
