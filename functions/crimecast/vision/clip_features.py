"""Per-frame inputs of the clip model, shared by training and serving (one code path, no skew).

A video is decoded sequentially (OpenCV) and sampled on a fixed time grid (`sample_fps`); every kept frame
gives (a) an appearance vector from the frozen EfficientNet-Lite encoder (.tflite, run by LiteRT),
(b) where the model asks for it (`dynamic_every` k), on every k-th kept frame a "dynamic image" vector: the same
encoder applied to the approximate rank pooling (Bilen et al., CVPR 2016) of the source frames since the previous
such frame (`DynamicImager`), one image that shows where and how the scene moved in that interval (rows without
one hold NaN; `window_stats` pools the rows that have one), and (c) motion features from optical flow to the
previous kept frame (`clip_motion`). Windows of `frames` consecutive samples (`window_indices`) are what the head
sees: their pooled statistics (`window_stats`) for the pooled head, the frames themselves for the temporal one.
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
DYN_MAX_FPS = 30.0  # a dynamic image pools the source frames on a grid of at most this rate (a 60-fps file: every 2nd)


class TimeGrid:
    """Which frames of a stream fall on a grid of one per `step` seconds: a frame is due once its time reaches the
    next grid point, and after a due frame the grid moves past it (a variable-rate file that jumps ahead skips the
    points it missed). The grid starts at `start` (a file: 0 s) or at the first frame offered (None: a live feed).
    The one rule for the kept frames of a file (`decode_sampled`) or a feed (`RollingClip`) and for the frames a
    dynamic image pools (`DynamicImager`)."""

    def __init__(self, step: float, start: float | None = None) -> None:
        self.step, self.next_t = float(step), start

    def due(self, t: float) -> bool:
        return self.next_t is None or t + 1e-6 >= self.next_t

    def mark(self, t: float) -> None:
        """The frame at time t was taken: move to the next grid point after it."""
        self.next_t = (self.next_t if self.next_t is not None else t) + self.step
        while self.next_t <= t:
            self.next_t += self.step


def dynamic_image(frames: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Approximate rank pooling of T RGB uint8 frames (T, S, S, 3) → one uint8 image: sum_t (2t - T - 1) frame_t,
    scaled to 0..255 by its own minimum and maximum (Bilen et al. 2016). Fewer than two frames, or no change
    at all: a black image (nothing moved). What `DynamicImager` computes from running sums."""
    x = np.asarray(frames)
    if len(x) < 2:
        return np.zeros(x.shape[1:] if len(x) else (1, 1, 3), np.uint8)
    im = DynamicImager(x.shape[1])
    for f in x:
        im.push(0.0, f)
    return im.take()


