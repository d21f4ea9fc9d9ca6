"""The clip trainer end to end on a tiny generated clip set (slow: exports the encoder, trains a few heads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from testlib import run_cli

pytest.importorskip("tensorflow")


def _clips(root: Path) -> Path:
    """12 clips in 6 groups: fast motion = high, slow = medium, still = low (2 groups each)."""
    import cv2

    rows = ["path,risk,group_id,source"]
    rng = np.random.default_rng(0)
    for g in range(6):
        risk = ("high", "medium", "low")[g % 3]
        for c in range(2):
            p = root / f"g{g}_{c}.mp4"
            vw = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
            bg = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
            for i in range(25):
                f = bg.copy()
                x = {"high": (i * 9) % 48, "medium": (i * 2) % 48, "low": 20}[risk]
                f[10:30, x:x + 16] = 250
                vw.write(f)
            vw.release()
            rows.append(f"{p.name},{risk},grp{g},synthetic")
    csv = root / "clips.csv"
    csv.write_text("\n".join(rows) + "\n")
    return csv


@pytest.mark.slow
def test_train_clip_classifier_writes_a_servable_model(tmp_path: Path):
    from crimecast.vision.clip_model import ClipClassifier

    csv = _clips(tmp_path)
    out = tmp_path / "model"
    cp = run_cli("train-clip-classifier", "--clips", str(csv), "--out", str(out), "--folds", "2", "--cv-seeds", "1",
                 "--epochs", "2", "--cache-dir", str(tmp_path / "cache"), "--size", "96", "--pool", "avgmax",
                 timeout=1200)
    assert cp.returncode == 0, cp.stderr[-2000:]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["input"]["size"] == 96 and meta["input"]["appearance_dim"] == 2560 and meta["input"]["pool"] == "avgmax"
    assert meta["kind"] == "clip" and meta["trained_on"]["n_items"] == 12 and meta["trained_on"]["kind"] == "synthetic"
    assert meta["validation"]["summary"]["macro_f1"]["mean"] >= 0 and (out / "MODEL_CARD.md").exists()
    assert meta["head"]["kind"] == "pooled" and meta["head"]["input"] == "window_stats"
    assert meta["config"]["mirror_train"] is True and "mirrored" in (out / "MODEL_CARD.md").read_text()
    # dynamic images by default: a third stream of the encoder's width, on every 2nd sampled frame
    assert (meta["input"]["dynamic_dim"], meta["input"]["dynamic_every"]) == (2560, 2)
    assert meta["input"]["feature_dim"] == 2560 + 2560 + meta["input"]["motion_dim"]
    assert meta["head"]["input_shape"] == [3 * 2560 + 3 * 2560 + 4 * meta["input"]["motion_dim"]]
    assert "dynamic images" in (out / "MODEL_CARD.md").read_text()
    r = ClipClassifier().load_model(out).classify_path(tmp_path / "g0_0.mp4")
    assert r["risk_level"] in ("High", "Medium", "Low") and r["timeline"]
    # the temporal head (trained by TensorFlow on 2-s windows of frames) is still a choice, and servable
    out2 = tmp_path / "model_temporal"
    cp = run_cli("train-clip-classifier", "--clips", str(csv), "--out", str(out2), "--folds", "2", "--cv-seeds", "1",
                 "--epochs", "2", "--cache-dir", str(tmp_path / "cache"), "--size", "96", "--pool", "avgmax",
                 "--head", "temporal", timeout=1200)
    assert cp.returncode == 0, cp.stderr[-2000:]
    meta2 = json.loads((out2 / "metadata.json").read_text())
    assert meta2["head"] == {"kind": "temporal", "input": "frames", "input_shape": [10, 2560 + 38]}
    assert meta2["input"]["dynamic_dim"] == 0  # the temporal head takes none
    assert meta2["sampling"]["frames"] == 10
    r = ClipClassifier().load_model(out2).classify_path(tmp_path / "g0_0.mp4")
    assert r["risk_level"] in ("High", "Medium", "Low") and r["timeline"]
    cp = run_cli("train-clip-classifier", "--clips", str(tmp_path / "nope.csv"), "--out", str(out), timeout=600)
    assert cp.returncode == 2 and "nope.csv" in cp.stderr


def test_the_shipped_models_config_round_trips_and_names_its_encoder():
    """bench_clips rebuilds the shipped model's ClipConfig from its metadata: encoder, sampling and head must match."""
    from crimecast_training.clip import appearance_dim, config_from_metadata, encoder_name
    from testlib import ROOT

    meta = json.loads((ROOT / "models" / "clip" / "metadata.json").read_text())
    cfg = config_from_metadata(meta)
    assert (cfg.size, cfg.sample_fps, cfg.frames, cfg.serve_stride) == (
        meta["input"]["size"], meta["sampling"]["fps"], meta["sampling"]["frames"], meta["sampling"]["stride"])
    assert appearance_dim(cfg) == meta["input"]["appearance_dim"]
    assert meta["input"]["feature_dim"] == (meta["input"]["appearance_dim"] + meta["input"].get("dynamic_dim", 0)
                                            + meta["input"]["motion_dim"])
    assert cfg.dynamic_every == meta["input"].get("dynamic_every", 0)
    assert str(cfg.size) in encoder_name(cfg) and encoder_name(cfg).endswith("_int8.tflite")
    assert cfg.head.epochs == meta["config"]["head"]["epochs"] and cfg.head.kind == meta["head"]["kind"]
    old = {"config": {"size": 160, "frames": 10, "head": {"epochs": 30}}}  # a model from before pool/backbones/kind
    c = config_from_metadata(old)
    assert (c.size, c.pool, c.backbones, c.head.kind, c.frames) == (160, "avg", "lite0", "temporal", 10)
    assert c.dynamic_every == 0


