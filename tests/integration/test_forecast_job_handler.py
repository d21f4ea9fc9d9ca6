"""The scheduled forecast job handler, in-process, against a local S3 with the EventBridge event."""

from __future__ import annotations

import io
import json
import logging

import pandas as pd
import pytest
from lambda_helpers import import_handler, load_event

CONTRACT = ["run_date", "date", "district", "category", "horizon", "y_pred", "lo80", "hi80", "lo95", "hi95",
            "model_version"]


def _keys(store, prefix=""):
    return sorted(i.key for i in store.list(prefix))


def test_scheduled_event_writes_forecasts_report_and_manifest(aws, deployed_forecaster, data_uploaded, synth_dir,
                                                              lambda_context):
    # Given counts/events/weather/districts in the data bucket and a deployed forecaster
    mod = import_handler("forecast_job")

    # When the nightly schedule fires
    out = mod.handler(load_event("scheduled_event"), lambda_context)

    # Then the run for the event's date is in the Athena-friendly layout, with intervals
    assert out["run_date"] == "2026-11-27"
    assert _keys(aws.stores.results, "forecasts/") == ["forecasts/run_date=2026-11-27/part.parquet"]
    fc = pd.read_parquet(io.BytesIO(aws.stores.results.get_bytes("forecasts/run_date=2026-11-27/part.parquet")))
    assert list(fc.columns[: len(CONTRACT)]) == CONTRACT
    counts = pd.read_csv(synth_dir / "crime_rate_dataset.csv")
    n_series = counts.groupby(["district", "category"]).ngroups
    assert len(fc) == n_series * 30 and sorted(fc["horizon"].unique()) == list(range(1, 31))
    assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["y_pred"]).all()
    assert (fc["y_pred"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()
    assert (fc["model_version"] == deployed_forecaster).all()
    assert fc["date"].min() == pd.Timestamp(counts["date"].max()) + pd.Timedelta(days=1)
    # And the report (dated and latest) and the manifest, which names the model key and version
    assert aws.stores.reports.exists("reports/2026-11-27/index.html")
    html = aws.stores.reports.get_bytes("reports/latest/index.html").decode()
    assert "<html" in html.lower() and "2026-11-27" in html
    manifest = json.loads(aws.stores.results.get_bytes("runs/2026-11-27/manifest.json"))
    assert manifest["series"] == n_series and manifest["rows"] == len(fc)
    assert manifest["model_key"] == f"models/forecaster/{deployed_forecaster}"
    assert manifest["inputs"]["counts"].endswith("data/counts/crime_rate_dataset.csv")


def test_rerunning_the_same_date_replaces_the_run(aws, deployed_forecaster, data_uploaded, lambda_context):
    # Given a finished run and a stray file left in its partition by an older layout
    mod = import_handler("forecast_job")
    mod.handler(load_event("scheduled_event"), lambda_context)
    aws.stores.results.put_bytes("forecasts/run_date=2026-11-27/old-part-0.parquet", b"stale")
    first = json.loads(aws.stores.results.get_bytes("runs/2026-11-27/manifest.json"))

    # When the same date runs again
    mod.handler(load_event("scheduled_event"), lambda_context)

    # Then there is still exactly one Parquet file for that date, no duplicate rows, a new manifest
    assert _keys(aws.stores.results, "forecasts/") == ["forecasts/run_date=2026-11-27/part.parquet"]
    fc = pd.read_parquet(io.BytesIO(aws.stores.results.get_bytes("forecasts/run_date=2026-11-27/part.parquet")))
    assert not fc.duplicated(["date", "district", "category"]).any()
    second = json.loads(aws.stores.results.get_bytes("runs/2026-11-27/manifest.json"))
    assert second["rows"] == first["rows"]
    # the run's manifest and the API's serving artifact (issue 16), replaced in place
    assert _keys(aws.stores.results, "runs/") == ["runs/2026-11-27/manifest.json", "runs/2026-11-27/serving.npz"]
    assert second["serving_key"] == "runs/2026-11-27/serving.npz"


def test_job_without_counts_fails_clearly_and_writes_nothing(aws, deployed_forecaster, lambda_context, capsys):
    # Given a data bucket without a counts table
    from crimecast.jobs.forecast_job import NoCountsError

    aws.stores.data.put_bytes("data/readme.txt", b"nothing here")
    mod = import_handler("forecast_job")
    records: list[logging.LogRecord] = []
    collector = logging.Handler()
    collector.emit = records.append  # type: ignore[method-assign]
    std_logger = logging.getLogger(mod.logger.name)  # the stdlib logger under powertools' Logger
    std_logger.addHandler(collector)

    # When the schedule fires; then a clear error, an error metric and log, and no partial run
    try:
        with pytest.raises(NoCountsError, match="no counts table under s3://"):
            mod.handler(load_event("scheduled_event"), lambda_context)
    finally:
        std_logger.removeHandler(collector)
    assert "ForecastJobNoCounts" in capsys.readouterr().out  # EMF metric document on stdout
    assert any(r.levelno == logging.ERROR and "no counts table" in r.getMessage() for r in records)
    assert _keys(aws.stores.results) == [] and _keys(aws.stores.reports) == []


def test_bad_counts_table_names_the_s3_object(aws, deployed_forecaster, lambda_context):
    # Given a counts CSV with a bad value in the data bucket
    aws.stores.data.put_bytes("data/counts/counts.csv",
                              b"date,district,category,count\n2026-01-01,D1,theft,3\n2026-01-02,D1,theft,-1\n")
    mod = import_handler("forecast_job")

    # Then the error names the S3 object and column, and nothing is written
    with pytest.raises(ValueError, match=r"s3://.*/data/counts/counts.csv, column 'count'"):
        mod.handler(load_event("scheduled_event"), lambda_context)
    assert _keys(aws.stores.results) == []


def test_backtest_metrics_and_incident_locations_reach_the_report(aws, deployed_forecaster, data_uploaded,
                                                                  synth_dir, lambda_context, tmp_path):
    # Given backtest metrics of two models and an incident side file (ingest --lat-col) in the data bucket
    from crimecast.jobs.forecast_job import find_inputs

    for model, mae in (("lstm", 1.1), ("seasonal_naive", 1.6)):
        metrics = {"run": {"model": model}, "overall": {"mae": mae, "rmse": mae * 1.3, "coverage80": 0.8}}
        aws.stores.data.put_bytes(f"data/backtest/{model}/metrics.json", json.dumps(metrics).encode(),
                                  "application/json")
    aws.stores.data.put_bytes("data/backtest/broken/metrics.json", b"{not json", "application/json")
    inc = pd.DataFrame({"date": pd.to_datetime(["2025-12-30", "2025-12-31"]), "district": ["D01", "D02"],
                        "category": ["theft", "theft"], "lat": [41.8, 41.9], "lon": [-87.6, -87.7]})
    inc.to_parquet(tmp_path / "inc.parquet")
    aws.stores.data.upload_file(tmp_path / "inc.parquet", "data/counts/crime_rate_dataset.incidents.parquet")
    # The side file is not mistaken for the counts table, and metrics files are not tables
    inputs = find_inputs(aws.stores.data, "data/")
    assert inputs["counts"] == "data/counts/crime_rate_dataset.csv"
    assert inputs["incidents"].endswith(".incidents.parquet")

    # When the job runs
    import_handler("forecast_job").handler(load_event("scheduled_event"), lambda_context)

    # Then the manifest lists the backtested models (the broken file skipped) and the report shows them
    manifest = json.loads(aws.stores.results.get_bytes("runs/2026-11-27/manifest.json"))
    assert manifest["backtest_models"] == ["lstm", "seasonal_naive"]
    assert manifest["inputs"]["incidents"].endswith(".incidents.parquet")
    html = aws.stores.reports.get_bytes("reports/latest/index.html").decode()
    assert "seasonal_naive" in html
