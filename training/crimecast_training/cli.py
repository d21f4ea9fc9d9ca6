"""The training commands (`train-forecaster`, `train-classifier`, `train-clip-classifier`).

They live here, not in the core: the core CLI (`crimecast.cli`) finds them through the `crimecast.commands`
entry point this package declares in pyproject.toml (see `crimecast.plugins`), so the core never imports this
package. Importing this module is cheap (no TensorFlow): each command imports its trainer when it runs.
A new training command: add its parser to `register` below (and its name to `crimecast.plugins.TRAINING_COMMANDS`
so the core can point at the install hint when this package is absent).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _register_forecaster(sub)
    _register_classifier(sub)
    _register_clip(sub)


# --- train-forecaster ----------------------------------------------------------------------------------------
def _register_forecaster(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from crimecast.forecast.cli import _add_tables

    p = sub.add_parser("train-forecaster", help="train the global LSTM and export model.tflite + metadata.json")
    _add_tables(p)
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--quick", action="store_true", help="small LSTM, few epochs (< 90 s; for tests)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seeds", type=int, default=None, help="ensemble members (averaged inside one TFLite model)")
    p.add_argument("--learning-rate", type=float, default=None, help="Adam learning rate (default 1e-3)")
    p.add_argument("--ema", type=float, default=None,
                   help="momentum of the weight average kept (default 0.99; 0 keeps the last step's weights)")
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--horizon", type=int, default=30)
    p.set_defaults(func=cmd_train_forecaster)


def cmd_train_forecaster(args: argparse.Namespace) -> int:
    from crimecast.forecast.cli import _read_tables, _setup_logging

    _setup_logging()
    if not 1 <= args.horizon <= 30:
        raise ValueError(f"--horizon {args.horizon}: must be between 1 and 30")
    t = _read_tables(args)
    from crimecast.forecast.features import FeatureSpec

    from crimecast_training.forecaster import TrainConfig, export, train

    spec = FeatureSpec(window=args.window, horizon=args.horizon, events=t["events"] is not None,
                       weather=t["weather"] is not None, district=t["districts"] is not None)
    cfg = TrainConfig.quick() if args.quick else TrainConfig()
    cfg = cfg.with_options(seeds=args.seeds, learning_rate=args.learning_rate, ema=args.ema)
    tr = train(t["counts"], t["events"], t["weather"], t["districts"], spec, cfg, epochs=args.epochs, progress=True)
    out = Path(args.out)
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    from crimecast_training.forecaster_export import describe_sources

    kind, sources = describe_sources([args.counts, args.events, args.weather, args.districts])
    meta = export(tr, t["counts"], tmp, extra_meta={"profile": "quick" if args.quick else "full"}, sources=sources,
                  kind=kind)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    print(json.dumps({"out": str(out), "version": meta["version"], "metrics": meta["metrics"],
                      "train_seconds": meta["training"]["train_seconds"]}, indent=2))
    return 0


# --- train-classifier ----------------------------------------------------------------------------------------
def _register_classifier(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("train-classifier", help="train the image risk classifier and export TFLite")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", help="folder with high_risk/ medium_risk/ low_risk/ (or a labels.csv)")
    src.add_argument("--labels", help="labels CSV: path (relative to the CSV), risk[, group_id, source]")
    t.add_argument("--out", required=True, help="output model directory")
    t.add_argument("--arch", choices=["seed", "efficientnet_lite0"], default=None,
                   help="default efficientnet_lite0")
    t.add_argument("--size", type=int, default=None, help="input size in px (default 384 for the frozen head, 224 for "
                                                                   "fine-tuning, 96 for --quick seed)")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--views", type=int, default=None, help="augmented views per image (efficientnet_lite0)")
    t.add_argument("--folds", type=int, default=None,
                   help="k-fold group cross-validation, then the final model on all images (default 5 for "
                        "efficientnet_lite0; 0 = one group hold-out, the default for --quick and the seed CNN)")
    t.add_argument("--quick", action="store_true",
                   help="test profile: few epochs, one view, group hold-out, int8 export only (96 px for --arch seed)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--head", choices=["frozen", "finetune"], default=None,
                   help="efficientnet_lite0: frozen ImageNet features + logistic regression + OOD score (default), "
                        "or fine-tuning of the last blocks")
    t.add_argument("--pool", choices=["avg", "avgmax"], default=None, help="frozen head: feature pooling (avg)")
    t.add_argument("--c", type=float, default=None, help="frozen head: inverse L2 strength (default 0.01)")
    t.add_argument("--repeats", type=int, default=None,
                   help="frozen head: fold seeds of the repeated group cross-validation (default 3)")
    t.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                   help="frozen head: serve the mean of the features of the image and its mirror image (default "
                        "off: the head is trained on both views either way, and the mean gained nothing in CV for "
                        "twice the backbone work)")
    t.add_argument("--backbones", default=None,
                   help="frozen head: frozen ImageNet networks whose pooled features are concatenated, joined by '+', "
                        "each optionally @SIZE (resized in the graph): lite0, lite2 (default lite0+lite2@320; lite0 "
                        "with --quick)")
    t.add_argument("--weighting", choices=["group", "class"], default=None,
                   help="frozen head: training weights of the head: group = every video or scene (group_id) weighs "
                        "the same within its class, whatever its number of images (default); class = every image "
                        "the same, classes balanced")
    t.add_argument("--served-head", choices=["folds", "all"], default=None,
                   help="frozen head: the served logistic regression: folds = the mean of the cross-validation's fold "
                        "heads, the heads the temperature and High bias were fitted on (default); all = one head "
                        "refitted on every image")
    t.add_argument("--keep-variants", action="store_true",
                   help="frozen head: keep model_float32/dynamic/int8.tflite beside model.tflite (for benchmarks)")
    t.add_argument("--cache-dir", default=None, help="decoded-image / feature cache (default .cache/classifier)")
    t.set_defaults(func=cmd_train_classifier)


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from crimecast_training.classifier import TrainConfig, train

    cfg = TrainConfig(arch=args.arch, size=args.size, epochs=args.epochs, quick=args.quick, seed=args.seed,
                      views=args.views, folds=args.folds, head=args.head, pool=args.pool, c=args.c,
                      repeats=args.repeats, mirror=args.mirror, backbones=args.backbones,
                      weighting=args.weighting, served_head=args.served_head, keep_variants=args.keep_variants,
                      cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                      command="crimecast " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train-classifier"]
                      else None)
    meta = train(args.out, images=args.images, labels=args.labels, cfg=cfg)
    m = meta["metrics"]["validation_default_calibrated"]
    v = meta.get("validation") or {}  # frozen head: cross-fitted, out of fold
    print(json.dumps({"out": args.out, "version": meta["version"], "arch": meta["arch"],
                      "default_variant": meta["default_variant"], "val_macro_f1": v.get("macro_f1", m["macro_f1"]),
                      "val_high_recall": v.get("high_recall", m["per_class"]["High"]["recall"]),
                      "val_high_precision": v.get("high_precision", m["per_class"]["High"]["precision"]),
                      "seconds": meta["training"]["total_seconds"]}))
    return 0


# --- train-clip-classifier -----------------------------------------------------------------------------------
def _register_clip(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("train-clip-classifier",
                       help="train the clip (video) risk model: frame features + optical flow → temporal head")
    t.add_argument("--clips", required=True, help="clips.csv: path (relative to the CSV), risk[, group_id, source]")
    t.add_argument("--out", required=True, help="output model directory (encoder.tflite, model.tflite, metadata)")
    t.add_argument("--folds", type=int, default=5, help="k-fold group cross-validation (default 5)")
    t.add_argument("--cv-seeds", type=int, default=3, help="fold seeds for the CV estimate (mean ± sd; default 3)")
    t.add_argument("--epochs", type=int, default=None, help="head training epochs (default 30)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--size", type=int, default=None, help="frame size the encoder sees, px (default: ClipConfig)")
    t.add_argument("--pool", choices=("avg", "avgmax"), default=None,
                   help="pooling of the encoder's activations (default: ClipConfig)")
    t.add_argument("--backbones", default=None,
                   help="frozen ImageNet network(s) of the frame encoder, as train-classifier's --backbones "
                        "(e.g. lite0 or lite0+lite2@320; default: ClipConfig)")
    t.add_argument("--head", choices=("pooled", "temporal"), default="pooled",
                   help="pooled: two-stream late fusion on 13-s window statistics (default); temporal: the 1-D conv "
                        "head trained by TensorFlow on 2-s windows")
    t.add_argument("--no-mirror", action="store_true",
                   help="do not add each clip's left-right mirror image to the training clips")
    t.add_argument("--dynamic-every", type=int, default=None,
                   help="a dynamic image (rank pooling of the source frames) on every k-th sampled frame, its own "
                        "stream in the pooled head; 0: none (default: ClipConfig, 2; the temporal head: 0)")
    t.add_argument("--cache-dir", default=".cache/clip", help="encoder + per-clip feature cache")
    t.set_defaults(func=cmd_train_clip)


def cmd_train_clip(args: argparse.Namespace) -> int:
    if args.folds < 2:
        print(f"crimecast train-clip-classifier: --folds must be >= 2 (got {args.folds})", file=sys.stderr)
        return 2
    if args.cv_seeds < 1:
        print(f"crimecast train-clip-classifier: --cv-seeds must be >= 1 (got {args.cv_seeds})", file=sys.stderr)
        return 2
    if args.size is not None and not 32 <= args.size <= 1024:
        print(f"crimecast train-clip-classifier: --size must be in 32..1024 px (got {args.size})", file=sys.stderr)
        return 2
    from crimecast_training.clip import TEMPORAL_WINDOWS, ClipConfig, train
    from crimecast_training.frozen import parse_backbones

    cfg = ClipConfig(folds=args.folds, cv_seeds=args.cv_seeds, seed=args.seed, cache_dir=Path(args.cache_dir))
    cfg.head.kind = args.head
    cfg.mirror_train = not args.no_mirror
    if args.head == "temporal":
        for k, v in TEMPORAL_WINDOWS.items():
            setattr(cfg, k, v)
        cfg.dynamic_every = 0
    if args.dynamic_every is not None:
        if args.dynamic_every < 0 or (args.dynamic_every and args.head == "temporal"):
            print("crimecast train-clip-classifier: --dynamic-every must be >= 0, and 0 with --head temporal "
                  f"(got {args.dynamic_every})", file=sys.stderr)
            return 2
        cfg.dynamic_every = args.dynamic_every
    for k in ("size", "pool", "backbones"):
        if getattr(args, k) is not None:
            setattr(cfg, k, getattr(args, k))
    try:
        parse_backbones(cfg.backbones)
    except ValueError as exc:
        print(f"crimecast train-clip-classifier: --backbones: {exc}", file=sys.stderr)
        return 2
    if args.epochs:
        cfg.head.epochs = args.epochs
    command = "crimecast " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    try:
        meta = train(args.clips, args.out, cfg, command=command)
    except (FileNotFoundError, ValueError) as exc:
        print(f"crimecast train-clip-classifier: error: {exc}", file=sys.stderr)
        return 2
    v = meta["validation"]
    print(json.dumps({"out": args.out, "version": meta["version"], "cv_summary": v["summary"],
                      "shipped_threshold": v["shipped_threshold_on_oof_seed0"],
                      "seconds": meta["training"]["total_seconds"]}))
    return 0
