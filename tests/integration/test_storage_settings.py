"""Storage (S3 on a local moto server and a local directory behave alike), settings, model cache."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(params=["s3", "local"])
def store(request, aws, tmp_path):
    from crimecast.storage import LocalStorage

    return aws.stores.results if request.param == "s3" else LocalStorage(tmp_path / "bucket")


def test_store_round_trip_list_delete(store, tmp_path):
    from crimecast.storage import NotFound

    info = store.put_bytes("a/b c/x.json", b'{"k": 1}', "application/json")
    assert info.size == 8 and store.exists("a/b c/x.json")
    assert store.get_bytes("a/b c/x.json") == b'{"k": 1}'
    store.put_bytes("a/y.bin", b"y")
    assert [i.key for i in store.list("a/")] == ["a/b c/x.json", "a/y.bin"]
    store.download_file("a/y.bin", tmp_path / "dl" / "y.bin")
    assert (tmp_path / "dl" / "y.bin").read_bytes() == b"y"
    store.delete("a/y.bin")
    assert not store.exists("a/y.bin")
    with pytest.raises(NotFound, match="a/missing"):
        store.get_bytes("a/missing")
    with pytest.raises(NotFound):
        store.head("a/missing")
    with pytest.raises(NotFound):
        store.download_file("a/missing", tmp_path / "nope")
    assert not (tmp_path / "nope").exists()  # no partial file


def test_local_store_refuses_keys_outside_its_root(tmp_path):
    from crimecast.storage import LocalStorage

    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path / "b").put_bytes("../evil", b"x")


def test_settings_read_the_shared_env_names(monkeypatch):
    from crimecast import env_names
    from crimecast.settings import Settings
    from pydantic import ValidationError

    monkeypatch.setenv(env_names.INCOMING_PREFIX, "/drop")
    monkeypatch.setenv(env_names.CLASSIFIER_MODEL_VERSION, "v7")
    s = Settings()
    assert s.incoming_prefix == "drop/" and s.classifier_model_version == "v7"
    assert set(s.env()) <= set(env_names.ALL)
    monkeypatch.setenv(env_names.MAX_INLINE_BYTES, "-5")
    with pytest.raises(ValidationError, match=env_names.MAX_INLINE_BYTES):
        Settings()
    monkeypatch.setenv(env_names.MAX_INLINE_BYTES, "100")
    monkeypatch.setenv(env_names.UPLOADS_PREFIX, "drop/records")
    with pytest.raises(ValidationError, match="trigger prefix"):
        Settings()
    monkeypatch.setenv(env_names.UPLOADS_PREFIX, "uploads/")
    monkeypatch.setenv(env_names.UPLOADS_BUCKET, "one-bucket")
    monkeypatch.setenv(env_names.RESULTS_BUCKET, "one-bucket")
    monkeypatch.setenv(env_names.RESULTS_PREFIX, "drop/results")
    with pytest.raises(ValidationError, match="re-trigger"):
        Settings()


def test_stores_from_file_urls(tmp_path, monkeypatch):
    from crimecast.settings import Settings
    from crimecast.storage import LocalStorage, Stores

    for k in ("UPLOADS", "DATA", "RESULTS", "REPORTS", "MODELS"):
        monkeypatch.setenv(f"CRIMECAST_{k}_BUCKET", f"file://{tmp_path / k.lower()}")
    stores = Stores.from_settings(Settings())
    assert isinstance(stores.models, LocalStorage) and stores.models.root == (tmp_path / "models").resolve()


def test_model_cache_fetches_latest_once(aws, tmp_path):
    from crimecast import models_cache
    from crimecast.models_cache import ModelNotFoundError, fetch_model, list_versions

    src = tmp_path / "m"
    src.mkdir()
    (src / "model.tflite").write_bytes(b"TFL3")
    for v in ("v2", "v10", "v9"):
        (src / "metadata.json").write_text(json.dumps({"name": "classifier", "version": v}))
        models_cache.upload_model(aws.stores.models, src, "models/classifier")
    assert list_versions(aws.stores.models, "models/classifier") == ["v2", "v9", "v10"]
    ref = fetch_model(aws.stores.models, "models/classifier", "latest", tmp_path / "cache")
    assert ref.version == "v10" and json.loads((ref.path / "metadata.json").read_text())["version"] == "v10"
    # once per process: a second call does not download again even if the store changes
    aws.stores.models.delete("models/classifier/v10/model.tflite")
    assert fetch_model(aws.stores.models, "models/classifier", "latest", tmp_path / "cache") == ref
    with pytest.raises(ModelNotFoundError, match="model.tflite"):
        fetch_model(aws.stores.models, "models/classifier", "v10", tmp_path / "other-cache")
    assert not any((tmp_path / "other-cache").rglob("model.tflite"))  # nothing half-downloaded left behind
    with pytest.raises(ModelNotFoundError, match="no model versions"):
        fetch_model(aws.stores.models, "models/forecaster", "latest", tmp_path / "cache")


def test_s3_missing_key_behind_a_403_is_not_found(aws):
    # Given a role whose s3:ListBucket is prefix-scoped: S3 answers 403, not 404, for a missing key
    from botocore.exceptions import ClientError
    from crimecast.storage import NotFound, S3Storage

    store = S3Storage(aws.stores.results.name, client=aws.client)
    store.put_bytes("results/there.json", b"{}")
    real_head = aws.client.head_object

    def head_403(**kw):
        if kw["Key"] != "results/there.json":
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")
        return real_head(**kw)

    store.client = type("C", (), {"head_object": staticmethod(head_403),
                                  "list_objects_v2": staticmethod(aws.client.list_objects_v2)})()
    # Then a missing key is NotFound (checked via the listing), an existing one is found
    with pytest.raises(NotFound):
        store.head("results/missing.json")
    assert store.head("results/there.json").size == 2
    assert store.exists("results/there.json") and not store.exists("results/missing.json")
