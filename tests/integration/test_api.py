"""The HTTPS API: through a TestClient and through Mangum with API Gateway v2 events, on a local S3."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from fastapi.testclient import TestClient
from lambda_helpers import api_event, import_handler, load_event, s3_put_event, sample_image


@pytest.fixture
def client(aws):
    from crimecast.api import create_app
    from crimecast.settings import get_settings

    return TestClient(create_app(get_settings(), aws.stores))


def _problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status and body["detail"]
    return body


# --- classify ---------------------------------------------------------------------------------------------------
def test_classify_raw_jpeg_and_multipart(client, deployed_classifier, synth_dir):
    data = sample_image(synth_dir).read_bytes()
    raw = client.post("/v1/classify?filename=cam1.jpg", content=data, headers={"content-type": "image/jpeg"})
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert body["risk_level"] in ("High", "Medium", "Low") and body["model_version"]
    assert body["model_key"] == f"models/classifier/{deployed_classifier}"
    # Issue 12.3: every classification says which model answered, what it was trained on, and warns when that is
    # not real data (missing trained_on counts as unknown → warned).
    model = body["model"]
    assert model["version"] == deployed_classifier and model["trained_on_kind"] in ("real", "synthetic", "unknown")
    assert (model["warning"] is None) == (model["trained_on_kind"] == "real")
    if model["trained_on_kind"] == "synthetic":
        assert "synthetic" in model["warning"]
    multi = client.post("/v1/classify", files={"file": ("cam1.jpg", data, "image/jpeg")})
    assert multi.status_code == 200, multi.text
    assert multi.json()["probabilities"] == body["probabilities"]  # same bytes, same answer


def test_classify_bad_inputs_are_problem_details(client, deployed_classifier, synth_dir, monkeypatch):
    data = sample_image(synth_dir).read_bytes()
    wrong = _problem(client.post("/v1/classify", content=b"{}", headers={"content-type": "application/json"}), 415)
    assert "image/*" in wrong["detail"]
    _problem(client.post("/v1/classify", content=b"", headers={"content-type": "image/jpeg"}), 400)
    body = _problem(client.post("/v1/classify", content=data[:200], headers={"content-type": "image/jpeg"}), 422)
    assert "truncated" in body["detail"] or "corrupt" in body["detail"] or "cannot" in body["detail"]
    _problem(client.post("/v1/classify", content=b"hello, not an image", headers={"content-type": "image/png"}), 422)
    _problem(client.post("/v1/classify", files={"other": (None, "x")}), 400)
    _problem(client.post("/v1/classify", files={"file": ("empty.jpg", b"", "image/jpeg")}), 400)
    # a video container with garbage inside
    fake_mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20
    _problem(client.post("/v1/classify?filename=clip.mp4", content=fake_mp4, headers={"content-type": "video/mp4"}),
             422)


def test_classify_video_without_opencv_is_415_pointing_to_uploads(client, deployed_classifier, synth_dir,
                                                                   monkeypatch):
    # Given the zip-packaged API, which ships without OpenCV (Lambda size limit): hide cv2 from imports
    import sys

    monkeypatch.setitem(sys.modules, "cv2", None)
    clip = (synth_dir / "videos" / "clip_00.mp4").read_bytes()
    # When a video is posted inline, Then a 415 points to the upload route instead of a 500
    body = _problem(client.post("/v1/classify?filename=clip.mp4", content=clip, headers={"content-type": "video/mp4"}),
                    415)
    assert "/v1/uploads" in body["detail"]


def test_classify_over_the_limit_is_413_pointing_to_uploads(aws, monkeypatch, deployed_classifier):
    from crimecast.api import create_app
    from crimecast.settings import get_settings

    monkeypatch.setenv("CRIMECAST_MAX_INLINE_BYTES", "1000")
    get_settings.cache_clear()
    c = TestClient(create_app(get_settings(), aws.stores))
    body = _problem(c.post("/v1/classify", content=b"\xff\xd8\xff" + b"0" * 2000,
                           headers={"content-type": "image/jpeg"}), 413)
    assert body["upload_route"] == "/v1/uploads" and "/v1/uploads" in body["detail"]


# --- uploads -----------------------------------------------------------------------------------------------------
def test_presigned_upload_round_trip(client, aws, deployed_classifier, synth_dir, lambda_context):
    # Given a presigned upload
    t = client.post("/v1/uploads", json={"filename": "big cam.jpg", "content_type": "image/jpeg"})
    assert t.status_code == 201, t.text
    ticket = t.json()
    assert ticket["key"].startswith("incoming/" + ticket["id"] + "/")
    pending = _problem(client.get(ticket["result_url"]), 404)
    assert pending["state"] == "awaiting-upload"

    # When the client PUTs the file to the URL (real HTTP against the local S3)
    data = sample_image(synth_dir).read_bytes()
    put = requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200, put.text
    assert _problem(client.get(ticket["result_url"]), 404)["state"] == "classifying"
    head = aws.client.head_object(Bucket=aws.stores.uploads.name, Key=ticket["key"])
    mod = import_handler("classify_upload")
    mod.handler(s3_put_event(aws.stores.uploads.name, ticket["key"], version_id=head["VersionId"],
                             etag=head["ETag"].strip('"')), lambda_context)

    # Then the result is served under the upload id
    r = client.get(ticket["result_url"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == ticket["id"] and r.json()["risk_level"] in ("High", "Medium", "Low")


def test_upload_that_never_arrives_and_unknown_ids(client, aws):
    ticket = client.post("/v1/uploads", json={"filename": "x.mp4", "content_type": "video/mp4"}).json()
    rec_key = f"uploads/{ticket['id']}.json"
    rec = json.loads(aws.stores.uploads.get_bytes(rec_key))
    rec["expires_at"] = "2020-01-01T00:00:00+00:00"
    aws.stores.uploads.put_bytes(rec_key, json.dumps(rec).encode())
    assert _problem(client.get(ticket["result_url"]), 404)["state"] == "expired"
    _problem(client.get("/v1/classifications/" + "0" * 32), 404)
    _problem(client.get("/v1/classifications/not-an-id"), 422)
    _problem(client.post("/v1/uploads", json={"filename": "a.txt", "content_type": "text/plain"}), 415)
    _problem(client.post("/v1/uploads", json={"size": 10**12}), 413)
    _problem(client.post("/v1/uploads", content=b"{not json", headers={"content-type": "application/json"}), 422)


# --- forecasts -----------------------------------------------------------------------------------------------------
@pytest.fixture
def with_run(aws, deployed_forecaster, data_uploaded, lambda_context):
    import_handler("forecast_job").handler(load_event("scheduled_event"), lambda_context)


def test_forecast_routes(client, with_run):
    r = client.get("/v1/forecasts")
    assert r.status_code == 200, r.text
    all_rows = r.json()
    d, c = all_rows["rows"][0]["district"], all_rows["rows"][0]["category"]
    one = client.get("/v1/forecasts", params={"district": d, "category": c}).json()
    assert one["total"] == 30 and {x["horizon"] for x in one["rows"]} == set(range(1, 31))
    assert all(x["lo80"] <= x["y_pred"] <= x["hi80"] for x in one["rows"])
    first = all_rows["forecast_from"]
    sub = client.get("/v1/forecasts", params={"district": d, "from": first, "to": first}).json()
    assert {x["date"] for x in sub["rows"]} == {first}
    page = client.get("/v1/forecasts", params={"limit": 7}).json()
    assert page["count"] == 7 and page["next_offset"] == 7
    hs = client.get("/v1/hotspots", params={"top": 2}).json()
    assert len(hs["hotspots"]) == 2 and hs["hotspots"][0]["weighted"] >= hs["hotspots"][1]["weighted"]
    alloc = client.get("/v1/allocation", params={"units": 10})
    assert alloc.status_code == 200, alloc.text
    assert sum(x["units"] for x in alloc.json()["districts"]) == 10
    health = client.get("/v1/health").json()
    assert health["latest_run"] == "2026-11-27" and health["models"]["forecaster"]["version"]
    summaries = {m["name"]: m for m in health["model_summaries"]}
    assert summaries["forecaster"]["version"] == health["models"]["forecaster"]["version"]
    assert [m["warning"] for m in summaries.values() if m["warning"]] == health["warnings"]


def test_hotspots_and_allocation_are_the_reports_functions_on_the_parquet(client, aws, with_run):
    """The API serves the run from its numpy artifact; its hotspot ranking is the report's (rank_hotspots) and its
    allocation is `crimecast allocate`'s, on the run's Parquet, for every forecast day."""
    import io

    import numpy as np
    import pandas as pd
    from crimecast.allocation import allocate
    from crimecast.hotspots import rank_hotspots
    from crimecast.layout import latest_manifest

    manifest = latest_manifest(aws.stores.results)
    fc = pd.read_parquet(io.BytesIO(aws.stores.results.get_bytes(manifest["forecasts_key"])))
    days = sorted(pd.to_datetime(fc["date"]).dt.date.unique())
    assert len(days) == 30
    for day in days:
        api = client.get("/v1/hotspots", params={"date": day.isoformat(), "top": 500}).json()["hotspots"]
        ref = rank_hotspots(fc, start=day, days=1)
        assert [x["district"] for x in api] == ref["district"].tolist()
        assert np.allclose([x["weighted"] for x in api], ref["weighted"])
        assert np.allclose([x["share"] for x in api], ref["share"])
        assert [x["top_category"] for x in api] == ref["top_category"].tolist()
        plan = client.get("/v1/allocation", params={"date": day.isoformat(), "units": 7}).json()["districts"]
        want = allocate(fc, 7, date=day)
        assert [x["district"] for x in plan] == want["district"].tolist()
        assert [x["units"] for x in plan] == want["units"].tolist()
        assert np.allclose([x["equity_ratio"] if x["equity_ratio"] is not None else np.nan for x in plan],
                           want["equity_ratio"], equal_nan=True)
    rows = client.get("/v1/forecasts", params={"limit": 20000}).json()["rows"]
    got = pd.DataFrame(rows).sort_values(["district", "category", "date"]).reset_index(drop=True)
    want = fc.assign(date=pd.to_datetime(fc["date"]).dt.strftime("%Y-%m-%d")).sort_values(
        ["district", "category", "date"]).reset_index(drop=True)
    assert len(got) == len(want)
    for col in ("y_pred", "lo80", "hi80", "lo95", "hi95"):
        assert np.allclose(got[col].astype(float), want[col].astype(float), equal_nan=True), col
    assert (got["date"] == want["date"]).all() and (got["horizon"] == want["horizon"]).all()


def test_forecast_routes_bad_input(client, with_run):
    assert "unknown district" in _problem(client.get("/v1/forecasts", params={"district": "Atlantis"}), 404)["detail"]
    _problem(client.get("/v1/forecasts", params={"category": "jaywalking"}), 404)
    _problem(client.get("/v1/forecasts", params={"from": "2026-13-45"}), 422)
    _problem(client.get("/v1/forecasts", params={"from": "2030-01-02", "to": "2030-01-01"}), 400)
    _problem(client.get("/v1/hotspots", params={"date": "1999-01-01"}), 422)
    _problem(client.get("/v1/hotspots", params={"top": 0}), 422)
    _problem(client.get("/v1/allocation", params={"units": 0}), 422)
    _problem(client.get("/v1/allocation"), 422)
    _problem(client.get("/v1/nope"), 404)


def test_forecasts_before_any_run_is_404(client, aws):
    assert _problem(client.get("/v1/forecasts"), 404)["type"].endswith("no-forecast-run")
    assert client.get("/v1/health").json()["status"] == "degraded"


def test_openapi_lists_the_routes(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ("/v1/classify", "/v1/uploads", "/v1/classifications/{upload_id}", "/v1/forecasts", "/v1/hotspots",
              "/v1/allocation", "/v1/health"):
        assert p in paths
    assert client.get("/docs").status_code == 200
    # Issue 12.5: every route declares its request body (a file upload for /v1/classify), a typed response and
    # problem+json errors; every field of every schema has a description.
    body = paths["/v1/classify"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert "image/jpeg" in body and "video/*" in body
    assert "requestBody" in paths["/v1/uploads"]["post"]
    for path, item in paths.items():
        for method, op in item.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert "$ref" in ok["content"]["application/json"]["schema"], (path, method)
            for code in ("400", "422", "500"):
                assert "application/problem+json" in op["responses"][code]["content"], (path, method, code)
    schemas = spec["components"]["schemas"]
    for name, sch in schemas.items():
        for field, prop in sch.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{field} has no description"
    assert "equity_ratio" in schemas["AllocationRow"]["properties"]


# --- through Mangum (the Lambda handler) -----------------------------------------------------------------------------
def test_api_handler_with_v2_events(aws, deployed_classifier, synth_dir, lambda_context):
    mod = import_handler("api")
    health = mod.handler(load_event("api_v2_get_health"), lambda_context)
    assert health["statusCode"] == 200 and json.loads(health["body"])["models"]["classifier"]["version"]

    data = sample_image(synth_dir).read_bytes()
    ev = load_event("api_v2_post_classify")
    ev["body"] = base64.b64encode(data).decode()
    ev["headers"]["content-length"] = str(len(data))
    resp = mod.handler(ev, lambda_context)
    assert resp["statusCode"] == 200, resp["body"]
    assert json.loads(resp["body"])["risk_level"] in ("High", "Medium", "Low")

    bad = mod.handler(api_event("POST", "/v1/classify", body=b"x", content_type="text/plain"), lambda_context)
    assert bad["statusCode"] == 415 and not bad["isBase64Encoded"] and json.loads(bad["body"])["status"] == 415
    assert bad["headers"]["content-type"] == "application/problem+json"
    big = mod.handler(api_event("POST", "/v1/classify", body=b"\xff\xd8\xff" + bytes(6_000_000),
                                content_type="image/jpeg"), lambda_context)
    assert big["statusCode"] == 413 and "/v1/uploads" in json.loads(big["body"])["detail"]
