"""MODEL_CARD.md of a trained classifier, rendered from its metadata.json (so the card never disagrees with it)."""

from __future__ import annotations

import json
from pathlib import Path


def _variant_note(meta: dict) -> str:
    """Why the default variant: the rule, and the served variant's out-of-fold quantisation check where it had one."""
    rule = ("the fastest faithful one: a variant faster than float32 must keep, out of fold at the shipped rule, "
            "macro-F1 within 0.01 of the float backbone's and the High recall promise")
    oof = meta.get("variants", {}).get(meta.get("default_variant"), {}).get("out_of_fold")
    if not oof:
        return rule
    return (f"{rule}; out of fold it changes macro-F1 by {oof['macro_f1_change']:+.3f} and High recall by "
            f"{oof['high_recall_change']:+.3f}, and takes the float backbone's decision on "
            f"{oof['agreement_at_rule']:.1%} of the images")


def _f(v, nd: int = 3) -> str:  # noqa: ANN001
    return "—" if v is None else f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _backbones(spec: str | None) -> str:
    """"lite0+lite2@320" → "EfficientNet-Lite0 ‖ EfficientNet-Lite2 (at 320 px), concatenated"."""
    parts = []
    for p in (spec or "lite0").split("+"):
        name, _, size = p.partition("@")
        parts.append(f"EfficientNet-{name.capitalize()}" + (f" (at {size} px, resized in the graph)" if size else ""))
    return " ‖ ".join(parts) + (", concatenated" if len(parts) > 1 else "")


def render(meta: dict) -> str:
    t, v, cal = meta.get("trained_on", {}), meta.get("validation", {}), meta.get("calibration", {})
    m, ood, tr = meta.get("metrics", {}), meta.get("ood", {}), meta.get("training", {})
    lines = [f"# Image risk classifier {meta['version']}", "",
             "Surveillance image → High (immediate response) / Medium (monitor) / Low (routine patrol), with a "
             "calibrated confidence and \"uncertain → human review\" for low confidence or out-of-distribution inputs.",
             "", "## What it is", "",
             f"- Architecture: {meta['arch']}, head `{meta.get('head', 'finetune')}` at {meta['input']['size']} px "
             f"(pooling {tr.get('pool', 'avg')}): frozen ImageNet features of {_backbones(tr.get('backbones'))}"
             + (" (the mean over the image and its mirror image)" if tr.get("mirror")
                else " (of the image; the head was trained on every image and its mirror image)"
                if meta.get("head") == "frozen" and tr.get("views", 1) == 2 else "")
             + f" + logistic regression (C {tr.get('c')}"
             + (", group-balanced: every video or scene weighs the same within its class"
                if tr.get("weighting") == "group" else "")
             + ("; the served head is the mean of the cross-validation's fold heads, the heads the temperature and "
                "High bias were fitted on" if tr.get("served_head") == "folds" else "")
             + ") + an out-of-distribution score, one TFLite graph run by "
             f"LiteRT (default variant {meta['default_variant']}, {_variant_note(meta)}).",
             f"- Trained on: **{t.get('kind', 'unknown')}** images, {t.get('n_items')} from "
             f"{', '.join(t.get('sources', []))} (data sha256 `{str(t.get('data_sha256'))[:16]}…`).",
             f"- Made by: `{meta.get('command')}` at code `{str(meta.get('code_version'))[:12]}`, "
             f"{meta.get('created_utc', '')}, in {tr.get('total_seconds', 0) / 60:.1f} min.", "",
             "## How well it does (images of groups it never saw)", "",
             f"{v.get('what', '')}.", "",
             "| measure | value |", "|---|---|",
             f"| macro-F1 at the shipped High rule (mean ± sd over fold seeds) | {_f(v.get('macro_f1'))} ± "
             f"{_f(v.get('macro_f1_sd'))} |",
             f"| High recall / precision at the shipped rule | {_f(v.get('high_recall'))} / "
             f"{_f(v.get('high_precision'))} |",
             f"| macro-F1 without the High bias (argmax) | {_f(v.get('macro_f1_argmax'))} ± "
             f"{_f(v.get('macro_f1_argmax_sd'))} |",
             f"| leave-one-source-out macro-F1 (mean of 4) | {_f(v.get('loso_macro_f1_mean'))} |",
             f"| calibration: temperature / ECE before → after | {_f(cal.get('temperature'), 2)} / "
             f"{_f(cal.get('ece_before'))} → {_f(cal.get('ece_after'))} |", "",
             "### High recall against precision (out of fold; the High bias is the shipped decision's knob)", "",
             "| High bias (log-odds) | High recall | High precision | macro-F1 |", "|---|---|---|---|"]
    lines += [f"| {c['bias']:+.2f} | {c['high_recall']:.3f} | {c['high_precision']:.3f} | {c['macro_f1']:.3f} |"
              for c in v.get("recall_precision_curve", [])]
    note = cal.get("decision_bias_note", "")
    fit = cal.get("bias_fit", {})
    if fit.get("margin"):
        note += (f" (the {fit['promise']:.2f} promise plus a {fit['margin']:.2f} margin: on simulated unseen groups a "
                 "rule fitted for the promise alone fell short of it, and the shortfall grew with the training set; "
                 "docs/benchmarks.md)")
    lines += ["", f"Shipped High bias: **{cal.get('decision_bias', [0])[0]:+.3f}** — {note}.",
              "", "### Per source (out of fold, shipped rule) and leave-one-source-out", "",
              "| source | n | accuracy | macro-F1 | High recall | LOSO macro-F1 (trained without this source) |",
              "|---|---|---|---|---|---|"]
    loso = m.get("leave_one_source_out", {})
    for s, r in m.get("validation_per_source", {}).items():
        lines.append(f"| {s} | {r['n']} | {_f(r['accuracy'])} | {_f(r['macro_f1'])} | {_f(r.get('high_recall'))} | "
                     f"{_f(loso.get(s, {}).get('macro_f1'))} |")
    if ood:
        sm = ood.get("validation", {}).get("served_model", {})
        lines += ["", "## When it says \"uncertain → human review\"", "",
                  f"- Calibrated confidence below {cal.get('abstain_threshold')}; out of fold that is "
                  f"{_f(meta.get('abstention', {}).get('uncertain_fraction'))} of the images.",
                  f"- Out-of-distribution score above {_f(ood.get('threshold'), 2)} ({ood.get('score')}; threshold "
                  f"at the {ood.get('quantile_of_heldout_real')} quantile of held-out real images).", "",
                  "| input | n | flagged out of distribution |", "|---|---|---|",
                  f"| real labelled images (in-sample) | {tr.get('images')} | {_f(sm.get('real_flagged'))} |"]
        lines += [f"| {k} | {r['n']} | {_f(r['flagged'])} |" for k, r in sm.get("probes", {}).items()]
    lines += ["", "## Limits", "",
              "- Four public sources only; Medium comes from two (graffiti photos, staged shoplifting) and is weak.",
              "- Single frames of fights are the hard part; a 10-px handgun is mostly invisible. Video clips use the "
              "k-of-n frame rule.",
              "- Labels and licences: see ../shared/data/real-images/README.md.", ""]
    return "\n".join(lines)


def write(model_dir: str | Path) -> Path:
    d = Path(model_dir)
    path = d / "MODEL_CARD.md"
    path.write_text(render(json.loads((d / "metadata.json").read_text())))
    return path


if __name__ == "__main__":
    import sys

    print(write(sys.argv[1]))
