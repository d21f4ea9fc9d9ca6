"""The feed-ingest handler in-process against moto S3 with S3 ObjectCreated events (the data bucket versioned,
as deployed): an export is ingested once per object version; an unreadable one fails the invocation (Lambda
retries, then the DLQ) with an error record, and changes nothing."""

from __future__ import annotations

import json

import pytest
from crimecast import layout as L
from lambda_helpers import import_handler, s3_put_event

CFG = {"date_col": "Date", "district_col": "District", "category_col": "Primary Type", "id_col": "ID"}
GOOD = b"ID,Date,District,Primary Type\n1,2026-11-20 10:00,1,THEFT\n2,2026-11-21 11:00,2,BATTERY\n"


def _put(aws, key, body):
    bucket = aws.env["CRIMECAST_DATA_BUCKET"]
    r = aws.client.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_put_event(bucket, key, version_id=r.get("VersionId"), etag=r["ETag"].strip('"'), size=len(body))


def test_export_ingested_once_per_version_and_bad_export_fails_cleanly(aws, lambda_context):
    aws.client.put_bucket_versioning(Bucket=aws.env["CRIMECAST_DATA_BUCKET"],
                                     VersioningConfiguration={"Status": "Enabled"})
    aws.stores.data.put_bytes(L.INGEST_CONFIG, json.dumps(CFG).encode())
    mod = import_handler("feed_ingest")
    ev = _put(aws, L.FEED_INCOMING + "day 1.csv", GOOD)  # a space: S3 URL-encodes the key in the event
    out = mod.handler(ev, lambda_context)["exports"][0]
    assert out["status"] == "ingested" and out["incidents"] == 2 and out["last_complete_day"] == "2026-11-20"
    counts_before = sorted((i.key, i.etag) for i in aws.stores.data.list(L.COUNTS))
    # the same event delivered again: nothing changes
    assert mod.handler(ev, lambda_context)["exports"][0]["status"] == "duplicate"
    assert sorted((i.key, i.etag) for i in aws.stores.data.list(L.COUNTS)) == counts_before
    # an export with another layout: the invocation fails (→ retries → DLQ), error record, nothing applied
    bad = _put(aws, L.FEED_INCOMING + "day 2.csv", b"id;when;where\n1;x;y\n")
    with pytest.raises(ValueError, match="column layout changed"):
        mod.handler(bad, lambda_context)
    rec = json.loads(aws.stores.data.get_bytes(L.feed_rejected_key("day 2.csv", ".error.json")))
    assert rec["status"] == "error" and "missing" in rec["error"]
    assert sorted((i.key, i.etag) for i in aws.stores.data.list(L.COUNTS)) == counts_before
    assert aws.stores.data.get_bytes(L.FEED_INCOMING + "day 1.csv") == GOOD  # the export is never changed
