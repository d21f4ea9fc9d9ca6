"""Vision training choices on the real images: frozen-feature heads under repeated group CV + leave-one-source-out,
next to the fine-tuned model on the same folds.

Usage:
  .venv/bin/python scripts/bench_vision_cv.py frozen --size 384 --pool avgmax --c 0.01 [--repeats 5] [--mirror]
        [--backbones lite0+lite2@320]
  .venv/bin/python scripts/bench_vision_cv.py holdout --splits 10 [--need 0.94] [--variants float32 int8]
        [--train-share 0.5]                                     (the check on unseen groups, simulated)
  .venv/bin/python scripts/bench_vision_cv.py latency --size 384 --backbones lite0+lite2@320 [--mirror]
  .venv/bin/python scripts/bench_vision_cv.py odds [--shares 0.1 0.3 0.42] [--draws 200]
                                                    (how often a held-out set of a size meets the must-show)
  .venv/bin/python scripts/bench_vision_cv.py finetune --split 11 --epochs 12 --lr 3e-4     (slow: the old default)
  .venv/bin/python scripts/bench_vision_cv.py table [--write]

`frozen` runs exactly what `train-classifier` (default `--head frozen`) validates with: the product's frozen features
(`crimecast_training.frozen.features`, cached under .cache/classifier), `validation.repeated_cv` over `--repeats`
fold seeds of `group_folds` (5 folds; a group never straddles folds), the temperature on the out-of-fold
predictions, the High bias chosen by `validation.choose_high_bias` (recall >= 0.90 on folds not used to fit it),
and `validation.leave_one_source_out`. `finetune` runs the product's fine-tuning CV loop (`finetune._fit_top_cv`) on
fold seed 0. Each appends one JSON line to .cache/bench_vision_cv.jsonl (out-of-fold predictions beside it);
`table` prints the rows (fine-tuned, frozen, and the mean-probability ensemble of the two where both exist for fold
seed 0) and `--write` puts them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "training"))

from benchlib import machine, median_ms, write_section  # noqa: E402
from crimecast_training.config import TrainConfig  # noqa: E402

TITLE = "Vision: training choices (5-fold group CV)"
RESULTS = ROOT / ".cache" / "bench_vision_cv.jsonl"
LABELS_CSV = ROOT.parent / "shared" / "data" / "real-images" / "labels.csv"
CACHE = ROOT / ".cache" / "classifier"
HOLDOUT_FRAC = 0.3  # the landing check holds out 30 % of the groups
SHIPPED_NEED = round(TrainConfig.high_recall_target + TrainConfig.high_recall_margin, 6)  # train-classifier's rule


def _data(labels: str, size: int):
    from crimecast_training.data import decode_all, load_labels

    df = load_labels(labels=labels)
    x, ok = decode_all(df, size, CACHE)
    return df[ok].reset_index(drop=True), x[ok]


def _save(row: dict, oof: np.ndarray, name: str) -> dict:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    path = RESULTS.parent / f"bench_vision_cv-oof-{name}.npy"
    np.save(path, oof)
    row |= {"oof_file": str(path.relative_to(ROOT)), "machine": machine()}
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row))
    return row


def run_frozen(args: argparse.Namespace) -> dict:
    from crimecast.vision.metrics import classification_report
    from crimecast_training import frozen, validation

    df, x = _data(args.labels, args.size)
    y = df["y"].to_numpy()
    t0 = time.perf_counter()
    views = frozen.features(x, args.size, args.pool, CACHE, backbones=args.backbones)
    t_feat = time.perf_counter() - t0
    runs = validation.repeated_cv(df, views, 5, args.repeats, args.c, 0, log=lambda m: print(m, file=sys.stderr),
                                mirror=args.mirror, weighting=args.weighting)
    t, bias, info = validation.calibrate_runs(runs, y, args.need)
    loso = validation.leave_one_source_out(df, views, args.c, t, bias, mirror=args.mirror, weighting=args.weighting)
    f1 = [classification_report(y, r["oof"].argmax(1), ["High", "Medium", "Low"])["macro_f1"] for r in runs]
    src = df["source"].to_numpy()
    row = {"kind": "frozen", "size": args.size, "pool": args.pool, "c": args.c, "repeats": args.repeats,
           "mirror": args.mirror, "backbones": args.backbones, "weighting": args.weighting,
           "need": args.need, "macro_f1_mean": round(float(np.mean(f1)), 4), "macro_f1_sd": round(float(np.std(f1)), 4),
           "macro_f1_seed0": f1[0], "high_recall_argmax": classification_report(
               y, runs[0]["oof"].argmax(1), ["High", "Medium", "Low"])["per_class"]["High"]["recall"],
           "bias": round(bias, 3), "cross_fitted": info["cross_fitted"],
           "per_source_accuracy": {s: round(float((runs[0]["oof"][src == s].argmax(1) == y[src == s]).mean()), 3)
                                   for s in sorted(set(src))},
           "loso": loso, "curve": validation.recall_precision_curve(runs, y),
           "feature_seconds": round(t_feat), "seconds": round(time.perf_counter() - t0)}
    return _save(row, runs[0]["oof"], f"frozen-{args.size}-{args.pool}-c{args.c}" + ("-mirror" if args.mirror else "")
                 + ("" if args.backbones == "lite0" else "-" + frozen.backbones_tag(args.backbones))
                 + ("" if args.weighting == "class" else f"-{args.weighting}"))


def run_holdout(args: argparse.Namespace) -> dict:
    """What the check on unseen groups sees: for each split seed, ~`--frac` of the groups of every source × class are
    held out (`group_split`); the default pipeline's steps run on the rest alone (repeated group CV → temperature →
    cross-fitted High bias → the final head on all of the rest), and the held-out images are scored once."""
    from crimecast.vision.calibration import apply_temperature
    from crimecast.vision.metrics import classification_report, decide
    from crimecast_training import frozen, validation
    from crimecast_training.data import group_split

    df, x = _data(args.labels, args.size)
    views = frozen.features(x, args.size, args.pool, CACHE, backbones=args.backbones)
    t0 = time.perf_counter()
    needs = sorted(set(args.need))
    variants = list(dict.fromkeys(args.variants))
    per: dict[tuple[float, str], list[dict]] = {(n, v): [] for n in needs for v in variants}

    def served_te(tr: np.ndarray, te: np.ndarray, variant: str) -> np.ndarray:
        """The held-out images' served features through the quantised backbone, calibrated as train-classifier does
        (200 of the split's training images + the probe inputs): what the shipped graph's head would see."""
        import tempfile

        from crimecast_training.export import export_tflite
        from crimecast_training.train_frozen import calibration_images, lite_features

        rep = calibration_images(x[tr], args.size, 0)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "backbone.tflite"
            export_tflite(backbone, variant, rep, path)
            return lite_features(path, x[te], 2)

    backbone = frozen.build_backbone(args.size, args.pool, args.mirror, args.backbones) \
        if set(variants) - {"float32"} else None
    for seed in range(args.splits):
        tr, te = group_split(df, args.frac, seed)
        if args.train_share < 1:  # a learning curve: train on only this share of the non-held-out groups
            tr = tr[group_split(df.iloc[tr].reset_index(drop=True), 1 - args.train_share, seed + 1000)[0]]
        dtr, vtr = df.iloc[tr].reset_index(drop=True), [v[tr] for v in views]
        ytr, yte = dtr["y"].to_numpy(), df["y"].to_numpy()[te]
        runs = validation.repeated_cv(dtr, vtr, 5, args.repeats, args.c, 0, log=lambda m: None, mirror=args.mirror,
                                      weighting=args.weighting)
        w, b = validation.served_head(runs, dtr, vtr, args.c, 0, args.weighting, args.served_head)
        for variant in variants:  # the same runs and head; only the features of the held-out images differ
            raw = frozen.head_probs(served_te(tr, te, variant) if variant != "float32"
                                    else frozen.served_features(views, args.mirror)[te], w, b)
            for need in needs:  # only the High rule's recall promise differs
                t, bias, _info = validation.calibrate_runs(runs, ytr, need)
                p = apply_temperature(raw, t)
                rep = classification_report(yte, decide(p, np.array([bias, 0.0, 0.0])), ["High", "Medium", "Low"])
                hi = rep["per_class"]["High"]
                per[need, variant].append({"split_seed": seed, "n_train": int(len(tr)), "n_test": int(len(te)),
                                           "macro_f1": rep["macro_f1"], "high_recall": hi["recall"],
                                           "high_precision": hi["precision"], "bias": round(bias, 3)})
                print(json.dumps({"need": need, "variant": variant} | per[need, variant][-1]), file=sys.stderr)
    rows = []
    for need, variant in per:
        a = {k: np.array([r[k] for r in per[need, variant]]) for k in ("macro_f1", "high_recall", "high_precision")}
        row = {"kind": "holdout", "size": args.size, "pool": args.pool, "c": args.c, "repeats": args.repeats,
               "mirror": args.mirror, "backbones": args.backbones, "weighting": args.weighting,
               "served_head": args.served_head, "need": need, "variant": variant,
               "frac": args.frac, "train_share": args.train_share,
               "splits": per[need, variant],
               **{f"{k}_mean": round(float(v.mean()), 4) for k, v in a.items()},
               **{f"{k}_sd": round(float(v.std()), 4) for k, v in a.items()},
               "share_meeting_must_show": round(float(((a["macro_f1"] >= 0.76) & (a["high_recall"] >= 0.90)).mean()),
                                                3),
               "seconds": round(time.perf_counter() - t0)}
        rows.append(_save(row, np.zeros(0), f"holdout-{args.size}-{args.pool}-c{args.c}"
                          + ("-mirror" if args.mirror else "") + f"-need{need}"
                          + ("" if args.weighting == "class" else f"-{args.weighting}")
                          + ("" if args.served_head == "all" else f"-{args.served_head}")
                          + ("" if args.train_share == 1 else f"-share{args.train_share:g}")
                          + ("" if args.frac == HOLDOUT_FRAC else f"-frac{args.frac:g}")
                          + ("" if variant == "float32" else f"-{variant}")))
    return rows[0]


def run_odds(args: argparse.Namespace) -> dict:
    """How much a check on one held-out set can say: the shipped pipeline's repeated-CV decisions (each fold decided by
    a head and a High bias fitted without it, `validation.cross_fitted_decisions` at the target the shipped rule
    chooses), scored on `--draws` random held-out group sets (`group_split`, every source × class) of each of
    `--shares` of the groups: macro-F1 and High recall mean ± sd, and the share of draws meeting the must-show. The
    heads were trained on 80 % of the images (the landing check's are trained on all of them), so this is the spread
    of the estimate at a given test size, around a mean that is CV's."""
    from crimecast.vision.metrics import classification_report
    from crimecast_training import frozen, validation
    from crimecast_training.data import group_split

    df, x = _data(args.labels, args.size)
    y = df["y"].to_numpy()
    views = frozen.features(x, args.size, args.pool, CACHE, backbones=args.backbones)
    t0 = time.perf_counter()
    runs = validation.repeated_cv(df, views, 5, args.repeats, args.c, 0, log=lambda m: None, mirror=False,
                                  weighting=args.weighting)
    _t, _bias, info = validation.calibrate_runs(runs, y, args.need)
    preds = validation.cross_fitted_decisions(runs, y, info["target"])
    per_share = []
    for share in args.shares:
        f1, rec, n = [], [], []
        for seed in range(args.draws):
            te = group_split(df, share, seed)[1]
            n.append(len(te))
            for pred in preds:
                rep = classification_report(y[te], pred[te], ["High", "Medium", "Low"])
                f1.append(rep["macro_f1"])
                rec.append(rep["per_class"]["High"]["recall"])
        a, r = np.array(f1), np.array(rec)
        per_share.append({"share": share, "images": round(float(np.mean(n))),
                          "macro_f1_mean": round(float(a.mean()), 4), "macro_f1_sd": round(float(a.std()), 4),
                          "high_recall_mean": round(float(r.mean()), 4),
                          "high_recall_sd": round(float(r.std()), 4),
                          "meets_macro_f1": round(float((a >= 0.76).mean()), 3),
                          "meets_recall": round(float((r >= 0.90).mean()), 3),
                          "meets_both": round(float(((a >= 0.76) & (r >= 0.90)).mean()), 3)})
        print(json.dumps(per_share[-1]), file=sys.stderr)
    pooled = [classification_report(y, p, ["High", "Medium", "Low"]) for p in preds]
    paired = []  # the hold-out runs of this pipeline in the results: their very held-out sets, CV-decided
    earlier = [json.loads(ln) for ln in RESULTS.read_text().splitlines() if ln.strip()] if RESULTS.exists() else []
    for h in {(r["frac"], r.get("train_share", 1.0)): r for r in earlier
              if r["kind"] == "holdout" and _shipped_holdout(r) and r["weighting"] == args.weighting
              and r["need"] == args.need and r["size"] == args.size and r["backbones"] == args.backbones
              and not r.get("mirror")}.values():
        cv = np.array([np.mean([classification_report(y[te], p[te], ["High", "Medium", "Low"])["macro_f1"]
                                for p in preds]) for te in (group_split(df, h["frac"], s["split_seed"])[1]
                                                            for s in h["splits"])])
        d = np.array([s["macro_f1"] for s in h["splits"]]) - cv
        paired.append({"frac": h["frac"], "train_share": h.get("train_share", 1.0), "splits": len(d),
                       "cv_macro_f1": round(float(cv.mean()), 4), "holdout_macro_f1": h["macro_f1_mean"],
                       "change": round(float(d.mean()), 4), "change_se": round(float(d.std() / np.sqrt(len(d))), 4)})
    row = {"kind": "odds", "size": args.size, "pool": args.pool, "c": args.c, "repeats": args.repeats,
           "backbones": args.backbones, "weighting": args.weighting, "need": args.need, "target": info["target"],
           "draws": args.draws, "n_images": len(y),
           "pooled_macro_f1": round(float(np.mean([r["macro_f1"] for r in pooled])), 4),
           "pooled_high_recall": round(float(np.mean([r["per_class"]["High"]["recall"] for r in pooled])), 4),
           "shares": per_share, "paired": sorted(paired, key=lambda d: (d["frac"], d["train_share"])),
           "seconds": round(time.perf_counter() - t0)}
    return _save(row, np.zeros(0), f"odds-{args.size}-{frozen.backbones_tag(args.backbones)}-need{args.need}")


ODDS_START = "How much one held-out set can say"


def _paired_text(r: dict) -> str:
    """The `odds` row's paired comparison with the hold-out runs, as a sentence ("" without one)."""
    if not r.get("paired"):
        return ""
    return (" On the very held-out sets of the hold-out runs (paired per split: the hold-out pipeline, trained without "
            "those groups, against these CV decisions): " + "; ".join(
                f"{d['frac']:.0%} held out" + ("" if d["train_share"] == 1 else
                                               f", trained on {d['train_share']:.0%} of the rest")
                + f" ({d['splits']} splits): CV {d['cv_macro_f1']:.3f}, hold-out {d['holdout_macro_f1']:.3f}, change "
                f"{d['change']:+.3f} ± {d['change_se']:.3f}" for d in r["paired"])
            + ". The change is what training on fewer images costs; how hard a set is shows in both.")


def _odds_lines(r: dict) -> list[str]:
    """Lines: the `odds` row's table (one line per held-out share)."""
    out = ["", f"{ODDS_START} (`… odds`): the shipped pipeline's repeated-CV decisions ({r['repeats']} fold seeds; "
               "every fold decided by a head and a High bias fitted without it) scored on "
               f"{r['draws']} random held-out group sets per size, every source × class held out alike. Pooled over "
               f"all {r['n_images']:,} images they give macro-F1 {r['pooled_macro_f1']:.3f} and High recall "
               f"{r['pooled_high_recall']:.3f}; the rows show how far one set of a given size strays from that. The "
               "heads saw 80 % of the images, the landing check's see all of them." + _paired_text(r) + "\n",
           "| groups held out (images, mean) | macro-F1 mean ± sd | High recall mean ± sd | macro-F1 ≥ 0.76 | "
           "recall ≥ 0.90 | both |",
           "|---|---|---|---|---|---|"]
    for s in r["shares"]:
        note = (f" (our {r['n_images']:,} as 70 % of a pool: 30 % of it)"
                if abs(s["images"] - r["n_images"] * 3 / 7) < 0.1 * r["n_images"] else "")
        out.append(f"| {s['share']:.0%} ({s['images']}){note} | {s['macro_f1_mean']:.3f} ± {s['macro_f1_sd']:.3f} | "
                   f"{s['high_recall_mean']:.3f} ± {s['high_recall_sd']:.3f} | {s['meets_macro_f1']:.0%} | "
                   f"{s['meets_recall']:.0%} | {s['meets_both']:.0%} |")
    return out


def _shipped_holdout(r: dict) -> bool:
    """A hold-out row is of the shipped head (group-balanced, mean of the fold heads) on float features."""
    return (r.get("variant", "float32") == "float32" and r.get("served_head") == "folds"
            and r.get("weighting") == "group")


def run_latency(args: argparse.Namespace) -> dict:
    """The accuracy rows' other axis: the frozen network(s) of a row (`--size`, `--backbones`, `--mirror`) as the served
    graph runs them: full int8 under LiteRT, 1 thread, median ms per image of `--repeats` calls (the head, a few
    thousand multiply-adds, is left out). Calibrated on `--calib` real images; the timing does not depend on them."""
    import tempfile

    from crimecast.litert import interpreter_class
    from crimecast_training import frozen
    from crimecast_training.export import export_tflite

    _df, x = _data(args.labels, args.size)
    rep = x[np.random.default_rng(0).permutation(len(x))[:args.calib]].astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "backbone_int8.tflite"
        convert_s = export_tflite(frozen.build_backbone(args.size, args.pool, args.mirror, args.backbones), "int8",
                                  rep, path)
        it = interpreter_class()(model_path=str(path), num_threads=1)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], rep[:1])
        ms, _cpu_ms = median_ms(it.invoke, args.repeats)
        mib = path.stat().st_size / 2**20
    row = {"kind": "latency", "size": args.size, "pool": args.pool, "mirror": args.mirror,
           "backbones": args.backbones, "int8_ms_1_thread": round(ms, 2),
           "repeats": args.repeats, "mib": round(mib, 1), "convert_s": round(convert_s)}
    return _save(row, np.zeros(0), f"latency-{args.size}-{frozen.backbones_tag(args.backbones)}"
                 + ("-mirror" if args.mirror else ""))


