"""The default `train-classifier` pipeline: frozen EfficientNet-Lite0 features → logistic regression + OOD score.

1. Pooled frozen features of every image and of its mirror image (cached).
2. Repeated k-fold group cross-validation (`repeats` fold seeds): out-of-fold probabilities of every image.
3. Temperature fitted on them; the High bias chosen so that High recall >= 0.90 holds on folds not used to fit it
   (validation.choose_high_bias); leave-one-source-out table; recall/precision curve.
4. OOD threshold: the 99th percentile of the cross-fitted OOD scores of real images, checked on probe inputs.
5. The final head on all images, one TFLite graph (backbone + head + OOD score) per variant, checked against the
   numpy head under LiteRT; the default is the fastest (measured, one thread) of the faithful ones: a variant faster
   than float32 is checked out of fold (the CV's fold heads on its backbone's features: within 1 point of the float
   backbone's macro-F1 and High recall still >= the promise at the shipped rule), float32 in-sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.atomic import atomic_dir
from crimecast.vision import preprocess
from crimecast.vision.calibration import ece
from crimecast.vision.metrics import classification_report, decide, high_tradeoff

from crimecast_training import frozen, model_card, validation
from crimecast_training.config import TrainConfig
from crimecast_training.data import LABELS, log
from crimecast_training.evaluation import evaluate_probs, per_source
from crimecast_training.export import VARIANT_FILES, export_tflite

OOD_QUANTILE = 0.99


def _lite_run(path: Path, x: np.ndarray, threads: int, batch: int = 16) -> dict[int, np.ndarray]:
    """Every output of a .tflite under LiteRT over `x` in batches, keyed by its width, as float64."""
    from crimecast.litert import interpreter_class

    it = interpreter_class()(model_path=str(path), num_threads=threads)
    outs: dict[int, list[np.ndarray]] = {}
    n = None
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].astype(np.float32)
        if n != len(xb):
            it.resize_tensor_input(it.get_input_details()[0]["index"], list(xb.shape))
            it.allocate_tensors()
            n = len(xb)
        it.set_tensor(it.get_input_details()[0]["index"], xb)
        it.invoke()
        for d in it.get_output_details():
            outs.setdefault(int(d["shape"][-1]), []).append(it.get_tensor(d["index"]).astype(np.float64))
    return {w: np.concatenate(v) for w, v in outs.items()}


def _lite_outputs(path: Path, x: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """(probs, ood) of a shipped .tflite under LiteRT, outputs told apart by their width (3 vs 1)."""
    outs = _lite_run(path, x, threads)
    return outs[3], outs[1][:, 0]


def lite_features(path: Path, x: np.ndarray, threads: int) -> np.ndarray:
    """The pooled features of a backbone-only .tflite (its one output) under LiteRT."""
    (f,) = _lite_run(path, x, threads).values()
    return f


def calibration_images(x: np.ndarray, size: int, seed: int, probes: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The int8 calibration set: 200 of the training images `x` (drawn with `seed`) + the probe inputs. The probes are
    in it so that the OOD output's range reaches past the training images' scores; without them every far-off input
    saturates below the threshold."""
    probes = validation.probe_images(size) if probes is None else probes
    idx = np.random.default_rng(seed).choice(len(x), size=min(len(x), 200), replace=False)
    return np.concatenate([x[idx], *probes.values()]).astype(np.float32)


def _latency_ms(path: Path, size: int, repeats: int = 15) -> float:
    """Median wall ms of one image through a .tflite under LiteRT on one thread (what a Lambda invocation pays)."""
    from crimecast.litert import interpreter_class

    it = interpreter_class()(model_path=str(path), num_threads=1)
    it.resize_tensor_input(it.get_input_details()[0]["index"], [1, size, size, 3])
    it.allocate_tensors()
    x = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    times = []
    for _ in range(repeats + 2):
        it.set_tensor(it.get_input_details()[0]["index"], x)
        t0 = time.perf_counter()
        it.invoke()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[2:]) * 1000)


