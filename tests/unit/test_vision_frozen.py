"""The frozen-feature classifier's pieces (numpy/sklearn, fast): the High bias rule, the folded logistic-regression
head, the OOD score and the cross-fitted bias choice."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from crimecast.vision.metrics import classification_report, decide, high_bias_for_recall

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
pytest.importorskip("sklearn")
frozen = pytest.importorskip("crimecast_training.frozen")
validation = pytest.importorskip("crimecast_training.validation")


def _probs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3)) + 1.2 * np.eye(3)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return p, y


def _high_recall(p: np.ndarray, y: np.ndarray, b: float) -> float:
    return classification_report(y, decide(p, np.array([b, 0, 0])), ["H", "M", "L"])["per_class"]["H"]["recall"]


@pytest.mark.parametrize("target", [0.5, 0.9, 0.97])
def test_high_bias_is_the_smallest_that_reaches_the_recall_target(target):
    p, y = _probs(600, 1)
    b = high_bias_for_recall(p, y, target)
    assert _high_recall(p, y, b) >= target
    assert _high_recall(p, y, b - 0.01) < target  # any smaller bias falls short: no overshoot


def test_folded_head_equals_the_standardised_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = np.abs(rng.normal(0, 1, (300, 20)) + np.eye(3)[y] @ rng.normal(0, 2, (3, 20))) * 3
    w, b = frozen.fit_head(x, y, c=0.1)
    mu, sd = x.mean(0), x.std(0) + 1e-3
    ref = LogisticRegression(C=0.1, class_weight="balanced", max_iter=500, random_state=0).fit((x - mu) / sd, y)
    assert np.allclose(frozen.head_probs(x, w, b), ref.predict_proba((x - mu) / sd), atol=1e-5)
    with pytest.raises(ValueError, match="lack a class"):
        frozen.fit_head(x[y < 2], y[y < 2], c=0.1)


def test_ood_score_separates_unlike_features_from_training_like_ones():
    rng = np.random.default_rng(0)
    basis = np.abs(rng.normal(0, 1, (5, 64)))
    train = np.abs(rng.normal(0, 1, (400, 5)) @ basis + rng.normal(0, 0.1, (400, 64)))
    held = np.abs(rng.normal(0, 1, (100, 5)) @ basis + rng.normal(0, 0.1, (100, 64)))
    odd = np.zeros((20, 64))  # activity in a few channels only: a direction no training row has
    for row in odd:
        row[rng.choice(64, 3, replace=False)] = 5.0
    ood = frozen.fit_ood(train, k=8)
    thr = np.quantile(frozen.ood_score(held, ood), 0.99)
    assert (frozen.ood_score(odd, ood) > thr).all()
    assert np.median(frozen.ood_score(train, ood)) == pytest.approx(np.median(frozen.ood_score(held, ood)), rel=0.5)


def test_cross_fitted_bias_keeps_its_promise_on_folds_it_did_not_see():
    runs = []
    for seed in range(3):
        p, y = _probs(900, 7)
        folds = np.random.default_rng(seed).integers(0, 5, 900)
        runs.append({"p": p, "folds": folds})
    bias, info = validation.choose_high_bias(runs, y, 0.90)
    assert info["cross_fitted"]["high_recall"] >= 0.90 and info["target"] >= 0.90
    assert info["target"] == 0.90 or info["tried"][-2]["high_recall"] < 0.90  # the smallest target that works
    assert _high_recall(runs[0]["p"], y, bias) >= info["target"] - 1e-9


@pytest.mark.slow
def test_shipped_graph_computes_what_the_numpy_head_and_ood_score_compute():
    pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 96, 96, 3)).astype(np.float32)
    x[1] = 128.0  # a blank frame
    feats = frozen.build_backbone(96, "avgmax").predict(x, verbose=0)
    train = np.abs(rng.normal(0.3, 0.3, (200, feats.shape[1])))
    w, b = rng.normal(0, 0.05, (feats.shape[1], 3)).astype(np.float32), np.zeros(3, np.float32)
    ood = frozen.fit_ood(train, k=8)
    out = frozen.build_shipped(96, "avgmax", w, b, ood).predict(x, verbose=0)
    assert np.allclose(out["probs"], frozen.head_probs(feats, w, b), atol=1e-4)
    assert np.allclose(out["ood"][:, 0], frozen.ood_score(feats, ood), rtol=1e-3, atol=1e-3)
