"""Settings of one `train-classifier` run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    arch: str | None = None  # None: efficientnet_lite0
    head: str | None = None  # "frozen" (default: frozen features + logistic regression) | "finetune"
    pool: str | None = None  # frozen head: "avg" | "avgmax" (global average ‖ max of the 1280-d head activations)
    c: float | None = None  # frozen head: inverse L2 strength of the logistic regression on standardised features
    repeats: int | None = None  # frozen head: fold seeds of the repeated group cross-validation
    mirror: bool | None = None  # frozen head: the served features are the mean over the image and its mirror image
    backbones: str | None = None  # frozen head: "lite0+lite2@320" (default) | "lite0" (--quick): features concatenated
    served_head: str | None = None  # frozen head: "folds" (the mean of the CV fold heads) | "all" (one head, all data)
    weighting: str | None = None  # frozen head: "group" (default: every video/scene weighs the same) | "class"
    epochs: int | None = None
    quick: bool = False
    size: int | None = None  # None: 224, or 96 for the quick seed profile
    batch: int = 32
    lr: float | None = None
    views: int | None = None  # augmented views per training image (cached features; effnet only)
    val_frac: float = 0.2
    folds: int | None = None  # None: 5 for efficientnet_lite0 (0 with --quick); 0 = one group hold-out
    seed: int = 0
    high_recall_target: float = 0.9
    # frozen head: the High bias is fitted for target + margin under cross-fitting, because on simulated unseen
    # groups (bench_vision_cv.py holdout, 10 splits, trained on 70 % of the groups) the 0.90 rule delivered High
    # recall 0.893, a 0.92 rule 0.916 and a 0.94 rule 0.935; and the shortfall grows with the training set (the
    # 0.92 rule gave 0.949 / 0.933 / 0.916 trained on 35 / 52 / 70 % of the groups: holdout --train-share), so at
    # all of them, as shipped, a 0.92 rule is expected near 0.90 and the 0.94 rule near 0.92
    high_recall_margin: float = 0.04
    abstain_threshold: float = 0.5
    variants: list[str] = field(default_factory=lambda: ["float32", "dynamic", "int8"])
    keep_variants: bool = False  # frozen head: keep every exported variant file, not only model.tflite
    cache_dir: Path | None = None
    threads: int | None = None
    command: str | None = None  # the exact command line, written into metadata.json
