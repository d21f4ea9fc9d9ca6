"""Vision benchmark: real-image accuracy (from trained models' held-out groups), latency, video throughput.

Usage:
  .venv/bin/python scripts/bench_vision.py --model M_effnet [--model M_seed ...] [--synthetic-model S]
      [--repeats 50] [--write]

* Accuracy on real images is read from each model's metadata.json (computed at training time on a
  `group_id` hold-out that the model never trained on) and, with `--eval-labels CSV`, re-measured by
  serving the model with LiteRT on that CSV.
* Latency: one 224×224 image, 1 thread, median of `--repeats`: every exported TFLite variant (LiteRT)
  vs Keras `predict` on the same architecture (needs the training extra).
* Video: sampled frames per second end to end (OpenCV decode + resize + LiteRT classify), 1 thread.
Prints a markdown table; `--write` replaces the "## Vision (issue 4)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "training"))

from benchlib import machine, median_ms, write_section  # noqa: E402

TITLE = "Vision (issue 4)"


def latency_rows(model_dir: Path, repeats: int) -> list[str]:
    from crimecast.vision import CrimeImageClassifier

    meta = json.loads((model_dir / "metadata.json").read_text())
    size = meta["input"]["size"]
    x = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    rows = []
    lite = {}
    for variant in meta["files"]:
        if variant == "default":
            continue
        c = CrimeImageClassifier(num_threads=1).load_model(model_dir, variant)
        lite[variant] = median_ms(lambda c=c: c.predict_arrays([x]), repeats)
    keras_ms = None
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        from crimecast_training import effnet_lite0 as en
        from crimecast_training import frozen, nets

        if meta["arch"] == "seed":
            km = nets.build_seed(size)
        elif meta.get("head") == "frozen":  # the backbone: all but a dense layer and the OOD arithmetic
            km = frozen.build_backbone(size, meta["training"]["pool"], bool(meta["training"].get("mirror")),
                                       meta["training"].get("backbones", "lite0"))
        else:
            km = nets.build_effnet_parts(size, en.ported_weights())[2]
        xb = x[None].astype(np.float32)
        keras_ms = median_ms(lambda: km.predict(xb, verbose=0), max(5, repeats // 5))
    except ImportError:
        pass
    for variant, (ms, cpu) in lite.items():
        speed = f"{keras_ms[0] / ms:.1f}× / {keras_ms[1] / cpu:.1f}×" if keras_ms else "—"
        rows.append(f"| {meta['arch']} {meta.get('head', '')} {size} px | LiteRT {variant} | {ms:.1f} | {cpu:.1f} | "
                    f"{speed} | {meta['variants'][variant]['bytes'] / 2**20:.1f} |")
    if keras_ms:
        rows.append(f"| {meta['arch']} | Keras `predict` (same architecture) | {keras_ms[0]:.1f} | {keras_ms[1]:.1f} "
                    "| 1.0× | — |")
    return rows


def video_rows(model_dir: Path, clips: list[Path]) -> list[str]:
    import cv2
    from crimecast.vision import CrimeImageClassifier

    cv2.setNumThreads(1)  # one core for decode too

    c = CrimeImageClassifier(num_threads=1).load_model(model_dir)
    rows = []
    for clip in clips:
        r = c.classify_video(clip)
        rows.append(f"| {clip.name} | {r['clip']['duration_s']} | {r['clip']['sampled_frames']} | "
                    f"{r['timings_ms']['total'] / 1e3:.2f} | {r['timings_ms']['frames_per_s']:.1f} | "
                    f"{r['risk_level']} |")
    return rows


def frozen_rows(meta: dict) -> list[str]:
    """Rows of a frozen-head model: repeated group CV (argmax and the cross-fitted shipped High rule), LOSO."""
    v, tr = meta["validation"], meta["training"]
    k = meta["metrics"]["validation_keras"]
    nets = tr.get("backbones", "lite0")
    a = f"{meta['arch']} frozen {meta['input']['size']} px {tr['pool']}" + ("" if nets == "lite0" else f" ({nets})")
    where = f"{v['folds']}-fold group CV × {len(v['fold_seeds'])} fold seeds, out of fold, {tr['images']} img"
    rows = [f"| {a} | {tr['data']} | {where} | argmax | {k['accuracy']:.3f} (seed 0) | {v['macro_f1_argmax']:.3f} ± "
            f"{v['macro_f1_argmax_sd']:.3f} | {k['per_class']['High']['recall']:.3f} (seed 0) | — | — |",
            f"| {a} | {tr['data']} | same, High bias fitted on the other folds only (cross-fitted) | calibrated + "
            f"shipped High rule | — | {v['macro_f1']:.3f} ± {v['macro_f1_sd']:.3f} | {v['high_recall']:.3f} | "
            f"{v['high_precision']:.3f} | {meta['calibration']['ece_after']:.3f} |",
            f"| {a} | {tr['data']} | leave one source out (mean of 4) | argmax | — | {v['loso_macro_f1_mean']:.3f} | "
            "— | — | — |"]
    for var, info in meta["variants"].items():
        rows.append(f"| {a} | {tr['data']} | all images, in-sample (quantisation change only) | {var} argmax (Δ "
                    f"macro-F1 vs float head {info['macro_f1_change_vs_keras']:+.3f}, agreement "
                    f"{info['agreement_with_keras']:.3f}) | {info['val_accuracy']:.3f} | {info['val_macro_f1']:.3f} | "
                    "— | — | — |")
    for var, info in meta["variants"].items():
        if (o := info.get("out_of_fold")):
            rows.append(f"| {a} | {tr['data']} | same folds, each fold head on its held-out images' features from "
                        f"the {var} backbone (quantisation change out of fold) | {var} + shipped High rule (Δ "
                        f"macro-F1 vs float backbone {o['macro_f1_change']:+.3f}, Δ High recall "
                        f"{o['high_recall_change']:+.3f}, agreement {o['agreement_at_rule']:.3f}) | — | "
                        f"{o['macro_f1']:.3f} | {o['high_recall']:.3f} | — | — |")
    return rows


def _cold_features(tr: dict) -> str:
    """What a run that found its features cached would have paid without the cache."""
    made = tr.get("feature_seconds_when_computed")
    return ("; they came from the feature cache: a cold run computes them first"
            + (f", which took {made / 60:.1f} min when these were made" if made else " (not timed for this cache)"))


def accuracy_rows(model_dir: Path, eval_labels: str | None) -> tuple[list[str], list[str]]:
    meta = json.loads((model_dir / "metadata.json").read_text())
    m = meta["metrics"]
    rows, src_rows = [], []
    if meta.get("head") == "frozen":
        rows = frozen_rows(meta)
        for src, r in m.get("validation_per_source", {}).items():
            lo = m.get("leave_one_source_out", {}).get(src, {})
            src_rows.append(f"| {meta['arch']} frozen | {src} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                            f"{r['high_recall'] if r['high_recall'] is not None else '—'} | "
                            f"{lo.get('macro_f1', '—')} |")
        if eval_labels:
            rows.append(_served_row(meta, model_dir, eval_labels))
        return rows, src_rows
    k = m["validation_keras"]
    d = m["validation_default_calibrated"]
    tr = meta["training"]
    folds = tr.get("folds") or 0
    if folds:
        where = f"{folds}-fold group CV, out-of-fold, {tr['validation']} img"
        same = "same out-of-fold predictions (also used to fit T and the High bias)"
        qwhere = "all images, in-sample (quantisation change only)"
    else:
        where = f"group hold-out, {tr['validation']} img"
        same = "same hold-out (also used for early stopping, T, High bias)"
        qwhere = "same hold-out"
    rows.append(f"| {meta['arch']} | {tr['data']} | {where} | Keras argmax | "
                f"{k['accuracy']:.3f} | {k['macro_f1']:.3f} | {k['per_class']['High']['recall']:.3f} | — | — |")
    calibrated = "Keras" if folds else meta["default_variant"]
    rows.append(f"| {meta['arch']} | {tr['data']} | {same} | "
                f"{calibrated} calibrated + High bias {meta['calibration']['decision_bias'][0]} | "
                f"{d['accuracy']:.3f} | {d['macro_f1']:.3f} | {d['per_class']['High']['recall']:.3f} | "
                f"{d['per_class']['High']['precision']:.3f} | {d.get('ece', float('nan')):.3f} |")
    for v, info in meta["variants"].items():
        rows.append(f"| {meta['arch']} | {tr['data']} | {qwhere} | {v} argmax (Δ macro-F1 vs Keras "
                    f"{info['macro_f1_change_vs_keras']:+.3f}) | {info['val_accuracy']:.3f} | "
                    f"{info['val_macro_f1']:.3f} | — | — | — |")
    if folds and m.get("cv"):
        cvm = m["cv"]
        rows.append(f"| {meta['arch']} | {tr['data']} | per fold | Keras argmax | — | "
                    f"{' / '.join(f'{x:.3f}' for x in cvm['per_fold_macro_f1'])} | — | — | — |")
    for src, r in m.get("validation_per_source", {}).items():
        src_rows.append(f"| {meta['arch']} | {src} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                        f"{r['high_recall']} | — |")
    if eval_labels:
        rows.append(_served_row(meta, model_dir, eval_labels))
    return rows, src_rows


def _served_row(meta: dict, model_dir: Path, eval_labels: str) -> str:
    from crimecast.vision.cli import evaluate

    rep = evaluate(str(model_dir), eval_labels)
    return (f"| {meta['arch']} | {eval_labels} | all rows (includes training groups unless the CSV is unseen) | "
            f"served default | {rep['accuracy']:.3f} | {rep['macro_f1']:.3f} | {rep['high_recall']:.3f} | "
            f"{rep['per_class']['High']['precision']:.3f} | {rep['ece']:.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="trained model dir (repeatable)")
    ap.add_argument("--synthetic-model", default=None, help="model trained on synthetic images (pipeline check)")
    ap.add_argument("--eval-labels", default=None)
    ap.add_argument("--clips", nargs="*", default=None, help="videos for the throughput row")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    cmd = "`.venv/bin/python scripts/bench_vision.py " + " ".join(argv or sys.argv[1:]) + "`"
    head = f"Command: {cmd}  \nMachine: {machine()}\n"
    acc, src = [], []
    for m in args.model:
        a, s = accuracy_rows(Path(m), args.eval_labels)
        acc += a
        src += s
    if args.synthetic_model:
        a, _ = accuracy_rows(Path(args.synthetic_model), None)
        acc += a[:1]
    lat = []
    for m in args.model:
        lat += latency_rows(Path(m), args.repeats)
    clips = [Path(c) for c in args.clips] if args.clips else sorted(
        (ROOT.parent / "shared" / "data" / "real-images" / "videos").glob("*.mp4"))
    vid = video_rows(Path(args.model[0]), clips) if clips else []
    body = [head,
            "### Accuracy (real images: ../shared/data/real-images; validation by `group_id` as each row says: "
            "k-fold group cross-validation, or a hold-out of ~20 % of the groups of every source × class)\n",
            "| arch | data | evaluated on | decision | accuracy | macro-F1 | High recall | High precision | ECE |",
            "|---|---|---|---|---|---|---|---|---|", *acc, "",
            "Per source (out of fold, calibrated + High bias; LOSO = trained on the other three sources, argmax):\n",
            "| arch | source | n | accuracy | macro-F1 | High recall | LOSO macro-F1 |",
            "|---|---|---|---|---|---|---|", *src, "",
            "### Latency per image at the model's input size, 1 thread (median)\n",
            "| arch | runtime | wall ms | CPU ms | speed-up vs Keras (wall / CPU) | file MiB |",
            "|---|---|---|---|---|---|", *lat, ""]
    if vid:
        body += ["### Video, end to end on one core (OpenCV decode + resize + the image model under LiteRT, 2 fps "
                 "sampling, k-of-n vote: the path a video takes when no clip model is deployed)\n",
                 "| clip | duration s | sampled frames | wall s | sampled frames / s | clip decision |",
                 "|---|---|---|---|---|---|", *vid, ""]
    notes = ["### Training runs and goals (issue 14)\n"]
    for m in args.model:
        meta = json.loads((Path(m) / "metadata.json").read_text())
        tr = meta["training"]
        cmd = meta.get("command") or f"crimecast train-classifier --labels {tr['data']}"
        if meta.get("head") == "frozen":
            v = meta["validation"]

            def ok(cond: bool) -> str:
                return "met" if cond else "NOT met"

            notes.append(
                f"- `{cmd}` took {tr['total_seconds'] / 60:.1f} min wall on a 2-core box (features "
                f"{tr['feature_seconds'] / 60:.1f} min of it"
                + (_cold_features(tr) if tr["feature_seconds"] < 60 else "")
                + "). Goals: repeated group-CV "
                f"macro-F1 >= 0.78 {ok(v['macro_f1_argmax'] >= 0.78)} ({v['macro_f1_argmax']:.3f} argmax, "
                f"{v['macro_f1']:.3f} at the shipped High rule); High recall >= 0.90 out of fold at the shipped rule "
                f"{ok(v['high_recall'] >= 0.90)} ({v['high_recall']:.3f}) with precision >= 0.55 "
                f"{ok(v['high_precision'] >= 0.55)} ({v['high_precision']:.3f}); training <= 30 min "
                f"{ok(tr['total_seconds'] <= 1800)}.")
        else:
            d = meta["metrics"]["validation_default_calibrated"]
            notes.append(f"- `{cmd}` ({meta['arch']}, fine-tuned) took {tr['total_seconds'] / 60:.1f} min; macro-F1 "
                         f"{meta['metrics']['validation_keras']['macro_f1']:.3f} (argmax), High recall "
                         f"{d['per_class']['High']['recall']:.3f} with the High bias.")
    notes.append("- Frozen rows: every image is predicted by a head that never saw its group; the High bias is fitted "
                 "on the other folds' predictions only, so its recall is measured on images it was not fitted on. The "
                 "in-sample quantisation rows compare each TFLite variant with the float head on all images; the "
                 "out-of-fold row applies the CV's fold heads to their held-out images' features from the quantised "
                 "backbone, paired with the float backbone's (what chooses the served variant).")
    body += [*notes, ""]
    text = "\n".join(body)
    print(text)
    if args.write:
        write_section(TITLE, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
