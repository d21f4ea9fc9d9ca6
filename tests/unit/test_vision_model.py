"""The served classifier (LiteRT, no TensorFlow) on the quick-trained fixture model: API, video, CLI, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from crimecast.vision import CrimeImageClassifier, InputError
from testlib import run_cli

RESULT_KEYS = {"path", "risk_level", "confidence", "probabilities", "action", "uncertain", "review_reason",
               "ood_score", "model_version", "timings_ms"}


@pytest.fixture(scope="module")
def clf(classifier_model_dir: Path) -> CrimeImageClassifier:
    return CrimeImageClassifier().load_model(classifier_model_dir)


def test_metadata_describes_the_model(classifier_model_dir: Path):
    meta = json.loads((classifier_model_dir / "metadata.json").read_text())
    assert meta["name"] == "classifier" and meta["labels"] == ["High", "Medium", "Low"]
    assert (classifier_model_dir / "model.tflite").exists() and meta["default_variant"] == "int8"
    assert 0.25 <= meta["calibration"]["temperature"] <= 10
    assert meta["preprocessing"]["channels"] == "RGB" and meta["input"]["size"] in (96, 224)
    # the exported int8 file was loaded by LiteRT during training and compared with Keras
    assert meta["variants"]["int8"]["max_abs_diff_vs_keras"] < 0.25
    if meta["head"] == "frozen":  # the defaults: group-balanced weights, the mean of the CV fold heads served
        assert (meta["training"]["weighting"], meta["training"]["served_head"]) == ("group", "folds")


def test_predict_returns_level_and_confidence(clf: CrimeImageClassifier, synth_dir: Path):
    img = sorted((synth_dir / "images" / "high_risk").glob("*.jpg"))[0]
    level, conf = clf.predict(str(img))
    assert level in ("High", "Medium", "Low") and 0.0 < conf <= 1.0
    assert clf.version and clf.version.startswith("clf-")


def test_classifier_beats_chance_on_synthetic_images(clf: CrimeImageClassifier, synth_dir: Path):
    hits = n = 0
    for cls, level in (("high_risk", "High"), ("medium_risk", "Medium"), ("low_risk", "Low")):
        for img in sorted((synth_dir / "images" / cls).glob("*.jpg"))[:20]:
            hits += clf.predict(str(img))[0] == level
            n += 1
    assert hits / n > 0.5, f"{hits}/{n} correct: the quick model did not learn the synthetic classes"


def test_classify_path_image_result_has_contract_keys(clf: CrimeImageClassifier, synth_dir: Path):
    img = sorted((synth_dir / "images" / "low_risk").glob("*.jpg"))[0]
    r = clf.classify_path(img)
    assert set(r) == RESULT_KEYS
    assert set(r["probabilities"]) == {"High", "Medium", "Low"}
    assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert r["action"] == {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"}[r["risk_level"]]
    ood = r["ood_score"] is not None and r["ood_score"] > clf.ood_threshold
    assert r["uncertain"] == (r["confidence"] < clf.threshold or ood)
    assert (r["review_reason"] is None) == (not r["uncertain"])


def test_ood_score_above_the_threshold_sends_the_answer_to_human_review(clf: CrimeImageClassifier,
                                                                         synth_dir: Path):
    """The model's second output scores how far an image's features lie from the training images; above the
    metadata's threshold the answer is uncertain → human review whatever the probabilities say. (The quick fixture
    learns its OOD statistics from 120 drawings, so only the plumbing and the clearest cases are checked here; the
    shipped model's probes are checked in test_vision_shipped.py.)"""
    from crimecast.vision.decode import load_image
    from crimecast.vision.preprocess import to_array

    assert clf.ood_threshold is not None and clf.metadata["ood"]["threshold"] == clf.ood_threshold
    imgs = sorted((synth_dir / "images" / "low_risk").glob("*.jpg"))[:10]
    arrays = [to_array(load_image(p), clf.size) for p in imgs]
    probs, ood = clf.score_arrays(arrays)
    assert ood is not None and ood.shape == (10,) and (ood <= clf.ood_threshold).mean() >= 0.8
    assert np.allclose(probs, clf.predict_arrays(arrays))
    s = clf.size
    blank = [np.full((s, s, 3), 128, np.uint8), np.zeros((s, s, 3), np.uint8)]
    assert (clf.score_arrays(blank)[1] > clf.ood_threshold).any()
    r = clf._result(probs[0], float(ood[0]))
    saved = clf.ood_threshold
    try:
        clf.ood_threshold = float(ood[0]) - 1e-3  # the same image, now beyond the threshold
        r2 = clf._result(probs[0], float(ood[0]))
    finally:
        clf.ood_threshold = saved
    assert r2["uncertain"] and r2["review_reason"].startswith("out of distribution")
    assert r2["risk_level"] == r["risk_level"] and r2["probabilities"] == r["probabilities"]


def test_classify_bytes_matches_classify_path(clf: CrimeImageClassifier, synth_dir: Path):
    img = sorted((synth_dir / "images" / "medium_risk").glob("*.jpg"))[1]
    a = clf.classify_path(img)
    b = clf.classify_bytes(img.read_bytes(), filename="x.jpg", content_type="image/jpeg")
    assert a["probabilities"] == b["probabilities"] and b["path"] == "x.jpg"


