"""Clip data for the clip trainer: clips.csv, the frame encoder it is trained on, and cached per-clip features.

Features are computed by the serving code (`crimecast.vision.clip_features`) with the very encoder .tflite
that ships, once per (clip file, encoder, sampling) and cached under `.cache/clip/` as one .npz per clip.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.contract import atomic_path
from crimecast.vision.clip_features import FrameEncoder, decode_sampled, frame_features
from crimecast.vision.decode import InputError

RISK_TO_INDEX = {"high": 0, "medium": 1, "low": 2}
REQUIRED = ("path", "risk")


def log(msg: str) -> None:
    print(f"[clip] {msg}", file=sys.stderr, flush=True)


def load_clips(csv: str | Path) -> pd.DataFrame:
    """clips.csv → DataFrame with absolute `file`, `y`, `group_id`, `source`. Clear errors for bad tables."""
    p = Path(csv)
    if p.is_dir():
        p = p / "clips.csv"
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such clips table")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"{p}: missing column(s) {missing} (need path, risk[, group_id, source])")
    if df.empty:
        raise ValueError(f"{p}: no rows")
    bad = sorted(set(df["risk"].str.lower()) - set(RISK_TO_INDEX))
    if bad:
        raise ValueError(f"{p}: unknown risk value(s) {bad} (use high/medium/low)")
    df["risk"] = df["risk"].str.lower()
    df["y"] = df["risk"].map(RISK_TO_INDEX).astype(int)
    if "group_id" not in df.columns or (df["group_id"] == "").any():
        df["group_id"] = df.get("group_id", pd.Series([""] * len(df))).where(lambda s: s != "", df["path"])
    if "source" not in df.columns:
        df["source"] = "unknown"
    base = p.resolve().parent
    df["file"] = [str(base / x) for x in df["path"]]
    absent = [f for f in df["file"] if not Path(f).exists()]
    if absent:
        raise FileNotFoundError(f"{p}: {len(absent)} clip file(s) missing, first: {absent[0]}")
    return df.reset_index(drop=True)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_sha256(df: pd.DataFrame) -> str:
    """One hash over (path, risk, group_id, content hash) of every clip: what the model was trained on."""
    h = hashlib.sha256()
    for path, risk, gid, f in zip(df["path"], df["risk"], df["group_id"], df["file"], strict=True):
        h.update(f"{path}\t{risk}\t{gid}\t{file_sha256(f)}\n".encode())
    return h.hexdigest()


def representative_frames(df: pd.DataFrame, size: int, n_clips: int = 24, seed: int = 0) -> np.ndarray:
    """A few frames from clips of every source/class: the int8 calibration set of the encoder."""
    rng = np.random.default_rng(seed)
    picks = []
    for _, sub in df.groupby(["source", "y"]):
        picks.extend(sub.index[rng.permutation(len(sub))[: max(1, n_clips // 6)]].tolist())
    frames = []
    for i in picks:
        try:
            c = decode_sampled(df.at[i, "file"], 1.0, size, 30.0)
        except InputError:
            continue
        frames.extend(c.rgb[:4])
    return np.stack(frames)


def extract_all(df: pd.DataFrame, encoder_path: Path, sample_fps: float, max_seconds: float,
                cache_dir: Path, mirror: bool = False, dynamic_every: int = 0) -> list[np.ndarray | None]:
    """(N_i, D) features per clip (None for an undecodable clip), cached per clip. `mirror`: of the clip mirrored
    left-right (every frame, so the optical flow and the dynamic images are the mirrored ones): a training
    augmentation. `dynamic_every`: dynamic images as `decode_sampled` makes them."""
    enc_sha = file_sha256(encoder_path)[:16]
    enc = FrameEncoder(encoder_path, num_threads=int(os.environ.get("CRIMECAST_CLIP_THREADS", "1")))
    out: list[np.ndarray | None] = []
    t0 = time.perf_counter()
    n_new = 0
    for i, f in enumerate(df["file"]):
        tag = ("|mirror" if mirror else "") + (f"|dyn{dynamic_every}.2" if dynamic_every else "")
        key = hashlib.sha256(f"{file_sha256(f)}|{enc_sha}|{sample_fps}|{max_seconds}|v1{tag}".encode()).hexdigest()[:24]
        cp = cache_dir / f"{key}.npz"
        if cp.exists():
            with np.load(cp) as z:
                out.append(z["x"] if z["ok"] else None)
            continue
        try:
            clip = decode_sampled(f, sample_fps, enc.size, max_seconds, dynamic_every=dynamic_every)
            if mirror:
                clip.rgb = np.ascontiguousarray(clip.rgb[:, :, ::-1])
                clip.grey = [np.ascontiguousarray(g[:, ::-1]) for g in clip.grey]
                if clip.dyn is not None:
                    clip.dyn = [None if d is None else np.ascontiguousarray(d[:, ::-1]) for d in clip.dyn]
            x, ok = frame_features(clip, enc), True
        except InputError as exc:
            log(f"skipping {f}: {exc}")
            x, ok = np.zeros((0, 1), np.float32), False
        cp.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cp) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, ok=ok)
        out.append(x if ok else None)
        n_new += 1
        if n_new % 25 == 0:
            log(f"features: {i + 1}/{len(df)} clips ({time.perf_counter() - t0:.0f} s)")
    return out
