"""Opt-in (CRIMECAST_REAL_TESTS=1): a short real-image training run and evaluate-classifier on the real CSV."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from testlib import run_cli

pytestmark = [pytest.mark.real,
              pytest.mark.skipif(os.environ.get("CRIMECAST_REAL_TESTS") != "1", reason="set CRIMECAST_REAL_TESTS=1")]


def test_short_real_training_beats_chance_out_of_fold(shared_dir: Path, tmp_path: Path):
    labels = shared_dir / "data" / "real-images" / "labels.csv"
    out = tmp_path / "m"
    proc = run_cli("train-classifier", "--labels", str(labels), "--out", str(out), "--size", "224", "--pool", "avg",
                   "--repeats", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["metrics"]["validation_keras"]["macro_f1"] > 0.65  # chance is ~0.33; frozen 224 px avg ≈ 0.71
    assert meta["training"]["folds"] == 5 and meta["training"]["validation"] >= 1600  # every image out of fold
    assert set(meta["variants"]) == {"float32", "dynamic", "int8"} and meta["trained_on"]["kind"] == "real"
    assert meta["validation"]["high_recall"] >= 0.90 and len(meta["metrics"]["leave_one_source_out"]) == 4
    flagged = meta["ood"]["validation"]["served_model"]["probes"]
    assert all(r["flagged"] >= 0.75 for r in flagged.values()), flagged
    proc = run_cli("evaluate-classifier", "--model", str(out), "--labels", str(labels))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rep = json.loads(proc.stdout)
    assert rep["n"] >= 1600 and set(rep["per_source"]) >= {"surv-fight", "graffiti"}
    clip = shared_dir / "data" / "real-images" / "videos"
    proc = run_cli("classify", "--json", "--model", str(out), str(clip))
    assert proc.returncode == 0 and all("frames" in json.loads(x) for x in proc.stdout.splitlines())
