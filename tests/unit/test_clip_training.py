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
                 "--epochs", "2", "--cache-dir", str(tmp_path / "cache"), timeout=1200)
    assert cp.returncode == 0, cp.stderr[-2000:]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "clip" and meta["trained_on"]["n_items"] == 12 and meta["trained_on"]["kind"] == "synthetic"
    assert meta["validation"]["summary"]["macro_f1"]["mean"] >= 0 and (out / "MODEL_CARD.md").exists()
    r = ClipClassifier().load_model(out).classify_path(tmp_path / "g0_0.mp4")
    assert r["risk_level"] in ("High", "Medium", "Low") and r["timeline"]
    cp = run_cli("train-clip-classifier", "--clips", str(tmp_path / "nope.csv"), "--out", str(out), timeout=600)
    assert cp.returncode == 2 and "nope.csv" in cp.stderr
