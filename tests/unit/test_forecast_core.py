"""Forecasting core without TensorFlow: features (no leakage), baselines, intervals, metrics, trends,
and the backtest CLI with baselines (predictions file, metrics recomputed independently, bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crimecast.contract import read_table, write_table
from crimecast.forecast import baselines, conformal
from crimecast.forecast.features import FeatureSpec, FeatureState, build_panel, make_windows, yearly_ratio
from crimecast.forecast.metrics import compute_metrics
from crimecast.forecast.trends import citywide_trends, stl_decompose
from testlib import run_cli


def _counts(days: int = 400, series: tuple[tuple[str, str], ...] = (("1", "theft"), ("2", "theft")), seed: int = 0,
            start: str = "2020-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    rows = []
    for i, (d, c) in enumerate(series):
        lam = (5 + 3 * i) * (1 + 0.3 * (dates.dayofweek >= 5))
        rows.append(pd.DataFrame({"date": dates, "district": d, "category": c, "count": rng.poisson(lam)}))
    return pd.concat(rows, ignore_index=True)


# ----------------------------------------------------------------------------- features


def test_windows_use_only_days_before_the_origin():
    # Given a panel and an origin
    spec = FeatureSpec(window=60, horizon=30)
    c = _counts(900)
    p1 = build_panel(c, spec, FeatureState())
    origin = 800
    # When everything from the origin on is changed
    c2 = c.copy()
    c2.loc[pd.to_datetime(c2["date"]) >= p1.dates[origin], "count"] = 999
    p2 = build_panel(c2, spec, FeatureState())
    x1 = make_windows(p1, spec, np.array([origin]))
    x2 = make_windows(p2, spec, np.array([origin]))
    # Then the model inputs are identical; only the targets differ
    for k in ("seq", "fut", "static", "scale", "base"):
        np.testing.assert_array_equal(x1[k], x2[k])
    assert not np.array_equal(x1["target"], x2["target"])
    assert x1["seq"].shape == (2, 60, 24) and x1["fut"].shape == (2, 30, 30) and x1["target"].shape == (2, 30)
    assert x1["base"].shape == (2, 30)


def test_yearly_ratio_is_one_without_history_and_tracks_seasonality():
    t = 1200
    days = np.arange(t)
    y = (10 + 5 * np.sin(2 * np.pi * days / 364))[None, :]
    r = yearly_ratio(y, np.array([100, 1000]), 30, 28)
    assert np.allclose(r[:, 0], 1.0)  # no year of history before origin 100
    # at origin 1000 the seasonal change a year earlier over the same 30 days is known
    o = 1000 - 364
    expect = y[0, o:o + 30] / (y[0, o - 28:o].mean() + 0.1)
    assert np.allclose(r[0, 1], expect, atol=0.05)


def test_features_switched_off_are_zero_and_keep_shapes():
    spec = FeatureSpec(calendar=False, events=False, weather=False, district=False, yearly=False, base=False)
    p = build_panel(_counts(200), spec, FeatureState())
    x = make_windows(p, spec, np.array([150]))
    assert x["seq"].shape == (2, 60, 24)
    assert np.all(x["seq"][..., 1:] == 0) and np.all(x["fut"] == 0)


def test_window_too_short_is_a_clear_error():
    spec = FeatureSpec()
    p = build_panel(_counts(50), spec, FeatureState())
    with pytest.raises(ValueError, match="window=60"):
        make_windows(p, spec, np.array([40]))


# ----------------------------------------------------------------------------- baselines + intervals


def test_baselines_shapes_and_values():
    hist = np.arange(1, 57, dtype=float)[None, :].repeat(2, axis=0)
    sn = baselines.seasonal_naive(hist, 30)
    assert sn.shape == (2, 30) and list(sn[0, :7]) == list(hist[0, -7:]) and sn[0, 7] == hist[0, -7]
    ma = baselines.moving_average(hist, 30)
    assert np.allclose(ma, hist[0, -28:].mean())


def test_ets_follows_weekly_pattern_and_is_nonnegative():
    c = _counts(500, seed=3)
    hist = c.pivot(index=["district", "category"], columns="date", values="count").to_numpy(float)
    point, ints = baselines.ets(np.vstack([hist, np.zeros((1, hist.shape[1]))]), 30)
    assert point.shape == (3, 30) and (point >= 0).all()
    assert np.allclose(point[2], 0)  # all-zero series falls back cleanly
    assert abs(point[0].mean() - hist[0, -60:].mean()) < 1.0
    assert np.ptp(point[0, :7]) > 1.0  # a real ETS fit carries the weekend uplift; the MA28 fallback is flat
    lo, hi = ints[0.2]
    assert (lo <= point + 1e-9).all() and (hi >= point - 1e-9).all()


def test_conformal_intervals_reach_nominal_coverage_on_poisson_counts():
    rng = np.random.default_rng(1)
    lam = rng.uniform(0.2, 40, size=(3000, 1)).repeat(5, axis=1)
    q = conformal.fit_quantiles(rng.poisson(lam), lam)
    lam2 = rng.uniform(0.2, 40, size=(3000, 1)).repeat(5, axis=1)
    y2 = rng.poisson(lam2)
    iv = conformal.apply_quantiles(lam2, q)
    cov80 = np.mean((y2 >= iv["lo80"]) & (y2 <= iv["hi80"]))
    cov95 = np.mean((y2 >= iv["lo95"]) & (y2 <= iv["hi95"]))
    assert 0.77 <= cov80 <= 0.88 and 0.93 <= cov95 <= 0.99
    assert (iv["lo95"] <= iv["lo80"]).all() and (iv["lo80"] >= 0).all() and (iv["hi95"] >= iv["hi80"]).all()


# ----------------------------------------------------------------------------- metrics


def test_metrics_by_hand():
    o = pd.Timestamp("2021-01-01")
    pred = pd.DataFrame({
        "origin": [o] * 4, "date": pd.date_range(o, periods=4), "district": "1", "category": "x",
        "y_true": [0, 2, 4, 10], "y_pred": [1.0, 2.0, 2.0, 10.0],
        "lo80": [0, 1, 3, 9], "hi80": [2, 3, 5, 11], "lo95": [0, 0, 0, 0], "hi95": [9, 9, 9, 9.0],
    })
    pred["mase_scale"] = 2.0
    m = compute_metrics(pred)["overall"]
    assert m["mae"] == pytest.approx(0.75)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert m["mape_nonzero_pct"] == pytest.approx(100 * (0 + 0.5 + 0) / 3)  # the zero day is excluded
    assert m["smape_pct"] == pytest.approx((200 + 0 + 200 * 2 / 6 + 0) / 4)
    assert m["mase"] == pytest.approx(0.375)
    assert m["coverage80"] == 1.0 and m["coverage95"] == 0.75


# ----------------------------------------------------------------------------- trends


def test_citywide_trends_and_stl():
    c = _counts(800)
    t = citywide_trends(c)
    assert list(t.columns) == ["date", "count", "roll7", "roll28", "yoy_pct"]
    assert t["yoy_pct"].iloc[:364 + 27].isna().all() and t["yoy_pct"].iloc[-1] == pytest.approx(
        (t["roll28"].iloc[-1] / t["roll28"].iloc[-1 - 364] - 1) * 100)
    s = t.set_index("date")["count"]
    d = stl_decompose(s)
    assert list(d.columns) == ["date", "observed", "trend", "seasonal", "resid"]
    np.testing.assert_allclose(d["trend"] + d["seasonal"] + d["resid"], d["observed"], atol=1e-6)
    # weekend uplift shows up in the weekly component
    wk = d.assign(dow=d["date"].dt.dayofweek).groupby("dow")["seasonal"].mean()
    assert wk[[5, 6]].mean() > wk[[0, 1, 2, 3, 4]].mean()


# ----------------------------------------------------------------------------- backtest CLI


def _independent_metrics(pred: pd.DataFrame) -> dict[str, float]:
    e = pred["y_true"] - pred["y_pred"]
    return {"mae": float(e.abs().mean()), "rmse": float(np.sqrt((e**2).mean())),
            "coverage80": float(((pred["y_true"] >= pred["lo80"]) & (pred["y_true"] <= pred["hi80"])).mean())}


@pytest.mark.parametrize("model", ["moving_average", "seasonal_naive", "ets"])
def test_backtest_cli_writes_contract_predictions(synth_dir: Path, tmp_path: Path, model: str):
    out = tmp_path / model
    r = run_cli("backtest", "--counts", str(synth_dir / "crime_rate_dataset.csv"), "--model", model,
                "--origins", "3", "--step", "45", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    pred = pd.read_parquet(out / "predictions.parquet")
    assert list(pred.columns) == ["origin", "date", "district", "category", "y_true", "y_pred", "lo80", "hi80",
                                  "lo95", "hi95"]
    counts = read_table(synth_dir / "crime_rate_dataset.csv", "counts")
    n_series = counts.groupby(["district", "category"]).ngroups
    assert len(pred) == n_series * 3 * 30 and pred["origin"].nunique() == 3
    assert (pred[["y_pred", "lo80", "lo95"]] >= 0).all().all()
    assert (pred["date"] >= pred["origin"]).all()
    # y_true is the real count on that day
    chk = pred.merge(counts, on=["date", "district", "category"])
    assert (chk["y_true"] == chk["count"]).all()
    # the metrics file agrees with metrics computed independently from the predictions
    m = json.loads((out / "metrics.json").read_text())
    ind = _independent_metrics(pred)
    for k, v in ind.items():
        assert m["overall"][k] == pytest.approx(v, rel=1e-9)
    assert set(m["by_horizon_week"]) == {"1", "2", "3", "4", "5"} and len(m["by_series"]) == n_series
    if model == "moving_average":  # the forecast uses only the 28 days before the origin
        o = pred["origin"].iloc[0]
        s = counts[(counts.district == pred.district.iloc[0]) & (counts.category == pred.category.iloc[0])]
        past = s[(s.date < o) & (s.date >= o - pd.Timedelta(days=28))]["count"].mean()
        assert pred["y_pred"].iloc[0] == pytest.approx(past)


def test_backtest_handles_zero_series_and_one_district(tmp_path: Path):
    c = _counts(300, series=(("7", "arson"),), seed=2)
    z = c.copy()
    z["category"] = "rare"
    z["count"] = 0
    f = tmp_path / "one_district.csv"
    write_table(pd.concat([c, z]), f)
    r = run_cli("backtest", "--counts", str(f), "--model", "moving_average", "--out", str(tmp_path / "o"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "all-zero" in r.stderr
    pred = pd.read_parquet(tmp_path / "o" / "predictions.parquet")
    rare = pred[pred.category == "rare"]
    assert (rare["y_pred"] == 0).all() and (rare["lo80"] == 0).all()
    assert rare["hi95"].max() < 3  # pooled interval quantiles, scaled by sqrt(ŷ + 1) = 1


def test_backtest_bad_input_exit_2_and_no_output(tmp_path: Path):
    f = tmp_path / "c.csv"
    write_table(_counts(40), f)
    out = tmp_path / "o"
    r = run_cli("backtest", "--counts", str(f), "--model", "lstm", "--out", str(out))
    assert r.returncode == 2 and "no usable origin" in r.stderr
    assert not (out / "predictions.parquet").exists()
    r = run_cli("backtest", "--counts", str(f), "--model", "moving_average", "--horizon", "31", "--out", str(out))
    assert r.returncode == 2 and "--horizon 31" in r.stderr
    r = run_cli("backtest", "--counts", str(tmp_path / "missing.csv"), "--model", "ets", "--out", str(out))
    assert r.returncode == 2 and "missing.csv" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("date,district,category,count\n2020-01-01,1,x,3\n2020-01-02,1,x,-1\n")
    r = run_cli("backtest", "--counts", str(bad), "--model", "ets", "--out", str(out))
    assert r.returncode == 2 and "count" in r.stderr and "line(s) 3" in r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_backtest_skips_origins_without_history_with_a_warning(tmp_path: Path):
    f = tmp_path / "c.csv"
    write_table(_counts(200), f)
    r = run_cli("backtest", "--counts", str(f), "--model", "seasonal_naive", "--origins", "8", "--step", "30",
                "--out", str(tmp_path / "o"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "skipping" in r.stderr
    assert pd.read_parquet(tmp_path / "o" / "predictions.parquet")["origin"].nunique() < 8


def test_blend_weight_prefers_the_better_forecast():
    from crimecast_training.forecaster import fit_blend

    rng = np.random.default_rng(0)
    scale = rng.uniform(5, 40, 2000)
    y = rng.poisson(scale[:, None] * 1.3 * np.ones((1, 30)))
    x = {"scale": scale, "base": np.ones((2000, 30))}
    good = fit_blend(np.full((2000, 30), 1.3), x, y)  # the correction is right, the base is wrong
    bad = fit_blend(np.full((2000, 30), 0.5), x, y)  # the correction is wrong, the base is closer
    assert len(good) == 30 and min(good) >= 0.8 and max(bad) <= 0.2


def test_dow_profile_finds_the_weekly_pattern_from_past_days_only():
    from crimecast.forecast.features import dow_profile

    t = 800
    weekly = np.array([1.0, 1.0, 1.0, 1.0, 1.4, 1.6, 0.5])
    y = (20 * weekly[np.arange(t) % 7])[None, :].astype(float)
    sparse = np.zeros((1, t))
    o = np.array([500, 503])
    prof = dow_profile(np.vstack([y, sparse]), o, 30, days=364, shrink=1.0)
    assert prof.shape == (2, 2, 30)
    # forecast day j of origin o has weekday phase (o + j) % 7; shrink=1 pulls ratios slightly toward 1
    expect = (20 * weekly + 1) / (20 * weekly.mean() + 1)
    np.testing.assert_allclose(prof[0, 0], expect[(500 + np.arange(30)) % 7], rtol=1e-5)
    np.testing.assert_allclose(prof[0, 1], expect[(503 + np.arange(30)) % 7], rtol=1e-5)
    assert np.all(prof[1] == 1.0)  # an all-zero series is flat
    # days from the origin on do not change it
    y2 = y.copy()
    y2[:, 500:] = 999
    np.testing.assert_array_equal(dow_profile(y2, o[:1], 30), dow_profile(y, o[:1], 30))
    # no history at all: flat
    assert np.all(dow_profile(y, np.array([0]), 30) == 1.0)


def test_seasonal_shift_uses_earlier_years_and_ignores_the_future():
    from crimecast.forecast.features import seasonal_shift

    t = 2000
    days = np.arange(t)
    y = (20 + 10 * np.sin(2 * np.pi * days / 364))[None, :]
    o = np.array([200, 1500])
    r = seasonal_shift(y, o, 30, 28, years=5, smooth=0.0)
    assert r[0, 0] == 1.0  # no earlier year before origin 200
    a = 1500 - 364
    expect = y[0, a:a + 30].mean() / y[0, a - 28:a].mean()  # a pure 364-day cycle repeats exactly
    assert abs(r[0, 1] - expect) < 1e-6
    y2 = y.copy()
    y2[:, 1500:] = 0
    assert seasonal_shift(y2, o[1:], 30, 28, smooth=0.0)[0, 0] == r[0, 1]


def test_training_with_an_all_zero_series_stays_finite_and_learns():
    # An all-zero series has a zero 28-day mean; the correction target y / base must stay finite, or the
    # weights turn NaN and training silently keeps the untrained initial weights.
    from crimecast_training.forecaster import TrainConfig, train

    c = _counts(500, series=(("7", "theft"),), seed=3)
    z = c.copy()
    z["category"] = "rare"
    z["count"] = 0
    cfg = TrainConfig.quick()
    cfg.epochs, cfg.samples_per_epoch = 2, 400
    tr = train(pd.concat([c, z]), spec=FeatureSpec(events=False, weather=False, district=False), cfg=cfg)
    losses = [e["calibration_poisson_loss"] for e in tr.info["epochs"]]
    assert len(losses) == 2 and np.all(np.isfinite(losses))
    assert np.isfinite(tr.info["calibration"]["mae_model_only"])


def test_a_seed_ensemble_trains_exports_and_serves(tmp_path: Path):
    # --seeds N: N members averaged in one graph; the members need distinct names in Keras and in the
    # unrolled export, and the LiteRT file must give what Keras gives.
    from crimecast.forecast import CrimeForecaster
    from crimecast_training.forecaster import TrainConfig, export, train

    c = _counts(420, seed=5)
    cfg = TrainConfig.quick()
    cfg.epochs, cfg.samples_per_epoch, cfg.seeds = 1, 300, 2
    spec = FeatureSpec(events=False, weather=False, district=False)
    tr = train(c, spec=spec, cfg=cfg)
    assert len(tr.info["_members"]) == 2 and {e["seed"] for e in tr.info["epochs"]} == {0, 1}
    meta = export(tr, c, tmp_path / "m", kind="synthetic")
    assert meta["metrics"]["tflite_vs_keras_max_rel_diff"] < 0.05
    fc = CrimeForecaster().load_model(tmp_path / "m").predict_next_30_days(c)
    assert len(fc) == 2 * 30 and np.isfinite(fc["y_pred"]).all() and (fc["y_pred"] > 0).all()
    # warm start (the backtest's next origin) continues every member
    tr2 = train(c, spec=spec, cfg=cfg, init_from=tr, epochs=1)
    assert [id(m) for m in tr2.info["_members"]] == [id(m) for m in tr.info["_members"]]


def test_training_options_are_checked_and_copied():
    from crimecast_training.forecaster import TrainConfig

    cfg = TrainConfig()
    assert (cfg.seeds, cfg.learning_rate, cfg.ema) == (3, 1e-3, 0.99)  # the shipped defaults
    c2 = cfg.with_options(learning_rate=0.002, ema=0.0)
    assert (c2.learning_rate, c2.ema, cfg.learning_rate) == (0.002, 0.0, 1e-3)  # a copy; None keeps the default
    assert cfg.with_options().ema == 0.99
    for bad in ({"ema": 1.0}, {"ema": -0.1}, {"learning_rate": 0.0}):
        with pytest.raises(ValueError, match="--"):
            cfg.with_options(**bad)


@pytest.mark.parametrize("flag", [["--ema", "1.5"], ["--ema", "-1"], ["--learning-rate", "0"],
                                  ["--learning-rate", "1e9"]])
def test_bad_training_flags_fail_before_training_and_write_nothing(tmp_path: Path, flag: list[str]):
    counts = tmp_path / "counts.csv"
    write_table(_counts(200), counts)
    out = tmp_path / "m"
    r = run_cli("train-forecaster", "--counts", str(counts), "--out", str(out), *flag)
    assert r.returncode == 2, r.stderr[-2000:]
    assert flag[0] in r.stderr and "must be" in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".m*"))  # no model, no partial folder
