"""The worker thread: source → back-end → clip decision, reported to the window as messages.

All reading, decoding, model loading and network calls run here; the UI thread only draws what
arrives through `emit`. Messages (tuples, first item the kind):

    ("status", text)              progress for the status bar
    ("model", ModelInfo)          what the model banner shows (once known)
    ("frame", t, rgb)             the frame being classified
    ("result", t, result, kind)   the back-end's answer for that frame (kind: image|video|camera)
    ("clip", ClipDecision)        the clip decision after that frame (videos and cameras)
    ("error", text)               the run failed: nothing more follows
    ("done", text)                the source ended or the run was stopped
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from crimecast.gui.backends import Backend
from crimecast.gui.clip import ClipDecider, decider_for
from crimecast.gui.common import DEFAULT_SAMPLE_S, ClientError
from crimecast.gui.sources import frames_of, parse_source

Emit = Callable[[tuple], None]


class Worker(threading.Thread):
    """Reads frames and classifies them off the UI thread; reports through `emit` (e.g. a queue's put)."""

    def __init__(self, source: str, backend: Backend, emit: Emit, sample_s: float = DEFAULT_SAMPLE_S,
                 realtime: bool = True, clip: Callable[[Backend], ClipDecider] = decider_for) -> None:
        super().__init__(daemon=True, name="crimecast-gui-worker")
        self.source, self.backend, self.emit = source, backend, emit
        self.sample_s, self.realtime, self.clip_factory = sample_s, realtime, clip
        self.stop_event = threading.Event()

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        try:
            kind, target = parse_source(self.source)
            self.emit(("status", f"loading {self.backend.describe()} …"))
            self.backend.load()
            info = self.backend.model_info
            if info is not None:
                self.emit(("model", info))
            clip = self.clip_factory(self.backend)
            clip.reset(kind)
            self.emit(("status", f"classifying {kind} {target} with {self.backend.describe()}"))
            n = 0
            every = bool(getattr(clip, "every_frame", False))  # a clip model sees every frame, on its own grid
            for frame in frames_of(kind, target, self.sample_s, self.stop_event, self.realtime, every_frame=every):
                if self.stop_event.is_set():
                    break
                result: dict = {}
                if frame.due:
                    self.emit(("frame", frame.t, frame.rgb))
                    t0 = time.perf_counter()
                    result = self.backend.classify_jpeg(frame.jpeg)
                    result.setdefault("latency_ms", round((time.perf_counter() - t0) * 1e3, 1))
                    if self.backend.model_info is not info:
                        info = self.backend.model_info
                        self.emit(("model", info))
                    self.emit(("result", frame.t, result, kind))
                    n += 1
                if kind != "image":
                    decision = clip.add(frame, result)
                    if decision is not None:
                        self.emit(("clip", decision))
            self.emit(("done", f"finished: {n} frame(s) classified" if n else "stopped"))
        except ClientError as exc:
            self.emit(("error", str(exc)))
        except Exception as exc:  # the window must show every failure, never die with a traceback
            self.emit(("error", f"unexpected error: {type(exc).__name__}: {exc}"))
