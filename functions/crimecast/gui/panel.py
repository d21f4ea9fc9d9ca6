"""The result panel beside the frame, and the model banner above it (UI thread only).

Every label wraps at the width it is given (re-measured on each resize), so no sentence runs past the
window edge. `clear()` empties the panel: it runs when a new source starts and when a classification
fails, so an old result is never left on screen next to a new error.
"""

from __future__ import annotations

from typing import Any

from crimecast.gui.clip import ClipDecision
from crimecast.gui.common import NEUTRAL, REVIEW_BG, RISK_COLOURS, WARN_BG
from crimecast.gui.model_info import ModelInfo

REVIEW_TEXT = "UNCERTAIN → human review: the model is not sure, a person should look"


class ResultPanel:
    """Risk level in colour, the uncertain → human review banner, confidence, action, details, clip decision."""

    def __init__(self, parent: Any) -> None:
        import tkinter as tk

        self.frame = tk.Frame(parent)
        lab = dict(anchor="w", justify="left")
        self.risk = tk.Label(self.frame, text="—", font=("Helvetica", 28, "bold"), fg=NEUTRAL, **lab)
        self.review = tk.Label(self.frame, text="", font=("Helvetica", 11, "bold"), fg="#5c3c00", bg=REVIEW_BG,
                               padx=6, pady=4, **lab)
        self.confidence = tk.Label(self.frame, text="confidence —", font=("Helvetica", 12), **lab)
        self.action = tk.Label(self.frame, text="", font=("Helvetica", 11), **lab)
        self.detail = tk.Label(self.frame, text="", font=("Helvetica", 9), fg=NEUTRAL, **lab)
        self.clip = tk.Label(self.frame, text="", font=("Helvetica", 12, "bold"), **lab)
        self.risk.pack(fill="x")
        self.confidence.pack(fill="x")
        self.action.pack(fill="x", pady=(2, 0))
        self.detail.pack(fill="x", pady=(2, 0))
        self.clip.pack(fill="x", pady=(4, 0))
        self.labels = {"risk": self.risk, "review": self.review, "confidence": self.confidence, "action": self.action,
                       "detail": self.detail, "clip": self.clip}
        self.frame.bind("<Configure>", lambda e: self.wrap(e.width))

    def wrap(self, width: int) -> None:
        self.risk.configure(font=("Helvetica", 28 if width >= 380 else 22, "bold"))
        for label in self.labels.values():
            label.configure(wraplength=max(80, width - 2 * int(str(label.cget("padx"))) - 4))

    def _show_review(self, on: bool) -> None:
        if on:
            self.review.configure(text=REVIEW_TEXT)
            self.review.pack(fill="x", pady=(0, 2), after=self.risk)
        else:
            self.review.configure(text="")
            self.review.pack_forget()

    def clear(self, message: str = "", error: bool = False) -> None:
        """Empty the panel; `message` (red when `error`) takes the action line."""
        self.risk.configure(text="No result" if error else "—", fg=NEUTRAL)
        self._show_review(False)
        self.confidence.configure(text="" if error else "confidence —")
        self.action.configure(text=message, fg=RISK_COLOURS["High"] if error else "black")
        self.detail.configure(text="")
        self.clip.configure(text="")

    def show(self, t: float, r: dict) -> None:
        level = str(r.get("risk_level", "?"))
        colour = RISK_COLOURS.get(level, NEUTRAL)
        self.risk.configure(text=f"{level} risk", fg=colour)
        uncertain = bool(r.get("uncertain"))
        self._show_review(uncertain)
        conf = r.get("confidence")
        self.confidence.configure(text=(f"confidence {conf:.0%}" if isinstance(conf, int | float) else "confidence —")
                                  + (" (below threshold)" if uncertain else ""))
        action = str(r.get("action") or "")
        label = "Action if confirmed" if uncertain else "Action"
        self.action.configure(text=f"{label}: {action}" if action else "", fg="black")
        probs = r.get("probabilities") or {}
        detail = "  ".join(f"{k} {v:.2f}" for k, v in probs.items() if isinstance(v, int | float))
        self.detail.configure(text=f"{detail} · frame at {t:.1f} s · {r.get('latency_ms', '?')} ms")

    def show_clip(self, d: ClipDecision) -> None:
        self.clip.configure(text=f"{d.scope}: {d.risk_level} ({d.explanation})",
                            fg=RISK_COLOURS.get(d.risk_level, NEUTRAL))

    def state(self) -> dict:
        return {"risk_text": self.risk.cget("text"), "risk_colour": self.risk.cget("fg"),
                "review_text": self.review.cget("text"), "confidence_text": self.confidence.cget("text"),
                "action_text": self.action.cget("text"),
                "detail_text": self.detail.cget("text"), "clip_text": self.clip.cget("text")}


class ModelBanner:
    """One line (wrapped) above the frame: the model's version and training data, red when it must warn."""

    def __init__(self, parent: Any) -> None:
        import tkinter as tk

        self.label = tk.Label(parent, text="Model: not loaded yet (press Start)", anchor="w", justify="left",
                              font=("Helvetica", 10), fg=NEUTRAL, padx=6, pady=3)
        self.info: ModelInfo | None = None

    def show(self, info: ModelInfo | None, pending: str = "") -> None:
        self.info = info
        if info is None:
            self.label.configure(text=pending or "Model: not loaded yet (press Start)", fg=NEUTRAL,
                                 bg=self.label.master.cget("bg"), font=("Helvetica", 10))
        elif info.warn:
            self.label.configure(text=info.text, fg="#7f1d1d", bg=WARN_BG, font=("Helvetica", 10, "bold"))
        else:
            self.label.configure(text=info.text, fg="#14532d", bg="#e3f1e5", font=("Helvetica", 10))

    def state(self) -> dict:
        return {"model_text": self.label.cget("text"), "model_warn": bool(self.info and self.info.warn),
                "model_kind": self.info.kind if self.info else None,
                "model_version": self.info.version if self.info else None}
