"""The desktop client's parts without a window: model lookup and banner text, source sniffing, clip decider."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from crimecast.gui import model_info as mi
from crimecast.gui.clip import KOfNDecider
from crimecast.gui.common import ClientError
from crimecast.gui.sources import parse_source


def _model(d: Path, meta: str = '{"name": "classifier"}') -> Path:
    d.mkdir(parents=True)
    (d / "metadata.json").write_text(meta)
    return d


def test_default_model_lookup_order(tmp_path, monkeypatch):
    repo, cwd = tmp_path / "repo", tmp_path / "elsewhere"
    monkeypatch.setattr(mi, "PACKAGE_REPO_ROOT", repo)
    cwd.mkdir()
    # nothing anywhere: the first place looked at is returned and the message names every place
    assert mi.default_model_dir(env={}, cwd=cwd) == repo / "models" / "classifier"
    # the current directory's models/classifier is used when the checkout has none
    _model(cwd / "models" / "classifier")
    assert mi.default_model_dir(env={}, cwd=cwd) == cwd / "models" / "classifier"
    # the checkout's own model (found from the package, whatever the current directory) comes first
    _model(repo / "models" / "classifier")
    assert mi.default_model_dir(env={}, cwd=cwd) == repo / "models" / "classifier"
    # then the environment variable, then the flag; both are explicit (no fall-back when they are wrong)
    env_dir = _model(tmp_path / "from-env")
    assert mi.default_model_dir(env={mi.ENV_MODEL_DIR: str(env_dir)}, cwd=cwd) == env_dir
    assert mi.default_model_dir(env={mi.ENV_MODEL_DIR: str(tmp_path / "missing")}, cwd=cwd) == tmp_path / "missing"
    assert mi.default_model_dir(str(tmp_path / "flag"), env={mi.ENV_MODEL_DIR: str(env_dir)}) == tmp_path / "flag"


def test_not_found_message_names_the_places(tmp_path, monkeypatch):
    monkeypatch.setattr(mi, "PACKAGE_REPO_ROOT", tmp_path / "repo")
    monkeypatch.delenv(mi.ENV_MODEL_DIR, raising=False)
    msg = mi.not_found_message(tmp_path / "repo" / "models" / "classifier")
    assert msg.startswith("no classifier model found (looked in: ") and "--model" in msg and mi.ENV_MODEL_DIR in msg
    assert mi.not_found_message(tmp_path / "typed") == f"no classifier model in {tmp_path / 'typed'} " \
                                                      "(metadata.json missing)"


def test_the_shipped_model_is_found_from_the_package():
    """In this checkout the package's repo root is the repository itself (an editable install)."""
    assert mi.PACKAGE_REPO_ROOT == Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("meta", "kind", "warn", "words"), [
    ({"version": "v7", "trained_on": {"kind": "real", "n_items": 3120, "sources": ["surv-fight", "graffiti"]},
      "validation": {"cv": {"macro_f1": 0.7412}}}, "real", False,
     ["Model v7", "trained on real images (3120 images; surv-fight, graffiti)", "validated macro-F1 0.74"]),
    ({"version": "v8", "trained_on": {"kind": "synthetic", "n_items": 120}}, "synthetic", True,
     ["⚠ Model v8", "SYNTHETIC pictures only", "not reliable"]),
    ({"version": "v9"}, "unknown", True, ["⚠ Model v9", "unknown training data"]),
    (None, "unknown", True, ["Model ?", "unknown training data"]),
])
def test_model_banner_text(meta, kind, warn, words):
    info = mi.describe(meta, "local")
    assert (info.kind, info.warn) == (kind, warn)
    for w in words:
        assert w in info.text, info.text