def test_classify_video_gives_timeline_and_clip_decision(clf: CrimeImageClassifier, synth_dir: Path):
    clip = synth_dir / "videos" / "clip_00.mp4"
    r = clf.classify_path(clip)
    assert set(r) == RESULT_KEYS | {"frames", "clip"}
    times = [f["t"] for f in r["frames"]]
    assert times == sorted(times) and len(times) >= 10
    assert all(abs(b - a - 0.5) < 0.01 for a, b in zip(times, times[1:], strict=False))  # 2 fps sampling
    assert r["clip"]["truncated"] is False and r["clip"]["sampled_frames"] == len(times)
    assert set(r["clip"]["first_time"]) == {"High", "Medium", "Low"}
    b = clf.classify_bytes(clip.read_bytes(), filename="clip.mp4")
    assert [f["risk_level"] for f in b["frames"]] == [f["risk_level"] for f in r["frames"]]


def test_video_longer_than_cap_is_sampled_truncated_and_says_so(clf: CrimeImageClassifier, synth_dir: Path):
    r = clf.classify_video(synth_dir / "videos" / "clip_00.mp4", fps=2.0, max_seconds=2.0)
    assert r["clip"]["truncated"] is True and r["clip"]["notes"]
    assert max(f["t"] for f in r["frames"]) <= 2.0 and r["clip"]["sampled_frames"] <= 5
    r = clf.classify_video(synth_dir / "videos" / "clip_00.mp4", fps=4.0, max_frames=3)
    assert r["clip"]["truncated"] is True and r["clip"]["sampled_frames"] == 3


def test_mp4_without_decodable_frames_is_refused(clf: CrimeImageClassifier, tmp_path: Path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 8)
    with pytest.raises(InputError, match="broken.mp4: .*(cannot open|no decodable frames)"):
        clf.classify_path(bad)


def test_bad_files_raise_input_error(clf: CrimeImageClassifier, tmp_path: Path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(InputError, match="empty.jpg: empty file"):
        clf.classify_path(tmp_path / "empty.jpg")
    with pytest.raises(InputError, match="text.jpg: not a recognised image"):
        clf.classify_path(tmp_path / "text.jpg")
    with pytest.raises(InputError, match="empty upload"):
        clf.classify_bytes(b"", filename="up.jpg")
    assert issubclass(InputError, ValueError)


def test_batch_and_single_inference_agree(clf: CrimeImageClassifier, synth_dir: Path):
    from crimecast.vision.decode import load_image
    from crimecast.vision.preprocess import to_array

    imgs = sorted((synth_dir / "images" / "high_risk").glob("*.jpg"))[:5]
    arrays = [to_array(load_image(p), clf.size) for p in imgs]
    batch = clf.predict_arrays(arrays)
    single = np.concatenate([clf.predict_arrays([a]) for a in arrays])
    assert np.allclose(batch, single, atol=1e-5)


def test_cli_classify_json_per_input_and_exit_codes(classifier_model_dir: Path, synth_dir: Path, tmp_path: Path):
    img = sorted((synth_dir / "images" / "high_risk").glob("*.jpg"))[0]
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    proc = run_cli("classify", "--json", "--model", str(classifier_model_dir), str(img), str(bad),
                   str(synth_dir / "videos" / "clip_01.mp4"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(img), str(bad), str(synth_dir / "videos" / "clip_01.mp4")]
    assert rows[0]["risk_level"] in ("High", "Medium", "Low") and "error" in rows[1] and "frames" in rows[2]
    proc = run_cli("classify", "--json", "--model", str(classifier_model_dir), str(bad), str(tmp_path / "missing.jpg"))
    assert proc.returncode == 2 and len(proc.stdout.splitlines()) == 2


def test_cli_classify_expands_directories(classifier_model_dir: Path, synth_dir: Path):
    proc = run_cli("classify", "--json", "--model", str(classifier_model_dir), str(synth_dir / "images" / "low_risk"))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(list((synth_dir / "images" / "low_risk").glob("*.jpg")))


def test_cli_evaluate_classifier_reports_metrics(classifier_model_dir: Path, synth_dir: Path, tmp_path: Path):
    out = tmp_path / "eval.json"
    proc = run_cli("evaluate-classifier", "--model", str(classifier_model_dir), "--labels",
                   str(synth_dir / "images" / "labels.csv"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(out.read_text())
    assert rep["n"] == 120 and np.array(rep["confusion"]).sum() == 120
    for key in ("accuracy", "macro_precision", "macro_recall", "macro_f1", "ece", "per_class", "per_source"):
        assert key in rep
    assert set(rep["per_source"]) == {"synthetic"}


def test_cli_train_rejects_bad_labels(tmp_path: Path):
    bad = tmp_path / "labels.csv"
    bad.write_text("path,risk\na.jpg,catastrophic\n")
    proc = run_cli("train-classifier", "--labels", str(bad), "--out", str(tmp_path / "m"), "--quick")
    assert proc.returncode == 2 and "risk" in proc.stderr and "catastrophic" in proc.stderr
    assert not (tmp_path / "m").exists()


def test_serving_path_never_imports_tensorflow(classifier_model_dir: Path, synth_dir: Path):
    img = sorted((synth_dir / "images" / "high_risk").glob("*.jpg"))[0]
    code = (f"import sys; from crimecast.vision import CrimeImageClassifier; "
            f"c = CrimeImageClassifier().load_model({str(classifier_model_dir)!r}); c.classify_path({str(img)!r}); "
            f"c.classify_path({str(synth_dir / 'videos' / 'clip_00.mp4')!r}); "
            f"bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'torch')]; "
            f"assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
