"""The retrain function (TensorFlow container image): train a challenger on the maintained counts and let the
core's promotion gate (`crimecast.retrain.gate.run_retrain`) compare it with the champion.

`train_challenger` is the trainer the gate calls (entry point `crimecast.retrainers: forecaster`): the real
`crimecast_training.forecaster.train` + `export`, the same code `crimecast train-forecaster` runs. Profile from
CRIMECAST_RETRAIN_PROFILE (`full`, default, or `quick`). `handler` is the Lambda entry point
(EventBridge monthly schedule, or invoked by hand with {"run_date": ...}).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

PROFILE_ENV = "CRIMECAST_RETRAIN_PROFILE"


def train_challenger(counts: pd.DataFrame, out_dir: Path, *, champion_dir: Path | None = None,
                     run_date: str | None = None, profile: str | None = None) -> Path:
    """Train on `counts` (the days before the gate's cut-off) and export a model directory to `out_dir`."""
    from crimecast_training.forecaster import TrainConfig, export, train

    profile = profile or os.environ.get(PROFILE_ENV, "full")
    cfg = TrainConfig.quick() if profile == "quick" else TrainConfig()
    tr = train(counts, cfg=cfg)
    export(tr, counts, Path(out_dir), extra_meta={
        "command": f"retrain (promotion gate, profile {profile}, run {run_date})",
        "trained_on": {"kind": "maintained counts (incident feed)", "n_items": int(counts["count"].sum()),
                       "sources": ["counts/ (crimecast feed)"]},
        "champion_at_training": None if champion_dir is None else champion_dir.name, "warm_start": False})
    return Path(out_dir)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from crimecast.retrain.gate import run_retrain
    from crimecast.settings import get_settings
    from crimecast.storage import Stores

    settings = get_settings()
    stores = Stores.from_settings(settings)
    t = event.get("time")
    run_date = event.get("run_date") or (str(t)[:10] if t else None)
    record = run_retrain(stores.data, stores.models, train_challenger, run_date=run_date,
                         model_key=settings.forecaster_model_key)
    return {k: record.get(k) for k in ("promoted", "reason", "champion", "challenger", "champion_score",
                                       "challenger_score", "total_s")}
