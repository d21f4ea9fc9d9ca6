"""The scheduled forecast job: latest counts in the data store → 30-day forecasts, report, manifest.

Inputs (data store, under `data/`): the newest counts table (a key whose file name contains `count` or
`crime_rate`, CSV/CSV.gz/Parquet) and, optionally, the newest events (`event`), weather (`weather`) and
districts (`district`) tables. Outputs, in this order:
1. `forecasts/run_date=YYYY-MM-DD/part.parquet` (results store): every series × horizons 1..30 with
   80/95 % intervals, in the forecasts contract; one object per run date, so a re-run replaces it.
2. `reports/YYYY-MM-DD/` and `reports/latest/` (reports store): the static Plotly report.
3. `runs/YYYY-MM-DD/manifest.json` (results store), written last: a run is complete only when its
   manifest exists, and the API serves only complete runs. The manifest lives outside `forecasts/` so
   the Athena/Glue table over `forecasts/` holds Parquet files only.
Nothing is written before all inputs (counts, events, weather, districts, incidents, backtest metrics, recent
classification rows) are read and validated and the forecasts computed, so bad input leaves no partial run and the
previous run untouched (tests/integration/test_forecast_job_inputs.py).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crimecast import layout as L
from crimecast.layout import Prefixes, forecast_key, latest_manifest, list_runs, manifest_key  # noqa: F401 (re-exported; new code imports crimecast.layout)
from crimecast.storage import Storage
from crimecast.tables import FORECASTS

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

TABLE_PATTERNS = {
    # incident locations (the `crimecast ingest --lat-col` side file) before counts: its name holds "count"s too
    "incidents": re.compile(r"incidents", re.I),
    "counts": re.compile(r"(count|crime_rate)", re.I),
    "events": re.compile(r"event", re.I),
    "weather": re.compile(r"weather", re.I),
    "districts": re.compile(r"district", re.I),
}
_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
# `crimecast backtest` metrics.json files uploaded under <data>/backtest/<model>/metrics.json feed the report.
BACKTEST_DIR = L.BACKTEST
FORECAST_COLUMNS = FORECASTS.names  # the forecasts contract lives in crimecast.tables


class NoCountsError(FileNotFoundError):
    """The data store holds no counts table: the job cannot run (and writes nothing)."""


def find_inputs(data: Storage, prefix: str = L.DATA) -> dict[str, str]:
    """The newest key per table kind under `prefix` (counts always first in the match order)."""
    found: dict[str, tuple[Any, str]] = {}
    for info in data.list(prefix):
        name = info.key.rsplit("/", 1)[-1]
        if info.key[len(prefix):].startswith(BACKTEST_DIR) or not name.lower().endswith(_SUFFIXES):
            continue
        for kind, pat in TABLE_PATTERNS.items():  # dict order: counts, events, weather, districts
            if pat.search(name):
                best = found.get(kind)
                if best is None or (info.last_modified, info.key) > best:
                    found[kind] = (info.last_modified, info.key)
                break
    return {k: v[1] for k, v in found.items()}


def read_backtests(data: Storage, prefix: str = L.DATA) -> dict[str, Any] | None:
    """{"models": {name: metrics}} from every metrics.json under <prefix>backtest/, or None."""
    models: dict[str, Any] = {}
    for info in sorted(data.list(L.backtest_prefix(prefix)), key=lambda i: i.key):
        if not info.key.endswith(L.BACKTEST_METRICS):
            continue
        try:
            m = json.loads(data.get_bytes(info.key))
        except ValueError as exc:
            log.warning("skipping backtest metrics %s: not JSON (%s)", data.uri(info.key), exc)
            continue
        run = m.get("run") if isinstance(m, dict) and isinstance(m.get("run"), dict) else {}
        models[str(run.get("model") or info.key.rsplit("/", 2)[-2])] = m
    return {"models": models} if models else None


def _read_incidents(data: Storage, key: str, tmp: Path) -> pd.DataFrame | None:
    """The incident points for the report's map; a file that cannot be read, or lat/lon that are not numbers,
    is a ContractError naming the object (raised before the job writes anything)."""
    import pandas as pd

    from crimecast.contract import ContractError, read_raw

    suffix = ".csv.gz" if key.endswith(".gz") else Path(key).suffix
    try:
        df = read_raw(data.download_file(key, tmp / f"incidents{suffix}"))
    except ContractError as exc:
        raise ContractError(data.uri(key), str(exc).split(": ", 1)[-1]) from None
    except Exception as exc:  # gzip/CSV parser errors of a corrupt file
        raise ContractError(data.uri(key), f"not a readable table: {type(exc).__name__}: {exc}") from None
    if not {"lat", "lon"} <= set(df.columns):
        log.warning("ignoring %s for the hotspot map: no lat/lon columns", data.uri(key))
        return None
    for col in ("lat", "lon"):
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            rows = [int(i) + 2 for i in bad.to_numpy().nonzero()[0][:5]]
            raise ContractError(data.uri(key), "not a number", column=col, rows=rows)
    return df


def _read(data: Storage, key: str, kind: str, tmp: Path, **kw: Any) -> pd.DataFrame:
    from crimecast.contract import read_raw, validate

    suffix = ".csv.gz" if key.endswith(".gz") else Path(key).suffix
    local = data.download_file(key, tmp / f"{kind}{suffix}")
    # Errors name the S3 object, not the temporary copy.
    return validate(read_raw(local), kind, data.uri(key), **kw)


def run_forecast_job(data: Storage, results: Storage, reports: Storage, forecaster: Any, *,
                     run_date: str | date | None = None, prefixes: Prefixes = Prefixes(),
                     model_info: dict[str, Any] | None = None, with_report: bool = True,
                     allocation_units: int | None = None, max_stale_days: int = 3,
                     uploads: Storage | None = None, report_models: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the whole job once; returns the manifest (also stored, last). Timings in seconds.

    model_info: where the model came from (`ModelRef.as_dict()`), copied into the manifest.
    allocation_units: when set, the report includes a patrol plan for that many units.
    uploads: the uploads store, for thumbnails of the uploads waiting for review in the report (optional).
    report_models: {name: metadata.json} of the other models (classifier, clip) for the report's model card.
    """
    import pandas as pd

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    run_day = (pd.Timestamp(run_date) if run_date is not None else pd.Timestamp(datetime.now(UTC).date()))
    run_str = run_day.date().isoformat()
    inputs = find_inputs(data, prefixes.data)
    feed = data.exists(L.FEED_STATE)  # counts maintained by the incident feed win over an uploaded table
    if "counts" not in inputs and not feed:
        raise NoCountsError(f"no counts table under {data.uri(prefixes.data)} (expected a CSV/Parquet whose name "
                            "contains 'count' or 'crime_rate', e.g. data/counts/crime_rate_dataset.csv); "
                            "nothing was written")
    with tempfile.TemporaryDirectory(prefix="crimecast-job-") as td:
        tmp = Path(td)
        t = time.perf_counter()
        if feed:
            from crimecast.feed.state import maintained_counts

            counts, feed_info = maintained_counts(data, run_day, max_stale_days)
            inputs["counts"] = L.COUNTS
        else:
            counts, feed_info = _read(data, inputs["counts"], "counts", tmp), None
        known = set(counts["district"].unique())
        events = _read(data, inputs["events"], "events", tmp, known_districts=known) if "events" in inputs else None
        weather = _read(data, inputs["weather"], "weather", tmp) if "weather" in inputs else None
        districts = _read(data, inputs["districts"], "districts", tmp) if "districts" in inputs else None
        # Every input is read and validated above and here, before the first write: an unreadable optional input
        # (incidents, backtest metrics) fails the run and leaves the previous run untouched. Unreadable
        # classification rows only drop the report's activity section.
        recent = backtest = incidents = None
        review: dict[str, bytes] = {}
        if with_report:
            incidents = _read_incidents(data, inputs["incidents"], tmp) if "incidents" in inputs else None
            backtest = read_backtests(data, prefixes.data)
            try:
                recent = recent_classifications(results, run_day.date(), prefixes.results)
            except Exception as exc:  # the report section is optional; the forecast run is not
                log.warning("report without classifications: cannot read %s: %s",
                            results.uri(L.result_rows_prefix(prefixes.results)), exc)
                recent = None
            from crimecast.report.job_inputs import review_images

            review = review_images(uploads, recent)
        from crimecast.monitoring.store import plan_monitoring, write_monitoring

        # earlier runs to join with the counts as now known (monitoring/, the report's accuracy section)
        mon_plan = plan_monitoring(results, counts, counts["date"].max(), run_str, prefixes.forecasts)
        timings["read_s"] = time.perf_counter() - t
        # --- nothing has been written yet; from here on the job computes, then writes ---

        t = time.perf_counter()
        fc = forecaster.predict_next_30_days(counts, events=events, weather=weather, districts=districts)
        timings["forecast_s"] = time.perf_counter() - t
        version = str(getattr(forecaster, "version", "") or (model_info or {}).get("model_version", ""))
        fc = fc.copy()
        fc.insert(0, "run_date", run_day.normalize())
        fc["model_version"] = version
        missing = [c for c in FORECAST_COLUMNS if c not in fc.columns]
        if missing:
            raise RuntimeError(f"forecaster output lacks columns {missing}")
        fc = fc[FORECAST_COLUMNS + [c for c in fc.columns if c not in FORECAST_COLUMNS]]
        n_series = int(fc[["district", "category"]].drop_duplicates().shape[0])

        t = time.perf_counter()
        pq_path = tmp / L.FORECAST_PART
        fc.to_parquet(pq_path, index=False)
        fkey = forecast_key(prefixes, run_str)
        results.upload_file(pq_path, fkey)  # one PUT: readers see the old or the new file, never half
        part_prefix = L.forecast_partition(prefixes, run_str)
        for info in list(results.list(part_prefix)):
            if info.key != fkey:  # leftovers of an older layout would duplicate rows in Athena
                results.delete(info.key)
        timings["parquet_s"] = time.perf_counter() - t

        t = time.perf_counter()
        monitoring = write_monitoring(results, mon_plan)  # one earlier run at a time (bounded memory)
        timings["monitoring_s"] = time.perf_counter() - t

        # The API's copy of the run (numpy-readable: no pandas/pyarrow in the API function), before the manifest.
        t = time.perf_counter()
        from crimecast.serving import build_artifact

        skey = L.serving_key(prefixes, run_str)
        results.put_bytes(skey, build_artifact(fc, run_date=run_str, model_version=version),
                          "application/octet-stream")
        timings["serving_s"] = time.perf_counter() - t

        report_keys: list[str] = []
        if with_report:
            t = time.perf_counter()
            allocation = None
            if allocation_units:
                from crimecast.allocation import allocate

                allocation = allocate(fc, int(allocation_units))
            meta = {"forecaster": {**getattr(forecaster, "metadata", {}), **(model_info or {})},
                    **(report_models or {})}
            report_keys = _publish_report(reports, prefixes, run_str, fc, counts, meta, allocation, recent,
                                          backtest=backtest, incidents=incidents, monitoring=monitoring,
                                          review_images=review)
            timings["report_s"] = time.perf_counter() - t

    timings["total_s"] = time.perf_counter() - t_start
    manifest = {
        "run_date": run_str,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "complete": True,
        "forecasts_key": fkey,
        "forecasts_uri": results.uri(fkey),
        "serving_key": skey,
        "rows": int(len(fc)),
        "series": n_series,
        "districts": sorted(fc["district"].unique().tolist()),
        "categories": sorted(fc["category"].unique().tolist()),
        "forecast_from": fc["date"].min().date().isoformat(),
        "forecast_to": fc["date"].max().date().isoformat(),
        "history_from": counts["date"].min().date().isoformat(),
        "history_to": counts["date"].max().date().isoformat(),
        "inputs": {k: data.uri(v) for k, v in inputs.items()},
        "backtest_models": sorted((backtest or {}).get("models", {})) if with_report else [],
        "model_version": version,
        "counts_through": counts["date"].max().date().isoformat(),
        "feed": feed_info,
        "monitoring": {w: monitoring["windows"][w]["overall"] for w in monitoring["windows"]},
        **{k: v for k, v in (model_info or {}).items() if k != "model_version"},
        "report_keys": report_keys,
        "report_latest": L.report_latest_index(prefixes) if with_report else None,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    results.put_bytes(manifest_key(prefixes, run_str), json.dumps(manifest, indent=1).encode(), "application/json")
    return manifest


def recent_classifications(results: Storage, day: date, results_prefix: str = L.RESULTS, days: int = 7,
                           max_rows: int = 500) -> pd.DataFrame | None:
    """The newest classification rows (status ok) of the `days` days up to `day`, for the report; None if none."""
    import io

    import pandas as pd

    wanted = {(day - pd.Timedelta(days=i).to_pytimedelta()).isoformat() for i in range(days)}
    keys = []
    for d in sorted(wanted, reverse=True):
        keys += sorted((i.key for i in results.list(L.result_rows_prefix(results_prefix, d))), reverse=True)
        if len(keys) >= max_rows:
            break
    frames = [pd.read_parquet(io.BytesIO(results.get_bytes(k))) for k in keys[:max_rows]]
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    df = df[df["status"] == "ok"].rename(columns={"classified_at": "created_at"})
    return df if len(df) else None


def _publish_report(reports: Storage, prefixes: Prefixes, run_str: str, fc: pd.DataFrame, counts: pd.DataFrame,
                    model_info: dict[str, Any], allocation: pd.DataFrame | None,
                    classifications: pd.DataFrame | None = None, *, backtest: dict[str, Any] | None = None,
                    incidents: pd.DataFrame | None = None, monitoring: dict[str, Any] | None = None,
                    review_images: dict[str, bytes] | None = None) -> list[str]:
    from crimecast.report import build_report

    with tempfile.TemporaryDirectory(prefix="crimecast-report-") as td:
        out = Path(td)
        build_report(out, forecasts=fc, history=counts, run_date=run_str, model_info=model_info,
                     allocation=allocation, classifications=classifications, backtest=backtest, incidents=incidents,
                     monitoring=monitoring, review_images=review_images)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        # index.html last, so a reader never gets a page whose scripts are not there yet.
        files.sort(key=lambda p: p.name == "index.html")
        keys = []
        for folder in (L.report_folder(prefixes, run_str), L.report_latest_folder(prefixes)):
            wanted = {folder + p.relative_to(out).as_posix() for p in files}
            for p in files:
                key = folder + p.relative_to(out).as_posix()
                reports.upload_file(p, key)
                keys.append(key)
            for info in list(reports.list(folder)):
                if info.key not in wanted:
                    reports.delete(info.key)
    return keys
