"""`crimecast train-classifier`: labelled images → a TFLite risk classifier with its metadata.json.

Default (EfficientNet-Lite0, `--head frozen`): frozen ImageNet features + logistic regression + OOD score, validated by
repeated group cross-validation and leave-one-source-out (train_frozen.py). `--head finetune` (and `--arch seed`)
fine-tunes instead (train_finetune.py). The pieces: data.py (labels, decoding, group splits), augment.py, nets.py
(Keras networks), export.py (TFLite), finetune.py (training loops), frozen.py (features, head, OOD, shipped graph),
validation.py. Names used elsewhere are re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

from crimecast_training.augment import augment
from crimecast_training.config import TrainConfig
from crimecast_training.data import (
    LABELS,
    RISK_TO_INDEX,
    class_weights,
    decode_all,
    group_folds,
    group_split,
    load_labels,
    log,
)
from crimecast_training.evaluation import evaluate_probs, per_source
from crimecast_training.export import VARIANT_FILES, export_tflite, tflite_predict
from crimecast_training.nets import build_effnet_parts, build_seed

__all__ = ["LABELS", "RISK_TO_INDEX", "VARIANT_FILES", "TrainConfig", "augment", "build_effnet_parts", "build_seed",
           "class_weights", "decode_all", "evaluate_probs", "export_tflite", "group_folds", "group_split",
           "load_labels", "per_source", "tflite_predict", "train"]

ROOT = Path(__file__).resolve().parents[2]


def _code_version() -> str | None:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "training/crimecast_training",
                                "functions/crimecast/vision"], capture_output=True, text=True, cwd=ROOT,
                               timeout=10).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _data_sha256(df) -> str:  # noqa: ANN001
    """Hash of the labelled images' bytes and labels, in row order (what `make models-check` compares)."""
    h = hashlib.sha256()
    for path, risk, f in zip(df["path"], df["risk"], df["file"], strict=True):
        h.update(f"{path}|{risk}|".encode())
        with open(f, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def _resolve(cfg: TrainConfig) -> TrainConfig:
    cfg.arch = cfg.arch or "efficientnet_lite0"
    if cfg.arch not in ("seed", "efficientnet_lite0"):
        raise ValueError(f"unknown --arch {cfg.arch!r}; expected seed or efficientnet_lite0")
    if cfg.head is None:
        cfg.head = "finetune" if cfg.arch == "seed" else "frozen"
    if cfg.head not in ("frozen", "finetune"):
        raise ValueError(f"unknown --head {cfg.head!r}; expected frozen or finetune")
    if cfg.head == "frozen" and cfg.arch == "seed":
        raise ValueError("--head frozen needs --arch efficientnet_lite0 (the seed CNN has no pretrained features)")
    if cfg.size is None:  # frozen default 384 px: small weapons and people cover more pixels; at the High-recall
        # rule it beat 320 px by 0.046 macro-F1 under the same repeated group CV (benchmarks.md, bench_vision_cv.py)
        big = cfg.head == "frozen" and not cfg.quick
        cfg.size = 96 if (cfg.quick and cfg.arch == "seed") else 384 if big else 224
    if cfg.head == "frozen":
        cfg.pool = cfg.pool or ("avg" if cfg.quick else "avgmax")
        cfg.c = cfg.c if cfg.c is not None else 0.01
        cfg.repeats = cfg.repeats if cfg.repeats is not None else (1 if cfg.quick else 3)
        # mirror test-time averaging off: the head is trained on the image and its mirror image either way, and with
        # the default two networks and group-balanced head, serving the mean over both views scored 0.782 ± 0.007 at
        # the shipped High rule under the same repeated group CV against 0.784 ± 0.009 for the image alone, for
        # twice the backbone work (benchmarks.md, "Vision: training choices": "Accuracy against speed")
        cfg.mirror = bool(cfg.mirror)
        # two frozen networks: Lite0 at the input size ‖ Lite2 at 320 px (resized in the graph): +0.015 macro-F1 at
        # the High-recall rule over Lite0 alone under the same repeated group CV, for about twice the backbone work
        # (benchmarks.md, "Vision: training choices"); Lite0 alone in the quick test profile
        cfg.backbones = cfg.backbones or ("lite0" if cfg.quick else "lite0+lite2@320")
        # group-balanced head: every video or scene weighs the same within its class, however many frames it gave;
        # +0.010 macro-F1 at the High-recall rule under the same repeated group CV (benchmarks.md)
        cfg.weighting = cfg.weighting or "group"
        from crimecast_training.frozen import WEIGHTINGS, parse_backbones

        parse_backbones(cfg.backbones)  # a bad spec fails here, before any work
        cfg.served_head = cfg.served_head or "folds"
        if cfg.served_head not in ("folds", "all"):
            raise ValueError(f"--served-head {cfg.served_head!r}: expected folds or all")
        if cfg.weighting not in WEIGHTINGS:
            raise ValueError(f"--weighting {cfg.weighting!r}: expected one of {', '.join(WEIGHTINGS)}")
        if cfg.repeats < 1:
            raise ValueError(f"--repeats {cfg.repeats}: need at least 1")
        if cfg.c <= 0:
            raise ValueError(f"--c {cfg.c}: need > 0")
    if cfg.quick:
        cfg.variants = ["int8"]
    return cfg


def train(out: str | Path, images: str | Path | None = None, labels: str | Path | None = None,
          cfg: TrainConfig | None = None) -> dict:
    """Full pipeline: data → fit → export variants → LiteRT check → calibration → metadata.json. Returns metadata."""
    cfg = _resolve(cfg or TrainConfig())
    t_start = time.perf_counter()
    out = Path(out)
    df = load_labels(images, labels)
    cache = cfg.cache_dir or Path(os.environ.get("CRIMECAST_CACHE_DIR", ".cache")) / "classifier"
    cfg.cache_dir = cache
    log(f"{len(df)} labelled images, classes {df['risk'].value_counts().to_dict()}, "
        f"{df['group_id'].nunique()} groups, sources {sorted(df['source'].unique())}")
    frozen_head = cfg.head == "frozen"
    n_folds = cfg.folds if cfg.folds is not None else (0 if (cfg.quick and not frozen_head) or cfg.arch == "seed"
                                                       else 5 if not cfg.quick else 3)
    n_groups = df["group_id"].nunique()
    if frozen_head and n_folds == 0:
        raise ValueError("--head frozen validates by group cross-validation: --folds must be >= 2")
    if n_folds:  # checked before the (slow) decoding
        if cfg.arch == "seed":
            raise ValueError("--folds needs --arch efficientnet_lite0 (the seed CNN trains on pixels: too slow to "
                             "cross-validate on CPU); use --folds 0 for a group hold-out")
        if n_folds < 2 or n_folds > n_groups:
            raise ValueError(f"--folds {n_folds}: need 2 <= folds <= number of groups ({n_groups}); "
                             "0 = one group hold-out")
    x, ok = decode_all(df, cfg.size, cache)
    df, x = df[ok].reset_index(drop=True), x[ok]
    data = str(labels or images)
    sources = sorted(df["source"].unique().tolist())
    synthetic = sources == ["synthetic"] or all("synth" in s for s in sources)

    def common(meta: dict, staging: Path) -> dict:
        return {"trained_on": {"kind": "synthetic" if synthetic else "real", "sources": sources,
                               "n_items": int(len(df)), "data_sha256": _data_sha256(df), "data": data},
                "command": cfg.command or f"crimecast train-classifier --{'labels' if labels else 'images'} {data}",
                "code_version": _code_version(), "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    if frozen_head:
        from crimecast_training.train_frozen import train_frozen

        return train_frozen(out, df, x, cfg, n_folds, data, t_start, common)
    from crimecast_training.train_finetune import train_finetune

    return train_finetune(out, df, x, cfg, n_folds, data, t_start, common)
