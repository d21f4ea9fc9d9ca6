"""The fine-tuned alternative (`train-classifier --head finetune`): EfficientNet-Lite0 blocks from SPLIT_BLOCK on
fine-tuned on cached frozen-trunk activations (or the seed CNN), k-fold group CV or one group hold-out, export,
calibration, metadata. The default is the frozen-feature head (train_frozen.py); docs/benchmarks.md says why.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.atomic import atomic_dir
from crimecast.vision import preprocess
from crimecast.vision.calibration import apply_temperature, ece, fit_temperature
from crimecast.vision.metrics import fit_high_bias

from crimecast_training.config import TrainConfig
from crimecast_training.data import LABELS, group_folds, group_split, log
from crimecast_training.evaluation import evaluate_probs, per_source
from crimecast_training.export import VARIANT_FILES, export_tflite, tflite_predict
from crimecast_training.finetune import _set_threads, fit


def train_finetune(out: Path, df: pd.DataFrame, x: np.ndarray, cfg: TrainConfig, n_folds: int, data: str,
                   t_start: float, common: Callable[[dict, Path], dict]) -> dict:
    """Fit → export variants → LiteRT check → calibration → metadata.json in `out`. Returns the metadata."""
    y = df["y"].to_numpy()
    folds = None
    if n_folds:
        folds = group_folds(df, n_folds, cfg.seed)
        tr, va = np.arange(len(df)), np.zeros(0, int)
        log(f"{n_folds}-fold group cross-validation (fold sizes {np.bincount(folds).tolist()}), "
            f"then the final model on all {len(df)} images")
    else:
        tr, va = group_split(df, cfg.val_frac, cfg.seed)
        log(f"group hold-out split: {len(tr)} train / {len(va)} validation images")
    if len(set(y[tr])) < 3:
        raise ValueError(f"training split lacks a class (counts {np.bincount(y[tr], minlength=3).tolist()}); "
                         "need images of all three risk levels")
    _set_threads(cfg.threads)
    t_fit = time.perf_counter()
    res = fit(x, y, tr, va, cfg, folds)
    fit_s = time.perf_counter() - t_fit
    model = res["model"]
    cv = res.get("oof") is not None
    # Quantisation check set: the hold-out, or (CV) every image — the final model trained on them all, so there
    # the variants' scores measure only what quantisation changes, not accuracy.
    ev = np.arange(len(y)) if cv else va
    xev = x[ev].astype(np.float32)
    keras_p = model.predict(xev, batch_size=32, verbose=0).astype(np.float64) if len(ev) else np.zeros((0, 3))
    keras_rep = evaluate_probs(keras_p, y[ev])
    rep_idx = np.random.default_rng(cfg.seed).choice(tr, size=min(len(tr), 64 if cfg.quick else 200), replace=False)
    representative = x[rep_idx].astype(np.float32)
    with atomic_dir(out) as staging:  # the model folder appears whole or not at all
        variants: dict[str, dict] = {}
        probs: dict[str, np.ndarray] = {}
        for v in cfg.variants:
            path = staging / VARIANT_FILES[v]
            secs = export_tflite(model, v, representative, path)
            pv = tflite_predict(path, xev) if len(ev) else np.zeros((0, 3))
            probs[v] = pv
            rep = evaluate_probs(pv, y[ev])
            variants[v] = {"file": VARIANT_FILES[v], "bytes": path.stat().st_size, "convert_s": round(secs, 1),
                           "val_accuracy": rep["accuracy"], "val_macro_f1": rep["macro_f1"],
                           "max_abs_diff_vs_keras": round(float(np.abs(pv - keras_p).max()) if len(ev) else 0.0, 4),
                           "macro_f1_change_vs_keras": round(rep["macro_f1"] - keras_rep["macro_f1"], 4),
                           "agreement_with_keras": round(float((pv.argmax(1) == keras_p.argmax(1)).mean()), 4)
                           if len(ev) else None,
                           "measured_on": "all labelled images (in-sample: quantisation change only)" if cv
                           else "group hold-out"}
            log(f"exported {v}: {variants[v]}")
        default = next((v for v in ("int8", "dynamic", "float32") if v in variants
                        and (variants[v]["macro_f1_change_vs_keras"] >= -0.01 or not len(ev))), cfg.variants[-1])
        shutil.copyfile(staging / VARIANT_FILES[default], staging / "model.tflite")
        # Calibration and the High bias are fitted on held-out probabilities: the out-of-fold Keras predictions
        # (CV), or the default variant on the hold-out.
        p_raw, y_cal = (res["oof"], y) if cv else (probs[default], y[va])
        temperature = fit_temperature(p_raw, y_cal) if len(y_cal) else 1.0
        p_cal = apply_temperature(p_raw, temperature)
        high_bias, bias_info = fit_high_bias(p_cal, y_cal, 0, cfg.high_recall_target) if len(y_cal) else (0.0, {})
        bias = np.array([high_bias, 0.0, 0.0])
        final = evaluate_probs(p_cal, y_cal, bias)
        heldout_keras = evaluate_probs(res["oof"], y) if cv else keras_rep
        df_cal = df if cv else df.iloc[va].reset_index(drop=True)
        digest = hashlib.sha256((staging / "model.tflite").read_bytes()).hexdigest()[:8]
        version = time.strftime("clf-%Y%m%d-%H%M%S-") + digest
        labels_hash = hashlib.sha256(
            "\n".join(f"{p}|{r}" for p, r in zip(df["path"], df["risk"], strict=True)).encode()).hexdigest()[:16]
        meta = {
            "name": "classifier", "version": version, "arch": cfg.arch, "labels": LABELS,
            "actions": {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"},
            "input": {"size": cfg.size, "shape": [None, cfg.size, cfg.size, 3], "dtype": "float32", "layout": "NHWC"},
            "preprocessing": preprocess.SPEC | {"size": cfg.size,
                                                "in_model": "x/255" if cfg.arch == "seed"
                                                else "(x/255 - ImageNet mean) / ImageNet std"},
            "files": {v: VARIANT_FILES[v] for v in variants} | {"default": "model.tflite"},
            "default_variant": default,
            "variants": variants,
            "calibration": {"method": "temperature scaling on " + ("out-of-fold predictions of the group CV"
                                                                   if cv else "the group hold-out"),
                            "temperature": round(temperature, 4),
                            "ece_before": round(ece(p_raw, y_cal), 4) if len(y_cal) else None,
                            "ece_after": round(ece(p_cal, y_cal), 4) if len(y_cal) else None,
                            "abstain_threshold": cfg.abstain_threshold, "decision_bias": bias.round(4).tolist(),
                            "decision_bias_note": f"log-odds added to High, smallest reaching held-out High recall "
                                                  f">= {cfg.high_recall_target} (if it costs <= 3 points macro-F1)",
                            "bias_fit": bias_info},
            "video": {"sample_fps": 2.0, "k": 3, "n": 5},
            "metrics": {"split": (f"{res['cv']['folds']}-fold group cross-validation by group_id: out-of-fold "
                                  "predictions of every image by a model that never saw its group; the temperature "
                                  "and the High bias were fitted on the same predictions. The shipped model is "
                                  "trained on all images with the same settings") if cv else
                                 ("group hold-out by group_id (validation, also used for early stopping, "
                                  "calibration and the High bias, so these numbers are optimistic)"),
                        "validation_keras": heldout_keras, "validation_default_calibrated": final,
                        "validation_per_source": per_source(df_cal, p_cal, bias) if len(y_cal) else {}}
                       | ({"cv": res["cv"]} if cv else {}),
            "training": {"images": len(df), "train": len(tr), "validation": len(y_cal), "folds": n_folds,
                         "classes": {k: int(v) for k, v in df["risk"].value_counts().items()},
                         "sources": sorted(df["source"].unique().tolist()), "labels_sha256_16": labels_hash,
                         "data": data, "epochs": res["epochs"], "views": res.get("views"),
                         "history": res["history"], "quick": cfg.quick, "seed": cfg.seed,
                         "fit_seconds": round(fit_s, 1), "total_seconds": round(time.perf_counter() - t_start, 1)},
        }
        meta |= common(meta, staging)
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    log(f"wrote {out} (default {default}, val macro-F1 {final['macro_f1']}, High recall "
        f"{final['per_class']['High']['recall']}, {meta['training']['total_seconds']} s)")
    return meta
