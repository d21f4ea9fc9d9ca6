"""Video frame sampling (OpenCV) and the k-of-n clip decision rule.

OpenCV is imported only here, inside the functions: image serving needs only Pillow.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from crimecast.vision.decode import InputError

DEFAULT_FPS = 2.0
DEFAULT_MAX_FRAMES = 120
DEFAULT_MAX_SECONDS = 120.0


@dataclass
class SampledVideo:
    frames: list[np.ndarray]  # RGB uint8 (H, W, 3)
    times_s: list[float]
    duration_s: float | None
    source_fps: float | None
    truncated: bool
    notes: list[str] = field(default_factory=list)


def sample_frames(path: str | os.PathLike[str], fps: float = DEFAULT_FPS, max_frames: int = DEFAULT_MAX_FRAMES,
                  max_seconds: float = DEFAULT_MAX_SECONDS) -> SampledVideo:
    """Decode a video sequentially and keep one RGB frame every 1/`fps` seconds of video time.

    Stops at `max_frames` samples or `max_seconds` of video (then `truncated` is True). Raises
    InputError when the file cannot be opened or yields no decodable frame.
    """
    import cv2

    if fps <= 0 or max_frames <= 0 or max_seconds <= 0:
        raise ValueError(f"fps ({fps}), max_frames ({max_frames}) and max_seconds ({max_seconds}) must be > 0")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: cannot open as a video (no decodable stream)")
        src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n_total = float(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        if not (0 < src_fps < 1000):
            src_fps = 0.0
        duration = n_total / src_fps if src_fps and n_total > 0 else None
        frames: list[np.ndarray] = []
        times: list[float] = []
        truncated = False
        next_t = 0.0
        idx = 0
        while True:
            ok = cap.grab()
            if not ok:
                break
            t = idx / src_fps if src_fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            idx += 1
            if t > max_seconds:
                truncated = True
                break
            if t + 1e-6 < next_t:
                continue
            ok, bgr = cap.retrieve()
            if not ok or bgr is None:
                continue
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            times.append(round(t, 3))
            next_t = t + 1.0 / fps if next_t == 0.0 and t > 0 else next_t + 1.0 / fps
            if len(frames) >= max_frames:
                # more video left? then say so
                truncated = cap.grab()
                break
        if duration is not None and duration > max_seconds:
            truncated = True
    finally:
        cap.release()
    if not frames:
        raise InputError(f"{path}: video has no decodable frames")
    notes = []
    if truncated:
        notes.append(f"sampled the first {len(frames)} frames / {times[-1]:.1f} s only (caps: {max_frames} frames, "
                     f"{max_seconds:g} s)")
    return SampledVideo(frames, times, duration, src_fps or None, truncated, notes)


def k_of_n(levels: list[str], times: list[float], order: tuple[str, ...] = ("High", "Medium", "Low"),
           k: int = 3, n: int = 5) -> dict:
    """Clip decision: the most severe level L such that ≥ k of some n consecutive frames are at L or worse.

    Short clips (fewer than n frames) use a window of all frames and k scaled down proportionally.
    Returns {"rule", "risk_level", "decision_time_s", "first_time" {level: t|None}}.
    """
    m = len(levels)
    if m == 0:
        raise ValueError("no frames to decide on")
    n_eff = min(n, m)
    k_eff = max(1, math.ceil(k * n_eff / n))
    sev = {lvl: i for i, lvl in enumerate(order)}  # 0 = most severe
    first_time = {lvl: None for lvl in order}
    for lvl, t in zip(levels, times, strict=True):
        if first_time[lvl] is None:
            first_time[lvl] = t
    decision, when = order[-1], times[0]
    for lvl in order[:-1]:
        hits = np.array([sev[x] <= sev[lvl] for x in levels], dtype=int)
        window = np.convolve(hits, np.ones(n_eff, dtype=int), mode="valid")
        fired = np.nonzero(window >= k_eff)[0]
        if fired.size:
            decision = lvl
            when = times[int(fired[0]) + n_eff - 1]
            break
    return {"rule": f"a level is reached when >= {k_eff} of {n_eff} consecutive sampled frames are at that "
                    "level or worse; the clip takes the most severe level reached",
            "k": k_eff, "n": n_eff, "risk_level": decision, "decision_time_s": when, "first_time": first_time}
