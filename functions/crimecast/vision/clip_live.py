"""Rolling clip decision on a live feed: the clip model over a sliding window of the last N seconds.

Frames arrive one by one with their time (camera or video). Frames are kept on the model's sampling grid
(`sampling.fps`), each kept frame is encoded and its optical flow to the previous kept frame measured once
(the same functions as `decode_sampled` + `frame_features`; every frame in between feeds the dynamic image,
where the model takes them), and every kept frame yields the clip decision
over the kept frames of the last `window_s` seconds (windows, aggregation, High segments as for a file).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from crimecast.vision.clip_features import DynamicImager, TimeGrid
from crimecast.vision.clip_motion import MOTION_DIM, motion_features, to_grey_small


class RollingClip:
    def __init__(self, clf: object, window_s: float = 10.0) -> None:
        self.clf = clf
        self.window_s = float(window_s)
        self.reset()

    def reset(self) -> None:
        self.buf: deque[tuple[float, np.ndarray]] = deque()
        self.prev_grey: np.ndarray | None = None
        self.prev_t: float | None = None
        self.grid = TimeGrid(1.0 / self.clf.fps)  # type: ignore[attr-defined]
        self.kept = 0
        every = int(getattr(self.clf, "dynamic_every", 0) or 0)
        self.imager = DynamicImager(self.clf.size) if every > 0 else None  # type: ignore[attr-defined]
        self.first_dyn: int | None = None  # buffer index of the first (black) dynamic image, until the next one

    def add(self, t: float, rgb: np.ndarray) -> dict | None:
        """Feed one RGB uint8 frame at time `t` (s); returns the rolling decision when the frame was kept."""
        import cv2

        clf = self.clf
        if self.prev_t is not None and t < self.prev_t:  # time went backwards: a new source
            self.reset()
        keep = self.grid.due(t)
        pool = self.imager is not None and self.imager.wants(t)
        if not (keep or pool):
            return None
        small = cv2.resize(np.ascontiguousarray(rgb), (clf.size, clf.size),  # type: ignore[attr-defined]
                           interpolation=cv2.INTER_AREA)
        if pool:
            self.imager.push(t, small)  # type: ignore[union-attr]
        if not keep:
            return None
        self.grid.mark(t)
        app = clf.encoder.encode(small[None])[0]  # type: ignore[attr-defined]
        parts = [app]
        if self.imager is not None:
            parts.append(self._dynamic(None if pool else small, len(app)))
        grey = to_grey_small(rgb)
        if self.prev_grey is None:
            mot = np.zeros(MOTION_DIM, np.float32)
        else:
            mot = motion_features(self.prev_grey, grey, t - float(self.prev_t))  # type: ignore[arg-type]
            if len(self.buf) == 1:  # the first kept frame borrows the second's motion, as for a file
                t0, f0 = self.buf[0]
                self.buf[0] = (t0, np.concatenate([f0[: len(f0) - MOTION_DIM], mot]))
        self.prev_grey, self.prev_t = grey, t
        self.kept += 1
        self.buf.append((t, np.concatenate([*parts, mot]).astype(np.float32)))
        while self.buf and self.buf[0][0] < t - self.window_s + 1e-6:
            self.buf.popleft()
            self.first_dyn = None
        times = [x[0] for x in self.buf]
        feats = np.stack([x[1] for x in self.buf])
        probs, starts, ends = clf.score_windows(feats, times)  # type: ignore[attr-defined]
        out = clf.decide_clip(probs, starts, ends)  # type: ignore[attr-defined]
        out["t"] = round(float(t), 3)
        out["window_s"] = self.window_s
        out["frames_in_window"] = len(times)
        return out

    def _dynamic(self, small: np.ndarray | None, d: int) -> np.ndarray:
        """This kept frame's dynamic-image vector (NaN between the model's dynamic frames); the first, black one
        borrows the next one's, as `frame_features` does for a file."""
        clf = self.clf
        if self.kept % int(clf.dynamic_every):  # type: ignore[attr-defined]
            return np.full(d, np.nan, np.float32)
        vec = clf.encoder.encode(self.imager.take(small)[None])[0]  # type: ignore[attr-defined, union-attr]
        if self.kept == 0:
            self.first_dyn = len(self.buf)
        elif self.first_dyn is not None:
            t0, f0 = self.buf[self.first_dyn]
            f0 = f0.copy()
            f0[d:2 * d] = vec
            self.buf[self.first_dyn] = (t0, f0)
            self.first_dyn = None
        return vec
