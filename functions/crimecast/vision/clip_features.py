"""Per-frame inputs of the clip model, shared by training and serving (one code path, no skew).

A video is decoded sequentially (OpenCV) and sampled on a fixed time grid (`sample_fps`); every kept frame
gives (a) an appearance vector from the frozen EfficientNet-Lite encoder (.tflite, run by LiteRT) and
(b) motion features from optical flow to the previous kept frame (`clip_motion`). Windows of `frames`
consecutive samples (`window_indices`) are what the head sees: their pooled statistics (`window_stats`) for the
pooled head, the frames themselves for the temporal one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crimecast.vision.clip_motion import sequence_motion, to_grey_small
from crimecast.vision.decode import InputError

MAX_SIDE_PIXELS = 8192 * 8192  # refuse absurd frame sizes before decoding many of them
# Every source frame is decoded (mp4v/H.264 cannot skip): cap the decoded pixels per video so a long 4K 60-fps
# file costs seconds, not minutes: ≈ 2 min of 1080p30 or 16 s of 4K60 (3 s of 4K60 mp4v took ≈ 3 s CPU here).
MAX_DECODED_PIXELS = 8e9


@dataclass
class SampledClip:
    rgb: np.ndarray  # (N, S, S, 3) uint8, the encoder's input
    grey: list[np.ndarray]  # small grey frames for the flow
    times_s: list[float]
    duration_s: float | None
    source_fps: float | None
    width: int
    height: int
    truncated: bool
    notes: list[str] = field(default_factory=list)


def decode_sampled(path: str | os.PathLike[str], sample_fps: float, size: int, max_seconds: float,
                   max_decoded_pixels: float = MAX_DECODED_PIXELS) -> SampledClip:
    """Decode `path` and keep one frame every 1/`sample_fps` s of video time (at most `max_seconds` of video).

    Frames are resized (stretch, INTER_AREA) to size×size RGB for the encoder and to small grey for the flow.
    Raises InputError (what and where) for a file that is not a decodable video or holds no frame.
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: cannot open as a video (no decodable video stream)")
        src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n_total = float(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if width * height > MAX_SIDE_PIXELS:
            raise InputError(f"{path}: refused, {width}×{height} frames are too large to decode safely")
        if not (0 < src_fps < 1000):
            src_fps = 0.0
        duration = n_total / src_fps if src_fps and n_total > 0 else None
        budget_note = None
        if src_fps and width * height > 0:
            budget_s = max_decoded_pixels / (width * height * src_fps)
            if budget_s < max_seconds:
                max_seconds = max(budget_s, 1.0)
                budget_note = f"decode budget for {width}×{height} at {src_fps:g} fps"
        rgb, grey, times = [], [], []
        truncated, next_t, idx, last_t = False, 0.0, 0, -1.0
        step = 1.0 / sample_fps
        while True:
            if not cap.grab():
                break
            t = idx / src_fps if src_fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            idx += 1
            if t > max_seconds:
                truncated = True
                break
            if t + 1e-6 < next_t or t <= last_t:
                continue
            ok, bgr = cap.retrieve()
            if not ok or bgr is None or bgr.ndim != 3 or bgr.shape[0] < 2 or bgr.shape[1] < 2:
                continue
            frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            rgb.append(cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA))
            grey.append(to_grey_small(frame))
            height, width = frame.shape[:2]  # after OpenCV's automatic rotation
            times.append(round(t, 3))
            last_t = t
            next_t = next_t + step
            while next_t <= t:  # a variable-rate file jumped ahead: keep the grid, skip the missed slots
                next_t += step
        if duration is not None and duration > max_seconds:
            truncated = True
    finally:
        cap.release()
    if not rgb:
        raise InputError(f"{path}: video has no decodable frames")
    notes = []
    if truncated:
        notes.append(f"analysed the first {times[-1]:.1f} s only (cap: {max_seconds:.3g} s"
                     + (f", {budget_note})" if budget_note else ")"))
    if len(rgb) == 1:
        notes.append("a single frame: no motion could be measured")
    return SampledClip(np.stack(rgb), grey, times, duration, src_fps or None, width, height, truncated, notes)


class FrameEncoder:
    """The frozen frame encoder (.tflite) under LiteRT: uint8 (N, S, S, 3) → float32 (N, D) appearance vectors."""

    def __init__(self, path: str | os.PathLike[str], num_threads: int = 1, batch: int = 8) -> None:
        from crimecast.litert import interpreter_class

        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: frame encoder .tflite not found")
        self.interp = interpreter_class()(model_path=str(path), num_threads=num_threads)
        self.inp = self.interp.get_input_details()[0]
        self.size = int(self.inp["shape"][1])
        self.batch = batch
        self._cur = None

    def encode(self, frames: np.ndarray) -> np.ndarray:
        interp = self.interp
        outs = []
        for i in range(0, len(frames), self.batch):
            xb = frames[i:i + self.batch].astype(np.float32)
            if self._cur != len(xb):
                interp.resize_tensor_input(self.inp["index"], list(xb.shape))
                interp.allocate_tensors()
                self._cur = len(xb)
            interp.set_tensor(interp.get_input_details()[0]["index"], xb)
            interp.invoke()
            outs.append(np.array(interp.get_tensor(interp.get_output_details()[0]["index"]), dtype=np.float32))
        if outs:
            return np.concatenate(outs)
        return np.zeros((0, int(self.interp.get_output_details()[0]["shape"][-1])), np.float32)


def frame_features(clip: SampledClip, encoder: FrameEncoder) -> np.ndarray:
    """(N, D + MOTION_DIM) per sampled frame: appearance then motion."""
    app = encoder.encode(clip.rgb)
    mot = sequence_motion(clip.grey, clip.times_s)
    return np.concatenate([app, mot], axis=1).astype(np.float32)


def window_indices(n: int, frames: int, stride: int, pad: bool = True) -> list[np.ndarray]:
    """Index arrays of the windows over n samples: full windows every `stride` samples (the last one aligned to
    the end, so the tail is covered). Fewer than `frames` samples: one window of all of them, its indices evenly
    repeated up to `frames` where `pad` (a fixed-length head), as they are otherwise (a pooled head)."""
    if n <= 0:
        return []
    if n < frames:
        return [np.floor(np.linspace(0, n, frames, endpoint=False)).astype(int) if pad else np.arange(n)]
    starts = list(range(0, n - frames + 1, max(1, stride)))
    if starts[-1] != n - frames:
        starts.append(n - frames)
    return [np.arange(s, s + frames) for s in starts]


def window_stats(x: np.ndarray, d_app: int) -> np.ndarray:
    """The pooled clip head's input for one window of per-frame features x (T, D_app + D_mot), any T >= 1:
    appearance mean ‖ max ‖ mean |frame-to-frame change|, then motion mean ‖ max ‖ std ‖ mean |change|."""
    x = np.asarray(x, np.float64)
    a, m = x[:, :d_app], x[:, d_app:]

    def change(t: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(t, axis=0)).mean(0) if len(t) > 1 else np.zeros(t.shape[1])

    return np.concatenate([a.mean(0), a.max(0), change(a), m.mean(0), m.max(0), m.std(0), change(m)]).astype(np.float32)
