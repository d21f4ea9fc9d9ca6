"""Temperature scaling, ECE, metrics, High-recall bias and the k-of-n clip rule (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from crimecast.vision.calibration import apply_temperature, ece, fit_temperature, softmax
from crimecast.vision.metrics import classification_report, decide, fit_high_bias
from crimecast.vision.video import k_of_n


def _overconfident(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0, 1.5, size=(n, 3))
    y = np.array([rng.choice(3, p=p) for p in softmax(true_logits)])
    return softmax(true_logits * 3.0), y  # the model is 3× too sharp


def test_fit_temperature_recovers_overconfidence_and_lowers_ece():
    p, y = _overconfident()
    t = fit_temperature(p, y)
    assert 2.4 < t < 3.6
    assert ece(apply_temperature(p, t), y) < 0.5 * ece(p, y)


def test_fit_temperature_is_bounded_on_perfectly_separated_data():
    p = softmax(np.eye(3)[[0, 1, 2] * 20] * 2.0)
    assert fit_temperature(p, np.array([0, 1, 2] * 20)) == pytest.approx(0.25, rel=1e-3)


def test_ece_is_zero_for_perfectly_calibrated_certain_predictions():
    p = np.eye(3)[[0, 1, 2, 0]]
    assert ece(p, np.array([0, 1, 2, 0])) == pytest.approx(0.0)
    assert ece(p, np.array([1, 1, 2, 0])) == pytest.approx(0.25)


def test_classification_report_counts_confusion_and_macro_f1():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    rep = classification_report(y, pred, ["High", "Medium", "Low"])
    assert rep["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert rep["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    f1s = [2 * 0.5 * 0.5 / 1.0, 2 * (2 / 3) * 1 / (2 / 3 + 1), 2 * 1 * 0.5 / 1.5]
    assert rep["macro_f1"] == pytest.approx(np.mean(f1s), abs=1e-4)


def test_high_bias_raises_high_recall_to_target():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3))
    logits[np.arange(600), y] += 1.0
    logits[:, 0] -= 0.8  # the model under-calls High
    p = softmax(logits)
    base = classification_report(y, decide(p), ["H", "M", "L"])["per_class"]["H"]["recall"]
    b, info = fit_high_bias(p, y, 0, min_recall=0.8, max_f1_loss=0.5)
    after = classification_report(y, decide(p, np.array([b, 0, 0])), ["H", "M", "L"])["per_class"]["H"]["recall"]
    assert base < 0.8 <= after and info["reached"] and b > 0


def test_k_of_n_fires_high_only_on_three_of_five_consecutive():
    times = [i * 0.5 for i in range(10)]
    sparse = ["Low", "High", "Low", "Low", "High", "Low", "Low", "High", "Low", "Low"]
    assert k_of_n(sparse, times)["risk_level"] == "Low"
    burst = ["Low", "Low", "Medium", "High", "Low", "High", "High", "Low", "Low", "Low"]
    r = k_of_n(burst, times)
    assert r["risk_level"] == "High" and r["decision_time_s"] == 3.0
    assert r["first_time"] == {"High": 1.5, "Medium": 1.0, "Low": 0.0}


def test_k_of_n_counts_high_frames_towards_medium():
    times = [0, 1, 2, 3, 4]
    r = k_of_n(["Medium", "High", "Low", "Medium", "Low"], times)
    assert r["risk_level"] == "Medium"


def test_k_of_n_short_clip_scales_the_window():
    r = k_of_n(["High", "High"], [0.0, 0.5])
    assert r["risk_level"] == "High" and r["n"] == 2 and r["k"] == 2
