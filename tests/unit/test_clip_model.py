"""The shipped clip model (models/clip) served by LiteRT: answers, timeline, bad clips, CLI, routing, live feed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from crimecast.vision.clip_live import RollingClip
from crimecast.vision.clip_model import ClipClassifier, is_clip_model
from crimecast.vision.clip_router import RoutedClassifier
from crimecast.vision.decode import InputError
from test_clip_inputs import audio_only_mp4, write_video
from testlib import ROOT, run_cli

MODEL = ROOT / "models" / "clip"
SAMPLE = ROOT / "data" / "samples" / "videos" / "surv-fight_high_fi040.mp4"
KEYS = {"risk_level", "confidence", "probabilities", "action", "uncertain", "timeline", "high_segments",
        "decision_span_s", "model_version", "model_kind", "clip", "timings_ms"}


@pytest.fixture(scope="module")
def clf() -> ClipClassifier:
    return ClipClassifier().load_model(MODEL)


def test_metadata_says_what_the_model_expects():
    meta = json.loads((MODEL / "metadata.json").read_text())
    assert meta["kind"] == "clip" and is_clip_model(MODEL) and not is_clip_model(ROOT / "models" / "forecaster")
    assert meta["trained_on"]["kind"] == "real" and meta["trained_on"]["n_items"] >= 300
    assert len(meta["trained_on"]["data_sha256"]) == 64 and meta["command"].startswith("crimecast train-clip")
    s = meta["sampling"]
    assert s["fps"] > 0 and s["frames"] >= 4 and s["window_s"] == pytest.approx(s["frames"] / s["fps"], abs=1e-3)
    assert meta["validation"]["tflite_vs_keras_max_abs_diff"] < 1e-3
    assert (MODEL / "MODEL_CARD.md").exists() and (MODEL / "encoder.tflite").exists()


def test_real_sample_clip(clf: ClipClassifier):
    r = clf.classify_path(SAMPLE)
    assert KEYS <= set(r) and r["risk_level"] in ("High", "Medium", "Low") and r["model_kind"] == "clip"
    assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=2e-3)
    assert r["timeline"] and all(w["end_s"] > w["start_s"] for w in r["timeline"])
    assert r["uncertain"] == (r["confidence"] < clf.threshold)


def test_long_video_timeline_and_span(clf: ClipClassifier, tmp_path: Path):
    r = clf.classify_path(write_video(tmp_path / "long.mp4", 300, size=(96, 64), fps=10.0))  # 30 s
    assert r["timeline"][0]["start_s"] == 0.0 and r["timeline"][-1]["end_s"] >= 29.5
    assert len(r["timeline"]) >= 10
    s, e = r["decision_span_s"]
    assert e - s <= clf.span_s + 1e-6
    for seg in r["high_segments"]:
        assert 0 <= seg["start_s"] < seg["end_s"] and 0 < seg["confidence"] <= 1


def test_bad_clips_through_the_model(clf: ClipClassifier, tmp_path: Path):
    one = clf.classify_path(write_video(tmp_path / "one.mp4", 1))
    assert one["clip"]["sampled_frames"] == 1 and len(one["timeline"]) == 1
    big = clf.classify_path(write_video(tmp_path / "4k.mp4", 13, size=(3840, 2160), fps=60.0))
    assert big["clip"]["width"] == 3840 and big["risk_level"] in ("High", "Medium", "Low")
    portrait = clf.classify_path(write_video(tmp_path / "p.mp4", 20, size=(48, 96)))
    assert portrait["clip"]["height"] == 96
    with pytest.raises(InputError, match="audio.mp4"):
        clf.classify_path(audio_only_mp4(tmp_path / "audio.mp4"))
    img = next((ROOT / "data" / "samples" / "images").rglob("*.jpg"))
    with pytest.raises(InputError, match="an image"):
        clf.classify_path(img)
    with pytest.raises(InputError, match="empty"):
        clf.classify_bytes(b"", "x.mp4")


def test_cli_classify_with_a_clip_model(tmp_path: Path):
    bad = tmp_path / "trunc.mp4"
    bad.write_bytes(write_video(tmp_path / "full.mp4", 30).read_bytes()[:500])
    cp = run_cli("classify", "--json", "--model", str(MODEL), str(SAMPLE), str(bad), timeout=300)
    assert cp.returncode == 0, cp.stderr
    lines = [json.loads(x) for x in cp.stdout.splitlines()]
    assert lines[0]["model_kind"] == "clip" and "timeline" in lines[0] and "high_segments" in lines[0]
    assert "trunc.mp4" in lines[1]["error"]
    cp = run_cli("classify", "--json", "--model", str(MODEL), str(bad), timeout=300)
    assert cp.returncode == 2 and "1 of 1" in cp.stderr


class _FakeImage:
    version = "img-1"

    def classify_bytes(self, data, filename=None, content_type=None):
        return {"model_kind": "image"}

    def classify_path(self, path):
        return {"model_kind": "image"}


def test_router_sends_videos_to_the_clip_model(clf: ClipClassifier):
    r = RoutedClassifier(_FakeImage(), clf)
    assert r.classify_bytes(SAMPLE.read_bytes(), "a.mp4")["model_kind"] == "clip"
    img = next((ROOT / "data" / "samples" / "images").rglob("*.jpg"))
    assert r.classify_bytes(img.read_bytes(), "a.jpg")["model_kind"] == "image"
    assert r.classify_path(SAMPLE)["model_kind"] == "clip" and r.version == "img-1"
    assert RoutedClassifier(_FakeImage(), None).classify_path(SAMPLE)["model_kind"] == "image"


def test_rolling_clip_on_a_feed(clf: ClipClassifier):
    import cv2

    live = RollingClip(clf, window_s=3.0)
    cap = cv2.VideoCapture(str(SAMPLE))
    fps = cap.get(cv2.CAP_PROP_FPS) or 20.0
    out, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        d = live.add(i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        i += 1
        if d is not None:
            out.append(d)
    cap.release()
    assert len(out) >= 5 and all(d["risk_level"] in ("High", "Medium", "Low") for d in out)
    assert max(d["frames_in_window"] for d in out) <= int(3.0 * clf.fps) + 1
    # the rolling decision over the whole sample equals the file answer when the window holds the whole clip
    whole = RollingClip(clf, window_s=60.0)
    cap = cv2.VideoCapture(str(SAMPLE))
    last, i = None, 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        last = whole.add(i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) or last
        i += 1
    cap.release()
    ref = clf.classify_path(SAMPLE)
    assert last is not None and last["risk_level"] == ref["risk_level"]
    assert np.allclose(list(last["probabilities"].values()), list(ref["probabilities"].values()), atol=2e-3)


def test_gui_rolling_clip_decision(tmp_path: Path):
    import types

    import cv2
    from crimecast.gui.clip import ClipModelDecider, KOfNDecider, decider_for

    assert isinstance(decider_for(types.SimpleNamespace(model_dir=ROOT / "models" / "classifier")), ClipModelDecider)
    assert isinstance(decider_for(types.SimpleNamespace(model_dir=tmp_path / "classifier")), KOfNDecider)
    dec = ClipModelDecider(MODEL, live_window_s=2.0)
    dec.reset("camera")
    cap = cv2.VideoCapture(str(SAMPLE))
    out, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        d = dec.add(types.SimpleNamespace(t=i / 20.0, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), {})
        out += [d] if d is not None else []
        i += 1
    cap.release()
    assert out and all(d.scope == "Last 2 s" and d.risk_level in ("High", "Medium", "Low") for d in out)
    assert out[-1].explanation.startswith("clip model ")


def test_a_clip_model_with_inputs_this_code_does_not_serve_is_refused(tmp_path: Path):
    import shutil

    for change, message in [(lambda m: m["head"].update(input="optical_flow_video"), "head.input"),
                            (lambda m: m["input"].update(dynamic_every=0), "dynamic_every")]:
        d = tmp_path / "m"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(MODEL, d)
        meta = json.loads((d / "metadata.json").read_text())
        meta["input"].setdefault("dynamic_dim", 2560)
        change(meta)
        (d / "metadata.json").write_text(json.dumps(meta))
        with pytest.raises(ValueError, match=message):
            ClipClassifier().load_model(d)