def run_finetune(args: argparse.Namespace) -> dict:
    import dataclasses

    import keras
    from crimecast.vision.metrics import classification_report
    from crimecast_training import effnet_lite0 as en
    from crimecast_training import finetune, nets
    from crimecast_training.config import TrainConfig
    from crimecast_training.data import group_folds

    nets.SPLIT_BLOCK = args.split
    df, x = _data(args.labels, 224)
    y = df["y"].to_numpy()
    folds = group_folds(df, 5, 0)
    cfg = TrainConfig(arch="efficientnet_lite0", size=224, seed=0, cache_dir=CACHE)
    finetune._set_threads(None)
    keras.utils.set_random_seed(args.seed)
    trunk, top, _full = nets.build_effnet_parts(224, en.ported_weights())
    feats = finetune._trunk_features(trunk, x, args.views, cfg)
    t0 = time.perf_counter()
    res = finetune._fit_top_cv(top, None, feats, y, folds, args.epochs, args.lr,
                               dataclasses.replace(cfg, seed=args.seed), final=False)
    oof = res["oof"]
    rep = classification_report(y, oof.argmax(1), ["High", "Medium", "Low"])
    row = {"kind": "finetune", "split": args.split, "epochs": args.epochs, "lr": args.lr, "views": args.views,
           "seed": args.seed, "macro_f1_seed0": rep["macro_f1"],
           "high_recall_argmax": rep["per_class"]["High"]["recall"],
           "per_fold_macro_f1": res["cv"]["per_fold_macro_f1"], "seconds": round(time.perf_counter() - t0)}
    return _save(row, oof, f"finetune-s{args.split}-e{args.epochs}-seed{args.seed}")