def test_encoder_settings_set_the_feature_width_and_cache_name():
    from crimecast_training.clip import ClipConfig, appearance_dim, describe_encoder, encoder_name

    a, b = ClipConfig(size=160, pool="avg"), ClipConfig(size=384, pool="avgmax", backbones="lite0+lite2@320")
    assert (appearance_dim(a), appearance_dim(b)) == (1280, 5120)
    assert encoder_name(a) != encoder_name(b) and "lite2at320" in encoder_name(b)
    assert "Lite2" in describe_encoder(b) and "320" in describe_encoder(b)


@pytest.mark.parametrize("flags, message", [(["--backbones", "resnet"], "unknown network"),
                                            (["--size", "8"], "--size"),
                                            (["--pool", "median"], "invalid choice"),
                                            (["--dynamic-every", "-1"], "--dynamic-every"),
                                            (["--dynamic-every", "2", "--head", "temporal"], "--dynamic-every")])
def test_bad_encoder_flags_are_clear_errors(tmp_path: Path, flags: list[str], message: str):
    cp = run_cli("train-clip-classifier", "--clips", str(tmp_path / "clips.csv"), "--out", str(tmp_path / "m"), *flags,
                 timeout=600)
    assert cp.returncode == 2 and message in cp.stderr, cp.stderr[-1000:]
    assert not (tmp_path / "m").exists()


def test_pooled_head_graph_is_the_two_logistic_regressions_mixed():
    """The Keras graph that is exported computes exactly each stream's logistic regression on its part of the window
    statistics, mixed by app_weight; each stream alone is that stream's regression."""
    from crimecast.vision.clip_features import window_stats
    from crimecast_training.clip_head import HeadConfig, fit_knots, fit_pooled, hat_basis, stats_split
    from crimecast_training.frozen import fit_head, head_probs

    rng = np.random.default_rng(0)
    d_app, n = 6, 48
    clips = [rng.normal(size=(int(rng.integers(1, 12)), d_app + 5)) * rng.uniform(0.5, 3) for _ in range(n)]
    x = np.stack([window_stats(c, d_app) for c in clips])
    y, w = np.arange(n) % 3, rng.uniform(0.5, 1.5, n)
    cut, _ = stats_split(d_app)
    sw = w * n / w.sum()
    pa = head_probs(x[:, :cut], *fit_head(x[:, :cut], y, 0.01, 0, sample_weight=sw))
    knots = fit_knots(x[:, cut:], 5)
    hm = hat_basis(x[:, cut:], knots)
    assert hm.shape == (n, (x.shape[1] - cut) * 5) and np.allclose(hm.reshape(n, -1, 5).sum(-1), 1.0)  # a partition
    pm = head_probs(hm, *fit_head(hm, y, 0.2, 0, sample_weight=sw))
    cfg = HeadConfig(app_weight=0.7)
    got = np.asarray(fit_pooled(x, y, w, d_app, cfg, 0, n)(x, training=False))
    assert np.abs(got - (0.7 * pa + 0.3 * pm)).max() < 1e-5
    only_mot = np.asarray(fit_pooled(x, y, w, d_app, HeadConfig(use_app=False), 0, n)(x, training=False))
    assert np.abs(only_mot - pm).max() < 1e-5
    outside = x * 3  # beyond the training range the basis holds its edge values, in the graph as in numpy
    pm_out = head_probs(hat_basis(outside[:, cut:], knots), *fit_head(hm, y, 0.2, 0, sample_weight=sw))
    got = np.asarray(fit_pooled(x, y, w, d_app, HeadConfig(use_app=False), 0, n)(outside, training=False))
    assert np.abs(got - pm_out).max() < 1e-5
    linear = fit_pooled(x, y, w, d_app, HeadConfig(use_app=False, mot_knots=0, mot_c=0.05), 0, n)
    pl = head_probs(x[:, cut:], *fit_head(x[:, cut:], y, 0.05, 0, sample_weight=sw))
    assert np.abs(np.asarray(linear(x, training=False)) - pl).max() < 1e-5
    with pytest.raises(ValueError, match="at least one stream"):
        fit_pooled(x, y, w, d_app, HeadConfig(use_app=False, use_motion=False), 0, n)


