"""How the frozen-feature classifier is validated (numpy + the head fitter): repeated group cross-validation,
leave-one-source-out, a High bias whose recall promise is checked on data not used to fit it, the recall/precision
curve, and the out-of-distribution threshold with its check on inputs unlike any training image."""

from __future__ import annotations

import numpy as np
import pandas as pd
from crimecast.vision.calibration import apply_temperature, fit_temperature
from crimecast.vision.metrics import classification_report, decide, high_bias_for_recall, high_tradeoff

from crimecast_training import frozen
from crimecast_training.data import LABELS, group_folds

TARGETS = tuple(round(0.90 + 0.005 * i, 3) for i in range(17))  # 0.900, 0.905, …, 0.980


def head_groups(df: pd.DataFrame, weighting: str) -> np.ndarray | None:
    """What the head's training weights balance over (frozen.fit_head's `groups`): the images' group ids for
    "group", nothing (classes only) for "class"."""
    if weighting not in frozen.WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; expected one of {frozen.WEIGHTINGS}")
    return df["group_id"].to_numpy() if weighting == "group" else None


def repeated_cv(df: pd.DataFrame, views: list[np.ndarray], k: int, repeats: int, c: float, seed: int = 0,
                log=print, mirror: bool = False, weighting: str = "class") -> list[dict]:  # noqa: ANN001
    """One entry per fold seed: {"seed", "folds", "oof", "heads"}: out-of-fold probabilities of every image (as the
    shipped graph sees it: `mirror` = the mean of its original and mirrored features) and the k fold heads (W, b)."""
    y = df["y"].to_numpy()
    groups = head_groups(df, weighting)
    out = []
    for r in range(repeats):
        folds = group_folds(df, k, seed + r)
        heads: list = []
        oof = frozen.cross_val_probs(views, y, folds, c, seed, mirror, groups, heads)
        f1 = classification_report(y, oof.argmax(1), LABELS)["macro_f1"]
        log(f"group CV fold seed {seed + r}: out-of-fold macro-F1 {f1:.3f} (argmax)")
        out.append({"seed": seed + r, "folds": folds, "oof": oof, "heads": heads})
    return out


def served_head(runs: list[dict], df: pd.DataFrame, views: list[np.ndarray], c: float, seed: int = 0,
                weighting: str = "class", kind: str = "folds") -> tuple[np.ndarray, np.ndarray]:
    """The head (W, b) the shipped graph serves: "folds" = the mean of `runs`' fold heads (those the temperature and
    High bias are fitted on); "all" = one head refitted on every view of every image in `df`."""
    if kind == "folds":
        return frozen.mean_head([h for r in runs for h in r["heads"]])
    if kind != "all":
        raise ValueError(f"unknown served head {kind!r}; expected folds or all")
    groups = head_groups(df, weighting)
    return frozen.fit_head(np.concatenate(views), np.concatenate([df["y"].to_numpy()] * len(views)), c, seed,
                           groups=None if groups is None else np.concatenate([groups] * len(views)))


def leave_one_source_out(df: pd.DataFrame, views: list[np.ndarray], c: float, temperature: float, bias: float,
                         seed: int = 0, mirror: bool = False, weighting: str = "class") -> dict:
    """Train on every other source, test on one (macro-F1 over the classes that source has)."""
    y, src = df["y"].to_numpy(), df["source"].to_numpy()
    groups = head_groups(df, weighting)
    rows = {}
    sources = sorted(set(src))
    if len(sources) < 2:
        return rows
    for s in sources:
        tr, te = np.nonzero(src != s)[0], np.nonzero(src == s)[0]
        if len(set(y[tr])) < 3:
            rows[s] = {"n": int(len(te)), "skipped": "the other sources lack a class"}
            continue
        p = apply_temperature(frozen.fit_train_predict(views, y, tr, te, c, seed, mirror, groups), temperature)
        rep = classification_report(y[te], p.argmax(1), LABELS)
        repb = classification_report(y[te], decide(p, np.array([bias, 0, 0])), LABELS)
        rows[s] = {"n": int(len(te)), "macro_f1": rep["macro_f1"], "accuracy": rep["accuracy"],
                   "macro_f1_shipped_bias": repb["macro_f1"],
                   "high_recall_shipped_bias": repb["per_class"]["High"]["recall"]
                   if repb["per_class"]["High"]["support"] else None}
    return rows


