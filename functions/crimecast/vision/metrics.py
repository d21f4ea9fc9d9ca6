"""Classification metrics (numpy only): shared by training, `evaluate-classifier` and the benchmark."""

from __future__ import annotations

import numpy as np

from crimecast.vision.calibration import ece


def classification_report(y: np.ndarray, pred: np.ndarray, labels: list[str],
                          probs: np.ndarray | None = None) -> dict:
    """Accuracy, macro precision/recall/F1, per-class P/R/F1/support, confusion (rows = true), ECE."""
    y = np.asarray(y, int)
    pred = np.asarray(pred, int)
    k = len(labels)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per = {}
    ps, rs, fs = [], [], []
    for i, name in enumerate(labels):
        tp = cm[i, i]
        prec = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        rec = tp / cm[i, :].sum() if cm[i, :].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[name] = {"precision": round(float(prec), 4), "recall": round(float(rec), 4), "f1": round(float(f1), 4),
                     "support": int(cm[i, :].sum())}
        if cm[i, :].sum():  # macro over classes present in y
            ps.append(prec)
            rs.append(rec)
            fs.append(f1)
    out = {"n": int(len(y)), "accuracy": round(float((y == pred).mean()) if len(y) else float("nan"), 4),
           "macro_precision": round(float(np.mean(ps)) if ps else float("nan"), 4),
           "macro_recall": round(float(np.mean(rs)) if rs else float("nan"), 4),
           "macro_f1": round(float(np.mean(fs)) if fs else float("nan"), 4),
           "per_class": per, "labels": list(labels), "confusion": cm.tolist()}
    if probs is not None and len(y):
        out["ece"] = round(ece(np.asarray(probs), y), 4)
    return out


def decide(p: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Class index per row: argmax of log p + bias (bias lets a threshold favour High recall)."""
    lp = np.log(np.clip(p, 1e-12, 1.0))
    if bias is not None:
        lp = lp + np.asarray(bias, dtype=np.float64)
    return lp.argmax(axis=1)


def fit_high_bias(p: np.ndarray, y: np.ndarray, high_index: int = 0, min_recall: float = 0.9,
                  max_bias: float = 3.0, max_f1_loss: float = 0.03) -> tuple[float, dict]:
    """Smallest log-odds bias on High reaching `min_recall` (on validation data) while macro-F1 drops by at
    most `max_f1_loss`; otherwise the bias with the best macro-F1 + High recall. Returns (bias, info)."""
    labels = [str(i) for i in range(p.shape[1])]
    best = None
    base_f1 = classification_report(y, decide(p), labels)["macro_f1"]
    for b in np.linspace(0.0, max_bias, 31):
        bias = np.zeros(p.shape[1])
        bias[high_index] = b
        rep = classification_report(y, decide(p, bias), labels)
        rec = rep["per_class"][labels[high_index]]["recall"]
        if rec >= min_recall and rep["macro_f1"] >= base_f1 - max_f1_loss:
            return float(b), {"macro_f1": rep["macro_f1"], "high_recall": rec, "reached": True}
        score = rep["macro_f1"] + rec
        if best is None or score > best[0]:
            best = (score, float(b), rep["macro_f1"], rec)
    assert best is not None
    return best[1], {"macro_f1": best[2], "high_recall": best[3], "reached": False}


def high_bias_for_recall(p: np.ndarray, y: np.ndarray, target: float, high_index: int = 0,
                         limit: float = 6.0) -> float:
    """Smallest log-odds bias on High (may be negative) with which `decide` reaches High recall >= `target` on
    (p, y): the ceil(target·n)-th smallest margin a High image needs, plus a hair. Clipped to ±`limit`."""
    lp = np.log(np.clip(np.asarray(p, np.float64), 1e-12, 1.0))
    hi = lp[np.asarray(y) == high_index]
    if not len(hi):
        return 0.0
    others = np.delete(hi, high_index, axis=1).max(axis=1)
    need = np.sort(others - hi[:, high_index])  # bias > need[i] makes High image i win
    k = min(len(need) - 1, max(0, int(np.ceil(target * len(need))) - 1))
    return float(np.clip(need[k] + 1e-6, -limit, limit))


def high_tradeoff(p: np.ndarray, y: np.ndarray, bias: float, high_index: int = 0) -> dict:
    """High recall / precision and macro-F1 of `decide` with `bias` added to High."""
    b = np.zeros(p.shape[1])
    b[high_index] = bias
    rep = classification_report(y, decide(p, b), [str(i) for i in range(p.shape[1])])
    h = rep["per_class"][str(high_index)]
    return {"bias": round(float(bias), 4), "high_recall": h["recall"], "high_precision": h["precision"],
            "macro_f1": rep["macro_f1"], "accuracy": rep["accuracy"]}
