"""The storage layout: every key prefix and key pattern crimecast reads or writes, in one place.

Who imports it: the jobs (which write the keys), the API (which reads them), the demo, the scripts and
`infra/` (IAM scoping, lifecycle rules, Glue table locations). It is pure (standard library only, nothing
imported at module level but `json`, `re` and `dataclasses`), so `infra/` can import it as it imports
`crimecast.env_names`. A test (tests/unit/test_house.py) fails when a string literal of one of the prefixes or key
fragments below appears anywhere else under functions/, infra/ or scripts/: new keys get a constant or a
key builder here, and callers use it.

Where things live (bucket → prefix → keys); a prefix is `a/b/` (no leading slash, one trailing slash) and the
deployed value comes from the settings (`crimecast.settings.Settings.*_prefix`, whose defaults are these):

uploads bucket
    incoming/<upload id>/<name>                  objects to classify (the classifier's S3 trigger prefix)
    uploads/<upload id>.json                     presigned-upload records (`POST /v1/uploads`; not a trigger)
data bucket (versioned)
    data/...                                     input tables: counts, events, weather, districts, incidents
    data/backtest/<model>/metrics.json           `crimecast backtest` metrics shown in the report
    models/<name>/<version>/{model.tflite,metadata.json}   served models (the models store)
results bucket (versioned)
    results/json/<id>/<version>.json             one classification result per object version
    results/rows/date=YYYY-MM-DD/<id>-<version>.parquet    the same as one Parquet row (Glue/Athena table)
    forecasts/run_date=YYYY-MM-DD/part.parquet   one forecast run (Glue/Athena table; Parquet only)
    runs/YYYY-MM-DD/serving.npz                  what the API serves from the run (numpy only)
    runs/YYYY-MM-DD/manifest.json                written last: a run exists once its manifest does
    athena/                                      Athena query output
reports bucket (versioned)
    reports/YYYY-MM-DD/..., reports/latest/...   the static HTML report

Adding a prefix: a module-level constant (UPPER_CASE, ending in '/'), listed in STORAGE_PREFIXES, plus a key
builder if callers need whole keys; key fragments that are not prefixes (like 'run_date=') go in
KEY_FRAGMENTS. The ingest/monitoring loop (issue 15) adds its keys in the section reserved for it below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crimecast.storage import Storage

# --- default prefixes (Settings defaults; infra passes the same values as env vars) ------------------------
INCOMING = "incoming/"  # uploads bucket: the classifier's trigger prefix
UPLOAD_RECORDS = "uploads/"  # uploads bucket: presigned-upload records
DATA = "data/"  # data bucket: input tables
MODELS = "models/"  # models store (the data bucket on AWS): models/<name>/<version>/
RESULTS = "results/"  # results bucket: classification results
FORECASTS = "forecasts/"  # results bucket: forecast Parquet dataset
RUNS = "runs/"  # results bucket: run manifests
REPORTS = "reports/"  # reports bucket
ATHENA = "athena/"  # results bucket: Athena query output

# --- below a prefix ------------------------------------------------------------------------------------------
RESULT_JSON = "json/"  # results/json/<id>/<version>.json
RESULT_ROWS = "rows/"  # results/rows/date=YYYY-MM-DD/<id>-<version>.parquet
ROWS_PARTITION = "date="  # Hive partition column of the classification rows
FORECASTS_PARTITION = "run_date="  # Hive partition column of the forecasts dataset
FORECAST_PART = "part.parquet"  # the one object of a forecast partition
MANIFEST = "manifest.json"
SERVING = "serving.npz"  # runs/YYYY-MM-DD/serving.npz (the API's numpy-readable copy of the run)
BACKTEST = "backtest/"  # data/backtest/<model>/metrics.json
BACKTEST_METRICS = "metrics.json"
LATEST = "latest/"  # reports/latest/
REPORT_INDEX = "index.html"
MODEL_FILES = ("model.tflite", "metadata.json")  # models/<name>/<version>/
CLASSIFIER = "classifier"
FORECASTER = "forecaster"

# --- ingest / monitoring loop (issue 15: the loop helper adds its prefixes and builders here) -------------
# data bucket:
#   feeds/incoming/<export>.csv[.gz]        the feed function's S3 trigger prefix (exports are never changed)
#   feeds/rejected/<export>.csv             rejected rows with a reason each; <export>.summary.json beside it
#   feeds/processed/<export>@<version>.json one marker per ingested object version (idempotency)
#   feeds/state.json                        history start, newest day seen, last complete day (written last)
#   config/ingest.json                      the feed's column mapping (`crimecast ingest --save-config`)
#   incidents/month=YYYY-MM/part.parquet    one row per unique incident (last version wins; Glue table)
#   counts/month=YYYY-MM/part.parquet       daily counts derived from it (non-zero cells; Glue table)
#   models/forecaster/promotions.jsonl      the promotion gate's log (one JSON line per decision)
# results bucket:
#   monitoring/rows/run_date=YYYY-MM-DD/part.parquet   earlier runs' forecasts joined with the actuals (Glue)
#   monitoring/summary/run_date=YYYY-MM-DD.json        MAE / relative MAE / coverage summaries
FEEDS = "feeds/"
FEED_INCOMING = "feeds/incoming/"
FEED_REJECTED = "feeds/rejected/"
FEED_PROCESSED = "feeds/processed/"
FEED_STATE = "feeds/state.json"
INGEST_CONFIG = "config/ingest.json"
CONFIG = "config/"
INCIDENTS = "incidents/"
COUNTS = "counts/"
MONTH_PARTITION = "month="
MONITORING = "monitoring/"
MONITORING_ROWS = "monitoring/rows/"
MONITORING_SUMMARY = "monitoring/summary/"
PROMOTIONS_LOG = "promotions.jsonl"


def month_key(prefix: str, month: str) -> str:
    """incidents/month=YYYY-MM/part.parquet or counts/month=YYYY-MM/part.parquet"""
    return f"{prefix}{MONTH_PARTITION}{month}/{FORECAST_PART}"


def feed_rejected_key(export_name: str, suffix: str = ".csv") -> str:
    """feeds/rejected/<export>.csv (suffix '.summary.json', '.error.json' for the records beside it)"""
    return f"{FEED_REJECTED}{export_name}{suffix}"


def feed_processed_key(export_name: str, version: str) -> str:
    """feeds/processed/<export>@<version>.json"""
    return f"{FEED_PROCESSED}{export_name}@{version}.json"


def monitoring_rows_key(run_date: str) -> str:
    """monitoring/rows/run_date=YYYY-MM-DD/part.parquet"""
    return f"{MONITORING_ROWS}{FORECASTS_PARTITION}{run_date}/{FORECAST_PART}"


def monitoring_summary_key(run_date: str) -> str:
    """monitoring/summary/run_date=YYYY-MM-DD.json"""
    return f"{MONITORING_SUMMARY}{FORECASTS_PARTITION}{run_date}.json"


def promotions_log_key(model_prefix: str = MODELS + FORECASTER) -> str:
    """models/forecaster/promotions.jsonl"""
    return f"{model_prefix.rstrip('/')}/{PROMOTIONS_LOG}"


# --- what the "no layout literals elsewhere" test guards -----------------------------------------------------
STORAGE_PREFIXES = (INCOMING, UPLOAD_RECORDS, DATA, MODELS, RESULTS, FORECASTS, RUNS, REPORTS, ATHENA,
                    FEEDS, CONFIG, INCIDENTS, MONITORING)  # not COUNTS: "counts/…" is also a data/ sub-path
KEY_FRAGMENTS = (RESULT_JSON, RESULT_ROWS, ROWS_PARTITION, FORECASTS_PARTITION, FORECAST_PART, MANIFEST, BACKTEST,
                 SERVING, MONTH_PARTITION, PROMOTIONS_LOG)


def norm_prefix(value: str) -> str:
    """'a/b' or '/a/b/' → 'a/b/' ('' stays '')."""
    value = value.strip().strip("/")
    return f"{value}/" if value else ""


@dataclass(frozen=True)
class Prefixes:
    """The prefixes one deployment uses (defaults above; `from_settings` for the deployed values)."""

    data: str = DATA
    forecasts: str = FORECASTS
    reports: str = REPORTS
    runs: str = RUNS
    results: str = RESULTS  # classification rows shown in the report
    incoming: str = INCOMING
    uploads: str = UPLOAD_RECORDS

    @classmethod
    def from_settings(cls, s: Any) -> Prefixes:
        return cls(data=s.data_prefix, forecasts=s.forecasts_prefix, reports=s.reports_prefix,
                   results=s.results_prefix, incoming=s.incoming_prefix, uploads=s.uploads_prefix)


# --- key builders ------------------------------------------------------------------------------------------
def forecast_partition(prefixes: Prefixes, run_date: str) -> str:
    """forecasts/run_date=YYYY-MM-DD/"""
    return f"{prefixes.forecasts}{FORECASTS_PARTITION}{run_date}/"


def forecast_key(prefixes: Prefixes, run_date: str) -> str:
    """forecasts/run_date=YYYY-MM-DD/part.parquet"""
    return forecast_partition(prefixes, run_date) + FORECAST_PART


def manifest_key(prefixes: Prefixes, run_date: str) -> str:
    """runs/YYYY-MM-DD/manifest.json"""
    return f"{prefixes.runs}{run_date}/{MANIFEST}"


def serving_key(prefixes: Prefixes, run_date: str) -> str:
    """runs/YYYY-MM-DD/serving.npz: what the API serves from the run (`crimecast.serving`), written before the
    manifest"""
    return f"{prefixes.runs}{run_date}/{SERVING}"


def report_folder(prefixes: Prefixes, run_date: str) -> str:
    """reports/YYYY-MM-DD/"""
    return f"{prefixes.reports}{run_date}/"


def report_latest_folder(prefixes: Prefixes) -> str:
    """reports/latest/"""
    return prefixes.reports + LATEST


def report_latest_index(prefixes: Prefixes) -> str:
    """reports/latest/index.html"""
    return report_latest_folder(prefixes) + REPORT_INDEX


def backtest_prefix(data_prefix: str = DATA) -> str:
    """data/backtest/"""
    return data_prefix + BACKTEST


def backtest_metrics_key(model: str, data_prefix: str = DATA) -> str:
    """data/backtest/<model>/metrics.json"""
    return f"{backtest_prefix(data_prefix)}{model}/{BACKTEST_METRICS}"


def result_json_prefix(results_prefix: str, rid: str) -> str:
    """results/json/<id>/"""
    return f"{results_prefix}{RESULT_JSON}{rid}/"


def result_json_key(results_prefix: str, rid: str, version: str) -> str:
    """results/json/<id>/<version>.json"""
    return f"{result_json_prefix(results_prefix, rid)}{version}.json"


def result_rows_prefix(results_prefix: str = RESULTS, day: str | None = None) -> str:
    """results/rows/ or, for one day, results/rows/date=YYYY-MM-DD/"""
    root = results_prefix + RESULT_ROWS
    return root if day is None else f"{root}{ROWS_PARTITION}{day}/"


def result_row_key(results_prefix: str, rid: str, version: str, day: str) -> str:
    """results/rows/date=YYYY-MM-DD/<id>-<version>.parquet"""
    return f"{result_rows_prefix(results_prefix, day)}{rid}-{version}.parquet"


def incoming_prefix_of(incoming_prefix: str, uid: str) -> str:
    """incoming/<upload id>/"""
    return f"{incoming_prefix}{uid}/"


def incoming_key(incoming_prefix: str, uid: str, name: str) -> str:
    """incoming/<upload id>/<name> (the key a presigned upload is PUT to)"""
    return incoming_prefix_of(incoming_prefix, uid) + name


def upload_record_key(uploads_prefix: str, uid: str) -> str:
    """uploads/<upload id>.json"""
    return f"{uploads_prefix}{uid}.json"


def model_key(name: str) -> str:
    """models/<name> (the default S3 prefix of a model's versions; no trailing slash, as in the settings)"""
    return MODELS + name


def data_key(name: str, data_prefix: str = DATA) -> str:
    """data/<name> (an input table, e.g. data_key('counts/counts.parquet'))"""
    return data_prefix + name


# --- readers of the layout (the API and the jobs share these) ---------------------------------------------
def list_runs(results: Storage, prefixes: Prefixes = Prefixes()) -> list[str]:
    """Run dates (YYYY-MM-DD) that have a manifest, oldest → newest."""
    pattern = re.compile(re.escape(prefixes.runs) + r"(\d{4}-\d{2}-\d{2})/" + re.escape(MANIFEST))
    dates = set()
    for info in results.list(prefixes.runs):
        m = pattern.fullmatch(info.key)
        if m:
            dates.add(m.group(1))
    return sorted(dates)


def latest_manifest(results: Storage, prefixes: Prefixes = Prefixes()) -> dict[str, Any] | None:
    """The newest complete run's manifest (a dict), or None when no run is complete yet."""
    runs = list_runs(results, prefixes)
    if not runs:
        return None
    return json.loads(results.get_bytes(manifest_key(prefixes, runs[-1])))


def latest_result(results: Storage, rid: str, results_prefix: str = RESULTS) -> dict[str, Any] | None:
    """The newest stored classification result for an id, or None when there is none yet."""
    newest = max(results.list(result_json_prefix(results_prefix, rid)), key=lambda i: (i.last_modified, i.key),
                 default=None)
    if newest is None:
        return None
    return json.loads(results.get_bytes(newest.key))
