"""The security review of the API (docs/security.md), one test per point: limits, what reaches S3, error bodies."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(aws):
    from crimecast.api import create_app
    from crimecast.settings import get_settings

    return TestClient(create_app(get_settings(), aws.stores), raise_server_exceptions=False)


def _problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()


def _no_internals(body: dict, *secrets: str) -> None:
    text = str(body)
    for s in ("s3://", "Traceback", 'File "', "/tmp/", *secrets):
        assert s not in text, (s, text)


def test_unexpected_errors_are_500_problems_without_internals(client, aws, monkeypatch):
    from crimecast.api.context import ApiContext

    def boom(self):
        raise RuntimeError(f"s3://{aws.stores.results.name}/runs/ secret-token /tmp/crimecast-x")

    monkeypatch.setattr(ApiContext, "latest_forecasts", boom)
    body = _problem(client.get("/v1/forecasts"), 500)
    _no_internals(body, "secret-token", aws.stores.results.name)
    assert body["request_id"] and body["request_id"] in body["detail"]


def test_missing_model_and_failing_store_do_not_leak_bucket_names(client, aws, monkeypatch):
    body = _problem(client.post("/v1/classify", content=b"\xff\xd8\xff", headers={"content-type": "image/jpeg"}), 503)
    _no_internals(body, aws.stores.models.name)
    from crimecast.storage import S3Storage

    def broken(self, prefix=""):
        raise OSError(f"connection refused to {self.name} at /tmp/sock")

    monkeypatch.setattr(S3Storage, "list", broken)
    health = client.get("/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    _no_internals(health.json(), aws.stores.models.name, aws.stores.results.name, "connection refused")


@pytest.mark.parametrize("path", ["/v1/health?verbose=1", "/v1/forecasts?distrct=1", "/v1/hotspots?day=2026-01-01",
                                  "/v1/allocation?units=3&unit=4", "/v1/classifications/" + "0" * 32 + "?x=1"])
def test_unknown_query_parameters_are_400_naming_the_valid_ones(client, path):
    body = _problem(client.get(path), 400)
    bad = parse_qs(urlparse(path).query)
    assert set(body["unknown"]) <= set(bad) and body["unknown"]
    for name in body["unknown"]:
        assert repr(name) in body["detail"]
    assert "valid:" in body["detail"]


@pytest.mark.parametrize("path,status", [
    ("/v1/forecasts?limit=20001", 422), ("/v1/forecasts?limit=0", 422), ("/v1/forecasts?offset=-1", 422),
    ("/v1/forecasts?district=" + "a" * 201, 422), ("/v1/hotspots?top=501", 422), ("/v1/hotspots?top=0", 422),
    ("/v1/allocation?units=100001", 422), ("/v1/allocation?units=0", 422), ("/v1/forecasts?from=2026-13-01", 422),
])
def test_query_ranges_and_page_sizes_are_bounded(client, path, status):
    _problem(client.get(path), status)


def test_classify_body_limit_and_filename_limit(client, aws, monkeypatch):
    from crimecast.api import create_app
    from crimecast.settings import get_settings

    _problem(client.post("/v1/classify?filename=" + "a" * 201, content=b"x", headers={"content-type": "image/jpeg"}),
             422)
    monkeypatch.setenv("CRIMECAST_MAX_INLINE_BYTES", "100")
    get_settings.cache_clear()
    small = TestClient(create_app(get_settings(), aws.stores))
    body = _problem(small.post("/v1/classify", content=b"\xff" * 101, headers={"content-type": "image/jpeg"}), 413)
    assert body["limit_bytes"] == 100


def test_presigned_upload_is_scoped_typed_and_expiring(client, aws):
    s = aws.stores
    t = client.post("/v1/uploads", json={"filename": "../../etc/pass wd.jpg", "content_type": "image/jpeg",
                                         "size": 1234})
    assert t.status_code == 201, t.text
    ticket = t.json()
    assert ticket["key"].startswith(f"incoming/{ticket['id']}/") and ".." not in ticket["key"]
    assert ticket["key"].count("/") == 2  # the request's name cannot add path segments
    q = parse_qs(urlparse(ticket["url"]).query)
    assert urlparse(ticket["url"]).path.endswith("/" + ticket["key"])
    assert q["X-Amz-Expires"] == ["900"] and ticket["expires_in_s"] == 900
    assert "content-type" in q["X-Amz-SignedHeaders"][0].split(";")  # the PUT must send the declared type
    assert ticket["headers"] == {"Content-Type": "image/jpeg"} and ticket["max_bytes"] == 200_000_000
    assert s.uploads.exists(f"uploads/{ticket['id']}.json")


@pytest.mark.parametrize("body,status", [
    ({"content_type": "text/html"}, 415), ({"content_type": "image/jpeg\r\nx-amz-acl: public-read"}, 415),
    ({"content_type": "image/jpeg; charset=x"}, 415), ({"size": 200_000_001}, 413), ({"filename": ""}, 422),
    ({"filename": "a" * 201}, 422), ({"bucket": "other"}, 422), ({"size": 0}, 422),
])
def test_upload_requests_are_validated_before_anything_is_signed(client, aws, body, status):
    _problem(client.post("/v1/uploads", json=body), status)
    assert not any(True for _ in aws.stores.uploads.list("uploads/"))  # no record written


@pytest.mark.parametrize("uid", ["not-an-id", "0" * 31, "0" * 33, "G" * 32, "..%2F..%2Fx"])
def test_classification_ids_are_checked_before_any_storage_call(client, aws, monkeypatch, uid):
    from crimecast.storage import S3Storage

    def forbidden(self, *a, **kw):
        raise AssertionError("storage was called with an unchecked id")

    monkeypatch.setattr(S3Storage, "list", forbidden)
    monkeypatch.setattr(S3Storage, "get_bytes", forbidden)
    assert client.get(f"/v1/classifications/{uid}").status_code in (404, 422)


def test_docs_work_offline_and_serve_only_their_own_assets(client):
    html = client.get("/docs")
    assert html.status_code == 200
    assert "cdn." not in html.text and "https://" not in html.text.replace("https://crimecast", "")
    for name, ctype in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(ctype) and len(r.content) > 10_000
    for bad in ("redoc.standalone.js", "..%2F__init__.py", "core.py"):
        assert client.get(f"/docs/assets/{bad}").status_code == 404


def test_an_upload_over_the_object_limit_is_refused_from_its_size(aws, monkeypatch, deployed_classifier,
                                                                   lambda_context):
    """A presigned PUT cannot carry a length range: the S3-drop classifier refuses an oversize object unread."""
    from crimecast.api import create_app
    from crimecast.settings import get_settings
    from lambda_helpers import import_handler, s3_put_event

    monkeypatch.setenv("CRIMECAST_MAX_OBJECT_BYTES", "1000")
    get_settings.cache_clear()
    c = TestClient(create_app(get_settings(), aws.stores))
    ticket = c.post("/v1/uploads", json={"filename": "big.jpg", "content_type": "image/jpeg"}).json()
    aws.stores.uploads.put_bytes(ticket["key"], b"\xff\xd8\xff" + b"0" * 5000, "image/jpeg")
    head = aws.client.head_object(Bucket=aws.stores.uploads.name, Key=ticket["key"])
    import_handler("classify_upload").handler(
        s3_put_event(aws.stores.uploads.name, ticket["key"], version_id=head["VersionId"], size=5003,
                     etag=head["ETag"].strip('"')), lambda_context)
    body = _problem(c.get(ticket["result_url"]), 422)
    assert body["error_type"] == "TooLarge"
    _no_internals(body, aws.stores.uploads.name)
