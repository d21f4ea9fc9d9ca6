"""The exported forecaster: metadata, TFLite vs Keras agreement, LiteRT serving API and CLI, no TF import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crimecast.contract import read_table
from crimecast.forecast import CrimeForecaster
from crimecast.forecast.model import OUTPUT_COLUMNS
from testlib import ROOT, run_cli


@pytest.fixture(scope="module")
def tables(synth_dir: Path) -> dict[str, pd.DataFrame]:
    return {
        "counts": read_table(synth_dir / "crime_rate_dataset.csv", "counts"),
        "events": read_table(synth_dir / "event_holiday_data.csv", "events"),
        "weather": read_table(synth_dir / "weather.csv", "weather"),
        "districts": read_table(synth_dir / "districts.csv", "districts"),
    }


def test_metadata_describes_the_model(forecaster_model_dir: Path):
    meta = json.loads((forecaster_model_dir / "metadata.json").read_text())
    assert meta["name"] == "forecaster" and meta["version"]
    assert meta["inputs"]["seq"] == [60, 24] and meta["inputs"]["fut"] == [30, 30] and meta["inputs"]["output"] == [30]
    assert set(meta["conformal_quantiles"]) == {"lo80", "hi80", "lo95", "hi95"}
    assert len(meta["conformal_quantiles"]["hi80"]) == 30 and len(meta["blend_base"]) == 30
    rng = meta["training"]["data_range"]
    assert meta["training"]["data_hash_sha256"] and rng[0] < rng[1]
    assert meta["feature_spec"]["weather"] and meta["feature_spec"]["events"] and meta["feature_spec"]["district"]
    assert meta["feature_state"]["district_values"]
    assert meta["metrics"]["tflite_vs_keras_max_abs_diff"] < 0.02
    assert (forecaster_model_dir / "model.tflite").stat().st_size > 10_000
    # what it was trained on, how it was validated (per series, with the baseline-wins flag), what made it
    t = meta["trained_on"]
    assert t["kind"] == "synthetic" and t["sources"][0].endswith("crime_rate_dataset.csv") and t["n_series"] == 12
    assert t["data_sha256"] == meta["training"]["data_hash_sha256"]
    assert t["date_range"] == rng and meta["train_end"] == rng[1]
    assert meta["command"].startswith("crimecast train-forecaster") and meta["code_version"]
    per = meta["validation"]["per_series"]
    assert len(per) == 12 and all(r["best_baseline"] in ("seasonal_naive", "moving_average", "dow_profile")
                                  for r in per)
    assert all(r["baseline_wins"] == (r["mae_best_baseline"] < r["mae_model"]) for r in per)
    assert meta["validation"]["series_where_a_baseline_wins"] == [
        f"{r['district']}/{r['category']}" for r in per if r["baseline_wins"]]
    card = (forecaster_model_dir / "MODEL_CARD.md").read_text()
    assert "Which forecast to trust, per series" in card and meta["trained_on"]["data_sha256"] in card


@pytest.mark.slow
def test_tflite_matches_keras_for_the_exported_model(forecaster_model_dir: Path, tables, tmp_path: Path):
    """Rebuild the Keras model from the saved weights and compare it with LiteRT on real windows."""
    code = f"""
import json, numpy as np, sys
from crimecast.forecast.features import FeatureSpec, FeatureState
from crimecast.forecast.model import load_interpreter, run_interpreter
from crimecast_training.forecaster import TrainConfig, build_model
d = {str(forecaster_model_dir)!r}
meta = json.load(open(d + '/metadata.json'))
spec, state = FeatureSpec.from_dict(meta['feature_spec']), FeatureState.from_dict(meta['feature_state'])
cfg = TrainConfig(**{{k: tuple(v) if isinstance(v, list) else v for k, v in meta['training']['config'].items()}})
m = build_model(spec, state, cfg, unroll=True)
m.load_weights(d + '/forecaster.weights.h5')
"""
    # Windows from the real synthetic counts, written for the subprocess
    counts = tables["counts"]
    from crimecast.forecast.features import FeatureSpec, FeatureState, build_panel, make_windows

    meta = json.loads((forecaster_model_dir / "metadata.json").read_text())
    spec, state = FeatureSpec.from_dict(meta["feature_spec"]), FeatureState.from_dict(meta["feature_state"])
    panel = build_panel(counts, spec, state, tables["events"], tables["weather"])
    x = make_windows(panel, spec, np.arange(100, len(panel.dates) - 30, 97))
    tmp = tmp_path / "windows.npz"
    np.savez(tmp, seq=x["seq"], fut=x["fut"], static=x["static"])
    code += f"""
