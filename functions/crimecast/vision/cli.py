"""`crimecast classify`, `crimecast evaluate-classifier` (`train-classifier` is in crimecast_training.cli)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_MODEL = os.environ.get("CRIMECAST_CLASSIFIER_DIR", "models/classifier")
MEDIA_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".mp4", ".m4v", ".mov", ".avi",
             ".mkv", ".webm", ".mpg", ".mpeg"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="classify images / videos / directories (one JSON object per input)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--model", default=DEFAULT_MODEL, help="model directory (model.tflite + metadata.json)")
    p.add_argument("--json", action="store_true", help="print one JSON object per line (default: a short table)")
    p.add_argument("--fps", type=float, default=None, help="video sampling rate (default 2 per s)")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--max-seconds", type=float, default=None)
    p.set_defaults(func=cmd_classify)

    e = sub.add_parser("evaluate-classifier", help="metrics of a model on a labelled image set")
    e.add_argument("--model", default=DEFAULT_MODEL)
    e.add_argument("--labels", required=True, help="labels CSV (or an images/ folder with class subfolders)")
    e.add_argument("--variant", default=None, help="float32|dynamic|int8 (default: the model's default)")
    e.add_argument("--out", default=None, help="also write the report JSON here")
    e.set_defaults(func=cmd_evaluate)


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; directories expanded (recursively, sorted) to their image/video files."""
    out: list[str] = []
    for p in paths:
        pp = Path(p)
        if pp.is_dir():
            found = sorted(str(f) for f in pp.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_EXT)
            out.extend(found or [p])
        else:
            out.append(p)
    return out


def cmd_classify(args: argparse.Namespace) -> int:
    from crimecast.vision import CrimeImageClassifier, InputError
    from crimecast.vision.clip_model import is_clip_model

    items = expand_paths(args.paths)
    if is_clip_model(args.model):  # a clip model's directory: the clip decision for each video
        from crimecast.vision.clip_cli import classify_with_clip_model

        return classify_with_clip_model(args.model, items, args.json, args.max_seconds)
    clf = CrimeImageClassifier().load_model(args.model)
    failures = 0
    for path in items:
        try:
            if Path(path).is_dir():
                raise InputError(f"{path}: directory holds no image or video files")
            if args.fps or args.max_frames or args.max_seconds:
                from crimecast.vision.decode import sniff_kind

                with open(path, "rb") as f:
                    head = f.read(32)
                if sniff_kind(head) == "video":
                    r = {"path": path, **clf.classify_video(path, args.fps, args.max_frames, args.max_seconds)}
                else:
                    r = clf.classify_path(path)
            else:
                r = clf.classify_path(path)
        except (InputError, OSError) as exc:
            failures += 1
            r = {"path": path, "error": str(exc)}
        if args.json:
            print(json.dumps(r), flush=True)
        elif "error" in r:
            print(f"{path}\tERROR\t{r['error']}", flush=True)
        else:
            flag = " (uncertain: human review)" if r["uncertain"] else ""
            print(f"{path}\t{r['risk_level']}\t{r['confidence']:.3f}\t{r['action']}{flag}", flush=True)
    if failures:
        print(f"crimecast classify: {failures} of {len(items)} input(s) failed", file=sys.stderr)
    return 2 if items and failures == len(items) else 0


def _flush(clf, arrays: list, probs: list, oods: list) -> None:  # noqa: ANN001
    import numpy as np

    pb, ob = clf.score_arrays(arrays)
    probs.append(pb)
    oods.append(ob if ob is not None else np.full(len(pb), np.nan))
    arrays.clear()


def evaluate(model_dir: str, labels: str, variant: str | None = None) -> dict:
    """Classify every labelled image with the served model; metrics overall and per source."""
    import numpy as np
    import pandas as pd

    from crimecast.contract import read_table
    from crimecast.vision import CrimeImageClassifier, InputError, preprocess
    from crimecast.vision.calibration import ece
    from crimecast.vision.decode import load_image
    from crimecast.vision.metrics import classification_report, decide

    clf = CrimeImageClassifier(num_threads=min(2, os.cpu_count() or 1)).load_model(model_dir, variant)
    lp = Path(labels)
    if lp.is_dir():
        lp = lp / "labels.csv"
    df = read_table(lp, "labels")
    base = lp.resolve().parent
    if "source" not in df.columns:
        df["source"] = "unknown"
    y_map = {"high": 0, "medium": 1, "low": 2}
    order = [clf.labels.index(lvl) for lvl in ("High", "Medium", "Low")]
    probs, oods, ys, srcs, errors = [], [], [], [], []
    arrays: list = []
    for path, risk, src in zip(df["path"], df["risk"], df["source"], strict=True):
        try:
            arrays.append(preprocess.to_array(load_image(base / path), clf.size))
            ys.append(y_map[risk])
            srcs.append(src)
        except InputError as exc:
            errors.append(str(exc))
        if len(arrays) == 32:
            _flush(clf, arrays, probs, oods)
    if arrays:
        _flush(clf, arrays, probs, oods)
    if not probs:
        raise ValueError(f"{lp}: no decodable images ({len(errors)} errors, first: {errors[:1]})")
    p = np.concatenate(probs)[:, order]  # columns High, Medium, Low
    y = np.asarray(ys)
    bias = clf.bias[order] if clf.bias is not None else None
    pred = decide(p, bias)
    labels_ = ["High", "Medium", "Low"]
    rep = classification_report(y, pred, labels_, probs=p)
    rep["ece"] = round(ece(p, y), 4)
    rep["high_recall"] = rep["per_class"]["High"]["recall"]
    ood = np.concatenate(oods)
    flagged = ood > clf.ood_threshold if clf.ood_threshold is not None else np.zeros(len(ood), bool)
    rep["uncertain_fraction"] = round(float(((p[np.arange(len(pred)), pred] < clf.threshold) | flagged).mean()), 4)
    rep["ood_flagged_fraction"] = round(float(flagged.mean()), 4) if clf.ood_threshold is not None else None
    per = {}
    s = pd.Series(srcs)
    for src, idx in s.groupby(s).indices.items():
        r = classification_report(y[idx], pred[idx], labels_)
        per[str(src)] = {"n": r["n"], "accuracy": r["accuracy"], "macro_f1": r["macro_f1"],
                         "high_recall": r["per_class"]["High"]["recall"] if r["per_class"]["High"]["support"]
                         else None}
    rep["per_source"] = per
    rep["errors"] = errors
    rep["model_version"] = clf.version
    rep["variant"] = clf.variant
    return rep


def cmd_evaluate(args: argparse.Namespace) -> int:
    rep = evaluate(args.model, args.labels, args.variant)
    text = json.dumps(rep, indent=2)
    if args.out:
        from crimecast.contract import atomic_path

        with atomic_path(args.out) as tmp:
            tmp.write_text(text + "\n")
    print(text)
    return 0
