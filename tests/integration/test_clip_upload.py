"""With a clip model deployed beside the image model, the S3-drop function answers videos with the clip model
(and images still with the image model), against a local S3 (moto server) with real-shaped events."""

from __future__ import annotations

import json

from lambda_helpers import import_handler, s3_put_event
from testlib import ROOT

SAMPLE = ROOT / "data" / "samples" / "videos" / "surv-fight_high_fi040.mp4"


def test_video_upload_gets_the_clip_model(aws, deployed_classifier, synth_dir, lambda_context):
    from crimecast import models_cache
    from crimecast.vision import clip_router

    models_cache.clear_loaded()
    clip_router.clear()
    clip_version = models_cache.upload_model(aws.stores.models, ROOT / "models" / "clip", clip_router.clip_model_key())
    mod = import_handler("classify_upload")
    vkey = "incoming/" + "cd" * 16 + "/clip.mp4"
    r = aws.client.put_object(Bucket=aws.stores.uploads.name, Key=vkey, Body=SAMPLE.read_bytes(),
                              ContentType="video/mp4")
    mod.handler(s3_put_event(aws.stores.uploads.name, vkey, version_id=r["VersionId"], etag=r["ETag"].strip('"')),
                lambda_context)
    keys = sorted(i.key for i in aws.stores.results.list("results/json/" + "cd" * 16))
    result = json.loads(aws.stores.results.get_bytes(keys[0]))
    assert result["status"] == "ok" and result["model_kind"] == "clip" and result["model_version"] == clip_version
    assert result["timeline"] and "high_segments" in result and result["risk_level"] in ("High", "Medium", "Low")
    row = _row(aws, "cd" * 16)  # the Parquet row keeps the High segments as text (report, Athena)
    assert isinstance(row["high_segments"], str)
    assert row["high_segments"].count(" s (") == len(result["high_segments"])

    img = next((synth_dir / "images" / "high_risk").glob("*.jpg"))
    ikey = "incoming/" + "ef" * 16 + "/cam.jpg"
    r = aws.client.put_object(Bucket=aws.stores.uploads.name, Key=ikey, Body=img.read_bytes(), ContentType="image/jpeg")
    mod.handler(s3_put_event(aws.stores.uploads.name, ikey, version_id=r["VersionId"], etag=r["ETag"].strip('"')),
                lambda_context)
    keys = sorted(i.key for i in aws.stores.results.list("results/json/" + "ef" * 16))
    result = json.loads(aws.stores.results.get_bytes(keys[0]))
    assert result["status"] == "ok" and result.get("model_kind") != "clip" and "timeline" not in result
    import pandas as pd

    assert pd.isna(_row(aws, "ef" * 16)["high_segments"])  # an image: null
    models_cache.clear_loaded()
    clip_router.clear()


def _row(aws, upload_id: str) -> dict:
    import io

    import pandas as pd

    keys = [i.key for i in aws.stores.results.list("results/rows/") if f"/{upload_id}-" in i.key]
    assert len(keys) == 1, keys
    return pd.read_parquet(io.BytesIO(aws.stores.results.get_bytes(keys[0]))).iloc[0].to_dict()
