"""Export of a trained forecaster: model.tflite (builtin ops, dynamic-range), metadata.json and MODEL_CARD.md.

metadata.json says what the model was trained on (`trained_on`: kind, sources, series, date range, data
sha256), how it was validated (`validation`: the held-out calibration block, overall and per series, with a
flag where a simple baseline beats it), the exact `command` and `code_version` that made it, and `train_end`
(the last day it saw) so a later backtest can score it on unseen days without retraining.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from crimecast.forecast.features import build_panel, input_dims, make_windows

from crimecast_training.forecaster import Trained, _ensemble, _predict_ratio, build_model, member_name

log = logging.getLogger("crimecast.train_forecaster")
ROOT = Path(__file__).resolve().parents[2]


def code_version() -> str:
    """The git commit of the code (+ "-dirty" when the forecaster's tracked files differ from it)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "functions/crimecast/forecast", "training/crimecast_training/forecaster*.py"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha or "unknown") + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def describe_sources(paths: list[str | Path | None]) -> tuple[str, list[str]]:
    """(kind, sources) for the tables a model was trained on: "synthetic" when the counts come from
    `crimecast synth` (its truth_intensity.csv lies beside them), else "real"; sources relative to the repo."""
    files = [Path(p) for p in paths if p]
    kind = "synthetic" if files and (files[0].resolve().parent / "truth_intensity.csv").exists() else "real"
    out = []
    for f in files:
        try:
            out.append(str(f.resolve().relative_to(ROOT)))
        except ValueError:
            out.append(str(f))
    return kind, out


def validation_block(tr: Trained) -> dict[str, Any]:
    """The `validation` entry: calibration-block numbers and the per-series trust table."""
    cal = tr.info.get("calibration", {})
    per = tr.info.get("per_series", [])
    wins = [f"{r['district']}/{r['category']}" for r in per if r.get("baseline_wins")]
    return {
        "what": "held-out calibration block before train_end (the network's weights never saw these targets; the "
                "blend weight and interval widths were fitted on them): MAE in crimes/day over every series × "
                "origin × horizon day",
        "origins": tr.info.get("calibration_origin_range"),
        "mae": cal.get("mae_blended"), "mae_network_alone": cal.get("mae_model_only"),
        "mae_base_alone": cal.get("mae_base"), "mae_ma28": cal.get("mae_ma28"),
        "coverage80": cal.get("coverage80_in_sample"),
        "per_series": per,
        "series_where_a_baseline_wins": wins,
    }


def data_hash(counts: pd.DataFrame) -> str:
    h = hashlib.sha256()
    c = counts.sort_values(["district", "category", "date"])
    h.update(pd.util.hash_pandas_object(c[["date", "district", "category", "count"]], index=False).values.tobytes())
    return h.hexdigest()


def export(tr: Trained, counts: pd.DataFrame, out_dir: Path, extra_meta: dict[str, Any] | None = None,
           sources: list[str] | None = None, kind: str = "real", command: str | None = None) -> dict[str, Any]:
    """Write model.keras-weights, model.tflite (builtin ops, dynamic-range) and metadata.json into out_dir.

    The TFLite file is loaded back with LiteRT and compared with Keras on real windows; the max abs
    difference (ratio units) is stored in metadata.json."""
    import tempfile

    import tensorflow as tf
    from crimecast.forecast.model import load_interpreter, run_interpreter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tr.model.save_weights(str(out_dir / "forecaster.weights.h5"))
    unrolled = []
    for k, m in enumerate(tr.info.get("_members", [tr.model])):
        u = build_model(tr.spec, tr.state, tr.config, unroll=True, name=member_name(k))
        u.set_weights(m.get_weights())
        unrolled.append(u)
    export_model = _ensemble(unrolled, tr.spec, tr.state)
    with tempfile.TemporaryDirectory() as tmp:
        export_model.export(tmp, verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic-range quantisation
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        blob = conv.convert()
    tfl = out_dir / "model.tflite"
    tmpf = out_dir / ".model.tflite.tmp"
    tmpf.write_bytes(blob)
    os.replace(tmpf, tfl)
    # Check TFLite vs Keras on real windows from the end of the training data.
    panel = build_panel(counts, tr.spec, tr.state)
    n_t = len(panel.dates)
    origins = np.arange(max(tr.spec.window, n_t - tr.spec.horizon - 20), n_t - tr.spec.horizon + 1, 5)
    x = make_windows(panel, tr.spec, origins)
    k_out = _predict_ratio(export_model, x)
    interp = load_interpreter(tfl)
    l_out = run_interpreter(interp, x["seq"], x["fut"], x["static"])
    diff = float(np.max(np.abs(k_out - l_out)))
    rel = float(np.max(np.abs(k_out - l_out) / (np.abs(k_out) + 1e-3)))
    log.info("TFLite vs Keras on %d windows: max abs diff %.2e (ratio units), max rel %.2e", len(k_out), diff, rel)
    dims = input_dims(tr.spec, tr.state)
    dates = pd.to_datetime(counts["date"])
    dh = data_hash(counts)
    end = dates.max().date()
    version = f"{end.isoformat()}-{dh[:8]}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
    info = {k: v for k, v in tr.info.items() if not k.startswith("_") and k != "per_series"}
    meta = {
        "name": "forecaster",
        "version": version,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "inputs": {
            "seq": [tr.spec.window, dims["seq_features"]],
            "fut": [tr.spec.horizon, dims["fut_features"]],
            "static": [dims["static_features"]],
            "output": [tr.spec.horizon],
            "output_meaning": "multiplicative correction of the base forecast; "
                              "y_pred = scale × base × (w·output + 1 − w) (crimecast.forecast.features.combine)",
        },
        "feature_spec": tr.spec.to_dict(),
        "feature_state": tr.state.to_dict(),
        "preprocessing": {
            "scale": "mean of the last scale_days counts of the input window + 0.1 (crimes/day)",
            "ratio_clip": 8.0,
            "feature_code": "crimecast.forecast.features.make_windows",
        },
        "blend_base": tr.blend,
        "conformal_quantiles": tr.quantiles,
        "conformal": "split-conformal on held-out origins, residual (y-ŷ)/sqrt(ŷ+1), per horizon day",
        "training": {
            **info,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in tr.config.__dict__.items()},
            "data_range": [str(dates.min().date()), str(end)],
            "data_hash_sha256": dh,
            "n_series": int(counts.groupby(["district", "category"]).ngroups),
            "tensorflow": tf.__version__,
        },
        "metrics": {"tflite_vs_keras_max_abs_diff": diff, "tflite_vs_keras_max_rel_diff": rel,
                    **info.get("calibration", {})},
        "tflite_bytes": len(blob),
        "known_series": [list(k) for k in panel.keys],
        "trained_on": {"kind": kind, "sources": list(sources or []), "n_series": int(len(panel.keys)),
                       "n_items": int(counts["count"].sum()), "date_range": [str(dates.min().date()), str(end)],
                       "data_sha256": dh},
        "train_end": str(end),
        "validation": validation_block(tr),
        "command": command or " ".join(["crimecast", *sys.argv[1:]]),
        "code_version": code_version(),
    }
    if extra_meta:
        meta.update(extra_meta)
    tmpm = out_dir / ".metadata.json.tmp"
    tmpm.write_text(json.dumps(meta, indent=2))
    os.replace(tmpm, out_dir / "metadata.json")
    from crimecast_training.forecaster_card import model_card

    (out_dir / "MODEL_CARD.md").write_text(model_card(meta))
    return meta
