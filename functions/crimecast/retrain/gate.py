"""The promotion gate: challenger vs champion on recent origins neither trained on; promote only if not worse.

Model-agnostic: a model is a directory (model.tflite + metadata.json) and `loader(dir)` returns an object with
`predict_next_30_days(counts)` (default: the LiteRT `CrimeForecaster`). The trainer is a callable
`trainer(counts, out_dir, champion_dir=..., run_date=...) -> None` that writes a model directory; the real one
is `crimecast_training.retrain.train_challenger` (TensorFlow), found through the `crimecast.retrainers`
entry point so that this core never imports the training package.

Scores: MAE over every series × day of `n_origins` origins `step` days apart, the last one `horizon` days
before the last complete day; 80 % coverage is recorded beside it. Promotion when
challenger MAE ≤ champion MAE × (1 + tolerance). Every decision is one JSON line in
models/forecaster/promotions.jsonl; a promotion writes models/forecaster/v<N+1>/, which the serving functions
pick up without a redeploy ("latest" is re-resolved every `models_cache.LATEST_TTL_S`).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crimecast import layout as L
from crimecast.storage import Storage

log = logging.getLogger(__name__)
RETRAINERS_GROUP = "crimecast.retrainers"


def find_trainer() -> Callable[..., Any]:
    """The `forecaster` trainer of the `crimecast.retrainers` entry point (the training package)."""
    from crimecast.plugins import TrainingNotInstalled, entry_points

    for ep in entry_points(RETRAINERS_GROUP):
        if ep.name == "forecaster":
            try:
                return ep.load()  # type: ignore[no-any-return]
            except ImportError as exc:
                raise TrainingNotInstalled("retraining", str(exc)) from None
    raise TrainingNotInstalled("retraining", f"no {RETRAINERS_GROUP} entry point 'forecaster' is installed")


def _default_loader(path: Path) -> Any:
    from crimecast.forecast import CrimeForecaster

    return CrimeForecaster().load_model(path)


def evaluation_origins(last_complete: pd.Timestamp, horizon: int, n_origins: int, step: int) -> list[pd.Timestamp]:
    last_origin = last_complete - pd.Timedelta(days=horizon)
    return [last_origin - pd.Timedelta(days=step * k) for k in range(n_origins - 1, -1, -1)]


def score(model: Any, counts: pd.DataFrame, origins: list[pd.Timestamp], horizon: int) -> dict[str, Any]:
    """MAE and 80 % coverage of `model` over the origins (actuals from `counts`)."""
    actual = counts.set_index(["date", "district", "category"])["count"]
    errs, hits, per_origin = [], [], []
    for o in origins:
        fc = model.predict_next_30_days(counts[counts["date"] <= o])
        fc = fc[fc["horizon"] <= horizon]
        y = actual.reindex(pd.MultiIndex.from_frame(fc[["date", "district", "category"]])).to_numpy(dtype=float)
        ok = ~np.isnan(y)
        e = np.abs(fc["y_pred"].to_numpy()[ok] - y[ok])
        errs.append(e)
        hits.append((y[ok] >= fc["lo80"].to_numpy()[ok]) & (y[ok] <= fc["hi80"].to_numpy()[ok]))
        per_origin.append({"origin": o.date().isoformat(), "mae": float(e.mean()) if len(e) else None})
    e = np.concatenate(errs) if errs else np.array([])
    h = np.concatenate(hits) if hits else np.array([])
    return {"mae": float(e.mean()) if len(e) else None, "coverage80": float(h.mean()) if len(h) else None,
            "n": int(len(e)), "per_origin": per_origin}


def next_version(versions: list[str]) -> str:
    nums = [int(v[1:]) for v in versions if v[:1] == "v" and v[1:].isdigit()]
    return f"v{max(nums, default=0) + 1}"


def append_log(models: Storage, key: str, record: dict[str, Any]) -> None:
    """Append one JSON line (read-modify-write; the retrain function runs one at a time)."""
    old = models.get_bytes(key) if models.exists(key) else b""
    models.put_bytes(key, old + (json.dumps(record, default=str) + "\n").encode(), "application/x-ndjson")


def read_log(models: Storage, model_key: str = L.model_key(L.FORECASTER)) -> list[dict[str, Any]]:
    key = L.promotions_log_key(model_key)
    if not models.exists(key):
        return []
    return [json.loads(line) for line in models.get_bytes(key).decode().splitlines() if line.strip()]


def run_retrain(data: Storage, models: Storage, trainer: Callable[..., Any], *, run_date: str | None = None,
                counts: pd.DataFrame | None = None, model_key: str = L.model_key(L.FORECASTER), horizon: int = 30,
                n_origins: int = 4, step: int = 7, tolerance: float = 0.0,
                loader: Callable[[Path], Any] = _default_loader) -> dict[str, Any]:
    """Train, compare, promote or keep. `counts` default: the maintained counts through the last complete day."""
    from crimecast.models_cache import fetch_model, list_versions

    t0 = time.perf_counter()
    if counts is None:
        from crimecast.feed.state import read_counts

        counts = read_counts(data)
    counts = counts.assign(date=pd.to_datetime(counts["date"]))
    last = counts["date"].max()
    origins = evaluation_origins(last, horizon, n_origins, step)
    cutoff = origins[0]  # the challenger trains on days up to the first evaluation origin only
    versions = list_versions(models, model_key)
    if not versions:
        raise FileNotFoundError(f"no champion under {models.uri(model_key + '/')}: deploy a forecaster first")
    champ_v = versions[-1]
    record: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "run_date": run_date,
                              "champion": champ_v, "cutoff": cutoff.date().isoformat(),
                              "origins": [o.date().isoformat() for o in origins], "horizon": horizon,
                              "tolerance": tolerance, "counts_through": last.date().isoformat()}
    with tempfile.TemporaryDirectory(prefix="crimecast-retrain-") as td:
        champ = fetch_model(models, model_key, champ_v, Path(td) / "cache")
        champ_meta = json.loads((champ.path / "metadata.json").read_text())
        chall_dir = Path(td) / "challenger"
        t = time.perf_counter()
        trainer(counts[counts["date"] <= cutoff], chall_dir, champion_dir=champ.path, run_date=run_date)
        record["train_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        record["champion_score"] = score(loader(champ.path), counts, origins, horizon)
        record["challenger_score"] = score(loader(chall_dir), counts, origins, horizon)
        record["score_s"] = round(time.perf_counter() - t, 1)
        rng = (champ_meta.get("training") or {}).get("data_range") if isinstance(champ_meta.get("training"),
                                                                                 dict) else None
        trained_to = rng[-1] if isinstance(rng, list) and rng else None
        if trained_to and str(trained_to) > cutoff.date().isoformat():
            record["note"] = (f"the champion trained on data up to {trained_to}, after the first evaluation origin: "
                              "its score may be optimistic (the gate errs towards keeping it)")
        cm, hm = record["champion_score"]["mae"], record["challenger_score"]["mae"]
        if hm is None or cm is None:
            record |= {"promoted": False, "reason": "no evaluation rows (too little history after the cut-off)"}
        elif hm <= cm * (1 + tolerance):
            new_v = next_version(versions)
            meta = json.loads((chall_dir / "metadata.json").read_text())
            meta |= {"version": new_v, "promotion": {k: record[k] for k in ("champion", "cutoff", "origins")}
                     | {"champion_mae": cm, "challenger_mae": hm}}
            (chall_dir / "metadata.json").write_text(json.dumps(meta, indent=1, default=str))
            # model.tflite first, metadata.json last: a version is listed only once its metadata.json exists
            for f in sorted(chall_dir.iterdir(), key=lambda p: p.name == "metadata.json"):
                if f.is_file() and not f.name.startswith("."):
                    models.upload_file(f, f"{model_key}/{new_v}/{f.name}")
            record |= {"promoted": True, "challenger": new_v,
                       "reason": f"challenger MAE {hm:.4f} ≤ champion MAE {cm:.4f} × (1 + {tolerance})"}
        else:
            record |= {"promoted": False, "challenger": None,
                       "reason": f"challenger MAE {hm:.4f} > champion MAE {cm:.4f} × (1 + {tolerance}): "
                                 f"champion {champ_v} kept"}
    record["total_s"] = round(time.perf_counter() - t0, 1)
    append_log(models, L.promotions_log_key(model_key), record)
    log.info("retrain: %s", record["reason"])
    return record
