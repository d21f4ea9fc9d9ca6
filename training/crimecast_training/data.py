"""Labelled images for the risk classifier: the labels table, decoding (with the serving decoder) and group splits.

Data: `images/{high_risk,medium_risk,low_risk}/*.jpg` or a labels CSV (`path, risk[, group_id, source]`).
Images are decoded and resized by the *serving* code (`crimecast.vision.decode` + `preprocess`), once, and cached.
Frames of one video (one `group_id`) never straddle a split or a fold.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.contract import atomic_path, read_table
from crimecast.vision import preprocess
from crimecast.vision.decode import InputError, load_image

LABELS = ["High", "Medium", "Low"]
RISK_TO_INDEX = {"high": 0, "medium": 1, "low": 2}
DIR_TO_RISK = {"high_risk": "high", "medium_risk": "medium", "low_risk": "low", "high": "high", "medium": "medium",
               "low": "low"}

def log(msg: str) -> None:
    print(f"[train-classifier] {msg}", file=sys.stderr, flush=True)

def load_labels(images: str | Path | None = None, labels: str | Path | None = None) -> pd.DataFrame:
    """Rows with absolute `file`, `risk`, `y` (0=High,1=Medium,2=Low), `group_id`, `source`."""
    if (images is None) == (labels is None):
        raise ValueError("give exactly one of --images DIR or --labels CSV")
    if labels is not None:
        lp = Path(labels)
        df = read_table(lp, "labels")
        base = lp.resolve().parent
        df["file"] = [str(base / p) for p in df["path"]]
    else:
        d = Path(images)
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: not a directory")
        if (d / "labels.csv").exists():
            return load_labels(labels=d / "labels.csv")
        rows = []
        for sub in sorted(d.iterdir()):
            if sub.is_dir() and sub.name in DIR_TO_RISK:
                for f in sorted(sub.rglob("*")):
                    if f.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}:
                        rows.append({"path": str(f.relative_to(d)), "file": str(f.resolve()),
                                     "risk": DIR_TO_RISK[sub.name], "group_id": str(f.relative_to(d)),
                                     "source": "folder"})
        if not rows:
            raise ValueError(f"{d}: no images under {sorted(DIR_TO_RISK)[:3]}… subfolders")
        df = pd.DataFrame(rows)
    if "group_id" not in df.columns:
        df["group_id"] = df["path"]
    df["group_id"] = df["group_id"].fillna("").astype(str)
    empty = df["group_id"].isin(["", "nan"])
    df.loc[empty, "group_id"] = df.loc[empty, "path"]
    if "source" not in df.columns:
        df["source"] = "unknown"
    df["source"] = df["source"].fillna("unknown").astype(str)
    df["y"] = df["risk"].map(RISK_TO_INDEX).astype(int)
    missing = [f for f in df["file"] if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} labelled image(s) do not exist, first: {missing[0]}")
    return df.reset_index(drop=True)


def _files_key(files: list[str], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{f}|{st.st_size}|{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:16]


def decode_all(df: pd.DataFrame, size: int, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, size, size, 3) uint8 via the serving decoder + preprocessing; mask of decodable rows."""
    from tqdm import tqdm

    files = list(df["file"])
    key = _files_key(files, f"decode-v1-{size}")
    cache = cache_dir / f"images-{key}.npz" if cache_dir else None
    if cache is not None and cache.exists():
        z = np.load(cache)
        log(f"decoded images from cache {cache}")
        return z["x"], z["ok"]
    x = np.zeros((len(files), size, size, 3), np.uint8)
    ok = np.ones(len(files), bool)
    for i, f in enumerate(tqdm(files, desc="decode", unit="img", file=sys.stderr, mininterval=2)):
        try:
            x[i] = preprocess.to_array(load_image(f), size)
        except InputError as exc:
            ok[i] = False
            log(f"skipping undecodable image: {exc}")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, ok=ok)
    return x, ok


def _shuffled_strata(df: pd.DataFrame, rng: np.random.Generator):
    """Yield the group names of each (source, majority class) stratum, shuffled; lazily, so a caller's own draws
    from `rng` between strata stay in the same order."""
    g = df.groupby("group_id").agg(source=("source", "first"), y=("y", lambda s: int(s.mode().iloc[0])))
    for _, sub in g.groupby(["source", "y"]):
        names = sub.index.to_numpy().copy()
        rng.shuffle(names)
        yield names


def group_split(df: pd.DataFrame, val_frac: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Group hold-out: about `val_frac` of the groups of every (source, majority class) stratum go to validation."""
    val_groups: list[str] = []
    for names in _shuffled_strata(df, np.random.default_rng(seed)):
        n_val = int(round(len(names) * val_frac))
        if len(names) >= 2:
            n_val = min(max(n_val, 1), len(names) - 1)
        else:
            n_val = 0
        val_groups.extend(names[:n_val].tolist())
    is_val = df["group_id"].isin(set(val_groups)).to_numpy()
    return np.nonzero(~is_val)[0], np.nonzero(is_val)[0]


def group_folds(df: pd.DataFrame, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) per row: groups of every (source, majority class) stratum dealt round-robin over
    the folds, so each fold holds about 1/k of every stratum and a group never straddles two folds."""
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for names in _shuffled_strata(df, rng):
        off = int(rng.integers(0, k))
        for i, name in enumerate(names):
            fold_of[name] = (i + off) % k
    return df["group_id"].map(fold_of).to_numpy().astype(int)


def class_weights(y: np.ndarray) -> dict[int, float]:
    counts = np.bincount(y, minlength=3).astype(float)
    w = counts.sum() / (3 * np.maximum(counts, 1))
    return {i: float(w[i]) for i in range(3)}
