"""What the API benchmarks share: a local S3 (moto server) seeded with models and a real forecast run.

`seeded_api_env()` starts a moto S3 server, creates the buckets, uploads the classifier and forecaster, runs the
real forecast job once (no report) so a complete run with its serving artifact exists, and yields the
environment variables an API process needs to serve from it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "test-artifacts"
BUCKETS = ("UPLOADS", "DATA", "RESULTS", "REPORTS", "MODELS")


def newest(pattern: str, sub: str) -> Path | None:
    found = sorted(CACHE.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    for d in found:
        if (d / sub).exists():
            return d / sub
    return None


def default_models() -> tuple[Path | None, Path | None]:
    """The shipped models (models/), else the newest quick models the test suite cached."""
    cls = ROOT / "models" / "classifier"
    fc = ROOT / "models" / "forecaster"
    return (cls if (cls / "metadata.json").exists() else newest("classifier-*", "classifier"),
            fc if (fc / "metadata.json").exists() else newest("forecaster-*", "forecaster"))


def synth_data(tmp: Path) -> Path:
    """A small synthetic dataset (the test suite's cached one, else `crimecast synth`)."""
    got = newest("synth-*", "crime_rate_dataset.csv")
    if got is not None:
        return got.parent
    out = tmp / "synth"
    subprocess.run([sys.executable, "-m", "crimecast.cli", "synth", "--out", str(out), "--years", "3", "--districts",
                    "4", "--categories", "theft", "assault", "burglary", "--seed", "11", "--images-per-class", "4",
                    "--videos", "0"], check=True, capture_output=True)
    return out


def sample_jpeg(data_dir: Path) -> bytes:
    for p in sorted((ROOT / "data" / "samples").rglob("*.jpg")) + sorted(data_dir.rglob("*.jpg")):
        return p.read_bytes()
    raise FileNotFoundError("no JPEG under data/samples or the synthetic images")


@contextlib.contextmanager
def seeded_api_env(tmp: Path, classifier: Path, forecaster: Path) -> Iterator[dict[str, Any]]:
    """Yields {"env": {...}, "endpoint": url, "jpeg": bytes} with a moto S3 holding models and one forecast run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        suffix = uuid.uuid4().hex[:8]
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": "us-east-1", "CRIMECAST_S3_ENDPOINT_URL": endpoint,
               "CRIMECAST_MODEL_CACHE_DIR": str(tmp / "model-cache"), "POWERTOOLS_METRICS_DISABLED": "true",
               **{f"CRIMECAST_{b}_BUCKET": f"cc-bench-{b.lower()}-{suffix}" for b in BUCKETS}}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            _seed(tmp, classifier, forecaster, env)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        data_dir = synth_data(tmp)
        yield {"env": env, "endpoint": endpoint, "jpeg": sample_jpeg(data_dir)}
    finally:
        server.stop()


def _seed(tmp: Path, classifier: Path, forecaster: Path, env: dict[str, str]) -> None:
    from crimecast.jobs.forecast_job import run_forecast_job
    from crimecast.models_cache import load_forecaster, upload_model
    from crimecast.settings import get_settings
    from crimecast.storage import Stores, s3_client

    get_settings.cache_clear()
    s = get_settings()
    client = s3_client(env["CRIMECAST_S3_ENDPOINT_URL"])
    for b in BUCKETS:
        client.create_bucket(Bucket=env[f"CRIMECAST_{b}_BUCKET"])
    client.put_bucket_versioning(Bucket=env["CRIMECAST_UPLOADS_BUCKET"], VersioningConfiguration={"Status": "Enabled"})
    st = Stores.from_settings(s, client=client)
    upload_model(st.models, classifier, s.classifier_model_key)
    upload_model(st.models, forecaster, s.forecaster_model_key)
    data_dir = synth_data(tmp)
    from crimecast import layout as L

    for name, key in (("crime_rate_dataset.csv", L.data_key("counts/crime_rate_dataset.csv")),
                      ("event_holiday_data.csv", L.data_key("events/event_holiday_data.csv")),
                      ("weather.csv", L.data_key("weather/weather.csv")),
                      ("districts.csv", L.data_key("districts/districts.csv"))):
        if (data_dir / name).exists():
            st.data.upload_file(data_dir / name, key)
    fc, ref = load_forecaster(st.models, s)
    run_forecast_job(st.data, st.results, st.reports, fc, run_date="2026-11-27", model_info=ref.as_dict(),
                     with_report=False)
    get_settings.cache_clear()


def api_event(method: str, path: str, *, body: bytes | None = None, content_type: str | None = None,
              query: str = "") -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event, binary body base64-encoded as API Gateway sends it."""
    headers = {"host": "api.example.com", "user-agent": "bench"}
    if content_type:
        headers["content-type"] = content_type
    if body is not None:
        headers["content-length"] = str(len(body))
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": headers,
            "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "127.0.0.1", "userAgent": "bench"},
                               "requestId": uuid.uuid4().hex[:16], "stage": "$default", "accountId": "1",
                               "apiId": "bench", "domainName": "api.example.com", "time": "27/Nov/2026:00:00:00 +0000",
                               "timeEpoch": 0},
            "body": base64.b64encode(body).decode() if body is not None else None,
            "isBase64Encoded": body is not None}