def cross_fitted_decisions(runs: list[dict], y: np.ndarray, target: float) -> list[np.ndarray]:
    """For every repeat: each fold's decisions with the High bias fitted (for recall `target`) on the *other* folds'
    out-of-fold predictions; no image is decided by a rule fitted on it."""
    preds = []
    for run in runs:
        p, folds = run["p"], run["folds"]
        pred = np.zeros(len(y), int)
        for f in range(int(folds.max()) + 1):
            te = folds == f
            b = high_bias_for_recall(p[~te], y[~te], target)
            pred[te] = decide(p[te], np.array([b, 0.0, 0.0]))
        preds.append(pred)
    return preds


def cross_fitted_bias(runs: list[dict], y: np.ndarray, target: float) -> dict:
    """For every repeat and fold: the High bias fitted on the *other* folds' out-of-fold predictions, applied to this
    fold. What the bias-fitting rule delivers on images it was not fitted on (mean and sd over repeats)."""
    per = []
    for pred in cross_fitted_decisions(runs, y, target):
        rep = classification_report(y, pred, LABELS)
        per.append((rep["per_class"]["High"]["recall"], rep["per_class"]["High"]["precision"], rep["macro_f1"]))
    a = np.array(per)
    return {"target": target, "high_recall": round(float(a[:, 0].mean()), 4),
            "high_recall_min": round(float(a[:, 0].min()), 4), "high_precision": round(float(a[:, 1].mean()), 4),
            "macro_f1": round(float(a[:, 2].mean()), 4), "macro_f1_sd": round(float(a[:, 2].std()), 4)}


def choose_high_bias(runs: list[dict], y: np.ndarray, need: float = 0.90) -> tuple[float, dict]:
    """The smallest recall target whose cross-fitted High recall (mean over repeats) is >= `need`; the shipped bias
    is that target's bias fitted on all out-of-fold predictions. A larger target only where the fold-to-fold
    spread requires it, so the promise is kept without overshooting."""
    pooled_p = np.concatenate([r["p"] for r in runs])
    pooled_y = np.concatenate([y] * len(runs))
    tried = []
    chosen = None
    for t in TARGETS:
        cf = cross_fitted_bias(runs, y, t)
        tried.append(cf)
        if cf["high_recall"] >= need:
            chosen = cf
            break
    chosen = chosen or tried[-1]
    bias = high_bias_for_recall(pooled_p, pooled_y, chosen["target"])
    return bias, {"need": need, "target": chosen["target"], "cross_fitted": chosen, "tried": tried,
                  "rule": "smallest recall target whose bias, fitted on the other folds' out-of-fold predictions, "
                          f"gives High recall >= {need} on the held-out fold (mean over fold seeds); the shipped "
                          "bias is that target's bias on all out-of-fold predictions"}


def calibrate_runs(runs: list[dict], y: np.ndarray, need: float = 0.90) -> tuple[float, float, dict]:
    """The shipped decision's two fitted numbers from the repeated CV: the temperature on every run's out-of-fold
    predictions (each run gets its calibrated "p"), then the High bias (choose_high_bias). Returns (temperature,
    bias, bias_info)."""
    temperature = fit_temperature(np.concatenate([r["oof"] for r in runs]), np.concatenate([y] * len(runs)))
    for r in runs:
        r["p"] = apply_temperature(r["oof"], temperature)
    bias, info = choose_high_bias(runs, y, need)
    return temperature, bias, info


def variant_out_of_fold(runs: list[dict], y: np.ndarray, served_float: np.ndarray, served_variant: np.ndarray,
                        temperature: float, bias: float) -> dict:
    """What a quantised backbone costs on images the head never saw: every fold head of every run applied to its
    held-out fold's features from the quantised backbone (`served_variant`) and from the float one (`served_float`),
    both at the shipped rule (temperature, then the High bias). Mean over the fold seeds; the change is paired (same
    heads, same images). An in-sample comparison cannot stand in for this: there the float head is nearly always
    right, so every decision quantisation flips counts as a loss, while out of fold flips go both ways."""
    bvec = np.array([bias, 0.0, 0.0])
    per: list[dict] = []
    for r in runs:
        pf, pv = np.zeros((len(y), 3)), np.zeros((len(y), 3))
        for f, (w, b) in enumerate(r["heads"]):
            te = np.nonzero(r["folds"] == f)[0]
            pf[te] = frozen.head_probs(served_float[te], w, b)
            pv[te] = frozen.head_probs(served_variant[te], w, b)
        pf, pv = apply_temperature(pf, temperature), apply_temperature(pv, temperature)
        a, q = high_tradeoff(pf, y, bias), high_tradeoff(pv, y, bias)
        per.append({"macro_f1": q["macro_f1"], "macro_f1_change": q["macro_f1"] - a["macro_f1"],
                    "high_recall": q["high_recall"], "high_recall_change": q["high_recall"] - a["high_recall"],
                    "agreement_at_rule": float((decide(pf, bvec) == decide(pv, bvec)).mean())})

    def mean(k: str) -> float:
        return round(float(np.mean([d[k] for d in per])), 4)

    return {k: mean(k) for k in per[0]} | {
        "macro_f1_change_per_fold_seed": [round(d["macro_f1_change"], 4) for d in per],
        "measured_on": f"out of fold ({len(runs)} fold seeds): the CV's fold heads on this variant's backbone "
                       "features vs the float backbone's, at the shipped rule"}


