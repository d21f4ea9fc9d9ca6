"""Shared fixtures: a small synthetic dataset and quick-trained models, built once and cached.

The cache key is a hash of the code that produces them, so editing the generator or the training
code rebuilds them; re-running `make test` without changes reuses them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from testlib import ROOT, SHARED, run_cli

CACHE = ROOT / ".cache" / "test-artifacts"


def _hash_sources(*rel: str) -> str:
    h = hashlib.sha256()
    for r in rel:
        p = ROOT / r
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            if f.exists():
                h.update(str(f.relative_to(ROOT)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _build_once(name: str, key: str, build) -> Path:
    out = CACHE / f"{name}-{key}"
    if (out / ".done").exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    tmp = CACHE / f".{name}-{key}.{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    build(tmp)
    (tmp / ".done").write_text("ok\n")
    if out.exists():  # another worker won the race
        shutil.rmtree(tmp)
    else:
        tmp.rename(out)
    return out


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


@pytest.fixture(scope="session")
def synth_dir() -> Path:
    """A small synthetic dataset in the data contract: 3 years × 4 districts × 3 categories + images + 2 clips."""
    key = _hash_sources("functions/crimecast/synth.py", "functions/crimecast/synth_images.py",
                        "functions/crimecast/contract.py")

    def build(tmp: Path) -> None:
        _check(run_cli("synth", "--out", str(tmp), "--years", "3", "--districts", "4", "--categories",
                       "theft", "assault", "burglary", "--seed", "11", "--images-per-class", "40", "--videos", "2"),
               "crimecast synth")

    return _build_once("synth", key, build)


@pytest.fixture(scope="session")
def forecaster_model_dir(synth_dir: Path) -> Path:
    """A quick-profile LSTM forecaster trained on `synth_dir` (real TFLite, loaded by LiteRT)."""
    key = _hash_sources("functions/crimecast/forecast", "training/crimecast_training/forecaster.py",
                        "training/crimecast_training/forecaster_export.py",
                        "training/crimecast_training/forecaster_card.py",
                        "training/crimecast_training/__init__.py", "functions/crimecast/synth.py")

    def build(tmp: Path) -> None:
        _check(run_cli("train-forecaster", "--counts", str(synth_dir / "crime_rate_dataset.csv"),
                       "--events", str(synth_dir / "event_holiday_data.csv"),
                       "--weather", str(synth_dir / "weather.csv"),
                       "--districts", str(synth_dir / "districts.csv"),
                       "--out", str(tmp / "forecaster"), "--quick"), "crimecast train-forecaster --quick")

    return _build_once("forecaster", key, build) / "forecaster"


@pytest.fixture(scope="session")
def classifier_model_dir(synth_dir: Path) -> Path:
    """A quick-profile image classifier trained on the synthetic images (real TFLite, loaded by LiteRT)."""
    key = _hash_sources("functions/crimecast/vision", "functions/crimecast/synth_images.py",
                        *(f"training/crimecast_training/{m}.py" for m in (
                            "__init__", "classifier", "config", "data", "augment", "nets", "export", "finetune",
                            "frozen", "validation", "evaluation", "train_frozen", "train_finetune", "effnet_lite0")))

    def build(tmp: Path) -> None:
        _check(run_cli("train-classifier", "--images", str(synth_dir / "images"), "--out", str(tmp / "classifier"),
                       "--quick"), "crimecast train-classifier --quick")

    return _build_once("classifier", key, build) / "classifier"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (real data). Tests marked `real` skip when it is absent."""
    if not (SHARED / "data").exists():
        pytest.skip("../shared/data is not present")
    return SHARED
