"""Train the clip risk model: frozen EfficientNet-Lite frame features + optical-flow motion features → a small
temporal 1-D-conv head (TensorFlow), exported to TFLite and served by LiteRT (`crimecast.vision.clip_model`).

Protocol (`crimecast train-clip-classifier --clips clips.csv --out M`):
1. The frame encoder (.tflite, int8) is exported once; every clip is decoded on a fixed time grid and its
   per-frame features computed by the serving code with that encoder, and cached (`clip_data`).
2. Windows of `frames` consecutive samples: training windows every `train_stride` samples, scoring windows
   every `serve_stride` samples (as served). A clip's probabilities come from its windows by the served rule
   (`clip_timeline.aggregate`).
3. k-fold group cross-validation (folds from the image trainer's `group_folds`: split by group_id, stratified
   by source × class) → an out-of-fold prediction for every clip; repeated over `cv_seeds` fold seeds for
   mean ± sd. Temperature and the High bias are fitted on them as the image trainer does
   (`validation.calibrate_runs`: the bias is cross-fitted over the folds so its High recall promise holds on
   clips it was not fitted on).
4. The shipped head is trained on all clips with the same fixed settings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.vision.calibration import ece
from crimecast.vision.clip_features import window_indices, window_stats
from crimecast.vision.clip_timeline import aggregate
from crimecast.vision.metrics import classification_report, decide

try:  # the image trainer is being split into modules; either home works
    from crimecast_training.data import group_folds
except ImportError:  # pragma: no cover
    from crimecast_training.classifier import group_folds
from crimecast_training.clip_card import model_card
from crimecast_training.clip_data import data_sha256, extract_all, file_sha256, load_clips, log, representative_frames
from crimecast_training.clip_head import HeadConfig, export_head, fit_head
from crimecast_training.validation import calibrate_runs

LABELS = ["High", "Medium", "Low"]


TEMPORAL_WINDOWS = {"frames": 10, "train_stride": 4, "serve_stride": 5}  # 2-s windows, as the temporal head used


@dataclass
class ClipConfig:
    size: int = 256
    pool: str = "avgmax"  # frame features: "avg" or "avgmax" (global average ‖ max pooling of the head activations)
    backbones: str = "lite0"  # the frozen ImageNet network(s), as the image trainer's --backbones
    sample_fps: float = 5.0
    frames: int = 65  # samples per window: 13 s, a whole clip of the training data (the temporal head used 10)
    train_stride: int = 16  # (temporal head: 4)
    serve_stride: int = 10  # timeline step: 2 s (temporal head: 5)
    span_s: float = 13.0
    max_seconds: float = 120.0
    folds: int = 5
    cv_seeds: int = 3
    seed: int = 0
    min_high_recall: float = 0.9
    mirror_train: bool = True  # train on every clip and its left-right mirror image (each weighs half)
    dynamic_every: int = 2  # a dynamic image of the source frames on every 2nd sampled frame (0: none)
    abstain_threshold: float = 0.5
    head: HeadConfig = field(default_factory=HeadConfig)
    cache_dir: Path = Path(".cache/clip")


def clip_windows(x: np.ndarray, times: np.ndarray, cfg: ClipConfig, stride: int):
    """(head inputs, starts, ends) of one clip's windows: each window's `window_stats` (W, F) for the pooled head,
    its frames (W, T, D) for the temporal head; as `ClipClassifier.score_windows` builds them."""
    pooled = cfg.head.kind == "pooled"
    idx = window_indices(len(x), cfg.frames, stride, pad=not pooled)
    step = 1.0 / cfg.sample_fps
    starts = np.array([times[i[0]] for i in idx])
    ends = np.array([times[i[-1]] + step for i in idx])
    d_app, d_dyn = appearance_dim(cfg), dynamic_dim(cfg)
    return np.stack([window_stats(x[i], d_app, d_dyn) if pooled else x[i] for i in idx]), starts, ends


def config_from_metadata(meta: dict, cache_dir: Path | None = None) -> ClipConfig:
    """The ClipConfig a clip model was trained with (its metadata's `config`), e.g. to benchmark on its features."""
    c = dict(meta.get("config") or {})
    c.setdefault("pool", "avg")  # models from before these settings existed: Lite0, average pooled, temporal head
    c.setdefault("backbones", "lite0")
    c.setdefault("dynamic_every", 0)  # models from before dynamic images
    h = {"kind": "temporal", **(c.pop("head", None) or {})}
    head = HeadConfig(**{k: v for k, v in h.items() if k in HeadConfig.__dataclass_fields__})
    known = {k: v for k, v in c.items() if k in ClipConfig.__dataclass_fields__ and k != "cache_dir"}
    return ClipConfig(**known, head=head, cache_dir=cache_dir or Path(c.get("cache_dir") or ".cache/clip"))


def appearance_dim(cfg: ClipConfig) -> int:
    """Width of the encoder's per-frame appearance vector (the motion features follow it)."""
    from crimecast_training.frozen import feature_dim

    return feature_dim(cfg.pool, cfg.backbones)


def dynamic_dim(cfg: ClipConfig) -> int:
    """Width of the per-frame dynamic-image vector (0 when the model takes none): the same encoder's."""
    return appearance_dim(cfg) if cfg.dynamic_every > 0 else 0


def encoder_name(cfg: ClipConfig) -> str:
    from crimecast_training.frozen import backbones_tag

    default = (cfg.pool, cfg.backbones) == ("avg", "lite0")
    tag = "" if default else f"_{cfg.pool}_{backbones_tag(cfg.backbones)}"
    return f"encoder_{cfg.size}{tag}_int8.tflite"


def describe_encoder(cfg: ClipConfig) -> str:
    from crimecast_training.frozen import parse_backbones

    nets = " ‖ ".join(f"EfficientNet-{v.capitalize()}" + (f" (frame resized to {s} px in the graph)" if s else "")
                      for v, s in parse_backbones(cfg.backbones))
    pool = "global average ‖ max pooled" if cfg.pool == "avgmax" else "global average pooled"
    return f"{nets}, ImageNet weights (frozen), {pool}, int8 TFLite"


def _times(n: int, cfg: ClipConfig) -> np.ndarray:
    return np.arange(n) / cfg.sample_fps  # cached features are on the sampling grid


def stack_train(feats: list[np.ndarray], y: np.ndarray, rows: np.ndarray, cfg: ClipConfig,
                mirrored: list[np.ndarray] | None = None):
    """Training windows of `rows` (and of their mirror images, where given): each clip weighs 1 in total, classes
    balanced by clip counts."""
    xs, ys, ws = [], [], []
    counts = np.bincount(y[rows], minlength=3).astype(float)
    cw = counts.sum() / (3 * np.maximum(counts, 1))
    views = [feats] if mirrored is None else [feats, mirrored]
    for r in rows:
        for view in views:
            w, _, _ = clip_windows(view[r], _times(len(view[r]), cfg), cfg, cfg.train_stride)
            xs.append(w)
            ys.append(np.full(len(w), y[r]))
            ws.append(np.full(len(w), cw[y[r]] / len(w) / len(views)))
    x = np.concatenate(xs)
    wt = np.concatenate(ws)
    return x, np.concatenate(ys), wt * len(wt) / wt.sum()


def predict_clips(model, feats: list[np.ndarray], rows: np.ndarray, cfg: ClipConfig) -> np.ndarray:
    """Clip probabilities (len(rows), 3) from served-stride windows and the served aggregation rule."""
    out = []
    for r in rows:
        w, s, e = clip_windows(feats[r], _times(len(feats[r]), cfg), cfg, cfg.serve_stride)
        p = np.asarray(model(w, training=False), np.float64)
        out.append(aggregate(p, s, e, cfg.span_s)[0])
    return np.stack(out)


def cross_validate(feats: list[np.ndarray], df: pd.DataFrame, cfg: ClipConfig, fold_seed: int,
                   mirrored: list[np.ndarray] | None = None) -> np.ndarray:
    y = df["y"].to_numpy()
    folds = group_folds(df, cfg.folds, seed=fold_seed)
    oof = np.zeros((len(df), 3))
    for k in range(cfg.folds):
        tr, va = np.nonzero(folds != k)[0], np.nonzero(folds == k)[0]
        x, yy, w = stack_train(feats, y, tr, cfg, mirrored)
        model = fit_head(x, yy, w, appearance_dim(cfg), cfg.head, seed=cfg.seed + 100 * fold_seed + k, n_clips=len(tr),
                         d_dyn=dynamic_dim(cfg))
        oof[va] = predict_clips(model, feats, va, cfg)
    return oof


def report(p: np.ndarray, df: pd.DataFrame, bias: np.ndarray | None = None) -> dict:
    y = df["y"].to_numpy()
    pred = decide(p, bias)
    rep = classification_report(y, pred, LABELS, probs=p)
    out = {"macro_f1": rep["macro_f1"], "accuracy": rep["accuracy"],
           "high_recall": rep["per_class"]["High"]["recall"], "confusion": rep["confusion"], "ece": rep.get("ece")}
    for src, idx in df.groupby("source").indices.items():
        out[f"accuracy_{src}"] = round(float((pred[idx] == y[idx]).mean()), 4)
    fights = (df["source"] == "surv-fight").to_numpy()  # fight + no-fight clips, as in ANCHORS.md
    if fights.any():
        out["fight_clip_accuracy"] = round(float((pred[fights] == y[fights]).mean()), 4)
    return out


def _code_version() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def prepare(clips: str | Path, cfg: ClipConfig) -> tuple[pd.DataFrame, list[np.ndarray], Path, np.ndarray]:
    """Clips table, cached features (undecodable clips dropped) and the encoder .tflite they came from."""
    from crimecast_training.clip_backbone import export_encoder

    df = load_clips(clips)
    enc = cfg.cache_dir / encoder_name(cfg)
    rep = None
    if not enc.exists():
        log(f"exporting the frame encoder ({describe_encoder(cfg)}, {cfg.size} px) → {enc}")
        rep = representative_frames(df, cfg.size)
        enc.parent.mkdir(parents=True, exist_ok=True)
        log(json.dumps(export_encoder(enc, cfg.size, rep, pool=cfg.pool, backbones=cfg.backbones)))
    if cfg.dynamic_every > 0 and cfg.head.kind != "pooled":
        raise ValueError("the temporal head takes no dynamic images: use --dynamic-every 0 with --head temporal")
    feats = extract_all(df, enc, cfg.sample_fps, cfg.max_seconds, cfg.cache_dir / "feats",
                        dynamic_every=cfg.dynamic_every)
    keep = np.array([f is not None for f in feats])
    if not keep.all():
        log(f"{(~keep).sum()} clip(s) could not be decoded and are left out")
    df = df[keep].reset_index(drop=True)
    return df, [f for f in feats if f is not None], enc, keep


def mirrored_features(df: pd.DataFrame, cfg: ClipConfig) -> list[np.ndarray]:
    """Per-clip features of every clip of `df` mirrored left-right, by the encoder `prepare` exported (cached)."""
    out = extract_all(df, cfg.cache_dir / encoder_name(cfg), cfg.sample_fps, cfg.max_seconds,
                      cfg.cache_dir / "feats", mirror=True, dynamic_every=cfg.dynamic_every)
    bad = [f for f, x in zip(df["file"], out, strict=True) if x is None]
    if bad:
        raise ValueError(f"{bad[0]}: decodes, but not its mirror image")
    return out  # type: ignore[return-value]


def fit_calibrated(feats: list[np.ndarray], df: pd.DataFrame, cfg: ClipConfig, quiet: bool = False) -> dict:
    """What `train` fits on a clip table: the repeated group CV (reports and out-of-fold predictions per fold seed),
    the temperature and High bias from them, and the head on every clip. Also used by the hold-out benchmark."""
    y = df["y"].to_numpy()
    mirrored = mirrored_features(df, cfg) if cfg.mirror_train else None
    runs, cal_runs = [], []
    for s in range(cfg.cv_seeds):
        oof = cross_validate(feats, df, cfg, fold_seed=cfg.seed + s, mirrored=mirrored)
        runs.append(report(oof, df))
        cal_runs.append({"oof": oof, "folds": group_folds(df, cfg.folds, seed=cfg.seed + s)})
        if not quiet:
            log(f"CV fold seed {cfg.seed + s}: {json.dumps(runs[-1])}")
    # the image trainer's rule (one home): temperature on every seed's out-of-fold predictions, High bias for the
    # smallest recall target that, fitted on the other folds, keeps High recall >= min_high_recall on the held-out one
    temp, b, info = calibrate_runs(cal_runs, y, cfg.min_high_recall)
    x, yy, w = stack_train(feats, y, np.arange(len(df)), cfg, mirrored)
    model = fit_head(x, yy, w, appearance_dim(cfg), cfg.head, seed=cfg.seed, n_clips=len(df), d_dyn=dynamic_dim(cfg))
    return {"runs": runs, "cal_runs": cal_runs, "temperature": temp, "bias": np.array([b, 0.0, 0.0]),
            "bias_info": info, "model": model, "x": x}


def train(clips: str | Path, out: str | Path, cfg: ClipConfig, command: str = "") -> dict:
    t0 = time.perf_counter()
    out = Path(out)
    df, feats, enc, _ = prepare(clips, cfg)
    if df["group_id"].nunique() < cfg.folds:
        raise ValueError(f"{clips}: {df['group_id'].nunique()} groups, need at least --folds ({cfg.folds})")
    y = df["y"].to_numpy()
    fit = fit_calibrated(feats, df, cfg)
    runs, temp, bias, info, model = fit["runs"], fit["temperature"], fit["bias"], fit["bias_info"], fit["model"]
    cal = fit["cal_runs"][0]["p"]
    shipped = report(cal, df, bias)
    shipped["ece"] = round(ece(cal, y), 4)
    summary = {k: {"mean": round(float(np.mean([r[k] for r in runs])), 4),
                   "sd": round(float(np.std([r[k] for r in runs], ddof=1)) if len(runs) > 1 else 0.0, 4)}
               for k in runs[0] if isinstance(runs[0][k], float)}
    log(f"CV summary over {len(runs)} fold seeds: {json.dumps(summary)}; shipped threshold: {json.dumps(shipped)}")
    x, d_app = fit["x"], appearance_dim(cfg)
    tmp_out = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp_out, ignore_errors=True)
    tmp_out.mkdir(parents=True)
    shutil.copyfile(enc, tmp_out / "encoder.tflite")
    export_head(model, tmp_out / "model.tflite", x.shape[1:])
    check = _check_export(model, tmp_out / "model.tflite", x[:16])
    sha = data_sha256(df)
    meta = {
        "name": "clip", "kind": "clip", "version": time.strftime("clip-%Y%m%d-%H%M%S-") + sha[:8],
        "labels": LABELS, "files": {"head": "model.tflite", "encoder": "encoder.tflite"},
        "input": {"size": cfg.size, "encoder": describe_encoder(cfg), "pool": cfg.pool, "backbones": cfg.backbones,
                  "feature_dim": int(feats[0].shape[1]), "appearance_dim": d_app, "dynamic_dim": dynamic_dim(cfg),
                  "dynamic_every": cfg.dynamic_every, "motion_dim": int(feats[0].shape[1] - d_app - dynamic_dim(cfg))},
        "head": {"kind": cfg.head.kind, "input": "window_stats" if cfg.head.kind == "pooled" else "frames",
                 "input_shape": [int(v) for v in x.shape[1:]],
                 **({"app_weight": cfg.head.app_weight, "app_c": cfg.head.app_c, "mot_c": cfg.head.mot_c,
                     "mot_knots": cfg.head.mot_knots,
                     **({"dyn_c": cfg.head.dyn_c, "dyn_weight": cfg.head.dyn_weight} if cfg.dynamic_every > 0 else {})}
                    if cfg.head.kind == "pooled" else {})},
        "sampling": {"fps": cfg.sample_fps, "frames": cfg.frames, "window_s": round(cfg.frames / cfg.sample_fps, 3),
                     "stride": cfg.serve_stride, "span_s": cfg.span_s, "max_seconds": cfg.max_seconds},
        "calibration": {"temperature": round(temp, 4), "decision_bias": bias.round(4).tolist(),
                        "abstain_threshold": cfg.abstain_threshold, "high_bias_fit": info},
        "trained_on": {"kind": "synthetic" if df["source"].str.startswith("synth").all() else "real",
                       "sources": sorted(df["source"].unique().tolist()), "n_items": int(len(df)),
                       "n_groups": int(df["group_id"].nunique()), "data_sha256": sha},
        "validation": {"protocol": f"{cfg.folds}-fold group CV (group_id), {cfg.cv_seeds} fold seeds; clip = "
                                   "served window aggregation", "per_seed": runs, "summary": summary,
                       "shipped_threshold_on_oof_seed0": shipped, "tflite_vs_keras_max_abs_diff": check},
        "command": command, "code_version": _code_version(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "training": {"total_seconds": round(time.perf_counter() - t0, 1),
                     "encoder_sha256": file_sha256(enc)},
    }
    (tmp_out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (tmp_out / "MODEL_CARD.md").write_text(model_card(meta))
    out.mkdir(parents=True, exist_ok=True)
    for f in tmp_out.iterdir():  # metadata.json last: a reader never sees new metadata with old files
        if f.name != "metadata.json":
            os.replace(f, out / f.name)
    os.replace(tmp_out / "metadata.json", out / "metadata.json")
    tmp_out.rmdir()
    return meta


def _check_export(model, path: Path, x: np.ndarray) -> float:
    from crimecast.litert import interpreter_class

    interp = interpreter_class()(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0], interp.get_output_details()[0]
    diffs = []
    ref = np.asarray(model(x, training=False))
    for n in range(len(x)):
        interp.set_tensor(i["index"], x[n:n + 1].astype(np.float32))
        interp.invoke()
        diffs.append(np.abs(interp.get_tensor(o["index"])[0] - ref[n]).max())
    worst = float(max(diffs))
    if worst > 1e-3:
        raise RuntimeError(f"{path}: TFLite head differs from Keras by {worst:.2e}")
    return round(worst, 7)


if __name__ == "__main__":  # pragma: no cover - used by the CLI
    sys.exit("use: crimecast train-clip-classifier --clips clips.csv --out DIR")
