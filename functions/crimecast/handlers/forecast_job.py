"""Scheduled Lambda (EventBridge): run the forecast job once for the event's date."""

from __future__ import annotations

from typing import Any

from crimecast.handlers import CORRELATION_EVENTBRIDGE, Units, make_logger, make_metrics
from crimecast.jobs.forecast_job import NoCountsError, Prefixes, run_forecast_job
from crimecast.layout import model_key
from crimecast.models_cache import load_forecaster
from crimecast.monitoring.metrics import publish_monitoring
from crimecast.report.job_inputs import model_cards
from crimecast.settings import get_settings
from crimecast.storage import Stores

logger = make_logger("forecast_job")
metrics = make_metrics()
settings = get_settings()
stores = Stores.from_settings(settings)
prefixes = Prefixes.from_settings(settings)


def run_date_of(event: dict[str, Any]) -> str | None:
    """`run_date` from a manual invocation, else the scheduled event's `time` (UTC day)."""
    if event.get("run_date"):
        return str(event["run_date"])
    t = event.get("time")
    return str(t)[:10] if t else None


@logger.inject_lambda_context(correlation_id_path=CORRELATION_EVENTBRIDGE)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        forecaster, ref = load_forecaster(stores.models, settings)
        manifest = run_forecast_job(stores.data, stores.results, stores.reports, forecaster,
                                    run_date=run_date_of(event), prefixes=prefixes, model_info=ref.as_dict(),
                                    max_stale_days=settings.max_stale_days,
                                    allocation_units=settings.report_allocation_units, uploads=stores.uploads,
                                    report_models=model_cards(stores.models, {
                                        "classifier": settings.classifier_model_key,
                                        "clip": model_key("clip")}))
    except NoCountsError as exc:
        metrics.add_metric(name="ForecastJobNoCounts", unit=Units.Count, value=1)
        metrics.add_metric(name="ForecastJobErrors", unit=Units.Count, value=1)
        logger.error("forecast job has no counts table; nothing written", extra={"error": str(exc)})
        raise
    except Exception:
        metrics.add_metric(name="ForecastJobErrors", unit=Units.Count, value=1)
        logger.exception("forecast job failed; no manifest written for this run")
        raise
    metrics.add_metric(name="ForecastSeries", unit=Units.Count, value=manifest["series"])
    publish_monitoring(metrics, manifest)
    metrics.add_metric(name="ForecastJobDuration", unit=Units.Seconds, value=manifest["timings_s"]["total_s"])
    logger.info("forecast run complete", extra={k: manifest[k] for k in ("run_date", "series", "rows",
                                                                          "model_version", "timings_s")})
    return {k: manifest[k] for k in ("run_date", "series", "rows", "forecasts_uri", "model_version")}