def recall_precision_curve(runs: list[dict], y: np.ndarray) -> list[dict]:
    """High recall / precision / macro-F1 against the High bias, on the out-of-fold predictions (mean over repeats)."""
    pooled_p = np.concatenate([r["p"] for r in runs])
    pooled_y = np.concatenate([y] * len(runs))
    rows = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99):
        b = high_bias_for_recall(pooled_p, pooled_y, t)
        pts = [high_tradeoff(r["p"], y, b) for r in runs]
        rows.append({"bias": round(b, 3)} | {k: round(float(np.mean([p[k] for p in pts])), 4)
                                             for k in ("high_recall", "high_precision", "macro_f1", "accuracy")})
    return rows


# ---------------------------------------------------------------------------------------------- OOD
def cross_fitted_ood(served: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """OOD score of every real image (its served features) from a score fitted on the other folds (what an unseen
    real image scores)."""
    s = np.zeros(len(folds))
    for f in range(int(folds.max()) + 1):
        te = folds == f
        s[te] = frozen.ood_score(served[te], frozen.fit_ood(served[~te]))
    return s


def probe_images(size: int, n_each: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs unlike any training photo, uint8 (n, size, size, 3) per kind: blank frames, noise, test patterns and
    the project's synthetic drawings."""
    from crimecast.synth_images import CLASSES, render_scene
    from crimecast.vision import preprocess

    rng = np.random.default_rng(seed)
    s = size
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("blank", "uniform noise", "gaussian noise", "gradient",
                                                        "checkerboard", "synthetic drawing")}
    for i in range(n_each):
        out["blank"].append(np.full((s, s, 3), rng.integers(0, 256, 3), np.uint8))
        out["uniform noise"].append(rng.integers(0, 256, (s, s, 3)).astype(np.uint8))
        out["gaussian noise"].append(np.clip(rng.normal(128, rng.uniform(10, 60), (s, s, 3)), 0, 255).astype(np.uint8))
        g = np.linspace(0, 255, s)[None, :, None] * rng.uniform(0.2, 1, 3) + rng.uniform(0, 60, 3)
        out["gradient"].append(np.clip(np.broadcast_to(g, (s, s, 3)), 0, 255).astype(np.uint8))
        cell = int(rng.integers(4, 40))
        board = ((np.arange(s)[:, None] // cell + np.arange(s)[None, :] // cell) % 2).astype(np.uint8) * 255
        out["checkerboard"].append(np.repeat(board[:, :, None], 3, 2))
        out["synthetic drawing"].append(preprocess.to_array(render_scene(rng, CLASSES[i % len(CLASSES)]), s))
    return {k: np.stack(v) for k, v in out.items()}


def ood_report(real_scores: np.ndarray, probe_scores: dict[str, np.ndarray], threshold: float) -> dict:
    """Share of held-out real images and of each probe kind flagged as out of distribution, and the AUROC."""
    rows = {k: {"n": int(len(v)), "flagged": round(float((v > threshold).mean()), 4),
                "median_score": round(float(np.median(v)), 2)} for k, v in probe_scores.items()}
    allp = np.concatenate(list(probe_scores.values()))
    auroc = float((allp[:, None] > real_scores[None, :]).mean() + 0.5 * (allp[:, None] == real_scores[None, :]).mean())
    return {"threshold": round(float(threshold), 3),
            "real_flagged": round(float((real_scores > threshold).mean()), 4),
            "real_median_score": round(float(np.median(real_scores)), 2),
            "probes": rows, "auroc_probes_vs_real": round(auroc, 4)}
