"""From per-window probabilities to a clip decision, a risk timeline and High segments (numpy only).

Shared by the trainer (out-of-fold clip predictions) and serving, so the validated rule is the served rule.

Clip decision: the mean probabilities of the windows inside the most alarming span of at most `span_s`
seconds (the span with the highest mean High probability). For a clip no longer than `span_s` (every
training clip) that is simply the mean over all its windows; for a long video it is its worst
`span_s`-second stretch, so a 3-second fight inside ten minutes of calm is not averaged away.
"""

from __future__ import annotations

import numpy as np

from crimecast.vision.metrics import decide


def aggregate(probs: np.ndarray, starts: np.ndarray, ends: np.ndarray, span_s: float,
              high_index: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    """(clip probabilities, (start, end) of the span used) from window probabilities (W, K)."""
    probs = np.asarray(probs, np.float64)
    if len(probs) == 0:
        raise ValueError("no windows to aggregate")
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    best, best_span = None, (float(starts[0]), float(ends[-1]))
    j = 0
    for i in range(len(probs)):  # spans [i, j]: all windows starting at i and ending within span_s
        j = max(j, i)
        while j + 1 < len(probs) and ends[j + 1] - starts[i] <= span_s + 1e-6:
            j += 1
        m = probs[i:j + 1].mean(axis=0)
        if best is None or m[high_index] > best[high_index] + 1e-12:
            best, best_span = m, (float(starts[i]), float(ends[j]))
        if j == len(probs) - 1:
            break
    assert best is not None
    return best, best_span


def segments(levels: list[str], starts: np.ndarray, ends: np.ndarray, conf: np.ndarray,
             level: str = "High") -> list[dict]:
    """Merged runs of consecutive windows decided `level`: start, end (s) and confidence (max in the run)."""
    out: list[dict] = []
    for lv, s, e, c in zip(levels, starts, ends, conf, strict=True):
        if lv != level:
            continue
        if out and s <= out[-1]["end_s"] + 1e-6:
            out[-1]["end_s"] = round(float(max(e, out[-1]["end_s"])), 3)
            out[-1]["confidence"] = round(max(out[-1]["confidence"], float(c)), 4)
            out[-1]["windows"] += 1
        else:
            out.append({"start_s": round(float(s), 3), "end_s": round(float(e), 3),
                        "confidence": round(float(c), 4), "windows": 1})
    return out


def window_levels(probs: np.ndarray, labels: list[str], bias: np.ndarray | None) -> tuple[list[str], np.ndarray]:
    idx = decide(probs, bias)
    return [labels[i] for i in idx], probs[np.arange(len(idx)), idx]
