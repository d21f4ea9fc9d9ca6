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


def test_group_balanced_weights_give_every_group_one_vote_within_its_class():
    groups = np.array(["v1"] * 6 + ["v2"] * 2 + ["p1", "p2", "p3", "p4"])
    y = np.array([0] * 6 + [0, 0] + [1, 1, 2, 2])
    w = frozen.group_balanced_weights(groups, y)
    assert np.isclose(w[:6].sum(), w[6:8].sum())  # a 6-frame video weighs what a 2-frame one does
    assert np.allclose([w[y == k].sum() for k in range(3)], len(y) / 3)  # classes balanced, total n
    assert np.allclose(frozen.group_balanced_weights(np.arange(12).astype(str), y),  # one image per group:
                       len(y) / (3 * np.bincount(y)[y]))  # exactly sklearn's "balanced" class weights
    # the head: a group that contributes many near-identical rows no longer outvotes the others
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (12, 4))
    w1, b1 = frozen.fit_head(x, y, c=0.1, groups=groups)
    w2, b2 = frozen.fit_head(x, y, c=0.1, sample_weight=w)
    assert np.allclose(w1, w2) and np.allclose(b1, b2)
    with pytest.raises(ValueError, match="not both"):
        frozen.fit_head(x, y, c=0.1, sample_weight=w, groups=groups)
    with pytest.raises(ValueError, match="weighting"):
        validation.head_groups(__import__("pandas").DataFrame({"group_id": groups}), "videos")


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
    # the decisions behind the cross-fitted numbers: every fold decided by a bias fitted on the other folds only
    preds = validation.cross_fitted_decisions(runs, y, info["target"])
    recall = np.mean([(pred[y == 0] == 0).mean() for pred in preds])
    assert len(preds) == 3 and recall == pytest.approx(info["cross_fitted"]["high_recall"], abs=1e-4)
    p0, f0 = runs[0]["p"], runs[0]["folds"] == 0  # fold 0 alone: its own bias differs from the cross-fitted one
    own = high_bias_for_recall(p0[f0], y[f0], info["target"])
    other = high_bias_for_recall(p0[~f0], y[~f0], info["target"])
    assert own != other and (preds[0][f0] == decide(p0[f0], np.array([other, 0.0, 0.0]))).all()


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


@pytest.mark.slow
def test_mirror_graph_serves_the_mean_of_the_image_and_its_mirror_and_the_tflite_agrees(tmp_path):
    """--mirror: the shipped graph's head sees (features(x) + features(mirror x)) / 2, the same vector the training
    code validates with (frozen.served_features), and the exported TFLite under LiteRT computes it too."""
    pytest.importorskip("tensorflow")
    from crimecast_training.export import export_tflite
    from crimecast_training.train_frozen import _lite_outputs

    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (3, 96, 96, 3)).astype(np.float32)
    x[2] = np.linspace(0, 255, 96)[None, :, None]  # a left-to-right ramp: its mirror image differs
    bb = frozen.build_backbone(96, "avgmax")
    views = [bb.predict(x, verbose=0), bb.predict(x[:, :, ::-1], verbose=0)]
    assert not np.allclose(views[0], views[1], atol=1e-3)
    served = frozen.served_features(views, mirror=True)
    assert np.allclose(frozen.build_backbone(96, "avgmax", mirror=True).predict(x, verbose=0), served, atol=1e-4)
    w, b = rng.normal(0, 0.05, (served.shape[1], 3)).astype(np.float32), np.zeros(3, np.float32)
    ood = frozen.fit_ood(np.abs(rng.normal(0.3, 0.3, (200, served.shape[1]))), k=8)
    model = frozen.build_shipped(96, "avgmax", w, b, ood, mirror=True)
    out = model.predict(x, verbose=0)
    assert np.allclose(out["probs"], frozen.head_probs(served, w, b), atol=1e-4)
    assert not np.allclose(out["probs"], frozen.head_probs(views[0], w, b), atol=1e-3)
    path = tmp_path / "m.tflite"
    export_tflite(model, "float32", None, path)
    probs, score = _lite_outputs(path, x, threads=1)
    assert np.allclose(probs, frozen.head_probs(served, w, b), atol=1e-4)
    assert np.allclose(score, frozen.ood_score(served, ood), rtol=1e-3, atol=1e-3)
    # the backbone's weights are stored once, not once per view
    single = tmp_path / "single.tflite"
    export_tflite(frozen.build_shipped(96, "avgmax", w, b, ood), "float32", None, single)
    assert path.stat().st_size < 1.1 * single.stat().st_size


def test_backbones_spec_is_parsed_and_bad_ones_say_what_is_wrong():
    assert frozen.parse_backbones("lite0+lite2@320") == [("lite0", None), ("lite2", 320)]
    assert frozen.parse_backbones("lite0") == [("lite0", None)]
    for bad, words in [("lite0+resnet", "unknown network 'resnet'"), ("lite2@abc", "size 'abc' of lite2"),
                       ("lite2@8", "size '8' of lite2"), ("lite0+lite0", "listed twice"), ("", "unknown network ''")]:
        with pytest.raises(ValueError, match=words):
            frozen.parse_backbones(bad)
    assert frozen.feature_dim("avgmax", "lite0+lite2@320") == 2 * 2 * 1280


