"""`ClipClassifier`: clip-level risk of a video with the clip model (LiteRT only, never TensorFlow).

A model directory whose metadata.json says `"kind": "clip"` holds `encoder.tflite` (frozen frame encoder) and
`model.tflite` (the head: on each window's pooled statistics, or on its frames; `head.input`) plus the sampling it
expects (`sampling`: fps, frames per window, stride, span). A video is sampled on that grid, every window of
`frames` samples is scored, and the clip decision comes from the windows by `clip_timeline.aggregate`; the answer
keeps the per-window risk timeline and the High segments (start, end, confidence) beside it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from crimecast.vision.calibration import apply_temperature
from crimecast.vision.clip_features import (
    FrameEncoder,
    SampledClip,
    decode_sampled,
    frame_features,
    window_indices,
    window_stats,
)
from crimecast.vision.clip_timeline import aggregate, segments, window_levels
from crimecast.vision.decode import InputError, sniff_file, sniff_kind
from crimecast.vision.metrics import decide

ACTIONS = {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"}
LEVELS = ("High", "Medium", "Low")


def is_clip_model(model_dir: str | os.PathLike[str]) -> bool:
    """True when `model_dir/metadata.json` declares a clip model."""
    p = Path(model_dir) / "metadata.json"
    try:
        meta = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("kind") == "clip" or meta.get("name") == "clip"


class ClipClassifier:
    """Clip risk (High / Medium / Low) with calibrated confidence, abstention, timeline and High segments."""

    kind = "clip"

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = num_threads
        self.metadata: dict = {}
        self.version: str | None = None
        self._head = None

    def load_model(self, model_dir: str | os.PathLike[str]) -> ClipClassifier:
        from crimecast.litert import interpreter_class

        d = Path(model_dir)
        meta_path = d / "metadata.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{d}: no metadata.json (not a model directory)")
        meta = json.loads(meta_path.read_text())
        if meta.get("kind") != "clip":
            raise ValueError(f"{meta_path}: kind is {meta.get('kind')!r}, expected 'clip'")
        files = meta.get("files", {})
        head, enc = d / files.get("head", "model.tflite"), d / files.get("encoder", "encoder.tflite")
        for f in (head, enc):
            if not f.exists():
                raise FileNotFoundError(f"{f}: missing from the clip model directory")
        self.encoder = FrameEncoder(enc, num_threads=self.num_threads)
        self._head = interpreter_class()(model_path=str(head), num_threads=self.num_threads)
        self._head.allocate_tensors()
        self._hin, self._hout = self._head.get_input_details()[0], self._head.get_output_details()[0]
        self.metadata = meta
        self.version = str(meta.get("version"))
        self.labels: list[str] = list(meta["labels"])
        s = meta["sampling"]
        self.fps, self.frames, self.stride = float(s["fps"]), int(s["frames"]), int(s["stride"])
        self.span_s, self.max_seconds = float(s["span_s"]), float(s.get("max_seconds", 120.0))
        self.size = int(meta["input"]["size"])
        # "window_stats": the head takes each window's pooled statistics (any number of frames); "frames": the
        # window's frames, exactly `frames` of them (a short clip's are repeated)
        self.head_input = str(meta.get("head", {}).get("input", "frames"))
        self.d_app = int(meta["input"].get("appearance_dim", 1280))
        self.d_dyn = int(meta["input"].get("dynamic_dim", 0))  # models from before dynamic images: none
        self.dynamic_every = int(meta["input"].get("dynamic_every", 0))
        if self.head_input not in ("window_stats", "frames"):
            raise ValueError(f"{meta_path}: head.input {self.head_input!r} is not one this code serves "
                             "('window_stats' or 'frames')")
        if self.d_dyn and (self.dynamic_every < 1 or self.head_input != "window_stats"):
            raise ValueError(f"{meta_path}: dynamic_dim {self.d_dyn} needs dynamic_every >= 1 and a window_stats head")
        cal = meta.get("calibration", {})
        self.temperature = float(cal.get("temperature", 1.0))
        self.threshold = float(cal.get("abstain_threshold", 0.5))
        bias = cal.get("decision_bias")
        self.bias = np.asarray(bias, dtype=np.float64) if bias else None
        return self

    def _require(self) -> None:
        if self._head is None:
            raise RuntimeError("no model loaded: call load_model(dir) first")

    def score_windows(self, feats: np.ndarray, times: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated probabilities (W, 3) of every window of per-frame features, and window start/end times."""
        self._require()
        pooled = self.head_input == "window_stats"
        idx = window_indices(len(feats), self.frames, self.stride, pad=not pooled)
        probs = np.zeros((len(idx), len(self.labels)))
        for k, ii in enumerate(idx):
            x = window_stats(feats[ii], self.d_app, self.d_dyn) if pooled else feats[ii]
            self._head.set_tensor(self._hin["index"], x[None].astype(np.float32))
            self._head.invoke()
            probs[k] = self._head.get_tensor(self._hout["index"])[0]
        starts = np.array([times[i[0]] for i in idx])
        ends = np.array([times[i[-1]] + 1.0 / self.fps for i in idx])
        return apply_temperature(probs, self.temperature), starts, ends

    def decide_clip(self, probs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> dict:
        """The clip answer from window probabilities: decision, confidence, abstention, timeline, High segments."""
        p, span = aggregate(probs, starts, ends, self.span_s, high_index=self.labels.index("High"))
        i = int(decide(p[None], self.bias)[0])
        level, conf = self.labels[i], float(p[i])
        levels, confs = window_levels(probs, self.labels, self.bias)
        return {"risk_level": level, "confidence": round(conf, 4),
                "probabilities": {lv: round(float(p[self.labels.index(lv)]), 4) for lv in LEVELS},
                "action": ACTIONS[level], "uncertain": bool(conf < self.threshold),
                "decision_span_s": [round(span[0], 3), round(span[1], 3)],
                "timeline": [{"start_s": round(float(s), 3), "end_s": round(float(e), 3), "risk_level": lv,
                              "confidence": round(float(c), 4),
                              "p_high": round(float(pr[self.labels.index("High")]), 4)}
                             for s, e, lv, c, pr in zip(starts, ends, levels, confs, probs, strict=True)],
                "high_segments": segments(levels, starts, ends, probs[:, self.labels.index("High")])}

    def classify_sampled(self, clip: SampledClip) -> dict:
        feats = frame_features(clip, self.encoder)
        probs, starts, ends = self.score_windows(feats, clip.times_s)
        return self.decide_clip(probs, starts, ends)

    def classify_video(self, path: str | os.PathLike[str], max_seconds: float | None = None) -> dict:
        self._require()
        t0 = time.perf_counter()
        clip = decode_sampled(path, self.fps, self.size, max_seconds or self.max_seconds,
                              dynamic_every=self.dynamic_every)
        t1 = time.perf_counter()
        feats = frame_features(clip, self.encoder)
        t2 = time.perf_counter()
        probs, starts, ends = self.score_windows(feats, clip.times_s)
        r = self.decide_clip(probs, starts, ends)
        t3 = time.perf_counter()
        r["model_version"] = self.version
        r["model_kind"] = "clip"
        r["clip"] = {"sampled_frames": len(clip.times_s), "sample_fps": self.fps, "window_frames": self.frames,
                     "windows": len(starts), "truncated": clip.truncated,
                     "duration_s": None if clip.duration_s is None else round(clip.duration_s, 3),
                     "source_fps": clip.source_fps, "width": clip.width, "height": clip.height, "notes": clip.notes}
        r["timings_ms"] = {"decode": round((t1 - t0) * 1e3, 2), "features": round((t2 - t1) * 1e3, 2),
                           "head": round((t3 - t2) * 1e3, 2), "inference": round((t3 - t1) * 1e3, 2),
                           "total": round((t3 - t0) * 1e3, 2)}
        return r

    def classify_path(self, path: str | os.PathLike[str]) -> dict:
        """Clip answer for one video file; an image or non-video file is a clear InputError."""
        self._require()
        p = Path(path)
        if sniff_file(p, "a video") == "image":
            raise InputError(f"{p}: an image; the clip model classifies videos (use an image model)")
        return {"path": str(path), **self.classify_video(p)}

    def classify_bytes(self, data: bytes, filename: str | None = None, content_type: str | None = None) -> dict:
        self._require()
        name = filename or "<upload>"
        if not data:
            raise InputError(f"{name}: empty upload (0 bytes)")
        if sniff_kind(data[:32]) == "image":
            raise InputError(f"{name}: an image; the clip model classifies videos")
        suffix = Path(filename).suffix if filename and Path(filename).suffix else ".mp4"
        with tempfile.TemporaryDirectory(prefix="crimecast-clip-") as tmp:
            vp = Path(tmp) / f"upload{suffix}"
            vp.write_bytes(data)
            r = self.classify_video(vp)
        return {"path": name, **r}
