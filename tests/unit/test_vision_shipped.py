"""The committed default classifier (models/classifier): what its metadata promises, and that it serves real sample
images and sends inputs unlike any training photo to human review. LiteRT only; skipped if the model is absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "classifier"

pytestmark = pytest.mark.skipif(not (MODEL / "metadata.json").exists(), reason="no shipped classifier")


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((MODEL / "metadata.json").read_text())


@pytest.fixture(scope="module")
def clf():
    from crimecast.vision import CrimeImageClassifier

    return CrimeImageClassifier().load_model(MODEL)


def test_metadata_says_what_it_was_trained_on_and_how_it_was_validated(meta: dict):
    t = meta["trained_on"]
    assert t["kind"] == "real" and len(t["data_sha256"]) == 64
    assert set(t["sources"]) == {"surv-fight", "labia-handgun", "graffiti", "mnnit-shoplifting"}
    assert t["n_items"] >= 1600
    assert meta["command"].startswith("crimecast train-classifier --labels") and meta["code_version"]
    v = meta["validation"]
    assert "cross-validation" in v["what"] and v["folds"] == 5 and len(v["fold_seeds"]) >= 3
    assert v["high_recall"] >= 0.90  # the High-bias rule, checked on folds it was not fitted on
    curve = v["recall_precision_curve"]
    assert [c["high_recall"] for c in curve] == sorted(c["high_recall"] for c in curve)
    assert len(meta["metrics"]["leave_one_source_out"]) == 4
    fit = meta["calibration"]["bias_fit"]
    assert fit["cross_fitted"]["high_recall"] >= 0.90 and fit["tried"][-1] == fit["cross_fitted"]
    assert all(t["high_recall"] < fit["need"] for t in fit["tried"][:-1])  # the smallest target that keeps it
    assert fit["need"] == round(fit.get("promise", 0.90) + fit.get("margin", 0.0), 6) >= 0.90
    assert (MODEL / "MODEL_CARD.md").exists()


def test_real_samples_are_classified_and_mostly_not_flagged_out_of_distribution(clf):
    from crimecast.vision.decode import load_image
    from crimecast.vision.preprocess import to_array

    imgs = sorted((ROOT / "data" / "samples" / "images").rglob("*.jpg"))
    assert imgs
    probs, ood = clf.score_arrays([to_array(load_image(p), clf.size) for p in imgs])
    assert probs.shape == (len(imgs), 3) and np.allclose(probs.sum(1), 1, atol=1e-3)
    assert (ood <= clf.ood_threshold).mean() >= 0.75, (ood, clf.ood_threshold)


def test_noise_and_blank_frames_go_to_human_review(clf, tmp_path: Path):
    from PIL import Image

    rng = np.random.default_rng(0)
    s = 320
    for name, arr in (("noise", rng.integers(0, 256, (s, s, 3)).astype(np.uint8)),
                      ("grey", np.full((s, s, 3), 128, np.uint8)), ("black", np.zeros((s, s, 3), np.uint8))):
        Image.fromarray(arr).save(tmp_path / f"{name}.png")
        r = clf.classify_path(tmp_path / f"{name}.png")
        assert r["uncertain"] and r["review_reason"].startswith("out of distribution"), (name, r)