@pytest.mark.slow
def test_two_backbones_concatenate_each_networks_own_features_and_the_tflite_agrees(tmp_path):
    """lite0+lite2@S: the graph's features are [Lite0(image) ‖ Lite2(image resized to S)], exactly what each network
    computes alone; Keras and the converted TFLite agree (keras.layers.Resizing in the graph broke that: its eager
    call gave both branches numbers off by up to 6.0)."""
    pytest.importorskip("tensorflow")
    from crimecast_training.export import export_tflite
    from keras import ops

    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (2, 96, 96, 3)).astype(np.float32)
    both = frozen.build_backbone(96, "avgmax", backbones="lite0+lite2@64")
    f = both.predict(x, verbose=0)
    f0 = frozen.build_backbone(96, "avgmax", backbones="lite0").predict(x, verbose=0)
    small = np.asarray(ops.image.resize(x, (64, 64), interpolation="bilinear"))
    f2 = frozen.build_backbone(64, "avgmax", backbones="lite2").predict(small, verbose=0)
    assert f.shape == (2, frozen.feature_dim("avgmax", "lite0+lite2@64"))
    assert np.allclose(f[:, :2560], f0, atol=1e-4) and np.allclose(f[:, 2560:], f2, atol=1e-3)
    path = tmp_path / "both.tflite"
    export_tflite(both, "float32", None, path)
    from crimecast.litert import interpreter_class

    it = interpreter_class()(model_path=str(path), num_threads=1)
    it.resize_tensor_input(it.get_input_details()[0]["index"], list(x.shape))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    assert np.allclose(it.get_tensor(it.get_output_details()[0]["index"]), f, atol=1e-3)


def test_choose_variant_takes_the_fastest_faithful_one():
    """Out of fold decides where it was measured (an in-sample loss, which can only count flips against, does not);
    float32 and unchecked variants go by their in-sample change; the High recall promise must hold."""
    from crimecast_training.train_frozen import choose_variant

    oof = {"macro_f1_change": -0.015, "high_recall": 0.94}
    v = {"float32": {"macro_f1_change_vs_keras": 0.0, "latency_ms_1_thread": 38.0},
         "dynamic": {"macro_f1_change_vs_keras": -0.001, "latency_ms_1_thread": 54.0},
         "int8": {"macro_f1_change_vs_keras": -0.004, "latency_ms_1_thread": 16.0, "out_of_fold": oof}}
    assert choose_variant(v, 0.90) == "float32"  # int8 costs too much out of fold; dynamic is slower than float32
    oof["macro_f1_change"] = 0.0
    v["int8"]["macro_f1_change_vs_keras"] = -0.03  # the in-sample loss no longer vetoes it
    assert choose_variant(v, 0.90) == "int8"
    oof["high_recall"] = 0.89  # breaks the promise
    assert choose_variant(v, 0.90) == "float32"
    del v["int8"]["out_of_fold"]  # not checked out of fold: its in-sample change decides
    assert choose_variant(v, 0.90) == "float32"
    assert choose_variant({"int8": {"macro_f1_change_vs_keras": -0.05, "latency_ms_1_thread": 1.0},
                           "dynamic": {"macro_f1_change_vs_keras": -0.03, "latency_ms_1_thread": 9.0}},
                          0.90) == "dynamic"


def test_variant_out_of_fold_is_paired_on_the_fold_heads():
    """The same features give no change and full agreement; features that flip the held-out High images lose High
    recall; the heads are applied to their own held-out fold only."""
    rng = np.random.default_rng(0)
    n, d = 90, 4
    y = np.repeat([0, 1, 2], n // 3)
    f = rng.normal(size=(n, d)) + np.eye(d)[y] * 3
    folds = np.arange(n) % 3
    w = np.zeros((d, 3))
    w[:3, :3] = np.eye(3)
    runs = [{"folds": folds, "heads": [(w, np.zeros(3))] * 3}]
    same = validation.variant_out_of_fold(runs, y, f, f.copy(), 1.0, 0.0)
    assert same["macro_f1_change"] == 0.0 and same["agreement_at_rule"] == 1.0
    assert same["macro_f1_change_per_fold_seed"] == [0.0]
    g = f.copy()
    g[(y == 0) & (folds == 1)] = f[(y == 0) & (folds == 1)][:, [1, 0, 2, 3]]  # fold 1's High images look Medium
    worse = validation.variant_out_of_fold(runs, y, f, g, 1.0, 0.0)
    assert worse["high_recall_change"] < -0.2 and worse["macro_f1_change"] < 0 and worse["agreement_at_rule"] < 0.95


def test_feature_cache_remembers_what_a_cold_run_costs(tmp_path):
    """The cache keeps each view's compute time beside it, so a run that finds the features cached can still say what
    a cold run pays; a second call reads the cache (the same arrays) and the time stays the first run's."""
    pytest.importorskip("tensorflow")
    x = np.random.default_rng(3).integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    assert frozen.cached_seconds(x, 64, "avg", tmp_path) is None and frozen.cached_seconds(x, 64, "avg", None) is None
    first = frozen.features(x, 64, "avg", tmp_path, threads=1)
    made = frozen.cached_seconds(x, 64, "avg", tmp_path)
    assert made is not None and made > 0
    again = frozen.features(x, 64, "avg", tmp_path, threads=1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert frozen.cached_seconds(x, 64, "avg", tmp_path) == made
    assert frozen.cached_seconds(x, 64, "avg", tmp_path, flips=(False,)) <= made
    record = next(tmp_path.glob("frozen-*-orig.json"))
    for bad in ("", "{not json", '{"minutes": 3}', '{"seconds": "soon"}', "[1, 2]"):  # a damaged record
        record.write_text(bad)
        assert frozen.cached_seconds(x, 64, "avg", tmp_path) is None
