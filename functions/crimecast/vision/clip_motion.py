"""Motion features of one sampled frame: dense optical flow (Farneback, OpenCV) at low resolution.

Flow is computed between consecutive *sampled* frames on small grey images (FLOW_SIZE, stretched), and
expressed in frame-widths per second (divided by the real time gap), so clips of different source
resolutions and frame rates give comparable numbers. Per frame pair (MOTION_DIM values):

- magnitude: mean, std, 50/90/99th percentile, max (log1p of widths/s × 10)
- moving fraction: share of pixels faster than 0.05 / 0.15 / 0.4 widths per second
- direction: 8-bin histogram weighted by magnitude (sums to 1), and its entropy (chaotic vs coherent motion)
- where: mean magnitude on a 4×4 grid, sorted descending (position-free: "one busy cell" vs "all busy")
- structure: mean |divergence| and mean |curl| of the flow field (people pushing, grappling, spinning)
- frame difference: mean and 90th percentile of |grey_t − grey_{t−1}| / 255
"""

from __future__ import annotations

import numpy as np

FLOW_SIZE = (96, 72)  # (width, height) of the grey images the flow is computed on
GRID = 4
MOTION_NAMES = (["mag_mean", "mag_std", "mag_p50", "mag_p90", "mag_p99", "mag_max",
                 "moving_005", "moving_015", "moving_040"]
                + [f"dir_{i}" for i in range(8)] + ["dir_entropy"]
                + [f"grid_sorted_{i}" for i in range(GRID * GRID)]
                + ["div_abs", "curl_abs", "diff_mean", "diff_p90"])
MOTION_DIM = len(MOTION_NAMES)


def to_grey_small(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 frame (any size) → grey uint8 (FLOW_SIZE[1], FLOW_SIZE[0])."""
    import cv2

    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(g, FLOW_SIZE, interpolation=cv2.INTER_AREA)


def motion_features(prev: np.ndarray, cur: np.ndarray, dt: float) -> np.ndarray:
    """MOTION_DIM float32 features of the motion from grey `prev` to grey `cur`, `dt` seconds apart."""
    import cv2

    dt = float(dt) if dt and dt > 1e-3 else 0.2
    flow = cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 3, 9, 2, 5, 1.1, 0)
    w = float(FLOW_SIZE[0])
    fx, fy = flow[..., 0] / w / dt, flow[..., 1] / w / dt  # frame widths per second
    mag = np.sqrt(fx * fx + fy * fy)
    lm = np.log1p(mag * 10.0)
    pct = np.percentile(lm, [50, 90, 99])
    moving = [(mag > th).mean() for th in (0.05, 0.15, 0.4)]
    ang = np.arctan2(fy, fx)
    bins = ((ang + np.pi) / (2 * np.pi) * 8).astype(int) % 8
    hist = np.bincount(bins.ravel(), weights=mag.ravel(), minlength=8)
    hist = hist / hist.sum() if hist.sum() > 1e-9 else np.full(8, 1 / 8)
    ent = float(-(hist * np.log(np.clip(hist, 1e-12, 1))).sum() / np.log(8))
    h, wd = lm.shape
    grid = lm[: h - h % GRID, : wd - wd % GRID].reshape(GRID, h // GRID, GRID, wd // GRID).mean(axis=(1, 3))
    grid = np.sort(grid.ravel())[::-1]
    dfx_dx = np.gradient(fx, axis=1)
    dfy_dy = np.gradient(fy, axis=0)
    dfy_dx = np.gradient(fy, axis=1)
    dfx_dy = np.gradient(fx, axis=0)
    div = float(np.abs(dfx_dx + dfy_dy).mean()) * 10.0
    curl = float(np.abs(dfy_dx - dfx_dy).mean()) * 10.0
    diff = np.abs(cur.astype(np.int16) - prev.astype(np.int16)).astype(np.float32) / 255.0
    out = np.concatenate([[lm.mean(), lm.std(), *pct, lm.max()], moving, hist, [ent], grid,
                          [div, curl, diff.mean(), np.percentile(diff, 90)]])
    return out.astype(np.float32)


def sequence_motion(greys: list[np.ndarray], times: list[float]) -> np.ndarray:
    """(N, MOTION_DIM): features of frame i from frame i−1; frame 0 reuses frame 1's (or zeros if alone)."""
    n = len(greys)
    out = np.zeros((n, MOTION_DIM), np.float32)
    for i in range(1, n):
        out[i] = motion_features(greys[i - 1], greys[i], times[i] - times[i - 1])
    if n > 1:
        out[0] = out[1]
    return out