def choose_variant(variants: dict[str, dict], promise: float, tolerance: float = 0.01) -> str:
    """The fastest measured variant that is faithful: where it has an out-of-fold check ("out_of_fold", see
    validation.variant_out_of_fold), it keeps the High recall `promise` at the shipped rule and loses at most
    `tolerance` macro-F1 against the float backbone; without one (float32, or a variant slower than float32 that was
    not checked), its in-sample macro-F1 is within `tolerance` of the float head's. Which variant is fastest depends
    on the runtime's kernels (under LiteRT/XNNPACK dynamic-range is slower than float32; int8 is 2-3x faster than
    float32 where the CPU has VNNI). If none is faithful, the one that loses least."""
    def change(r: dict) -> float:
        return r["out_of_fold"]["macro_f1_change"] if "out_of_fold" in r else r["macro_f1_change_vs_keras"]

    def faithful(r: dict) -> bool:
        oof = r.get("out_of_fold")
        return change(r) >= -tolerance and (oof is None or oof["high_recall"] >= promise)

    ok = [v for v, r in variants.items() if faithful(r)]
    if ok:
        return min(ok, key=lambda v: variants[v]["latency_ms_1_thread"])
    return max(variants, key=lambda v: change(variants[v]))


def train_frozen(out: Path, df: pd.DataFrame, x: np.ndarray, cfg: TrainConfig, n_folds: int, data: str,
                 t_start: float, common: Callable[[dict, Path], dict]) -> dict:
    y = df["y"].to_numpy()
    threads = cfg.threads or min(2, os.cpu_count() or 1)
    t_fit = time.perf_counter()
    views = frozen.features(x, cfg.size, cfg.pool, cfg.cache_dir, threads, backbones=cfg.backbones)
    t_feat = time.perf_counter() - t_fit
    served = frozen.served_features(views, cfg.mirror)  # what the shipped graph's head sees
    runs = validation.repeated_cv(df, views, n_folds, cfg.repeats, cfg.c, cfg.seed, log, cfg.mirror,
                                  cfg.weighting)
    need = round(cfg.high_recall_target + cfg.high_recall_margin, 6)
    temperature, bias, bias_info = validation.calibrate_runs(runs, y, need)
    bias_info |= {"promise": cfg.high_recall_target, "margin": cfg.high_recall_margin}
    bvec = np.array([bias, 0.0, 0.0])
    cf = bias_info["cross_fitted"]
    log(f"temperature {temperature:.3f}; High bias {bias:+.3f} (recall target {bias_info['target']}: cross-fitted "
        f"High recall {cf['high_recall']}, precision {cf['high_precision']})")
    argmax_f1 = [classification_report(y, r["oof"].argmax(1), LABELS)["macro_f1"] for r in runs]
    at_bias = [high_tradeoff(r["p"], y, bias) for r in runs]
    curve = validation.recall_precision_curve(runs, y)
    loso = validation.leave_one_source_out(df, views, cfg.c, temperature, bias, cfg.seed, cfg.mirror,
                                             cfg.weighting)
    p0 = runs[0]["p"]
    unsure = p0[np.arange(len(y)), decide(p0, bvec)] < cfg.abstain_threshold
    pred0 = decide(p0, bvec)
    def share(m: np.ndarray) -> float | None:
        return round(float(m.mean()), 4) if len(m) else None

    abstain = {"threshold": cfg.abstain_threshold, "uncertain_fraction": share(unsure),
               "accuracy_confident": share(pred0[~unsure] == y[~unsure]),
               "accuracy_uncertain": share(pred0[unsure] == y[unsure]),
               "high_predictions_uncertain": share(unsure[pred0 == 0]),
               "measured_on": "out-of-fold predictions (first fold seed), calibrated, with the High bias"}
    # OOD: the score fitted without the held-out fold, on every real image; threshold from those
    real_ood = validation.cross_fitted_ood(served, runs[0]["folds"])
    ood_threshold = float(np.quantile(real_ood, OOD_QUANTILE))
    # the shipped head and OOD statistics, on all images
    w, b = validation.served_head(runs, df, views, cfg.c, cfg.seed, cfg.weighting, cfg.served_head)
    ood = frozen.fit_ood(served)
    fit_s = time.perf_counter() - t_fit
    model = frozen.build_shipped(cfg.size, cfg.pool, w, b, ood, cfg.mirror, cfg.backbones)
    ref_p = frozen.head_probs(served, w, b)
    ref_ood = frozen.ood_score(served, ood)
    ref_rep = evaluate_probs(ref_p, y)
    probes = validation.probe_images(cfg.size)
    representative = calibration_images(x, cfg.size, cfg.seed, probes)
    with atomic_dir(out) as staging:  # the model folder appears whole or not at all
        variants: dict[str, dict] = {}
        for v in cfg.variants:
            path = staging / VARIANT_FILES[v]
            secs = export_tflite(model, v, representative, path)
            pv, ov = _lite_outputs(path, x, threads)
            rep = evaluate_probs(pv, y)
            flagged = float((ov > ood_threshold).mean())
            variants[v] = {"file": VARIANT_FILES[v], "bytes": path.stat().st_size, "convert_s": round(secs, 1),
                           "val_accuracy": rep["accuracy"], "val_macro_f1": rep["macro_f1"],
                           "max_abs_diff_vs_keras": round(float(np.abs(pv - ref_p).max()), 4),
                           "macro_f1_change_vs_keras": round(rep["macro_f1"] - ref_rep["macro_f1"], 4),
                           "agreement_with_keras": round(float((pv.argmax(1) == ref_p.argmax(1)).mean()), 4),
                           "ood_median_ratio_vs_float": round(float(np.median(ov / np.maximum(ref_ood, 1e-6))), 4),
                           "real_flagged_ood_in_sample": round(flagged, 4),
                           "latency_ms_1_thread": round(_latency_ms(path, cfg.size), 1),
                           "measured_on": "all labelled images (in-sample: quantisation change only; reference = "
                                          "the float logistic-regression head on float features)"}
            log(f"exported {v}: {variants[v]}")
        # out of fold: what each quantised variant faster than float32 costs on images its head never saw (the
        # backbone alone, calibrated on the same images, under the CV's fold heads)
        float_ms = variants.get("float32", {}).get("latency_ms_1_thread", float("inf"))
        backbone = frozen.build_backbone(cfg.size, cfg.pool, cfg.mirror, cfg.backbones)
        for v in [v for v in variants if v != "float32" and variants[v]["latency_ms_1_thread"] < float_ms]:
            path = staging / f"backbone-{v}.tflite"
            export_tflite(backbone, v, representative, path)
            variants[v]["out_of_fold"] = validation.variant_out_of_fold(
                runs, y, served, lite_features(path, x, threads), temperature, bias)
            path.unlink()
            log(f"{v} out of fold: {variants[v]['out_of_fold']}")
        default = choose_variant(variants, cfg.high_recall_target)
        shutil.copyfile(staging / VARIANT_FILES[default], staging / "model.tflite")
        files = {v: VARIANT_FILES[v] for v in variants} | {"default": "model.tflite"}
        if not cfg.keep_variants:  # the shipped directory stays small: only the default variant, as model.tflite
            for v in variants:
                (staging / VARIANT_FILES[v]).unlink()
            files = {default: "model.tflite", "default": "model.tflite"}
        # The served score (int8 arithmetic) is not the float score the threshold was set on: map the threshold
        # through the two scores' in-sample distributions (same quantile rank), so serving flags what float would.
        served_ood = _lite_outputs(staging / "model.tflite", x, threads)[1]
        rank = float((ref_ood <= ood_threshold).mean())
        served_threshold = float(np.quantile(served_ood, rank))
        probe_ood = {k: _lite_outputs(staging / "model.tflite", v, threads)[1] for k, v in probes.items()}
        ood_rep = validation.ood_report(served_ood, probe_ood, served_threshold)
        ood_rep = {"served_model": ood_rep | {"real": "all labelled images, in-sample (the served score is fitted on "
                                                      "them, so unseen real images score somewhat higher)"},
                   "float_threshold": round(ood_threshold, 4), "in_sample_rank_of_threshold": round(rank, 4),
                   "real_heldout_flagged_float": round(float((real_ood > ood_threshold).mean()), 4),
                   "real_heldout": "cross-fitted float scores (the score fitted without the image's fold)"}
        log(f"OOD threshold {ood_threshold:.2f} (served {served_threshold:.2f}): held-out real flagged "
            f"{ood_rep['real_heldout_flagged_float']}, probes flagged by the served model "
            + ", ".join(f"{k} {r['flagged']}" for k, r in ood_rep["served_model"]["probes"].items()))
        final = evaluate_probs(p0, y, bvec)
        f1s = np.array([a["macro_f1"] for a in at_bias])
        loso_f1 = [r["macro_f1"] for r in loso.values() if "macro_f1" in r]
        digest = hashlib.sha256((staging / "model.tflite").read_bytes()).hexdigest()[:8]
        version = time.strftime("clf-%Y%m%d-%H%M%S-") + digest
        labels_hash = hashlib.sha256(
            "\n".join(f"{p}|{r}" for p, r in zip(df["path"], df["risk"], strict=True)).encode()).hexdigest()[:16]
        what = (f"{n_folds}-fold group cross-validation by group_id, {cfg.repeats} fold seeds: out-of-fold "
                "predictions of every image by a head that never saw its group; High recall/precision with the "
                "shipped High-bias rule fitted on the other folds only (cross-fitted)")
        meta = {
            "name": "classifier", "version": version, "arch": cfg.arch, "head": "frozen", "labels": LABELS,
            "actions": {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"},
            "input": {"size": cfg.size, "shape": [None, cfg.size, cfg.size, 3], "dtype": "float32", "layout": "NHWC"},
            "outputs": {"probs": "(N, 3) softmax in label order (width 3)",
                        "ood": "(N, 1) out-of-distribution score (width 1); above ood.threshold → uncertain"},
            "preprocessing": preprocess.SPEC | {"size": cfg.size,
                                                "in_model": "(x/255 - ImageNet mean) / ImageNet std"},
            "files": files,
            "default_variant": default, "variants": variants,
            "calibration": {"method": "temperature scaling on the out-of-fold predictions of the repeated group CV",
                            "temperature": round(temperature, 4),
                            "ece_before": round(ece(runs[0]["oof"], y), 4), "ece_after": round(ece(p0, y), 4),
                            "abstain_threshold": cfg.abstain_threshold, "decision_bias": bvec.round(4).tolist(),
                            "decision_bias_note": bias_info["rule"], "bias_fit": bias_info},
            "ood": {"threshold": round(served_threshold, 4), "quantile_of_heldout_real": OOD_QUANTILE,
                    "score": f"squared Mahalanobis distance in the top {ood['proj'].shape[1]} principal components "
                             "of the standardised pooled features + the residual outside them (each mean 1 on the "
                             "training images)", "validation": ood_rep},
            "abstention": abstain,
            "video": {"sample_fps": 2.0, "k": 3, "n": 5},
            "validation": {"what": what, "macro_f1": cf["macro_f1"], "macro_f1_sd": cf["macro_f1_sd"],
                           "macro_f1_in_sample_bias": round(float(f1s.mean()), 4),
                           "high_recall": cf["high_recall"], "high_precision": cf["high_precision"],
                           "macro_f1_argmax": round(float(np.mean(argmax_f1)), 4),
                           "macro_f1_argmax_sd": round(float(np.std(argmax_f1)), 4),
                           "loso_macro_f1_mean": round(float(np.mean(loso_f1)), 4) if loso_f1 else None,
                           "folds": n_folds, "fold_seeds": [r["seed"] for r in runs],
                           "recall_precision_curve": curve},
            "metrics": {"split": what, "validation_keras": evaluate_probs(runs[0]["oof"], y),
                        "validation_default_calibrated": final,
                        "validation_per_source": per_source(df, p0, bvec), "leave_one_source_out": loso,
                        "repeats": [{"seed": r["seed"], "macro_f1_argmax": f, **a}
                                    for r, f, a in zip(runs, argmax_f1, at_bias, strict=True)]},
            "training": {"images": len(df), "train": len(df), "validation": len(df), "folds": n_folds,
                         "repeats": cfg.repeats, "classes": {k: int(v) for k, v in df["risk"].value_counts().items()},
                         "sources": sorted(df["source"].unique().tolist()), "labels_sha256_16": labels_hash,
                         "data": data, "epochs": 0, "views": len(views), "pool": cfg.pool, "mirror": cfg.mirror,
                         "backbones": cfg.backbones, "weighting": cfg.weighting,
                         "served_head": cfg.served_head,
                         "c": cfg.c,
                         "history": [], "quick": cfg.quick, "seed": cfg.seed, "feature_seconds": round(t_feat, 1),
                         "feature_seconds_when_computed": frozen.cached_seconds(x, cfg.size, cfg.pool, cfg.cache_dir,
                                                                                backbones=cfg.backbones),
                         "fit_seconds": round(fit_s, 1), "total_seconds": round(time.perf_counter() - t_start, 1)},
        }
        meta |= common(meta, staging)
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        model_card.write(staging)
    log(f"wrote {out} (default {default}; repeated group CV macro-F1 {meta['validation']['macro_f1']} ± "
        f"{meta['validation']['macro_f1_sd']} at cross-fitted High recall {cf['high_recall']} / precision "
        f"{cf['high_precision']}; {meta['training']['total_seconds']} s)")
    return meta
