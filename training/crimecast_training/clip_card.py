"""The clip model's MODEL_CARD.md, written from its metadata.json by the trainer (`crimecast_training.clip`)."""

from __future__ import annotations


def model_card(meta: dict) -> str:
    v, s, c, t = meta["validation"], meta["sampling"], meta["calibration"], meta["trained_on"]
    sh = v["shipped_threshold_on_oof_seed0"]
    rows = "\n".join(f"| {k} | {x['mean']:.3f} ± {x['sd']:.3f} |" for k, x in v["summary"].items())
    fights = f", fight-clip accuracy {sh['fight_clip_accuracy']:.3f}" if "fight_clip_accuracy" in sh else ""
    h = meta.get("head") or {"kind": "temporal"}
    if h["kind"] == "pooled":
        dyn = "dyn_weight" in h
        wd = h.get("dyn_weight", 0.0)
        wa, wm = (1 - wd) * h["app_weight"], (1 - wd) * (1 - h["app_weight"])
        head_text = (f"{'three' if dyn else 'two'}-stream late-fusion head, float32, input (1, {h['input_shape'][0]}): "
                     "each window's statistics (`crimecast.vision.clip_features.window_stats`: appearance mean ‖ max ‖ "
                     "mean change" + (", the same of the dynamic images' vectors" if dyn else "")
                     + ", optical flow mean ‖ max ‖ std ‖ mean change"
                     + (f", each flow statistic in a {h['mot_knots']}-knot piecewise-linear basis" if h.get("mot_knots")
                        else "") + "), one logistic regression per stream (appearance C "
                     + f"{h['app_c']}" + (f", dynamic images C {h['dyn_c']}" if dyn else "")
                     + f", motion C {h['mot_c']}, each fitted on its own), probabilities mixed "
                     + (f"{wa:g} : {wd:g} : {wm:g} (appearance : dynamic images : motion)." if dyn
                        else f"{wa:g} : {wm:g}."))
    else:
        head_text = ("temporal head (per-stream projection, appearance change over time, two 1-D convolutions, mean + "
                     f"max pooling over time), float32, input (1, {s['frames']}, {meta['input']['feature_dim']}).")
    every = meta["input"].get("dynamic_every", 0)
    dyn_line = ("" if not every else
                f"- dynamic images: on every {every}{'nd' if every == 2 else 'th'} sampled frame, the approximate rank "
                "pooling (Bilen et al. 2016) of the source frames since the previous one (at most "
                "30 frames/s), encoded by `encoder.tflite` like a frame (`crimecast.vision.clip_features`).\n")
    mirror_text = (" (each clip also mirrored left-right, the two halves weighing one clip)"
                   if (meta.get("config") or {}).get("mirror_train") else "")
    hb = c.get("high_bias_fit") or {}
    cf = hb.get("cross_fitted")
    cross = "" if not cf else (
        f"; cross-fitted, i.e. the rule fitted on the other folds and scored on the held-out one: High recall "
        f"{cf['high_recall']:.3f}, precision {cf['high_precision']:.3f}, macro-F1 {cf['macro_f1']:.3f}")
    return f"""# Clip risk model ({meta['version']})

Clip-level risk (High / Medium / Low) of CCTV video with calibrated confidence, abstention, a per-window
risk timeline and High segments. Served by `crimecast.vision.clip_model.ClipClassifier` (LiteRT only).

## What it is
- `encoder.tflite`: {meta['input']['encoder']} (not fine-tuned): {meta['input']['appearance_dim']}-d features per
  frame, float I/O, input {meta['input']['size']}×{meta['input']['size']} RGB 0..255.
{dyn_line}- motion: Farneback optical flow between consecutive sampled frames at 96×72 grey,
  {meta['input']['motion_dim']} statistics per frame (`crimecast.vision.clip_motion`).
- `model.tflite`: {head_text}
- Sampling: {s['fps']:g} frames/s, windows of {s['frames']} frames ({s['window_s']:g} s; a shorter clip is one window
  of all its frames) every {s['stride']} frames; clip = mean of the window probabilities inside its most alarming
  span of at most {s['span_s']:g} s.
- Calibration: temperature {c['temperature']}, High bias {c['decision_bias'][0]} (log-odds, fitted on
  out-of-fold predictions for High recall ≥ {hb.get('need', 0.9)}{cross}), abstain (uncertain, human review)
  below confidence {c['abstain_threshold']}.

## Trained on
{t['n_items']} real clips, {t['n_groups']} source groups, sources {', '.join(t['sources'])}{mirror_text}
(`../shared/data/real-clips`, see its README for provenance and licences); data sha256 `{t['data_sha256'][:16]}…`.
Command: `{meta['command']}`; code {meta['code_version'][:10]}.

## Validation ({v['protocol']})
| metric (argmax, mean ± sd over fold seeds) | value |
|---|---|
{rows}

At the shipped threshold (temperature + High bias, fold seed 0 out-of-fold): macro-F1 {sh['macro_f1']:.3f},
High recall {sh['high_recall']:.3f}{fights}, ECE {sh['ece']:.3f}.

## Limits
- Surveillance fight vs. no-fight clips cut from the same source videos remain the hard part (see
  docs/benchmarks.md, Video); the High bias buys recall with false High alarms on no-fight clips.
- Two sources only (one fight dataset, one staged shop); other cameras, angles and crowds are untested.
  Shoplifting labels belong to whole clips. Not a basis for action without human review.
"""
