"""Temperature scaling and expected calibration error (numpy only; used in training and serving)."""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_probs(p: np.ndarray) -> np.ndarray:
    """Probabilities (softmax output) → logits up to a constant (what temperature scaling divides)."""
    return np.log(np.clip(p, 1e-12, 1.0))


def apply_temperature(p: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities softmax(log p / T)."""
    return softmax(log_probs(p) / float(temperature))


def nll(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))


def fit_temperature(p: np.ndarray, y: np.ndarray, lo: float = 0.25, hi: float = 10.0) -> float:
    """Temperature T in [lo, hi] minimising validation NLL of softmax(log p / T) (log-grid, then golden-section).

    Bounded because a perfectly separated validation set drives the NLL optimum towards T → 0 (all confidences
    1.0), which says more about the small validation set than about future inputs."""
    if len(y) == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(lo), np.log(hi), 60))
    losses = [nll(apply_temperature(p, t), y) for t in grid]
    i = int(np.argmin(losses))
    a, b = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, len(grid) - 1)])
    g = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        c, d = b - g * (b - a), a + g * (b - a)
        if nll(apply_temperature(p, np.exp(c)), y) < nll(apply_temperature(p, np.exp(d)), y):
            b = d
        else:
            a = c
    return float(np.exp((a + b) / 2))


def ece(p: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence (equal-width bins), in [0, 1]."""
    if len(y) == 0:
        return float("nan")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for k in range(bins):
        m = (conf > edges[k]) & (conf <= edges[k + 1]) if k else (conf >= 0) & (conf <= edges[1])
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)