class DynamicImager:
    """Source frames in, a dynamic image out when asked (`take`): of the frames since the previous one taken, both
    included (on a grid of at most `DYN_MAX_FPS`). Shared by file decoding and the live client.

    Kept as two running sums, so a frame costs two additions and an image one weighted sum: with C_t the sum of
    frames 1..t, sum_t (2t - T - 1) f_t = (T + 1) C_T - 2 sum_t C_t."""

    def __init__(self, size: int, max_fps: float = DYN_MAX_FPS) -> None:
        self.size, self.grid = int(size), TimeGrid(1.0 / max_fps)
        self._reset()

    def _reset(self) -> None:
        self.n, self.last = 0, None
        self.c = np.zeros((self.size, self.size, 3), np.float32)  # C_t
        self.cc = np.zeros((self.size, self.size, 3), np.float32)  # sum of C_1..C_t

    def wants(self, t: float) -> bool:
        """Whether a source frame at time t is on the pooling grid (call `push` with it, resized, if so)."""
        return self.grid.due(t)

    def _add(self, small_rgb: np.ndarray) -> None:
        import cv2

        if small_rgb.shape != self.c.shape:
            self.size = small_rgb.shape[0]
            self._reset()
        cv2.accumulate(small_rgb, self.c)
        cv2.add(self.cc, self.c, dst=self.cc)
        self.n, self.last = self.n + 1, small_rgb

    def push(self, t: float, small_rgb: np.ndarray) -> None:
        self._add(small_rgb)
        self.grid.mark(t)

    def take(self, small_rgb: np.ndarray | None = None) -> np.ndarray:
        """The dynamic image ending at the kept frame: the last one pushed, or `small_rgb` (added now: a kept frame
        off the pooling grid). Black when it is the first frame seen. The next image starts at this frame."""
        import cv2

        if small_rgb is not None:
            self._add(small_rgb)
        if self.last is None:
            raise ValueError("DynamicImager.take: no frame yet")
        last = self.last
        out = np.zeros_like(last)
        if self.n > 1:
            d = cv2.addWeighted(self.c, float(self.n + 1), self.cc, -2.0, 0.0)
            lo, hi, _, _ = cv2.minMaxLoc(d.reshape(d.shape[0], -1))
            if hi - lo >= 1e-3:
                out = cv2.convertScaleAbs(d, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
        self._reset()
        self._add(last)
        return out


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
    dyn: list[np.ndarray | None] | None = None  # per kept frame its dynamic image (S, S, 3) uint8, or None


def decode_sampled(path: str | os.PathLike[str], sample_fps: float, size: int, max_seconds: float,
                   max_decoded_pixels: float = MAX_DECODED_PIXELS, dynamic_every: int = 0) -> SampledClip:
    """Decode `path` and keep one frame every 1/`sample_fps` s of video time (at most `max_seconds` of video).

    Frames are resized (stretch, INTER_AREA) to size×size RGB for the encoder and to small grey for the flow.
    `dynamic_every` k > 0: also, on kept frames 0, k, 2k, …, the dynamic image of the source frames since the
    previous one (the first is black: nothing came before it).
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
        rgb, grey, times, dyn = [], [], [], []
        imager = DynamicImager(size) if dynamic_every > 0 else None
        truncated, idx, last_t = False, 0, -1.0
        grid = TimeGrid(1.0 / sample_fps, start=0.0)
        while True:
            if not cap.grab():
                break
            t = idx / src_fps if src_fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            idx += 1
            if t > max_seconds:
                truncated = True
                break
            if t <= last_t:
                continue
            keep = grid.due(t)
            pool = imager is not None and imager.wants(t)
            if not (keep or pool):
                continue
            ok, bgr = cap.retrieve()
            if not ok or bgr is None or bgr.ndim != 3 or bgr.shape[0] < 2 or bgr.shape[1] < 2:
                continue
            # resize, then swap channels: the same pixels as the other way round, at a fraction of the cost for
            # the frames that only feed the dynamic image
            small = cv2.cvtColor(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
            if pool:
                imager.push(t, small)  # type: ignore[union-attr]
            if not keep:
                continue
            frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            if imager is not None:
                dyn.append(imager.take(None if pool else small) if len(rgb) % dynamic_every == 0 else None)
            rgb.append(small)
            grey.append(to_grey_small(frame))
            height, width = frame.shape[:2]  # after OpenCV's automatic rotation
            times.append(round(t, 3))
            last_t = t
            grid.mark(t)
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
    return SampledClip(np.stack(rgb), grey, times, duration, src_fps or None, width, height, truncated, notes,
                       dyn=dyn if imager is not None else None)


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
    """(N, D [+ D] + MOTION_DIM) per sampled frame: appearance, the dynamic image's where the clip has them (NaN on
    rows without one; the first, black, borrows the next one's, as motion does), then motion."""
    app = encoder.encode(clip.rgb)
    mot = sequence_motion(clip.grey, clip.times_s)
    parts = [app]
    if clip.dyn is not None:
        rows = [i for i, d in enumerate(clip.dyn) if d is not None]
        dyn = np.full(app.shape, np.nan, np.float32)
        if rows:
            dyn[rows] = encoder.encode(np.stack([clip.dyn[i] for i in rows]))
            if len(rows) > 1:
                dyn[rows[0]] = dyn[rows[1]]
        parts.append(dyn)
    return np.concatenate([*parts, mot], axis=1).astype(np.float32)


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


def window_stats(x: np.ndarray, d_app: int, d_dyn: int = 0) -> np.ndarray:
    """The pooled clip head's input for one window of per-frame features x (T, D_app [+ D_dyn] + D_mot), any
    T >= 1: appearance mean ‖ max ‖ mean |frame-to-frame change|, the same of the dynamic-image vectors (where
    d_dyn), then motion mean ‖ max ‖ std ‖ mean |change|."""
    x = np.asarray(x, np.float64)
    a, d, m = x[:, :d_app], x[:, d_app:d_app + d_dyn], x[:, d_app + d_dyn:]

    def change(t: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(t, axis=0)).mean(0) if len(t) > 1 else np.zeros(t.shape[1])

    d = d[~np.isnan(d).any(1)]  # the rows that have a dynamic image
    dyn = ([d.mean(0), d.max(0), change(d)] if len(d) else [np.zeros(d_dyn)] * 3) if d_dyn else []
    return np.concatenate([a.mean(0), a.max(0), change(a), *dyn, m.mean(0), m.max(0), m.std(0),
                           change(m)]).astype(np.float32)
