"""Environment variable names shared by the Lambda settings and the CDK stack.

`infra/` imports this module (and nothing else from the core) so the `environment={...}` a
function is deployed with and the pydantic-settings model that reads it cannot drift apart.
"""

from __future__ import annotations

PREFIX = "CRIMECAST_"

# Buckets (one per data lifetime; see infra/README for why).
UPLOADS_BUCKET = PREFIX + "UPLOADS_BUCKET"  # incoming/ (trigger prefix) + uploads metadata
DATA_BUCKET = PREFIX + "DATA_BUCKET"  # data/ counts, events, weather, districts
RESULTS_BUCKET = PREFIX + "RESULTS_BUCKET"  # results/ classification JSON + Parquet; forecasts/
REPORTS_BUCKET = PREFIX + "REPORTS_BUCKET"  # reports/<date>/, reports/latest/
MODELS_BUCKET = PREFIX + "MODELS_BUCKET"  # models/<name>/<version>/{model.tflite,metadata.json}

# Prefixes and model selection.
INCOMING_PREFIX = PREFIX + "INCOMING_PREFIX"  # default "incoming/"
RESULTS_PREFIX = PREFIX + "RESULTS_PREFIX"  # default "results/"
FORECASTS_PREFIX = PREFIX + "FORECASTS_PREFIX"  # default "forecasts/"
REPORTS_PREFIX = PREFIX + "REPORTS_PREFIX"  # default "reports/"
DATA_PREFIX = PREFIX + "DATA_PREFIX"  # default "data/"
CLASSIFIER_MODEL_KEY = PREFIX + "CLASSIFIER_MODEL_KEY"  # e.g. models/classifier
CLASSIFIER_MODEL_VERSION = PREFIX + "CLASSIFIER_MODEL_VERSION"  # e.g. v1
FORECASTER_MODEL_KEY = PREFIX + "FORECASTER_MODEL_KEY"
FORECASTER_MODEL_VERSION = PREFIX + "FORECASTER_MODEL_VERSION"

# Behaviour.
MODEL_CACHE_DIR = PREFIX + "MODEL_CACHE_DIR"  # default /tmp/crimecast-models
MAX_INLINE_BYTES = PREFIX + "MAX_INLINE_BYTES"  # API request body limit (Lambda: 6 MB)
PRESIGN_EXPIRES_S = PREFIX + "PRESIGN_EXPIRES_S"
VIDEO_SAMPLE_FPS = PREFIX + "VIDEO_SAMPLE_FPS"
VIDEO_MAX_FRAMES = PREFIX + "VIDEO_MAX_FRAMES"
VIDEO_MAX_SECONDS = PREFIX + "VIDEO_MAX_SECONDS"
S3_ENDPOINT_URL = PREFIX + "S3_ENDPOINT_URL"  # local moto server in the demo; unset on AWS
MAX_OBJECT_BYTES = PREFIX + "MAX_OBJECT_BYTES"  # largest uploaded object the S3-drop classifier reads
UPLOADS_PREFIX = PREFIX + "UPLOADS_PREFIX"  # default "uploads/": presigned-upload records (not a trigger)
REPORT_ALLOCATION_UNITS = PREFIX + "REPORT_ALLOCATION_UNITS"  # forecast job: patrol units in the report (unset: none)
MAX_STALE_DAYS = PREFIX + "MAX_STALE_DAYS"  # forecast job: refuse maintained counts older than this (days)

# Powertools reads these itself; listed so infra sets them from one place.
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"

ALL = [v for k, v in dict(globals()).items() if k.isupper() and k not in {"PREFIX", "ALL"}]
