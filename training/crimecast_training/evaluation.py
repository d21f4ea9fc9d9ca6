"""Scoring helpers shared by the training pipelines (numpy only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from crimecast.vision.metrics import classification_report, decide

from crimecast_training.data import LABELS


def evaluate_probs(p: np.ndarray, y: np.ndarray, bias: np.ndarray | None = None) -> dict:
    return classification_report(y, decide(p, bias), LABELS, probs=p)


def per_source(df: pd.DataFrame, p: np.ndarray, bias: np.ndarray | None) -> dict:
    out = {}
    for src, idx in df.groupby("source").indices.items():
        rep = evaluate_probs(p[idx], df["y"].to_numpy()[idx], bias)
        out[str(src)] = {k: rep[k] for k in ("n", "accuracy", "macro_f1")} | {
            "high_recall": rep["per_class"]["High"]["recall"] if rep["per_class"]["High"]["support"] else None,
            "high_precision": rep["per_class"]["High"]["precision"] if rep["per_class"]["High"]["support"] else None}
    return out
