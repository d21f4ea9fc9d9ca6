"""`crimecast demo --once --out DIR`: the local main job end to end (moto S3, uvicorn API, handlers)."""

from __future__ import annotations

import shutil

import pandas as pd
from lambda_helpers import run_cli


def test_demo_once_leaves_report_and_forecasts(tmp_path, synth_dir, classifier_model_dir, forecaster_model_dir):
    # Given trained models under models/ and synthetic data already generated (so nothing is retrained)
    models = tmp_path / "models"
    shutil.copytree(classifier_model_dir, models / "classifier")
    shutil.copytree(forecaster_model_dir, models / "forecaster")
    out = tmp_path / "out"
    shutil.copytree(synth_dir, out / "data", ignore=shutil.ignore_patterns(".done"))

    # When the demo runs once
    proc = run_cli("demo", "--once", "--out", str(out), "--models", str(models), "--port", "0", "--images", "4",
                   timeout=900)

    # Then it succeeded, downloaded the report and the forecasts from the local S3, and printed a curl line
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (out / "reports" / "latest" / "index.html").read_text()
    # the report of the forecast run also shows the uploads the classifier handled just before
    assert "Recent classification activity" in html and "No classification results" not in html
    parts = list((out / "forecasts").rglob("*.parquet"))
    assert len(parts) == 1 and parts[0].parent.name.startswith("run_date=")
    fc = pd.read_parquet(parts[0])
    assert len(fc) > 0 and {"y_pred", "lo80", "hi80", "lo95", "hi95", "model_version"} <= set(fc.columns)
    assert len(list((out / "results").rglob("*.json"))) == 5  # 4 images + 1 video
    assert "curl -s -X POST" in proc.stdout and "/v1/classify" in proc.stdout and "risk_level=" in proc.stdout
    assert list((out / "runs").rglob("manifest.json"))
