"""Synthetic images and clips: layout, labels, determinism, speed."""

from __future__ import annotations

import csv
import hashlib
import time
from pathlib import Path

from crimecast.synth_images import generate_images


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_generate_images_layout_labels_and_determinism(tmp_path: Path):
    t0 = time.perf_counter()
    summary = generate_images(tmp_path / "a", per_class=6, videos=1, seed=3)
    elapsed = time.perf_counter() - t0
    generate_images(tmp_path / "b", per_class=6, videos=1, seed=3)
    generate_images(tmp_path / "c", per_class=6, videos=1, seed=4)
    assert summary["images"] == 18 and summary["videos"] == 1
    for cls in ("high_risk", "medium_risk", "low_risk"):
        assert len(list((tmp_path / "a" / "images" / cls).glob("*.jpg"))) == 6
    rows = list(csv.DictReader(open(tmp_path / "a" / "images" / "labels.csv")))
    assert {r["risk"] for r in rows} == {"high", "medium", "low"} and len(rows) == 18
    assert all((tmp_path / "a" / "images" / r["path"]).exists() and r["source"] == "synthetic" for r in rows)
    frames = list(csv.DictReader(open(tmp_path / "a" / "videos" / "clip_00_labels.csv")))
    assert 24 <= len(frames) <= 40 and frames[0]["risk"] == "low" and {f["risk"] for f in frames} - {"low"}
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert elapsed < 20


def test_generated_clip_is_readable_by_opencv(tmp_path: Path):
    import cv2

    generate_images(tmp_path, per_class=0, videos=1, seed=0)
    cap = cv2.VideoCapture(str(tmp_path / "videos" / "clip_00.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    labels = list(csv.DictReader(open(tmp_path / "videos" / "clip_00_labels.csv")))
    assert n == len(labels) > 0
