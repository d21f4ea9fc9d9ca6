"""The clip decision over a video or camera feed: the seam where a rolling clip model plugs in.

The worker thread calls `ClipDecider.add(frame, result)` after each classified frame of a video or
camera (never for a single image) and sends what it returns to the window. Today's decider is the
vision module's k-of-n rule over the per-frame risk levels (what a clip upload to the API gets); a
sliding-window clip model implements the same two methods (it gets the frame's pixels and JPEG too)
and is chosen in `decider_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
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
        """Called on the worker thread after each classified frame (`frame.t`, `.rgb`, `.jpeg`)."""


class KOfNDecider:
    """≥ k of n consecutive frames at a level (vision.video.k_of_n): the whole clip so far for a video file,
    the last `window_s` seconds for a camera."""

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


def decider_for(backend: Any) -> ClipDecider:
    """The clip decider for a run: the model's own k-of-n rule (metadata `video`) when the back-end knows it."""
    k, n = backend.clip_rule() if hasattr(backend, "clip_rule") else (3, 5)
    return KOfNDecider(k, n)
