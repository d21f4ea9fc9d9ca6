"""`crimecast demo`: the whole serverless system on one machine (what `make demo` runs).

The embedded real data (data/chicago) and the shipped models (models/; nothing is trained unless --train)
→ a local S3 (moto server) with the deployment's buckets → the API (the same FastAPI app, under uvicorn) →
the real sample images and clip (data/samples) dropped into `incoming/` with real-shaped S3 events delivered
to the classify-upload handler → a backtest of the shipped forecaster vs the baselines (no retraining) →
the daily loop: earlier runs backfilled (what the forecast job would have written a week, two, three and four
weeks ago; --backfill-runs) and the forecast-job handler once (forecasts, patrol allocation, report, and "How did
our forecasts do?" checking those runs against the counts) → the report and the forecasts downloaded from the
local S3. `--once` stops there; otherwise the API keeps serving until Ctrl-C.
`--synthetic` runs the same on generated data; `--data DIR` on your own contract tables.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from crimecast import demo_inputs, layout, quiet
from crimecast.local_context import LocalContext

BUCKETS = {"CRIMECAST_UPLOADS_BUCKET": "crimecast-uploads", "CRIMECAST_DATA_BUCKET": "crimecast-data",
           "CRIMECAST_RESULTS_BUCKET": "crimecast-results", "CRIMECAST_REPORTS_BUCKET": "crimecast-reports",
           "CRIMECAST_MODELS_BUCKET": "crimecast-models"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="run the serverless system locally (moto S3 + API + handlers + report)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--once", action="store_true", help="exit after the forecast job instead of serving the API")
    p.add_argument("--out", default="demo-out", help="where the report, forecasts and logs are copied (demo-out)")
    p.add_argument("--data", help="folder of contract tables (counts, events, weather, districts); default: the "
                   "embedded real Chicago data in data/chicago")
    p.add_argument("--synthetic", action="store_true", help="generate synthetic data and pictures instead")
    p.add_argument("--media", help="folder with images/<class>/*.jpg and videos/*.mp4 to upload "
                   "(default: the real samples in data/samples)")
    p.add_argument("--models", help="folder with forecaster/ and classifier/ (default: the shipped models/)")
    p.add_argument("--train", action="store_true", help="train missing models here (otherwise a missing model is an "
                   "error: the demo never trains unless asked)")
    p.add_argument("--units", type=int, default=40, help="patrol units for the report's allocation (default 40)")
    p.add_argument("--backtest-origins", type=int, default=3,
                   help="origins (30 days each, 28 apart) of the shipped-model backtest in the report (default 3; "
                   "0 = none)")
    p.add_argument("--backfill-runs", type=int, default=4,
                   help="earlier daily runs (7 days apart) written before the forecast job, so its report checks "
                   "them against the counts in 'How did our forecasts do?' (default 4; 0 = none)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="API port (a free one is picked if it is taken)")
    p.add_argument("--s3-port", type=int, default=0, help="local S3 port (default: any free port)")
    p.add_argument("--images", type=int, default=12, help="images dropped into incoming/ (default 12)")
    p.add_argument("--districts", type=int, default=8, help="--synthetic: districts")
    p.add_argument("--years", type=int, default=3, help="--synthetic: years")
    p.add_argument("--seed", type=int, default=7, help="--synthetic: seed")
    p.set_defaults(func=_run)


def _say(msg: str) -> None:
    # sys.__stdout__: the handlers' stdout (EMF metrics, logs) is redirected to a file meanwhile.
    print(f"[demo {time.strftime('%H:%M:%S')}] {msg}", file=sys.__stdout__, flush=True)


def _free_port(host: str, wanted: int) -> int:
    with socket.socket() as s:
        try:
            s.bind((host, wanted))
        except OSError:
            s.bind((host, 0))
        return int(s.getsockname()[1])


_Ctx = partial(LocalContext, "crimecast-demo", 1024, "demo")  # the handlers' Lambda context, in-process


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(a: argparse.Namespace) -> int:
    # Explicitly: a shell that starts the demo in the background hands it SIGINT *ignored*; Ctrl-C / kill -INT
    # must still stop it cleanly. SIGTERM (docker stop, systemd) does the same.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    quiet.quiet_logs()
    try:
        return _main(a)
    except KeyboardInterrupt:
        _say("interrupted: stopped")
        return 130
    except demo_inputs.DemoInputError as exc:
        _say(f"cannot start: {exc}")
        return 2


def _main(a: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _say("crimecast demo starting (Ctrl-C stops it)")
    demo_data = demo_inputs.choose_data(a, out, _say)
    _say(f"data: {demo_data.label}")
    model_dirs = demo_inputs.choose_models(a, demo_data, _say)
    backtest = None
    if a.backtest_origins > 0:  # on the second core while the system starts: the shipped model vs the baselines
        backtest = demo_inputs.start_backtest(model_dirs["forecaster"], demo_data.tables, a.backtest_origins)
        t_backtest = time.perf_counter()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's access log

    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port("127.0.0.1", a.s3_port) if a.s3_port else 0,
                            verbose=False)
    s3.start()
    host, s3_port = s3.get_host_and_port()
    endpoint = f"http://{host}:{s3_port}"
    env = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "us-east-1",
           "CRIMECAST_S3_ENDPOINT_URL": endpoint, "CRIMECAST_MODEL_CACHE_DIR": str(out / ".model-cache"),
           "POWERTOOLS_SERVICE_NAME": "crimecast-demo", "POWERTOOLS_METRICS_NAMESPACE": "crimecast-demo",
           "POWERTOOLS_LOG_LEVEL": "WARNING", "CRIMECAST_REPORT_ALLOCATION_UNITS": str(a.units), **BUCKETS}
    os.environ.update(env)  # the handlers read their settings from the environment, as in Lambda
    _say(f"local S3 (moto server) at {endpoint}")

    from crimecast.models_cache import upload_model
    from crimecast.settings import get_settings
    from crimecast.storage import Stores, download_prefix, s3_client

    get_settings.cache_clear()
    settings = get_settings()
    client = s3_client(endpoint)
    for bucket in BUCKETS.values():
        client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=settings.uploads_bucket, VersioningConfiguration={"Status": "Enabled"})
    stores = Stores.from_settings(settings, client=client)
    versions = {name: upload_model(stores.models, d, settings.classifier_model_key if name == "classifier"
                                   else settings.forecaster_model_key) for name, d in model_dirs.items()}
    clip_dir = model_dirs["forecaster"].parent / "clip"
    if (clip_dir / "metadata.json").is_file() and (clip_dir / "model.tflite").is_file():  # for the model card
        versions["clip"] = upload_model(stores.models, clip_dir, layout.model_key("clip"))
    _say(f"models uploaded: {', '.join(f'{k} {v}' for k, v in versions.items())}")
    for kind, path in demo_data.tables.items():
        stores.data.upload_file(path, f"{settings.data_prefix}{kind}/{path.name}")
    _say(f"data uploaded to s3://{settings.data_bucket}/{settings.data_prefix} ({', '.join(demo_data.tables)})")
    quiet.swallow_litert_banner(model_dirs["forecaster"] / "model.tflite")

    # The API: the same app the Lambda serves, under uvicorn in a thread.
    import uvicorn

    from crimecast.api import create_app

    port = _free_port(a.host, a.port)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, stores), host=a.host, port=port,
                                           log_level="warning", access_log=False))
    api_thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    api_thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the API did not start on {a.host}:{port}")
    api_url = f"http://{a.host}:{port}"
    _say(f"API at {api_url} (OpenAPI: {api_url}/docs)")

    logs = out / "handler-logs.jsonl"
    from crimecast.handlers import classify_upload as classify_handler
    from crimecast.handlers import forecast_job as forecast_handler
    from crimecast.jobs.classify_upload import make_s3_event

    media = demo_data.media
    levels: dict[str, int] = {}
    with open(logs, "w") as log, contextlib.redirect_stdout(log):  # EMF metrics + JSON logs, as CloudWatch gets
        for p in media:
            key = layout.incoming_key(settings.incoming_prefix, f"demo-cam {p.parent.name}", p.name)
            ctype = "video/mp4" if p.suffix.lower() == ".mp4" else "image/jpeg" if p.suffix.lower() in (
                ".jpg", ".jpeg") else None
            body = p.read_bytes()
            kw = {"ContentType": ctype} if ctype else {}
            r = client.put_object(Bucket=settings.uploads_bucket, Key=key, Body=body, **kw)
            ev = make_s3_event(settings.uploads_bucket, key, version_id=r.get("VersionId"),
                               etag=r["ETag"].strip('"'), size=len(body))
            res = classify_handler.handler(ev, _Ctx())["results"][0]
            label = res.get("risk_level") or res.get("status")
            levels[str(label)] = levels.get(str(label), 0) + 1
        _say(f"classified {len(media)} uploads from incoming/: {levels}")
        if a.backfill_runs > 0:  # the daily loop: earlier runs for this run's monitoring to check
            done = _backfill(stores, layout.Prefixes.from_settings(settings), model_dirs["forecaster"],
                             demo_data.tables, a.backfill_runs)
            _say(f"daily loop: backfilled {len(done)} earlier runs ({', '.join(done) or 'already there'}) for the "
                 "forecast job's monitoring to check against the counts")
        if backtest is not None:  # the report's backtest: the shipped model vs the baselines, no retraining
            result = backtest()
            for name, metrics in result.items():
                slug = "lstm" if name.startswith("lstm") else name
                stores.data.put_bytes(f"{settings.data_prefix}{layout.BACKTEST}{slug}/{layout.BACKTEST_METRICS}",
                                      json.dumps(metrics, default=str).encode(), "application/json")
            lstm = next(iter(result.values()))
            _say(f"backtest of the shipped forecaster vs {len(result) - 1} baselines: {lstm['n_origins']} origins "
                 f"({lstm['run']['scope']}), MAE {lstm['overall']['mae']:.2f} "
                 f"(done {time.perf_counter() - t_backtest:.0f} s after it started)")
        _say("running the forecast job")
        sched = {"version": "0", "id": "demo", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "000000000000", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/demo"],
                 "detail": {}}
        run = forecast_handler.handler(sched, _Ctx())
    _say(f"forecast job: {run['series']} series, {run['rows']} rows → {run['forecasts_uri']}")

    # Copy what the deployment would hold in S3 to the output folder.
    prefixes = layout.Prefixes.from_settings(settings)
    for sub in (Path("reports", "latest"), Path("forecasts"), Path("results")):
        target = out / sub
        if target.exists():
            shutil.rmtree(target)
    download_prefix(stores.reports, layout.report_latest_folder(prefixes), out / "reports" / "latest")
    download_prefix(stores.results, prefixes.forecasts, out / "forecasts")
    download_prefix(stores.results, prefixes.runs, out / "runs")
    download_prefix(stores.results, settings.results_prefix + layout.RESULT_JSON, out / "results")
    report = out / "reports" / "latest" / "index.html"

    # Prove the curl line works before printing it.
    sample = next(p for p in media if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    ctype = "image/png" if sample.suffix.lower() == ".png" else "image/jpeg"
    req = urllib.request.Request(f"{api_url}/v1/classify", data=sample.read_bytes(), method="POST",
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=60) as resp:
        answer = json.load(io.TextIOWrapper(resp, encoding="utf-8"))
    elapsed = time.perf_counter() - t_start
    print()
    print(f"  report:     {report}")
    print(f"  forecasts:  {out / 'forecasts'}  ({run['rows']} rows, run_date={run['run_date']})")
    print(f"  results:    {out / 'results'}  (one JSON per upload)")
    print(f"  local S3:   {endpoint}  (buckets: {', '.join(BUCKETS.values())})")
    print(f"  API:        {api_url}   docs: {api_url}/docs")
    print(f"  try:        curl -s -X POST -H 'Content-Type: {ctype}' --data-binary @{sample} {api_url}/v1/classify")
    print(f"              → risk_level={answer['risk_level']} confidence={answer['confidence']:.2f}")
    print(f"              curl -s '{api_url}/v1/hotspots?top=3'")
    print(f"  logs:       {logs}")
    print(f"  took {elapsed:.0f} s")
    print(flush=True)
    if a.once:
        server.should_exit = True
        api_thread.join(timeout=10)
        s3.stop()
        _say("done (--once): API and local S3 stopped")
        return 0
    # Serving: stand in for S3 event notifications, so presigned uploads (POST /v1/uploads) get classified.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # keep EMF documents off the terminal
    stop = threading.Event()
    seen = {(o.key, o.etag) for o in stores.uploads.list(settings.incoming_prefix)}
    poller = threading.Thread(target=_notify_new_uploads, args=(client, settings, classify_handler.handler, seen, stop),
                              name="s3-notifications", daemon=True)
    poller.start()
    _say("serving the API until Ctrl-C (new objects under incoming/ are delivered to the classifier)")
    try:
        while api_thread.is_alive():
            api_thread.join(timeout=0.5)
    except KeyboardInterrupt:
        _say("Ctrl-C: shutting down")
    finally:
        stop.set()
        server.should_exit = True
        api_thread.join(timeout=10)
        poller.join(timeout=5)
        s3.stop()
    _say("stopped: API and local S3 shut down")
    return 0


def _backfill(stores: object, prefixes: layout.Prefixes, model_dir: Path, tables: dict[str, Path],
              runs: int) -> list[str]:
    """Earlier runs (crimecast.monitoring.backfill) from the demo's tables with the shipped forecaster."""
    from crimecast.contract import read_table
    from crimecast.forecast.model import CrimeForecaster
    from crimecast.monitoring.backfill import backfill_runs

    counts = read_table(tables["counts"], "counts")
    known = set(counts["district"].unique())
    events = read_table(tables["events"], "events", known_districts=known) if "events" in tables else None
    weather = read_table(tables["weather"], "weather") if "weather" in tables else None
    with quiet.native_stderr_silenced():
        forecaster = CrimeForecaster().load_model(model_dir)
    return backfill_runs(stores.results, forecaster, counts, runs=runs, step=7,  # type: ignore[attr-defined]
                         prefixes=prefixes, events=events, weather=weather)


def _notify_new_uploads(client: object, settings: object, handler: object, seen: set[tuple[str, str]],
                        stop: threading.Event) -> None:
    """Poll incoming/ once a second and deliver an S3 ObjectCreated event per new object version."""
    from crimecast.jobs.classify_upload import make_s3_event
    from crimecast.storage import S3Storage

    bucket = settings.uploads_bucket  # type: ignore[attr-defined]
    store = S3Storage(bucket, client=client)
    while not stop.wait(1.0):
        try:
            for o in store.list(settings.incoming_prefix):  # type: ignore[attr-defined]
                if (o.key, o.etag) in seen or o.key.endswith("/"):
                    continue
                seen.add((o.key, o.etag))
                head = store.head(o.key)
                ev = make_s3_event(bucket, o.key, version_id=head.version_id, etag=head.etag, size=head.size)
                res = handler(ev, _Ctx())["results"][0]  # type: ignore[operator]
                _say(f"S3 event → classify-upload: {o.key}: {res.get('risk_level') or res.get('status')}")
        except Exception as exc:  # noqa: BLE001 - the poller must outlive a bad object or a hiccup
            _say(f"S3 event delivery failed: {type(exc).__name__}: {exc}")

