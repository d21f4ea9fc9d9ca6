"""The clip side of `crimecast classify` (`classify_with_clip_model`, used when --model is a clip model directory).

`crimecast train-clip-classifier` is in crimecast_training.cli (the training package; TensorFlow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_CLIPS = "../shared/data/real-clips/clips.csv"


def classify_with_clip_model(model_dir: str, items: list[str], as_json: bool, max_seconds: float | None) -> int:
    """`crimecast classify --model CLIP_MODEL VIDEO...`: one clip answer per video (exit 2 if all failed)."""
    from crimecast.vision.clip_model import ClipClassifier
    from crimecast.vision.decode import InputError

    clf = ClipClassifier().load_model(model_dir)
    failures = 0
    for path in items:
        try:
            if Path(path).is_dir():
                raise InputError(f"{path}: directory holds no video files")
            r = clf.classify_path(path) if not max_seconds else {"path": path,
                                                                  **clf.classify_video(path, max_seconds)}
        except (InputError, OSError) as exc:
            failures += 1
            r = {"path": path, "error": str(exc)}
        if as_json:
            print(json.dumps(r), flush=True)
        elif "error" in r:
            print(f"{path}\tERROR\t{r['error']}", flush=True)
        else:
            flag = " (uncertain: human review)" if r["uncertain"] else ""
            segs = ", ".join(f"{s['start_s']:.1f}-{s['end_s']:.1f}s" for s in r["high_segments"])
            print(f"{path}\t{r['risk_level']}\t{r['confidence']:.3f}\t{r['action']}{flag}"
                  + (f"\tHigh at {segs}" if segs else ""), flush=True)
    if failures:
        print(f"crimecast classify: {failures} of {len(items)} input(s) failed", file=sys.stderr)
    return 2 if items and failures == len(items) else 0