x = np.load({str(tmp)!r})
k = np.asarray(m([x['seq'], x['fut'], x['static']], training=False))
l = run_interpreter(load_interpreter(d + '/model.tflite'), x['seq'], x['fut'], x['static'])
print(json.dumps({{'n': int(len(k)), 'max_abs_diff': float(np.abs(k - l).max()), 'mean_ratio': float(k.mean())}}))
"""
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    finally:
        tmp.unlink(missing_ok=True)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print("TFLite vs Keras", res)
    assert res["n"] >= 12 * 5
    assert res["max_abs_diff"] < 0.02  # dynamic-range quantisation; ratios are ~1
    assert 0.3 < res["mean_ratio"] < 3


def test_predict_next_30_days_contract(forecaster_model_dir: Path, tables):
    f = CrimeForecaster().load_model(forecaster_model_dir)
    assert isinstance(f.version, str) and f.version
    counts = tables["counts"]
    fc = f.predict_next_30_days(counts, tables["events"], tables["weather"], tables["districts"])
    n_series = counts.groupby(["district", "category"]).ngroups
    assert list(fc.columns) == OUTPUT_COLUMNS and len(fc) == n_series * 30
    last = counts["date"].max()
    assert fc["date"].min() == last + pd.Timedelta(days=1) and fc["date"].max() == last + pd.Timedelta(days=30)
    assert sorted(fc["horizon"].unique()) == list(range(1, 31))
    assert (fc[["y_pred", "lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["y_pred"]).all()
    assert (fc["y_pred"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()
    # forecasts are on the series' own level (per-series scaling), not one global level
    lvl = counts[counts.date > last - pd.Timedelta(days=60)].groupby(["district", "category"])["count"].mean()
    pl = fc.groupby(["district", "category"])["y_pred"].mean()
    assert np.corrcoef(lvl.loc[pl.index], pl)[0, 1] > 0.9


def test_predict_as_of_and_missing_exogenous_tables(forecaster_model_dir: Path, tables):
    f = CrimeForecaster().load_model(forecaster_model_dir)
    as_of = date(2023, 6, 30)
    fc = f.predict_next_30_days(tables["counts"], as_of=as_of)  # no events/weather/districts: features off
    assert fc["date"].min() == pd.Timestamp("2023-07-01") and len(fc) % 30 == 0
    assert np.isfinite(fc["y_pred"]).all()
    short = tables["counts"][tables["counts"]["date"] < tables["counts"]["date"].min() + pd.Timedelta(days=20)]
    with pytest.raises(ValueError, match="window of 60"):
        f.predict_next_30_days(short)


def test_short_histories_get_a_sound_forecast_and_intervals(forecaster_model_dir: Path, tables):
    """Under a year of history (a new district or category, a city with 90 days of data): no crash, no flat zero,
    forecasts on the series' own level with nested intervals."""
    f = CrimeForecaster().load_model(forecaster_model_dir)
    c = tables["counts"].copy()
    last = c["date"].max()
    key = (c["district"] == c["district"].iloc[0]) & (c["category"] == c["category"].iloc[0])
    young = c[key & (c["date"] > last - pd.Timedelta(days=100))]  # a series that started 100 days ago
    c = pd.concat([c[~key], young])
    for counts in (c, c[c["date"] > last - pd.Timedelta(days=90)]):  # the whole table: 90 days only
        fc = f.predict_next_30_days(counts)
        assert np.isfinite(fc[["y_pred", "lo80", "hi80", "lo95", "hi95"]].to_numpy()).all()
        assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["y_pred"]).all()
        assert (fc["y_pred"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()
        recent = counts[counts["date"] > last - pd.Timedelta(days=28)].groupby(["district", "category"])["count"].mean()
        pred = fc.groupby(["district", "category"])["y_pred"].mean().loc[recent.index]
        assert (pred > 0.5 * recent).all() and (pred < 2.0 * recent + 1).all()


def test_serving_never_imports_tensorflow(forecaster_model_dir: Path, synth_dir: Path):
    code = (
        "import sys\n"
        "from crimecast.contract import read_table\n"
        "from crimecast.forecast import CrimeForecaster\n"
        f"c = read_table({str(synth_dir / 'crime_rate_dataset.csv')!r}, 'counts')\n"
        f"CrimeForecaster().load_model({str(forecaster_model_dir)!r}).predict_next_30_days(c)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'crimecast_training')]\n"
        "print('TF-MODULES', bad)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "TF-MODULES []" in r.stdout


def test_forecast_cli_writes_forecasts_table(forecaster_model_dir: Path, synth_dir: Path, tmp_path: Path):
    out = tmp_path / "forecasts.parquet"
    r = run_cli("forecast", "--model", str(forecaster_model_dir), "--counts", str(synth_dir / "crime_rate_dataset.csv"),
                "--events", str(synth_dir / "event_holiday_data.csv"), "--weather", str(synth_dir / "weather.csv"),
                "--out", str(out))
    assert r.returncode == 0, r.stderr
    fc = pd.read_parquet(out)
    assert list(fc.columns) == ["run_date", "date", "district", "category", "horizon", "y_pred", "lo80", "hi80",
                                "lo95", "hi95", "model_version"]
    meta = json.loads((forecaster_model_dir / "metadata.json").read_text())
    assert (fc["model_version"] == meta["version"]).all()
    assert (fc["date"] - fc["run_date"]).dt.days.tolist() == fc["horizon"].tolist()


def test_forecast_cli_bad_model_dir_exit_2(synth_dir: Path, tmp_path: Path):
    out = tmp_path / "f.parquet"
    r = run_cli("forecast", "--model", str(tmp_path), "--counts", str(synth_dir / "crime_rate_dataset.csv"),
                "--out", str(out))
    assert r.returncode == 2 and "model.tflite" in r.stderr and not out.exists()


@pytest.mark.slow
def test_backtest_lstm_quick_end_to_end(synth_dir: Path, tmp_path: Path):
    """The LSTM in the backtest harness: trains before each origin, writes contract predictions."""
    out = tmp_path / "bt"
    r = run_cli("backtest", "--counts", str(synth_dir / "crime_rate_dataset.csv"), "--events",
                str(synth_dir / "event_holiday_data.csv"), "--model", "lstm", "--quick", "--origins", "2", "--step",
                "90", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "no weather table" in r.stderr  # missing exogenous tables are said in the log
    pred = pd.read_parquet(out / "predictions.parquet")
    counts = read_table(synth_dir / "crime_rate_dataset.csv", "counts")
    assert len(pred) == counts.groupby(["district", "category"]).ngroups * 2 * 30
    assert (pred[["y_pred", "lo80", "lo95"]] >= 0).all().all() and pred["y_pred"].notna().all()
    m = json.loads((out / "metrics.json").read_text())
    e = pred["y_true"] - pred["y_pred"]
    assert m["overall"]["mae"] == pytest.approx(float(e.abs().mean()))
    # the global model tracks each series' level: far better than a constant forecast
    const = (pred["y_true"] - pred["y_true"].mean()).abs().mean()
    assert m["overall"]["mae"] < 0.8 * const
    assert 0.6 <= m["overall"]["coverage80"] <= 0.95


def test_a_model_from_the_older_ratio_format_is_refused_clearly(forecaster_model_dir: Path, synth_dir: Path,
                                                                 tmp_path: Path):
    # A model exported before the structural base (blend_ma28, no feature_spec.base) must not be served with
    # the new post-processing: its output means something else.
    old = tmp_path / "old_model"
    shutil.copytree(forecaster_model_dir, old)
    meta = json.loads((old / "metadata.json").read_text())
    meta["blend_ma28"] = meta.pop("blend_base")
    del meta["feature_spec"]["base"]
    (old / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="older crimecast"):
        CrimeForecaster().load_model(old)
    out = tmp_path / "f.parquet"
    r = run_cli("forecast", "--model", str(old), "--counts", str(synth_dir / "crime_rate_dataset.csv"),
                "--out", str(out))
    assert r.returncode == 2 and "retrain" in r.stderr and not out.exists()
