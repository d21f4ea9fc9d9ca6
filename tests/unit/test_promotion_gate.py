"""The promotion gate: a worse challenger is refused, a better one promoted (and served as 'latest').

The gate is model-agnostic (a model is a directory; `loader(dir)` gives something with
`predict_next_30_days`), so these tests use cheap stand-in models: k × the 28-day mean with ±z·sqrt intervals.
The real TensorFlow trainer is exercised by the retrain benchmark and `crimecast replay --retrain-every`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crimecast import layout as L
from crimecast import models_cache
from crimecast.retrain.gate import read_log, run_retrain
from crimecast.storage import LocalStorage


class Scaled:
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict_next_30_days(self, counts: pd.DataFrame) -> pd.DataFrame:
        last = counts["date"].max()
        rows = []
        for (d, c), g in counts.groupby(["district", "category"]):
            m = g.sort_values("date")["count"].to_numpy()[-28:].mean() * self.factor
            for h in range(1, 31):
                half = 1.3 * np.sqrt(m + 1)
                rows.append((last + pd.Timedelta(days=h), d, c, h, m, m - half, m + half))
        return pd.DataFrame(rows, columns=["date", "district", "category", "horizon", "y_pred", "lo80", "hi80"])


def _write_model(d: Path, factor: float) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.tflite").write_bytes(b"stand-in")
    (d / "metadata.json").write_text(json.dumps({"name": "forecaster", "factor": factor}))
    return d


def _loader(d: Path) -> Scaled:
    return Scaled(json.loads((d / "metadata.json").read_text())["factor"])


def _counts() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2023-01-01", periods=400, freq="D")
    rows = [(t, d, "theft", int(rng.poisson(5 + 3 * i))) for i, d in enumerate(["1", "2", "3"]) for t in dates]
    return pd.DataFrame(rows, columns=["date", "district", "category", "count"])


@pytest.mark.parametrize("champion,challenger,promoted", [(1.0, 1.6, False), (1.6, 1.0, True)])
def test_gate_refuses_worse_and_promotes_better(tmp_path, monkeypatch, champion, challenger, promoted):
    # Given a champion v1 in the models store
    models = LocalStorage(tmp_path / "models")
    models_cache.upload_model(models, _write_model(tmp_path / "champ", champion), "models/forecaster", "v1")
    trained_on = []

    def trainer(counts, out_dir, **kw):
        trained_on.append(counts["date"].max())
        _write_model(Path(out_dir), challenger)

    # When the retrain job runs
    rec = run_retrain(LocalStorage(tmp_path / "data"), models, trainer, counts=_counts(), run_date="2024-02-05",
                      loader=_loader)

    # Then the challenger trained only on days before every evaluation origin
    assert trained_on[0] == pd.Timestamp(rec["origins"][0])
    assert rec["promoted"] is promoted
    log = read_log(models)
    assert len(log) == 1 and log[0]["champion_score"]["mae"] > 0 and log[0]["challenger_score"]["mae"] > 0
    versions = models_cache.list_versions(models, "models/forecaster")
    monkeypatch.setattr(models_cache, "LATEST_TTL_S", 0.0)
    models_cache.clear_loaded()
    served = models_cache._resolve_latest(models, "models/forecaster")
    if promoted:
        # And the better challenger is v2, what "latest" now serves, with both scores in its metadata
        assert versions == ["v1", "v2"] and served == "v2"
        meta = json.loads(models.get_bytes("models/forecaster/v2/metadata.json"))
        assert meta["version"] == "v2" and meta["promotion"]["challenger_mae"] < meta["promotion"]["champion_mae"]
        assert log[0]["challenger_score"]["mae"] < log[0]["champion_score"]["mae"]
    else:
        # And the worse challenger is refused: the champion stays, the reason names both scores
        assert versions == ["v1"] and served == "v1" and "kept" in rec["reason"]
        assert log[0]["challenger_score"]["mae"] > log[0]["champion_score"]["mae"]
    assert models.exists(L.promotions_log_key())
