"""Issue 13 item 2: what the jobs store is what the contracts (crimecast.tables, crimecast.records) say.

Real runs (classify-upload on a real image, the forecast job on the synthetic tables) against a local S3; the
stored objects are read back and checked against the one definition each: the Parquet schemas against
`tables.*.arrow_schema()`, the JSON against the pydantic records the API serves.
"""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
from crimecast import layout as L
from crimecast import tables
from crimecast.records import ClassificationResult, ClassificationRow, ForecastRow, RunManifest, StoredResult
from lambda_helpers import import_handler, load_event, s3_put_event, sample_image


def test_stored_classification_matches_its_contracts(aws, deployed_classifier, synth_dir, lambda_context):
    # Given an image dropped under incoming/ and classified by the handler
    key = L.incoming_key(L.INCOMING, "cam-records", "frame.jpg")
    data = sample_image(synth_dir).read_bytes()
    r = aws.client.put_object(Bucket=aws.stores.uploads.name, Key=key, Body=data, ContentType="image/jpeg")
    event = s3_put_event(aws.stores.uploads.name, key, version_id=r["VersionId"], etag=r["ETag"].strip('"'),
                         size=len(data))
    out = import_handler("classify_upload").handler(event, lambda_context)["results"][0]
    assert out["status"] == "ok"

    # Then the stored JSON is a StoredResult and (status ok) a ClassificationResult, as the API serves it
    from crimecast.jobs.classify_upload import result_id_for

    stored = L.latest_result(aws.stores.results, result_id_for(key, L.INCOMING))
    assert stored is not None and stored["key"] == key
    StoredResult.model_validate(stored)
    ClassificationResult.model_validate(stored)
    # And its Parquet row has exactly the contract's schema, and validates as a ClassificationRow
    table = pq.read_table(io.BytesIO(aws.stores.results.get_bytes(stored["row_key"])))
    assert table.schema.remove_metadata().equals(tables.CLASSIFICATION_ROWS.arrow_schema())
    row = table.to_pylist()[0]
    ClassificationRow.model_validate(row)
    assert row["risk_level"] == stored["risk_level"] and row["p_high"] == stored["probabilities"]["High"]


def test_forecast_run_matches_its_contracts(aws, deployed_forecaster, data_uploaded, lambda_context):
    # Given a forecast run
    import_handler("forecast_job").handler(load_event("scheduled_event"), lambda_context)
    prefixes = L.Prefixes()
    manifest = json.loads(aws.stores.results.get_bytes(L.manifest_key(prefixes, "2026-11-27")))

    # Then the manifest is a RunManifest, and the forecasts table starts with the contract's columns
    RunManifest.model_validate(manifest)
    table = pq.read_table(io.BytesIO(aws.stores.results.get_bytes(manifest["forecasts_key"])))
    assert table.column_names[: len(tables.FORECASTS.names)] == tables.FORECASTS.names
    assert tables.interval_columns() == ["lo80", "hi80", "lo95", "hi95"]
    first = table.slice(0, 1).to_pandas().iloc[0].to_dict()
    first = {k: (v.date().isoformat() if hasattr(v, "date") else v) for k, v in first.items()}
    ForecastRow.model_validate(first)