def _at_bias(oof: np.ndarray, y: np.ndarray) -> dict:
    """Cross-fitted High-bias result on fold seed 0 (the bias fitted on the other folds only)."""
    from crimecast.vision.calibration import apply_temperature, fit_temperature
    from crimecast_training import validation
    from crimecast_training.data import group_folds, load_labels

    folds = group_folds(load_labels(labels=str(LABELS_CSV)), 5, 0)
    p = apply_temperature(oof, fit_temperature(oof, y))
    return validation.choose_high_bias([{"p": p, "folds": folds}], y, 0.90)[1]["cross_fitted"]


def table(args: argparse.Namespace) -> str:
    from crimecast.vision.metrics import classification_report
    from crimecast_training.data import load_labels

    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()] if RESULTS.exists() else []
    y = load_labels(labels=args.labels)["y"].to_numpy()
    latest: dict[tuple, dict] = {}
    for r in rows:
        key = ((r["kind"], r["size"], r["pool"], r["c"], r.get("mirror", False), r.get("backbones", "lite0"),
                r.get("need", 0.9), r.get("weighting", "class"), r.get("served_head", "all"),
                r.get("train_share", 1.0), r.get("variant", "float32"), r.get("frac", HOLDOUT_FRAC))
               if r["kind"] in ("frozen", "holdout")
               else (r["kind"], r["size"], r["pool"], r["mirror"], r["backbones"]) if r["kind"] == "latency"
               else (r["kind"], r["size"], r["pool"], r["c"], r["backbones"], r["weighting"], r["need"])
               if r["kind"] == "odds"
               else (r["kind"], r["split"], r["epochs"], r["seed"]))
        latest[key] = r
    # best first by what ships: macro-F1 at the cross-fitted High rule (High recall >= 0.90), not at argmax
    frozen_rows = sorted((r for r in latest.values() if r["kind"] == "frozen"),
                         key=lambda r: -r["cross_fitted"]["macro_f1"])
    fine_rows = [r for r in latest.values() if r["kind"] == "finetune"]
    srcs = ("surv-fight", "labia-handgun", "mnnit-shoplifting", "graffiti")
    lines = [f"Commands: `.venv/bin/python scripts/bench_vision_cv.py frozen --size S --pool P --c C --repeats R "
             "[--mirror]` / "
             "`… finetune --split 11 --epochs 12 --lr 3e-4` per row, then `… table --write`.  \n"
             f"Machine: {machine()} (this run's rows; rows it holds no raw results for are kept from the earlier "
             "table, as measured then)\n",
             "Every image of ../shared/data/real-images/labels.csv (1,648) is predicted by a model that never saw its "
             "`group_id` (5 folds; the groups of every source × class dealt evenly). *Frozen*: ImageNet "
             "EfficientNet-Lite0 features, or *Lite0 ‖ Lite2@320*: those concatenated with EfficientNet-Lite2's on the "
             "image resized to 320 px (pooled head activations; the head is trained on the image and its mirror "
             "image as two samples; *served view*: what it predicts from), logistic regression (class-balanced, L2 1/C "
             "on standardised features; *group-balanced*: every `group_id` also weighs the same within its class, "
             "whatever its number of images), nothing of the backbone trained; repeated "
             "over R fold seeds (mean ± sd). *At the shipped rule*: temperature + the High bias chosen so that High "
             "recall ≥ 0.90 holds on folds *not used to fit it* (cross-fitted; mean over fold seeds). LOSO: trained on "
             "three sources, tested on the fourth (macro-F1 over the classes that source has; argmax).\n",
             "| head | input | pooling | served view | C | fold seeds | macro-F1 (argmax) mean ± sd | "
             "High recall (argmax) | macro-F1 at shipped rule | High recall / precision at shipped rule | "
             "fight / handgun / shoplifting / graffiti acc | LOSO fight / handgun / shoplifting / graffiti | "
             "LOSO mean | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in frozen_rows:
        cf, ps, lo = r["cross_fitted"], r["per_source_accuracy"], r["loso"]
        lo_f1 = [lo[s]["macro_f1"] for s in srcs if "macro_f1" in lo.get(s, {})]
        acc = " / ".join(f"{ps.get(s, float('nan')):.2f}" for s in srcs)
        los = " / ".join(f"{lo[s]['macro_f1']:.2f}" if "macro_f1" in lo.get(s, {}) else "—" for s in srcs)
        view = _view(r.get("mirror"))
        rule = "" if r.get("need", 0.9) == 0.9 else f", High rule fitted for recall {r['need']:.2f}"
        lines.append(f"| frozen + LR{_nets(r)}{rule} | {r['size']} px | {r['pool']} | {view} | {r['c']:g} | "
                     f"{r['repeats']} | "
                     f"{r['macro_f1_mean']:.3f} ± {r['macro_f1_sd']:.3f} | {r['high_recall_argmax']:.3f} | "
                     f"{cf['macro_f1']:.3f} ± {cf['macro_f1_sd']:.3f} | {cf['high_recall']:.3f} / "
                     f"{cf['high_precision']:.3f} | {acc} | {los} | {np.mean(lo_f1):.3f} | {r['seconds']} |")
    for r in fine_rows:
        oof = np.load(ROOT / r["oof_file"])
        cf = _at_bias(oof, y)
        lines.append(f"| fine-tuned from block {r['split']}, {r['epochs']} epochs | 224 px | avg | image | — | "
                     "1 (seed 0) | "
                     f"{r['macro_f1_seed0']:.3f} | {r['high_recall_argmax']:.3f} | {cf['macro_f1']:.3f} | "
                     f"{cf['high_recall']:.3f} / {cf['high_precision']:.3f} | — | — | — | {r['seconds']} |")
        for f in frozen_rows[:1]:
            ens = (oof + np.load(ROOT / f["oof_file"])) / 2
            rep = classification_report(y, ens.argmax(1), ["High", "Medium", "Low"])
            cfe = _at_bias(ens, y)
            lines.append(f"| ensemble: mean of the two rows' probabilities | {f['size']} + 224 px | — | — | — | 1 | "
                         f"{rep['macro_f1']:.3f} | {rep['per_class']['High']['recall']:.3f} | {cfe['macro_f1']:.3f} | "
                         f"{cfe['high_recall']:.3f} / {cfe['high_precision']:.3f} | — | — | — | — |")
    if frozen_rows:
        best = frozen_rows[0]
        lines += ["", "High recall / precision against the High bias (best frozen row at the shipped rule, "
                      f"{_nets(best).lstrip(', ')} {best['size']} px {best['pool']}"
                      f"{' mirror' if best.get('mirror') else ''}, "
                      "out of fold, "
                      "mean over fold seeds):\n",
                  "| High bias | High recall | High precision | macro-F1 | accuracy |", "|---|---|---|---|---|"]
        lines += [f"| {c['bias']:+.2f} | {c['high_recall']:.3f} | {c['high_precision']:.3f} | {c['macro_f1']:.3f} | "
                  f"{c['accuracy']:.3f} |" for c in best["curve"]]
    lines += _speed_rows([r for r in latest.values() if r["kind"] == "latency"], frozen_rows)
    holdouts = [r for r in latest.values() if r["kind"] == "holdout"]
    if holdouts:
        lines += ["", "What a check on unseen groups sees (`… holdout --splits N`): for each split seed ~30 % of the "
                      "groups of every source × class are held out (`group_split`), the default pipeline runs on the "
                      "rest alone (repeated group CV, temperature, cross-fitted High bias, final head), and the "
                      "held-out images are scored once with the shipped rule:\n",
                  "| input | served view | splits | macro-F1 mean ± sd (min–max) | "
                  "High recall mean ± sd (min) | "
                  "High precision | splits meeting macro-F1 ≥ 0.76 and recall ≥ 0.90 |",
                  "|---|---|---|---|---|---|---|"]
        for r in holdouts:
            f1 = [x["macro_f1"] for x in r["splits"]]
            rec = [x["high_recall"] for x in r["splits"]]
            view = _view(r.get("mirror"))
            rule = "" if r.get("need", 0.9) == 0.9 else f" (High rule fitted for recall {r['need']:.2f})"
            rule += " **(shipped rule)**" if r.get("need", 0.9) == SHIPPED_NEED else ""
            rule += ", served head: mean of the CV fold heads" if r.get("served_head", "all") == "folds" else ""
            rule += (f", **held-out images scored through the {r['variant']} backbone** (calibrated on each split's "
                     "training images, as train-classifier does)") if r.get("variant", "float32") != "float32" else ""
            share = r.get("train_share", 1.0)
            rule += (f", **trained on {share:.0%} of the training groups** ({share * (1 - r['frac']):.0%} of all; "
                     "learning curve)") if share < 1 else ""
            rule += (f", **{r['frac']:.0%} of the groups held out** (trained on {1 - r['frac']:.0%})"
                     if r.get("frac", HOLDOUT_FRAC) != HOLDOUT_FRAC else "")
            lines.append(f"| {r['size']} px {r['pool']}{_nets(r)}{rule} | {view} | {len(f1)} | "
                         f"{r['macro_f1_mean']:.3f} ± "
                         f"{r['macro_f1_sd']:.3f} ({min(f1):.3f}–{max(f1):.3f}) | {r['high_recall_mean']:.3f} ± "
                         f"{r['high_recall_sd']:.3f} ({min(rec):.3f}) | {r['high_precision_mean']:.3f} | "
                         f"{r['share_meeting_must_show']:.0%} |")
        lines += _learning_curve(holdouts, args.labels)
    odds = [r for r in latest.values() if r["kind"] == "odds" and r["need"] == SHIPPED_NEED]
    if odds:
        lines += _odds_lines(odds[-1])
    if args.write:
        lines = _keep_earlier_rows(lines, measured=bool(latest))
    lines = _with_nearer(lines, holdouts)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(TITLE, text)
    return text


SPEED_START = "Accuracy against speed"


def _speed_rows(lat: list[dict], frozen_rows: list[dict]) -> list[str]:
    """Lines: each `latency` row (the int8 frozen network(s) of an input size, networks and served view) next to the
    repeated-CV row with the same input, networks and served view (group-balanced if measured, the High rule nearest
    the shipped one), fastest first."""
    if not lat:
        return []
    out = ["", f"{SPEED_START} (`… latency --size S --backbones B [--mirror]`): the frozen network(s) of a row as "
               "the served graph runs them, full int8 under LiteRT, 1 thread, median ms per image (the head is left "
               "out: a few thousand multiply-adds), next to the CV row with the same input, networks and served view "
               "(group-balanced head where measured; the High rule nearest the shipped one). The latency goal is "
               "≤ 20 ms:\n",
           "| networks | input | served view | int8 ms, 1 thread | MiB | macro-F1 at the rule (CV) | rule fitted for | "
           "High recall / precision |",
           "|---|---|---|---|---|---|---|---|"]
    for r in sorted(lat, key=lambda r: r["int8_ms_1_thread"]):
        same = [f for f in frozen_rows if f["size"] == r["size"] and f["pool"] == r["pool"]
                and bool(f.get("mirror")) == bool(r["mirror"]) and f.get("backbones", "lite0") == r["backbones"]]
        same.sort(key=lambda f: (f.get("weighting", "class") != "group", abs(f.get("need", 0.9) - SHIPPED_NEED)))
        nets, view = _net_names(r["backbones"]), _view(r["mirror"])
        if same:
            cf = same[0]["cross_fitted"]
            balanced = "" if same[0].get("weighting", "class") == "group" else " (class-balanced head)"
            acc = (f"{cf['macro_f1']:.3f} ± {cf['macro_f1_sd']:.3f}{balanced} | {same[0].get('need', 0.9):.2f} | "
                   f"{cf['high_recall']:.3f} / {cf['high_precision']:.3f}")
        else:
            acc = "— | — | —"
        out.append(f"| {nets} | {r['size']} px {r['pool']} | {view} | {r['int8_ms_1_thread']:.1f} | {r['mib']:.1f} | "
                   f"{acc} |")
    return out


def _learning_curve(holdouts: list[dict], labels: str) -> list[str]:
    """Lines: for each High rule measured at three or more `--train-share`s (the same held-out groups per split; the
    shipped head), the points, a least-squares line of macro-F1 and High recall in log(training images), and what
    the line reads at every image of `labels` (what the landing check trains on)."""
    from crimecast_training.data import group_split, load_labels

    df = None
    out = []
    for need, mirror in sorted({(r.get("need", 0.9), bool(r.get("mirror"))) for r in holdouts}):
        rows = sorted((r for r in holdouts if _shipped_holdout(r) and r.get("need", 0.9) == need
                       and bool(r.get("mirror")) == mirror and r.get("frac", HOLDOUT_FRAC) == HOLDOUT_FRAC),
                      key=lambda r: r.get("train_share", 1.0))
        if len({r.get("train_share", 1.0) for r in rows}) < 3:
            continue
        df = load_labels(labels=labels) if df is None else df
        # rows from before --train-share lack n_train: the split is deterministic, so recount it
        n = [float(np.mean([s.get("n_train") or len(group_split(df, r["frac"], s["split_seed"])[0])
                            for s in r["splits"]])) for r in rows]
        f1 = np.array([r["macro_f1_mean"] for r in rows])
        rec = np.array([r["high_recall_mean"] for r in rows])
        bf, af = np.polyfit(np.log(n), f1, 1)
        br, ar = np.polyfit(np.log(n), rec, 1)
        at = float(np.log(len(df)))
        pts = ", ".join(f"{k:.0f} → {f:.3f} / {c:.3f}" for k, f, c in zip(n, f1, rec, strict=True))
        rule = f"the High rule fitted for {need:.2f}" + (" (shipped)" if need == SHIPPED_NEED else "")
        out += ["", f"Learning curve, served view {_view(mirror)}, {rule} (training images, mean over the splits → "
                    "macro-F1 / High recall on the "
                    f"same held-out groups): {pts}. A line in log(training images): {bf * np.log(2):+.3f} macro-F1 "
                    f"and {br * np.log(2):+.3f} High recall per doubling; at all {len(df):,} images, what the "
                    f"landing check trains on, it reads macro-F1 {af + bf * at:.3f} and High recall {ar + br * at:.3f} "
                    "(an extrapolation past the last point, not a measurement)."]
    return out


NEARER = " Measured nearer to all images"


def _with_nearer(lines: list[str], holdouts: list[dict]) -> list[str]:
    """`lines` with each run that held out fewer groups (`--frac` below 0.3, so trained nearer to all images) set
    after its rule's learning-curve line (made by this run or kept from the earlier table: the line's points are read
    back from its text), next to what the line reads at that run's training size."""
    import re

    out = list(lines)
    for r in sorted(holdouts, key=lambda r: r.get("frac", HOLDOUT_FRAC)):
        if not (_shipped_holdout(r) and r.get("frac", HOLDOUT_FRAC) < HOLDOUT_FRAC and r.get("train_share", 1.0) == 1):
            continue
        start = f"Learning curve, served view {_view(r.get('mirror'))}, the High rule fitted for {r['need']:.2f}"
        at = next((i for i, ln in enumerate(out) if ln.startswith(start)), None)
        if at is None:
            continue
        line = out[at].split(NEARER, 1)[0]
        pts = np.array([[float(v) for v in m] for m in
                        re.findall(r"(\d+) → ([\d.]+) / ([\d.]+)", line.split(". A line in log", 1)[0])])
        if len(pts) < 3:
            continue
        k = float(np.mean([s["n_train"] for s in r["splits"]]))
        f1, rec = (np.polyval(np.polyfit(np.log(pts[:, 0]), pts[:, j], 1), np.log(k)) for j in (1, 2))
        se = r["macro_f1_sd"] / np.sqrt(len(r["splits"]))
        out[at] = line + (f"{NEARER} ({r['frac']:.0%} of the groups held out, {k:.0f} training images, "
                          f"{len(r['splits'])} splits): macro-F1 {r['macro_f1_mean']:.3f} ± {r['macro_f1_sd']:.3f} "
                          f"(± {se:.3f} standard error of the mean) and High recall {r['high_recall_mean']:.3f}, where "
                          f"the line reads {f1:.3f} and {rec:.3f}.")
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


_MARK = " **(shipped rule)**"


def _remark(line: str) -> str:
    """An earlier hold-out row or learning-curve line with the shipped-rule mark moved to the rule shipped now."""
    line = line.replace(_MARK, "").replace(" (shipped) (training images", " (training images")
    line = line.replace(f"(High rule fitted for recall {SHIPPED_NEED:.2f})",
                        f"(High rule fitted for recall {SHIPPED_NEED:.2f}){_MARK}")
    return line.replace(f"the High rule fitted for {SHIPPED_NEED:.2f} (training images",
                        f"the High rule fitted for {SHIPPED_NEED:.2f} (shipped) (training images")


HEADERS = ("| head", "| input", "| High bias", "| networks", "| groups held out")


def _table_rows(lines: list[str], width: int) -> list[int]:
    return [i for i, ln in enumerate(lines) if ln.startswith("| ") and len(_cells(ln)) == width
            and not ln.startswith(HEADERS)]


def _block(lines: list[str], start: str) -> list[str]:
    """The lines from the one starting with `start` to the end of the table that follows it ([] if none)."""
    at = next((i for i, ln in enumerate(lines) if ln.startswith(start)), None)
    if at is None:
        return []
    end, seen_table = at + 1, False
    while end < len(lines) and (not seen_table or lines[end].startswith("|")):
        seen_table = seen_table or lines[end].startswith("|")
        end += 1
    return lines[at:end]


def _unique(lines: list[str], key) -> list[str]:  # noqa: ANN001
    """`lines` without repeats of a key (the first kept): an earlier section may hold a row twice."""
    seen: set = set()
    return [ln for ln in lines if not (key(ln) in seen or seen.add(key(ln)))]


def _keep_earlier_rows(lines: list[str], doc: Path | None = None, measured: bool = True) -> list[str]:
    """Merge this run's section with the one in `doc` (docs/benchmarks.md), so that a table rewritten on a fresh
    machine (whose .cache/bench_vision_cv.jsonl holds only its own rows) loses nothing measured before: CV rows
    (14 cells, keyed by their first 6), hold-out rows (7 cells, keyed by their first 2 without the shipped-rule
    mark) and speed rows (8 cells, keyed by their first 3) this run does not hold are kept as they were measured, as
    are the High-bias curve (when this run cannot redo it, or its best row is worse than an earlier one) and each
    rule's learning-curve line when this run cannot redo them, and the odds table when this run has none. CV rows
    are re-sorted
    by the macro-F1 at the shipped rule; the shipped-rule mark follows `SHIPPED_NEED`, so a row is never kept twice
    because the mark moved, and a row the earlier section held twice is kept once. A speed row re-timed by a run that
    lacks the CV row of its graph takes that graph's earlier CV cells. A run that `measured` nothing keeps the earlier
    machine line too."""
    import re

    doc = doc or ROOT / "docs" / "benchmarks.md"
    m = re.search(rf"^## {re.escape(TITLE)}\n(.*?)(?=^## |\Z)", doc.read_text(), re.S | re.M) if doc.exists() else None
    old = [_remark(ln) for ln in (m.group(1).splitlines() if m else [])]
    out = "\n".join(lines).splitlines()
    old_machine = next((ln for ln in old if ln.startswith("Machine: ")), None)
    if not measured and old_machine:
        out = [old_machine if ln.startswith("Machine: ") else ln for ln in out]

    def key(ln: str, n: int) -> tuple:
        return tuple(c.replace(_MARK.strip(), "").strip() for c in _cells(ln)[:n])

    # CV rows
    idx = _table_rows(out, 14)
    have = {key(out[i], 6) for i in idx}
    rows = [out[i] for i in idx] + _unique([ln for ln in (old[i] for i in _table_rows(old, 14))
                                            if key(ln, 6) not in have], lambda ln: key(ln, 6))
    rows.sort(key=lambda ln: -float(_cells(ln)[8].split()[0]) if _cells(ln)[8][:1].isdigit() else 0.0)
    head = next((i for i, ln in enumerate(out) if ln.startswith("| head")), None)
    if head is not None and rows:
        out = out[:head + 2] + rows + [ln for i, ln in enumerate(out) if i > head + 1 and i not in idx]
    # the High-bias curve
    bias_start = "High recall / precision against the High bias"
    earlier_best = bool(rows) and key(rows[0], 6) not in have  # the best row was measured before, not by this run
    if _block(old, bias_start) and head is not None and (earlier_best or not _block(out, bias_start)):
        if (mine := _block(out, bias_start)):  # this run's curve is of a row that is not the best one: drop it
            at = out.index(mine[0])
            del out[at - (at > 0 and out[at - 1] == ""):at + len(mine)]  # with the blank line before it
        end = head + 2 + len(rows)
        out = out[:end] + [""] + _block(old, bias_start) + out[end:]
    # hold-out rows, speed rows
    for width, key_n, start in ((7, 2, "What a check on unseen groups sees"), (8, 3, SPEED_START)):
        idx = _table_rows(out, width)
        have = {key(out[i], key_n) for i in idx}
        earlier = [old[i] for i in _table_rows(old, width)]
        kept = _unique([ln for ln in earlier if key(ln, key_n) not in have], lambda ln, n=key_n: key(ln, n))
        if width == 8:  # a speed row re-timed here, whose CV row this machine lacks: the CV cells measured before
            for i in idx:
                if _cells(out[i])[5:] == ["—"] * 3 and (was := next((ln for ln in earlier if key(ln, 3) ==
                                                                      key(out[i], 3)), None)):
                    out[i] = "| " + " | ".join(_cells(out[i])[:5] + _cells(was)[5:]) + " |"
        if idx:
            out = out[:idx[-1] + 1] + kept + out[idx[-1] + 1:]
        elif kept:
            intro = _block(old, start)
            out += [""] + [ln for ln in intro if not (ln.startswith("| ") and len(_cells(ln)) == width
                                                     and not ln.startswith(HEADERS))] + kept
    # the odds table, when this run has none
    if (earlier_odds := _block(old, ODDS_START)) and not _block(out, ODDS_START):
        out += [""] + earlier_odds
    # learning-curve lines
    def curve(ln: str) -> str:  # the view and rule a learning-curve line is about
        return ln.split(" (training images", 1)[0].replace(" (shipped)", "")

    new_curves = {curve(ln) for ln in out if ln.startswith("Learning curve, ")}
    for ln in old:
        if ln.startswith("Learning curve, ") and curve(ln) not in new_curves:
            out += ["", ln]
    return out


def frozen_spec(spec: str) -> None:
    from crimecast_training.frozen import parse_backbones

    parse_backbones(spec)


def _net_names(spec: str) -> str:
    """"lite0+lite2@320" → "Lite0 ‖ Lite2@320"."""
    return " ‖ ".join(p.replace("lite", "Lite") for p in spec.split("+"))


def _view(mirror: bool | None) -> str:
    """What the served head predicts from."""
    return "mean of image + mirror" if mirror else "image"


def _nets(r: dict) -> str:
    """"" for Lite0 alone (every earlier row), else ", Lite0 ‖ Lite2@320"; ", group-balanced" for that weighting."""
    spec = r.get("backbones", "lite0")
    nets = "" if spec == "lite0" else ", " + _net_names(spec)
    return nets + (", group-balanced" if r.get("weighting", "class") == "group" else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("frozen")
    f.add_argument("--size", type=int, default=320)
    f.add_argument("--pool", choices=["avg", "avgmax"], default="avgmax")
    f.add_argument("--c", type=float, default=0.01)
    f.add_argument("--repeats", type=int, default=5)
    f.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=False,
                   help="served features = mean over the image and its mirror image (train-classifier's --mirror; "
                        "off by default there too)")
    f.add_argument("--need", type=float, default=0.90,
                   help=f"cross-fitted High recall the High rule is fitted for (train-classifier: {SHIPPED_NEED})")
    f.add_argument("--weighting", choices=["group", "class"], default="class",
                   help="head training weights, as train-classifier's --weighting (train-classifier's default: group)")
    f.add_argument("--backbones", default="lite0", help="frozen networks, e.g. lite0+lite2@320 (train-classifier's "
                                                        "default)")
    h = sub.add_parser("holdout", help="train on ~70 %% of the groups with the default pipeline, score the rest")
    h.add_argument("--size", type=int, default=384)
    h.add_argument("--pool", choices=["avg", "avgmax"], default="avgmax")
    h.add_argument("--c", type=float, default=0.01)
    h.add_argument("--repeats", type=int, default=3)
    h.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=False,
                   help="serve the mean over the image and its mirror image (train-classifier's --mirror; default off)")
    h.add_argument("--backbones", default="lite0+lite2@320")
    h.add_argument("--weighting", choices=["group", "class"], default="group",
                   help="head training weights, as train-classifier's --weighting (default group)")
    h.add_argument("--served-head", choices=["folds", "all"], default="folds",
                   help="the head scored on the held-out groups, as train-classifier's --served-head (default folds)")
    h.add_argument("--need", type=float, nargs="+", default=[SHIPPED_NEED],
                   help="cross-fitted High recall the High rule is fitted for (train-classifier: the 0.90 promise + "
                        f"its margin = {SHIPPED_NEED}); one row each")
    h.add_argument("--variants", choices=["float32", "dynamic", "int8"], nargs="+", default=["float32"],
                   help="score the held-out images through each of these backbone variants, with the same heads "
                        "(float32: the float features; int8: exported per split, calibrated on its training images)")
    h.add_argument("--frac", type=float, default=HOLDOUT_FRAC,
                   help="share of the groups of every source x class held out (default 0.3, as the landing check); "
                        "a smaller share trains nearer to all images and tests the learning curve's reading there")
    h.add_argument("--splits", type=int, default=10)
    h.add_argument("--train-share", type=float, default=1.0,
                   help="train on only this share of the non-held-out groups (of every source × class), the same "
                        "held-out groups scored: a learning curve toward the check, which trains on all of them")
    o = sub.add_parser("odds", help="how often one held-out set of a size meets the must-show (CV decisions)")
    o.add_argument("--size", type=int, default=384)
    o.add_argument("--pool", choices=["avg", "avgmax"], default="avgmax")
    o.add_argument("--c", type=float, default=0.01)
    o.add_argument("--repeats", type=int, default=3)
    o.add_argument("--backbones", default="lite0+lite2@320")
    o.add_argument("--weighting", choices=["group", "class"], default="group")
    o.add_argument("--need", type=float, default=SHIPPED_NEED,
                   help=f"cross-fitted High recall the High rule is fitted for (train-classifier: {SHIPPED_NEED})")
    o.add_argument("--shares", type=float, nargs="+", default=[0.1, 0.3, 0.42],
                   help="shares of the groups held out, one row each (0.42 of our images ≈ 30 %% of a pool that "
                        "holds them as its other 70 %%)")
    o.add_argument("--draws", type=int, default=200, help="random held-out sets per share")
    lat = sub.add_parser("latency", help="int8 LiteRT ms per image (1 thread) of a row's frozen network(s)")
    lat.add_argument("--size", type=int, default=384)
    lat.add_argument("--pool", choices=["avg", "avgmax"], default="avgmax")
    lat.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=False,
                     help="time the graph that serves the mean over the image and its mirror image (default off, as "
                          "train-classifier ships)")
    lat.add_argument("--backbones", default="lite0+lite2@320")
    lat.add_argument("--repeats", type=int, default=30)
    lat.add_argument("--calib", type=int, default=64, help="real images the int8 ranges are calibrated on")
    r = sub.add_parser("finetune")
    r.add_argument("--split", type=int, default=11)
    r.add_argument("--epochs", type=int, default=12)
    r.add_argument("--lr", type=float, default=3e-4)
    r.add_argument("--views", type=int, default=4)
    r.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("table")
    t.add_argument("--write", action="store_true")
    for p in (f, h, o, lat, r, t):
        p.add_argument("--labels", default=str(LABELS_CSV))
    args = ap.parse_args(argv)
    if args.cmd == "holdout" and not (0 < args.frac < 1 and args.splits >= 1 and all(0 < n < 1 for n in args.need)
                                      and 0 < args.train_share <= 1):
        ap.error(f"holdout: --frac and --need must be in (0, 1), --train-share in (0, 1] and --splits >= 1 (got "
                 f"{args.frac}, {args.need}, {args.train_share}, {args.splits})")
    if args.cmd == "odds" and not (args.shares and all(0 < x < 1 for x in args.shares) and args.draws >= 1
                                   and args.repeats >= 1 and 0 < args.need < 1):
        ap.error(f"odds: --shares and --need must be in (0, 1), --draws and --repeats >= 1 (got {args.shares}, "
                 f"{args.need}, {args.draws}, {args.repeats})")
    if args.cmd == "frozen" and not 0 < args.need < 1:
        ap.error(f"frozen: --need must be in (0, 1) (got {args.need})")
    if args.cmd == "latency" and not (args.repeats >= 1 and args.calib >= 1):
        ap.error(f"latency: --repeats and --calib must be >= 1 (got {args.repeats}, {args.calib})")
    if args.cmd in ("frozen", "holdout", "latency", "odds"):
        try:
            frozen_spec(args.backbones)
        except ValueError as exc:
            ap.error(str(exc))
    if not Path(args.labels).exists():
        print(f"{args.labels}: not found (the shared real-image set is needed)", file=sys.stderr)
        return 2
    {"frozen": run_frozen, "holdout": run_holdout, "latency": run_latency, "odds": run_odds, "finetune": run_finetune,
     "table": table}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
