"""`crimecast demo`: the whole serverless system on one machine (what `make demo` runs).

Synthetic data → quick models (trained only if models/ has none) → a local S3 (moto server) with the
deployment's buckets → the API (the same FastAPI app, under uvicorn) → images and a video dropped into
`incoming/` with real-shaped S3 events delivered to the classify-upload handler → the forecast-job
handler once → the report and the forecasts downloaded from the local S3. `--once` stops there;
otherwise the API keeps serving until Ctrl-C.
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
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from crimecast import layout

BUCKETS = {"CRIMECAST_UPLOADS_BUCKET": "crimecast-uploads", "CRIMECAST_DATA_BUCKET": "crimecast-data",
           "CRIMECAST_RESULTS_BUCKET": "crimecast-results", "CRIMECAST_REPORTS_BUCKET": "crimecast-reports",
           "CRIMECAST_MODELS_BUCKET": "crimecast-models"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="run the serverless system locally (moto S3 + API + handlers + report)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--once", action="store_true", help="exit after the forecast job instead of serving the API")
    p.add_argument("--out", default="demo-out", help="where the report, forecasts and logs are copied (demo-out)")
    p.add_argument("--models", default="models", help="model directories (trained here when absent)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="API port (a free one is picked if it is taken)")
    p.add_argument("--s3-port", type=int, default=0, help="local S3 port (default: any free port)")
    p.add_argument("--images", type=int, default=12, help="images dropped into incoming/ (default 12)")
    p.add_argument("--districts", type=int, default=8)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
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


def _cli(*args: str) -> None:
    """Run a crimecast sub-command in a subprocess (training imports TensorFlow: keep it out of this process)."""
    cmd = [sys.executable, "-m", "crimecast.cli", *args]
    _say("$ crimecast " + " ".join(args))
    proc = subprocess.run(cmd, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`crimecast {args[0]}` failed with exit code {proc.returncode}")


def _ensure_data(data: Path, a: argparse.Namespace) -> Path:
    if not (data / "crime_rate_dataset.csv").exists() or not (data / "images").is_dir():
        _cli("synth", "--out", str(data), "--years", str(a.years), "--districts", str(a.districts),
             "--seed", str(a.seed), "--images-per-class", "40", "--videos", "2")
    else:
        _say(f"synthetic data already in {data}")
    return data


def _ensure_models(models: Path, data: Path) -> dict[str, Path]:
    out = {"forecaster": models / "forecaster", "classifier": models / "classifier"}
    if not (out["forecaster"] / "metadata.json").exists():
        _cli("train-forecaster", "--counts", str(data / "crime_rate_dataset.csv"),
             "--events", str(data / "event_holiday_data.csv"), "--weather", str(data / "weather.csv"),
             "--districts", str(data / "districts.csv"), "--out", str(out["forecaster"]), "--quick")
    else:
        _say(f"using the forecaster in {out['forecaster']}")
    if not (out["classifier"] / "metadata.json").exists():
        _cli("train-classifier", "--images", str(data / "images"), "--out", str(out["classifier"]), "--quick")
    else:
        _say(f"using the classifier in {out['classifier']}")
    return out


class _Ctx:
    """The bits of a Lambda context the powertools decorators read."""

    function_name = "crimecast-demo"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:crimecast-demo"
    aws_request_id = "demo"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _pick_media(data: Path, n_images: int) -> list[Path]:
    images: list[Path] = []
    classes = sorted(d for d in (data / "images").iterdir() if d.is_dir()) if (data / "images").is_dir() else []
    per_class = [sorted(p for p in d.iterdir() if p.is_file()) for d in classes]
    i = 0
    while len(images) < n_images and any(per_class):
        for files in per_class:  # round-robin over the risk classes
            if i < len(files) and len(images) < n_images:
                images.append(files[i])
        i += 1
        if all(i >= len(f) for f in per_class):
            break
    videos = sorted(p for p in (data / "videos").glob("*") if p.suffix.lower() in (".mp4", ".avi", ".mov"))
    return images + videos[:1]


def _run(a: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = _ensure_data(out / "data", a)
    model_dirs = _ensure_models(Path(a.models).resolve(), data)

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
           "POWERTOOLS_LOG_LEVEL": "WARNING", **BUCKETS}
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
    _say(f"models uploaded: {', '.join(f'{k} {v}' for k, v in versions.items())}")
    for name, kind in (("crime_rate_dataset.csv", "counts"), ("event_holiday_data.csv", "events"),
                       ("weather.csv", "weather"), ("districts.csv", "districts")):
        if (data / name).exists():
            stores.data.upload_file(data / name, f"{settings.data_prefix}{kind}/{name}")
    _say(f"data uploaded to s3://{settings.data_bucket}/{settings.data_prefix}")

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

    media = _pick_media(data, a.images)
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
        _say(f"classified {len(media)} uploads from incoming/: {levels}; running the forecast job")
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
        return 0
    # Serving: stand in for S3 event notifications, so presigned uploads (POST /v1/uploads) get classified.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # keep EMF documents off the terminal
    stop = threading.Event()
    seen = {(o.key, o.etag) for o in stores.uploads.list(settings.incoming_prefix)}
    poller = threading.Thread(target=_notify_new_uploads, args=(client, settings, classify_handler.handler, seen, stop),
                              name="s3-notifications", daemon=True)
    poller.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    _say("serving the API until Ctrl-C (new objects under incoming/ are delivered to the classifier)")
    try:
        while api_thread.is_alive():
            api_thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.should_exit = True
        api_thread.join(timeout=10)
        poller.join(timeout=5)
        s3.stop()
    return 0


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