def test_pooled_head_with_dynamic_images_mixes_three_streams():
    from crimecast.vision.clip_features import window_stats
    from crimecast_training.clip_head import HeadConfig, fit_knots, fit_pooled, hat_basis, stats_split, stream_weights
    from crimecast_training.frozen import fit_head, head_probs

    rng = np.random.default_rng(1)
    d_app, d_dyn, n = 5, 5, 45
    clips = []
    for _ in range(n):
        c = rng.normal(size=(int(rng.integers(1, 10)), d_app + d_dyn + 4))
        c[1::2, d_app:d_app + d_dyn] = np.nan  # dynamic images on every 2nd frame only
        clips.append(c)
    x = np.stack([window_stats(c, d_app, d_dyn) for c in clips])
    assert np.isfinite(x).all()
    y, w = np.arange(n) % 3, np.ones(n)
    cut_app, cut_dyn = stats_split(d_app, d_dyn)
    pa = head_probs(x[:, :cut_app], *fit_head(x[:, :cut_app], y, 0.01, 0, sample_weight=w))
    pd_ = head_probs(x[:, cut_app:cut_dyn], *fit_head(x[:, cut_app:cut_dyn], y, 0.03, 0, sample_weight=w))
    hm = hat_basis(x[:, cut_dyn:], fit_knots(x[:, cut_dyn:], 5))
    pm = head_probs(hm, *fit_head(hm, y, 0.2, 0, sample_weight=w))
    cfg = HeadConfig(app_weight=0.6, dyn_weight=0.5, dyn_c=0.03)
    wt = stream_weights(cfg, {"app", "dyn", "mot"})
    assert wt == pytest.approx({"dyn": 0.5, "app": 0.3, "mot": 0.2})
    got = np.asarray(fit_pooled(x, y, w, d_app, cfg, 0, n, d_dyn)(x, training=False))
    assert np.abs(got - (0.3 * pa + 0.5 * pd_ + 0.2 * pm)).max() < 1e-5
    only_dyn = fit_pooled(x, y, w, d_app, HeadConfig(use_app=False, use_motion=False, dyn_c=0.03), 0, n, d_dyn)
    assert np.abs(np.asarray(only_dyn(x, training=False)) - pd_).max() < 1e-5


def test_window_stats_and_unpadded_windows():
    from crimecast.vision.clip_features import window_indices, window_stats

    assert [len(i) for i in window_indices(3, 65, 10, pad=False)] == [3]
    assert [len(i) for i in window_indices(3, 10, 5)] == [10]  # the temporal head's windows are padded
    w = window_indices(80, 65, 10, pad=False)
    assert w[0][0] == 0 and w[-1][-1] == 79 and all(len(i) == 65 for i in w)
    one = window_stats(np.ones((1, 7)), 4)  # one frame: no change, no spread
    assert one.shape == (3 * 4 + 4 * 3,) and np.all(one[8:12] == 0) and np.all(one[12 + 6:] == 0)
    x = np.arange(12, dtype=float).reshape(4, 3)  # 2 appearance + 1 motion feature
    s = window_stats(x, 2)
    np.testing.assert_allclose(s[:6], [4.5, 5.5, 9, 10, 3, 3])
    np.testing.assert_allclose(s[6:], [6.5, 11, np.std([2, 5, 8, 11]), 3], rtol=1e-6)


def test_mirrored_clips_share_their_clips_weight():
    from crimecast_training.clip import ClipConfig, stack_train

    rng = np.random.default_rng(1)
    cfg = ClipConfig(pool="avg")  # 1280-d appearance
    feats = [rng.normal(size=(n, 1280 + 38)).astype(np.float32) for n in (5, 80, 12)]
    y = np.array([0, 1, 2])
    x, yy, w = stack_train(feats, y, np.arange(3), cfg)
    xm, yym, wm = stack_train(feats, y, np.arange(3), cfg, [f[:, ::-1].copy() for f in feats])
    assert len(xm) == 2 * len(x) and sorted(yym) == sorted(list(yy) * 2)
    per_clip = [wm[yym == c].sum() for c in range(3)]  # classes balanced, each clip (both views) weighs the same
    assert np.allclose(per_clip, per_clip[0])
    assert np.allclose(np.array(per_clip) / wm.sum(), 1 / 3)
    assert np.allclose([w[yy == c].sum() / w.sum() for c in range(3)], 1 / 3)


def test_bench_clips_refuses_negative_split_and_seed_counts_before_any_work():
    import subprocess
    import sys

    from testlib import ROOT

    for bad in (["--holdout", "-1"], ["--seeds", "0"], ["--head-seeds", "0"]):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_clips.py"), *bad, "--no-write"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, (bad, r.stderr[-300:])
        assert "must be >= 1" in r.stderr and bad[1] in r.stderr
