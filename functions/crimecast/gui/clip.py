"""The clip decision over a video or camera feed: the seam where a rolling clip model plugs in.

The worker thread calls `ClipDecider.add(frame, result)` after each classified frame of a video or
camera (never for a single image), or after every frame when the decider says `every_frame` (then `result` is
empty for the frames in between), and sends what it returns to the window. Today's decider is the
vision module's k-of-n rule over the per-frame risk levels (what a clip upload to the API gets); a
sliding-window clip model implements the same two methods (it gets the frame's pixels and JPEG too)
and is chosen in `decider_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from crimecast.gui.common import CLIP_WINDOW_S, MAX_TIMELINE, RISK_COLOURS


@dataclass(frozen=True)
class ClipDecision:
    risk_level: str  # "High" | "Medium" | "Low"
    scope: str  # what it covers, as shown: "Clip so far" or "Last 60 s"
    explanation: str  # why, as shown in brackets after the level
    t: float  # the time of the frame that produced it


class ClipDecider(Protocol):
    def reset(self, kind: str) -> None:
        """A new source starts: kind is 'video' or 'camera'."""

    def add(self, frame: Any, result: dict) -> ClipDecision | None:
        """Called on the worker thread after each classified frame (`frame.t`, `.rgb`, `.jpeg`), or every frame."""


class KOfNDecider:
    """≥ k of n consecutive frames at a level (vision.video.k_of_n): the whole clip so far for a video file,
    the last `window_s` seconds for a camera."""

    every_frame = False  # the per-frame results are its input

    def __init__(self, k: int = 3, n: int = 5, window_s: float = CLIP_WINDOW_S) -> None:
        self.k, self.n, self.window_s = k, n, window_s
        self.kind = "video"
        self.seen: list[tuple[float, str]] = []

    def reset(self, kind: str) -> None:
        self.kind, self.seen = kind, []

    def add(self, frame: Any, result: dict) -> ClipDecision | None:
        from crimecast.vision.video import k_of_n

        level = str(result.get("risk_level"))
        if level not in RISK_COLOURS:
            return None
        t = float(frame.t)
        self.seen.append((t, level))
        del self.seen[:-MAX_TIMELINE]
        recent = self.seen if self.kind == "video" else [(s, lv) for s, lv in self.seen if s >= t - self.window_s]
        d = k_of_n([lv for _, lv in recent], [s for s, _ in recent], ("High", "Medium", "Low"), k=self.k, n=self.n)
        scope = "Clip so far" if self.kind == "video" else f"Last {self.window_s:.0f} s"
        k, n, lv = d["k"], d["n"], d["risk_level"]
        if lv == "Low":  # the level a clip gets when no higher one was reached
            why = f"Medium or High in fewer than {k} of any {n} consecutive frames"
        else:
            why = (f"≥ {k} of {n} consecutive frames {'High' if lv == 'High' else 'Medium or High'}; reached at "
                   f"{d['decision_time_s']:.1f} s")
        return ClipDecision(lv, scope, why, t)


CLIP_ENV = "CRIMECAST_CLIP_DIR"  # a clip model folder (metadata kind "clip"); else models/clip beside the classifier
CLIP_LIVE_WINDOW_S = 10.0  # cameras: the clip model decides over the last 10 s
CLIP_VIDEO_WINDOW_S = 600.0  # video files: the clip so far (its worst `span_s` stretch, as for a file upload)


class ClipModelDecider:
    """The clip model (crimecast.vision.clip_live.RollingClip) over a sliding window of the last N seconds of a
    camera, or over the clip so far of a video file. Loaded on the worker thread at the first frame. It gets every
    frame of the source (`every_frame`), as a file's decoder does: it samples on the model's grid itself and builds
    the dynamic images from the frames in between."""

    every_frame = True

    def __init__(self, model_dir: Path, live_window_s: float = CLIP_LIVE_WINDOW_S) -> None:
        self.model_dir, self.live_window_s = model_dir, live_window_s
        self.kind = "video"
        self._clf: Any = None
        self._live: Any = None

    def reset(self, kind: str) -> None:
        self.kind, self._live = kind, None

    def add(self, frame: Any, result: dict) -> ClipDecision | None:
        from crimecast.vision.clip_live import RollingClip

        if self._clf is None:
            from crimecast.vision.clip_model import ClipClassifier

            self._clf = ClipClassifier().load_model(self.model_dir)
        if self._live is None:
            self._live = RollingClip(self._clf, CLIP_VIDEO_WINDOW_S if self.kind == "video" else self.live_window_s)
        d = self._live.add(float(frame.t), frame.rgb)
        if d is None:
            return None
        scope = "Clip so far" if self.kind == "video" else f"Last {self.live_window_s:.0f} s"
        segs = ", ".join(f"{s['start_s']:.1f}–{s['end_s']:.1f} s" for s in d["high_segments"][-2:])
        why = f"clip model {d['confidence']:.2f}" + (", uncertain" if d["uncertain"] else "") + \
            (f"; High at {segs}" if segs else "")
        return ClipDecision(d["risk_level"], scope, why, float(frame.t))


def clip_model_dir(backend: Any, env: dict[str, str] | None = None) -> Path | None:
    """The clip model to use: $CRIMECAST_CLIP_DIR, else models/clip beside a local classifier; None if absent."""
    import os

    from crimecast.vision.clip_model import is_clip_model

    env = os.environ if env is None else env
    cands = [Path(env[CLIP_ENV])] if env.get(CLIP_ENV, "").strip() else []
    if getattr(backend, "model_dir", None) is not None:
        cands.append(Path(backend.model_dir).parent / "clip")
    return next((d for d in cands if is_clip_model(d)), None)


def decider_for(backend: Any) -> ClipDecider:
    """The clip decider for a run: the clip model when one is found (`clip_model_dir`), else the image model's
    own k-of-n rule (metadata `video`) when the back-end knows it."""
    d = clip_model_dir(backend)
    if d is not None:
        return ClipModelDecider(d)
    k, n = backend.clip_rule() if hasattr(backend, "clip_rule") else (3, 5)
    return KOfNDecider(k, n)
