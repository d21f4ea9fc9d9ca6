"""Integration fixtures: a real local S3 (moto server), the buckets, deployed models, event loaders.

Handlers run in-process (moto cannot run Lambda code without Docker) against a ThreadedMotoServer,
the same endpoint kind the demo uses, so presigned URLs work over real HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lambda_helpers import LambdaContext

BUCKETS = {"CRIMECAST_UPLOADS_BUCKET": "uploads", "CRIMECAST_DATA_BUCKET": "data",
           "CRIMECAST_RESULTS_BUCKET": "results", "CRIMECAST_REPORTS_BUCKET": "reports",
           "CRIMECAST_MODELS_BUCKET": "models"}


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Aws:
    endpoint: str
    env: dict[str, str]
    stores: Any  # crimecast.storage.Stores
    client: Any


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """Fresh buckets in the moto server (uploads versioned) and the environment the handlers read."""
    import requests
    from crimecast import models_cache
    from crimecast.settings import get_settings
    from crimecast.storage import Stores, s3_client

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    suffix = uuid.uuid4().hex[:8]
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "CRIMECAST_S3_ENDPOINT_URL": moto_endpoint,
           "CRIMECAST_MODEL_CACHE_DIR": str(tmp_path / "model-cache"), "POWERTOOLS_METRICS_NAMESPACE": "crimecast",
           "POWERTOOLS_SERVICE_NAME": "crimecast-test"}
    env.update({k: f"cc-{v}-{suffix}" for k, v in BUCKETS.items()})
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    models_cache.clear_loaded()
    client = s3_client(moto_endpoint)
    for k in BUCKETS:
        client.create_bucket(Bucket=env[k])
    client.put_bucket_versioning(Bucket=env["CRIMECAST_UPLOADS_BUCKET"],
                                 VersioningConfiguration={"Status": "Enabled"})
    yield Aws(moto_endpoint, env, Stores.from_settings(get_settings(), client=client), client)
    get_settings.cache_clear()
    models_cache.clear_loaded()


@pytest.fixture
def deployed_classifier(aws: Aws, classifier_model_dir: Path) -> str:
    from crimecast.models_cache import upload_model

    return upload_model(aws.stores.models, classifier_model_dir, "models/classifier")


@pytest.fixture
def deployed_forecaster(aws: Aws, forecaster_model_dir: Path) -> str:
    from crimecast.models_cache import upload_model

    return upload_model(aws.stores.models, forecaster_model_dir, "models/forecaster")


@pytest.fixture
def data_uploaded(aws: Aws, synth_dir: Path) -> dict[str, str]:
    """The synthetic tables under data/ in the data bucket."""
    keys = {"counts": "data/counts/crime_rate_dataset.csv", "events": "data/events/event_holiday_data.csv",
            "weather": "data/weather/weather.csv", "districts": "data/districts/districts.csv"}
    for key in keys.values():
        aws.stores.data.upload_file(synth_dir / key.rsplit("/", 1)[-1], key)
    return keys