def test_model_banner_from_an_api_answer():
    assert mi.from_api_result({"risk_level": "Low"}) is None
    assert mi.from_api_result({"model_version": "a1"}).kind == "unknown"
    info = mi.from_api_result({"model_version": "a2", "model": {"trained_on": {"kind": "synthetic"}}})
    assert (info.version, info.kind, info.warn) == ("a2", "synthetic", True)
    assert mi.from_api_result({"model_version": "a3", "trained_on": {"kind": "real"}}).kind == "real"
    # the API's ModelSummary, as crimecast.provenance.model_summary makes it
    from crimecast.provenance import model_summary

    summary = model_summary({"trained_on": {"kind": "real", "n_items": 900, "sources": ["surv-fight"]},
                             "validation": {"macro_f1": 0.76}}, name="classifier", version="v4")
    info = mi.from_api_result({"risk_level": "Low", "model_version": "v4", "model": summary})
    assert (info.version, info.kind, info.warn) == ("v4", "real", False)
    assert info.text == "Model v4 (API): trained on real images (900 images; surv-fight); validated macro-F1 0.76"
    unstated = mi.from_api_result({"model": model_summary({}, name="classifier", version="v5")})
    assert (unstated.version, unstated.kind, unstated.warn) == ("v5", "unknown", True)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("notes.txt", b"incident notes\nnothing here\n", "not an image or video (it is a text file)"),
    ("photo.jpg", "a text file named like a photo: caf\u00e9\n".encode(), "not an image or video (it is a text file)"),
    ("table.csv", b"district,count\n1,4\n" * 400, "not an image or video (it is a text file)"),
    ("empty.png", b"", "is empty (0 bytes), not an image or video"),
    ("blob.bin", bytes(range(256)) * 4, "not an image or video (unrecognised content"),
])
def test_files_that_are_neither_image_nor_video_are_refused_by_content(tmp_path, name, data, message):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ClientError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        parse_source(str(p))
    assert str(p) in str(err.value)


def test_images_and_videos_are_recognised_by_content_not_name(tmp_path):
    import cv2
    import numpy as np

    ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert ok
    (tmp_path / "frame.dat").write_bytes(jpg.tobytes())
    assert parse_source(str(tmp_path / "frame.dat")) == ("image", str(tmp_path / "frame.dat"))
    (tmp_path / "clip.bin").write_bytes(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(64))
    assert parse_source(str(tmp_path / "clip.bin"))[0] == "video"
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(64))
    assert parse_source(str(tmp_path / "clip.mp4"))[0] == "video"


def test_clip_decider_video_covers_the_clip_camera_the_last_minute():
    frames = [SimpleNamespace(t=float(t)) for t in range(0, 100, 10)]
    video = KOfNDecider(k=2, n=3)
    video.reset("video")
    levels = ["High", "High", "Low", "Low", "Low", "Low", "Low", "Low", "Low", "Low"]
    out = [video.add(f, {"risk_level": lv}) for f, lv in zip(frames, levels, strict=True)]
    assert out[-1].scope == "Clip so far" and out[-1].risk_level == "High"  # reached at 20 s, kept for the clip
    assert out[-1].explanation == "≥ 2 of 3 consecutive frames High; reached at 20.0 s"
    camera = KOfNDecider(k=2, n=3, window_s=60)
    camera.reset("camera")
    out = [camera.add(f, {"risk_level": lv}) for f, lv in zip(frames, levels, strict=True)]
    assert out[1].risk_level == "High" and out[-1].risk_level == "Low" and out[-1].scope == "Last 60 s"
    assert out[-1].explanation == "Medium or High in fewer than 2 of any 3 consecutive frames"
    medium = KOfNDecider(k=1, n=2)
    medium.reset("video")
    assert medium.add(frames[0], {"risk_level": "Medium"}).explanation == \
        "≥ 1 of 1 consecutive frames Medium or High; reached at 0.0 s"
    assert camera.add(SimpleNamespace(t=100.0), {"risk_level": "?"}) is None


def test_every_frame_feeds_a_clip_model_while_the_image_model_sees_one_per_sample(tmp_path):
    import threading

    from crimecast.gui.clip import ClipModelDecider, KOfNDecider
    from crimecast.gui.sources import iter_frames
    from test_clip_inputs import write_video

    v = write_video(tmp_path / "v.mp4", 30, fps=10.0)  # 3 s
    stop = threading.Event()
    only_due = list(iter_frames("video", str(v), 0.5, stop, realtime=False))
    every = list(iter_frames("video", str(v), 0.5, stop, realtime=False, every_frame=True))
    assert len(only_due) == 6 and all(f.due and f.jpeg for f in only_due)
    assert len(every) == 30 and [f.t for f in every if f.due] == [f.t for f in only_due]
    assert all(f.jpeg == b"" for f in every if not f.due)
    assert ClipModelDecider.every_frame and not KOfNDecider.every_frame
