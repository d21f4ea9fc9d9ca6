"""The S3-drop classifier handler, in-process, against a local S3 (moto server) with real-shaped events."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from lambda_helpers import import_handler, load_event, s3_put_event, sample_image, sample_video

KEY = "incoming/cam 1/2026-11-27 10:00.jpg"  # S3 sends it as incoming/cam+1/2026-11-27+10%3A00.jpg


def _put(aws, key, data, content_type="image/jpeg"):
    r = aws.client.put_object(Bucket=aws.stores.uploads.name, Key=key, Body=data, ContentType=content_type)
    return r["VersionId"], r["ETag"].strip('"')


def _keys(store, prefix=""):
    return sorted(i.key for i in store.list(prefix))


def test_fixture_event_has_the_url_encoded_key_s3_sends():
    # Given the stored S3 event; then its key is URL-encoded and the parser decodes it.
    from crimecast.jobs.classify_upload import parse_s3_event

    ev = load_event("s3_object_created")
    assert ev["Records"][0]["s3"]["object"]["key"] == "incoming/cam%201/2026-11-27+10%3A00.jpg"
    assert parse_s3_event(ev)[0].key == KEY
    assert parse_s3_event(load_event("eventbridge_object_created"))[0].key == KEY


def test_classify_upload_writes_json_and_parquet_row(aws, deployed_classifier, synth_dir, lambda_context):
    # Given an image under incoming/ with a key that needs URL-encoding
    data = sample_image(synth_dir).read_bytes()
    version, etag = _put(aws, KEY, data)
    event = s3_put_event(aws.stores.uploads.name, KEY, version_id=version, etag=etag, size=len(data))
    assert "%3A" in event["Records"][0]["s3"]["object"]["key"] and "+" in event["Records"][0]["s3"]["object"]["key"]
    mod = import_handler("classify_upload")

    # When the handler gets the event
    out = mod.handler(event, lambda_context)

    # Then one ok result, stored as JSON and as one Parquet row in the date partition
    assert out["processed"] == 1 and out["results"][0]["status"] == "ok"
    jsons = _keys(aws.stores.results, "results/json/")
    rows = _keys(aws.stores.results, "results/rows/")
    assert len(jsons) == 1 and len(rows) == 1
    assert rows[0].startswith("results/rows/date=2026-11-27/")
    result = json.loads(aws.stores.results.get_bytes(jsons[0]))
    assert result["key"] == KEY and result["version_id"] == version
    assert result["risk_level"] in ("High", "Medium", "Low")
    assert abs(sum(result["probabilities"].values()) - 1.0) < 1e-3
    assert result["model_version"] and result["model_key"] == f"models/classifier/{deployed_classifier}"
    row = pd.read_parquet(io.BytesIO(aws.stores.results.get_bytes(rows[0])))
    assert len(row) == 1 and row.loc[0, "risk_level"] == result["risk_level"]
    assert row.loc[0, "model_version"] == result["model_version"]
    # And nothing was written under the trigger prefix (no recursion) and the input is untouched
    assert _keys(aws.stores.uploads, "incoming/") == [KEY]
    assert aws.stores.uploads.get_bytes(KEY) == data


def test_same_object_version_twice_gives_one_result_and_one_row(aws, deployed_classifier, synth_dir,
                                                                lambda_context):
    # Given one uploaded object version
    data = sample_image(synth_dir).read_bytes()
    version, etag = _put(aws, KEY, data)
    event = s3_put_event(aws.stores.uploads.name, KEY, version_id=version, etag=etag, size=len(data))
    mod = import_handler("classify_upload")

    # When S3 delivers the event twice (at-least-once delivery)
    first = mod.handler(event, lambda_context)
    second = mod.handler(event, lambda_context)

    # Then the second is recognised as a duplicate: one JSON, one Parquet row
    assert first["results"][0]["duplicate"] is False and second["results"][0]["duplicate"] is True
    assert len(_keys(aws.stores.results, "results/json/")) == 1
    assert len(_keys(aws.stores.results, "results/rows/")) == 1

    # And a new version of the same key is a new result
    version2, etag2 = _put(aws, KEY, data + b"\0")
    mod.handler(s3_put_event(aws.stores.uploads.name, KEY, version_id=version2, etag=etag2), lambda_context)
    assert len(_keys(aws.stores.results, "results/json/")) == 2


def test_truncated_jpeg_gives_error_result_not_exception(aws, deployed_classifier, synth_dir, lambda_context,
                                                         capsys):
    # Given a truncated JPEG
    data = sample_image(synth_dir).read_bytes()[:300]
    key = "incoming/cam2/broken.jpg"
    version, etag = _put(aws, key, data)
    mod = import_handler("classify_upload")

    # When it is delivered
    out = mod.handler(s3_put_event(aws.stores.uploads.name, key, version_id=version, etag=etag), lambda_context)

    # Then an error result is stored (no retry), the error names the file, and the input stays
    assert out["results"][0]["status"] == "error"
    (jkey,) = _keys(aws.stores.results, "results/json/")
    result = json.loads(aws.stores.results.get_bytes(jkey))
    assert result["status"] == "error" and "broken.jpg" in result["error"]
    assert aws.stores.uploads.exists(key)
    assert "ClassifyErrors" in capsys.readouterr().out  # EMF metric flushed to stdout


def test_event_for_deleted_object_gives_error_result(aws, deployed_classifier, lambda_context):
    # Given an event whose object was deleted before the function ran
    key = "incoming/gone/photo.jpg"
    event = s3_put_event(aws.stores.uploads.name, key, version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
                         etag="abc", size=10)
    mod = import_handler("classify_upload")

    # When it is delivered; then the handler does not raise and stores an ObjectMissing result
    out = mod.handler(event, lambda_context)
    assert out["results"][0]["status"] == "error"
    (jkey,) = _keys(aws.stores.results, "results/json/")
    assert json.loads(aws.stores.results.get_bytes(jkey))["error_type"] == "ObjectMissing"


def test_keys_outside_the_trigger_prefix_are_skipped(aws, deployed_classifier, lambda_context):
    mod = import_handler("classify_upload")
    out = mod.handler(s3_put_event(aws.stores.uploads.name, "results/x.jpg", etag="e"), lambda_context)
    assert out["results"][0]["status"] == "skipped"
    assert _keys(aws.stores.results) == []


def test_video_upload_gets_frames_and_clip(aws, deployed_classifier, synth_dir, lambda_context):
    # Given a short clip dropped as a presigned upload would (incoming/<id>/<name>)
    data = sample_video(synth_dir).read_bytes()
    key = "incoming/" + "ab" * 16 + "/clip.mp4"
    version, etag = _put(aws, key, data, "video/mp4")
    mod = import_handler("classify_upload")

    # When classified
    mod.handler(s3_put_event(aws.stores.uploads.name, key, version_id=version, etag=etag), lambda_context)

    # Then the result is stored under the upload id, with per-frame decisions
    result = json.loads(aws.stores.results.get_bytes(_keys(aws.stores.results, "results/json/" + "ab" * 16)[0]))
    assert result["status"] == "ok" and result["frames"] and "clip" in result


def test_malformed_event_is_a_clear_error(aws, deployed_classifier, lambda_context):
    mod = import_handler("classify_upload")
    with pytest.raises(ValueError, match="not an S3 ObjectCreated event"):
        mod.handler({"hello": "world"}, lambda_context)
