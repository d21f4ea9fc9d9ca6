"""`crimecast replay`: the daily loop on one machine, over a folder of incident exports.

A local S3 (moto server) with the deployment's buckets (the data bucket versioned, as on AWS), the real
handlers in this process: each export of `--exports` (file-name order, one per simulated day) is PUT under
feeds/incoming/ and its real-shaped S3 ObjectCreated event (key, version id, ETag, size from the PUT) goes to
the feed-ingest handler; then the forecast-job handler runs with the run date set to the day after the
data's last complete day (its monitoring joins the earlier runs with the counts now known). With
`--retrain-every N` the retrain job (training package: TensorFlow) runs after every N-th day and its gate
decides. OUT then holds counts.parquet (maintained counts, counts contract, zero-filled), forecasts/,
monitoring/, reports/latest/, feeds/ (summaries, rejected rows, error records) and replay.json.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from crimecast.local_context import LocalContext

BUCKETS = {"CRIMECAST_UPLOADS_BUCKET": "uploads", "CRIMECAST_DATA_BUCKET": "data",
           "CRIMECAST_RESULTS_BUCKET": "results", "CRIMECAST_REPORTS_BUCKET": "reports"}
EXPORT_SUFFIXES = (".csv", ".csv.gz")


_Ctx = partial(LocalContext, "crimecast-replay", 3008, "replay")  # the handlers' Lambda context, in-process


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replay", help="run the daily loop locally over a folder of incident exports",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exports", required=True, help="folder of exports (CSV / CSV.gz), one per simulated day")
    p.add_argument("--config", required=True, help="config/ingest.json for the feed (crimecast ingest --save-config)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--forecaster", default="models/forecaster", help="forecaster model directory (the champion)")
    p.add_argument("--retrain-every", type=int, default=0, help="run the retrain job after every N days (0: never)")
    p.add_argument("--max-stale-days", type=int, default=3)
    p.add_argument("--with-data", help="folder with events/weather/districts tables to upload under data/")
    p.set_defaults(func=_run)


def s3_event(bucket: str, key: str, put: dict[str, Any], size: int) -> dict[str, Any]:
    """An S3 ObjectCreated:Put notification for one PUT, as S3 delivers it to Lambda."""
    now = datetime.now(UTC)
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:REPLAY"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "feed-ingest",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "REPLAY"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size,
                          "eTag": str(put.get("ETag", "")).strip('"'), "versionId": put.get("VersionId"),
                          "sequencer": f"{time.time_ns():X}"}}}]}


def _run(a: argparse.Namespace) -> int:
    from crimecast.feed.config import parse_config

    exports = sorted(p for p in Path(a.exports).iterdir() if p.name.lower().endswith(EXPORT_SUFFIXES))
    if not exports:
        raise FileNotFoundError(f"{a.exports}: no .csv / .csv.gz exports")
    cfg_text = Path(a.config).read_text(encoding="utf-8")
    parse_config(cfg_text, where=a.config)  # a wrong config fails here, before anything starts
    model = Path(a.forecaster)
    if not (model / "metadata.json").is_file():
        raise FileNotFoundError(f"{model}: not a forecaster model directory (model.tflite + metadata.json); "
                                "train one with `crimecast train-forecaster` or pass --forecaster")
    trainer = None
    if a.retrain_every:
        from crimecast.retrain.gate import find_trainer

        trainer = find_trainer()
    summary = replay(exports, cfg_text, Path(a.out), model, retrain_every=a.retrain_every, trainer=trainer,
                     max_stale_days=a.max_stale_days, with_data=Path(a.with_data) if a.with_data else None)
    print(json.dumps({k: summary[k] for k in ("days", "out", "last_complete_day", "counts_total", "monitoring_rows",
                                              "failed_exports", "promotions")}, indent=1))
    return 0


def replay(exports: list[Path], config_text: str, out: Path, model_dir: Path, *, retrain_every: int = 0,
           trainer: Any = None, max_stale_days: int = 3, with_data: Path | None = None,
           log_fn: Any = print) -> dict[str, Any]:
    from moto.server import ThreadedMotoServer

    from crimecast import layout as L
    from crimecast.storage import download_prefix

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out.mkdir(parents=True, exist_ok=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    old_env = dict(os.environ)
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        suffix = uuid.uuid4().hex[:6]
        env = {"AWS_ACCESS_KEY_ID": "replay", "AWS_SECRET_ACCESS_KEY": "replay", "AWS_DEFAULT_REGION": "us-east-1",
               "CRIMECAST_S3_ENDPOINT_URL": endpoint, "CRIMECAST_MAX_STALE_DAYS": str(max_stale_days),
               "CRIMECAST_MODEL_CACHE_DIR": str(out / ".model-cache"), "POWERTOOLS_METRICS_NAMESPACE": "crimecast",
               "POWERTOOLS_SERVICE_NAME": "crimecast-replay", "POWERTOOLS_LOG_LEVEL": "WARNING"}
        env |= {k: f"crimecast-{v}-{suffix}" for k, v in BUCKETS.items()}
        env["CRIMECAST_MODELS_BUCKET"] = env["CRIMECAST_DATA_BUCKET"]  # models/ lives in the data bucket on AWS
        os.environ.update(env)
        from crimecast import models_cache
        from crimecast.settings import get_settings
        from crimecast.storage import Stores, s3_client

        get_settings.cache_clear()
        models_cache.clear_loaded()
        client = s3_client(endpoint)
        for k in BUCKETS:
            client.create_bucket(Bucket=env[k])
        data_bucket = env["CRIMECAST_DATA_BUCKET"]
        client.put_bucket_versioning(Bucket=data_bucket, VersioningConfiguration={"Status": "Enabled"})
        stores = Stores.from_settings(get_settings(), client=client)
        stores.data.put_bytes(L.INGEST_CONFIG, config_text.encode(), "application/json")
        version = models_cache.upload_model(stores.models, model_dir, L.model_key(L.FORECASTER))
        if with_data is not None:
            for f in sorted(with_data.iterdir()):
                if f.is_file() and "count" not in f.name.lower():
                    stores.data.upload_file(f, L.data_key(f.name))
        feed_h = importlib.reload(importlib.import_module("crimecast.handlers.feed_ingest"))
        job_h = importlib.reload(importlib.import_module("crimecast.handlers.forecast_job"))
        log_fn(f"replay: local S3 at {endpoint}; champion forecaster {version}; {len(exports)} exports")
        days, failed, promotions = drive(client, stores, data_bucket, exports, feed_h, job_h, trainer=trainer,
                                         retrain_every=retrain_every, log_fn=log_fn)
        return _collect(stores, out, days, failed, promotions, download_prefix)
    finally:
        os.environ.clear()
        os.environ.update(old_env)
        from crimecast.settings import get_settings

        get_settings.cache_clear()
        server.stop()


def drive(client: Any, stores: Any, data_bucket: str, exports: list[Path], feed_h: Any, job_h: Any, *,
          trainer: Any = None, retrain_every: int = 0, log_fn: Any = print
          ) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """One simulated day per export: PUT → S3 event → feed handler → forecast job (run date = the day after the
    last complete day) → (every N days) the retrain job. Returns (per-day records, failed exports, decisions)."""
    import pandas as pd

    from crimecast import layout as L

    days: list[dict[str, Any]] = []
    promotions: list[dict[str, Any]] = []
    failed: list[str] = []
    for i, path in enumerate(exports, 1):
        key = L.FEED_INCOMING + path.name
        with open(path, "rb") as fh:
            put = client.put_object(Bucket=data_bucket, Key=key, Body=fh)
        event = s3_event(data_bucket, key, put, path.stat().st_size)
        day: dict[str, Any] = {"export": path.name}
        t = time.perf_counter()
        try:
            day["feed"] = feed_h.handler(event, _Ctx())["exports"][0]
        except Exception as exc:  # noqa: BLE001 - the loop goes on, as Lambda retries → DLQ would
            failed.append(path.name)
            day["feed_error"] = f"{type(exc).__name__}: {exc}"
            log_fn(f"replay: {path.name}: NOT ingested ({day['feed_error']})")
        day["feed_s"] = round(time.perf_counter() - t, 2)
        state = json.loads(stores.data.get_bytes(L.FEED_STATE)) if stores.data.exists(L.FEED_STATE) else None
        if state is None:
            days.append(day)
            continue
        run_date = (pd.Timestamp(state["last_complete_day"]) + pd.Timedelta(days=1)).date().isoformat()
        t = time.perf_counter()
        res = job_h.handler({"run_date": run_date, "source": "crimecast.replay"}, _Ctx())
        day |= {"run_date": run_date, "forecast": res, "forecast_s": round(time.perf_counter() - t, 2)}
        if retrain_every and trainer is not None and i % retrain_every == 0:
            from crimecast.retrain.gate import run_retrain

            decision = run_retrain(stores.data, stores.models, trainer, run_date=run_date)
            promotions.append(decision)
            day["retrain"] = {k: decision.get(k) for k in ("promoted", "reason", "champion", "challenger")}
        log_fn(f"replay: day {i}/{len(exports)} {path.name}: last complete day {state['last_complete_day']}, "
               f"run {run_date} ({day.get('feed', {}).get('incidents', 0)} incidents in the export)")
        days.append(day)
    return days, failed, promotions


def _collect(stores: Any, out: Path, days: list[dict[str, Any]], failed: list[str], promotions: list[dict[str, Any]],
             download_prefix: Any) -> dict[str, Any]:
    from crimecast import layout as L
    from crimecast.feed.state import read_counts, read_state
    from crimecast.monitoring.store import read_monitoring

    state = read_state(stores.data)
    counts_total, mon_rows = 0, 0
    if state is not None:
        counts = read_counts(stores.data, state, through=state.newest_day)
        counts.to_parquet(out / "counts.parquet", index=False)
        counts_total = int(counts["count"].sum())
    for store, prefix in ((stores.results, L.FORECASTS), (stores.results, L.MONITORING),
                          (stores.reports, L.report_latest_folder(L.Prefixes())), (stores.data, L.FEEDS)):
        for p in out.joinpath(prefix).rglob("*") if out.joinpath(prefix).exists() else []:
            if p.is_file():
                p.unlink()  # a previous replay's files would mix with this one's
        download_prefix(store, prefix, out / prefix)
    mon = read_monitoring(stores.results)
    if mon is not None:
        mon_rows = len(mon)
    summary = {"days": len(days), "out": str(out), "last_complete_day": state.last_complete_day if state else None,
               "newest_day": state.newest_day if state else None, "counts_total": counts_total,
               "monitoring_rows": mon_rows, "failed_exports": failed, "promotions": promotions, "per_day": days,
               "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    buf = io.StringIO()
    json.dump(summary, buf, indent=1, default=str)
    (out / "replay.json").write_text(buf.getvalue())
    return summary


def demo_loop(client: Any, stores: Any, data_bucket: str, counts: Any, out: Path, *, days: int = 3,
              history_days: int = 400, log_fn: Any = print) -> dict[str, Any]:
    """The loop inside `crimecast demo` (its local S3 and handlers): `days` simulated daily exports made from the
    demo's counts (ids, 3-day overlap, late records, corrections) → feed → forecast job each day; the last
    report then has "How did our forecasts do?" filled. Copies feeds/ and monitoring/ under `out/`."""
    from crimecast import layout as L
    from crimecast.feed.simulate import simulate_exports
    from crimecast.storage import download_prefix

    sim = simulate_exports(counts, out / "loop-exports", days=days, history_days=history_days, seed=7)
    stores.data.put_bytes(L.INGEST_CONFIG, json.dumps(sim["config"]).encode(), "application/json")
    feed_h = importlib.import_module("crimecast.handlers.feed_ingest")
    job_h = importlib.import_module("crimecast.handlers.forecast_job")
    per_day, failed, _ = drive(client, stores, data_bucket, [Path(f) for f in sim["files"]], feed_h, job_h,
                               log_fn=log_fn)
    for store, prefix in ((stores.results, L.MONITORING), (stores.data, L.FEEDS)):
        download_prefix(store, prefix, out / prefix)
    return {"days": per_day, "failed": failed, "incidents": sim["incidents"], "exports": sim["files"]}
