"""The one forecaster interface (every model `forecast(y, h, X, level)`, intervals named by level), the direct
per-horizon inputs (no leakage, short histories), the first-of-month base profile and the hotspot metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crimecast.forecast import conformal, forecasters
from crimecast.forecast.backtest import run_backtest
from crimecast.forecast.base import dom1_profile
from crimecast.forecast.horizon import HORIZON_FEATURES, horizon_features
from crimecast.forecast.hotspot_metrics import hotspot_metrics, naive_rankings


def _y(t: int = 800, s: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = (4 + 3 * np.arange(s))[:, None] * (1 + 0.4 * (np.arange(t)[None, :] % 7 >= 5))
    return rng.poisson(lam).astype(np.float64)


@pytest.mark.parametrize("name", ["seasonal_naive", "moving_average", "dow_profile", "ets"])
def test_every_baseline_has_the_one_interface_and_names_intervals_by_level(name: str):
    y = _y(200)
    f = forecasters.get(name)
    out = f.forecast(y, 14, None, level=(50, 90))
    assert set(out) == {"mean", "lo50", "hi50", "lo90", "hi90"}
    for k, v in out.items():
        assert v.shape == (3, 14) and np.isfinite(v).all() and (v >= 0).all(), k
    # nested: the 90 % interval holds the 50 % one, which holds the point forecast
    assert (out["lo90"] <= out["lo50"] + 1e-9).all() and (out["lo50"] <= out["mean"] + 1e-9).all()
    assert (out["hi90"] >= out["hi50"] - 1e-9).all() and (out["hi50"] >= out["mean"] - 1e-9).all()
    assert conformal.interval_names((50, 90)) == ["lo50", "hi50", "lo90", "hi90"]


def test_backtest_runs_any_registered_model_through_the_interface():
    class Last:  # a model the backtest has never heard of: yesterday's count, flat, ±1 crime
        name = "last_day"

        def __init__(self, **_: object) -> None:
            pass

        def min_history(self, window: int, horizon: int) -> int:
            return 7

        def forecast(self, y, h, X=None, level=(80, 95)):
            m = np.repeat(y[:, -1:], h, axis=1)
            return {"mean": m, **{f"{s}{lv}": m + (1 if s == "hi" else -1) for lv in level for s in ("lo", "hi")}}

    forecasters.register("last_day", Last)
    try:
        dates = pd.date_range("2020-01-01", periods=120, freq="D")
        y = _y(120, 2)
        c = pd.concat([pd.DataFrame({"date": dates, "district": str(i), "category": "x", "count": y[i].astype(int)})
                       for i in range(2)])
        res = run_backtest(c, "last_day", n_origins=2, step=20, horizon=10, window=7, progress=False)
        p = res.predictions
        o = p["origin"].min()
        last = c[(pd.to_datetime(c.date) == o - pd.Timedelta(days=1)) & (c.district == "0")]["count"].iloc[0]
        first = p[(p.origin == o) & (p.district == "0")]
        assert (first["y_pred"] == last).all() and (first["hi80"] == last + 1).all()
    finally:
        forecasters.FORECASTERS.pop("last_day")
    with pytest.raises(ValueError, match="expected one of"):
        forecasters.get("no_such_model")


def test_horizon_features_use_only_the_past_and_match_hand_values():
    y = _y(900)
    o = np.array([800])
    f1 = horizon_features(y, o, 30)
    y2 = y.copy()
    y2[:, 800:] = 999
    np.testing.assert_array_equal(f1, horizon_features(y2, o, 30))
    assert f1.shape == (3, 1, 30, len(HORIZON_FEATURES))
    scale = y[:, 772:800].mean(1) + 0.1
    j = HORIZON_FEATURES.index
    np.testing.assert_allclose(f1[:, 0, 0, j("lvl7")], y[:, 793:800].mean(1) / scale - 1, rtol=1e-5)
    # the seasonal-naive value: day 800 + h has the weekday of day 793 + (h mod 7)
    np.testing.assert_allclose(f1[:, 0, 9, j("lag7")], y[:, 793 + 9 % 7] / scale - 1, rtol=1e-5)
    np.testing.assert_allclose(f1[:, 0, 5, j("ly")], y[:, 805 - 364 - 3:805 - 364 + 4].mean(1) / scale - 1, rtol=1e-5)


def test_short_history_series_are_not_read_as_zeros_before_they_start():
    y = _y(900, 2)
    y[1, :780] = 0  # series 1 starts 20 days before the origin (a new district)
    f = horizon_features(y, np.array([800]), 30)
    j = HORIZON_FEATURES.index
    known = y[1, 780:800].mean()
    scale = known + 0.1
    np.testing.assert_allclose(f[1, 0, 0, j("lvl364")], known / scale - 1, rtol=1e-5)  # not diluted by 344 zeros
    assert np.allclose(f[1, 0, :, j("ly_ratio")], 0.0)  # no year known: "no seasonal change", not "-100 %"
    assert np.allclose(f[1, 0, :, j("ly")], f[1, 0, :, j("lvl364")])  # falls back to the long level
    assert abs(f[0, 0, 0, j("lvl364")]) < 0.3  # the long series keeps its real history


def test_first_of_month_profile_finds_a_recording_spike_from_past_days_only():
    dates = pd.date_range("2019-01-01", periods=800, freq="D")
    y = _y(800, 2).copy()
    y[0, np.asarray(dates.day == 1)] += 20  # series 0 records a batch on the 1st
    dom = np.asarray(pd.date_range(dates[0], periods=830, freq="D").day)
    oi = 760  # forecast days 760..789 include one 1st
    p = dom1_profile(y, np.array([oi]), 30, dom)
    first = np.asarray(dom[oi:oi + 30] == 1)
    assert first.sum() == 1
    assert p[0, 0, first][0] > 2.0 and np.allclose(p[0, 0, ~first], 1.0)
    assert abs(p[1, 0, first][0] - 1) < 0.3
    y2 = y.copy()
    y2[:, oi:] = 0
    np.testing.assert_array_equal(p, dom1_profile(y2, np.array([oi]), 30, dom))


def test_hotspot_hit_rate_and_pai_by_hand():
    origin = pd.Timestamp("2021-01-01")
    days = pd.date_range(origin, periods=30, freq="D")
    truth = {f"d{i}": i for i in range(10)}  # district d9 holds the most crime, then d8, …
    pred = {f"d{i}": (9 - i if i < 2 else i) for i in range(10)}  # the forecast swaps the top with the bottom
    p = pd.DataFrame([{"origin": origin, "date": d, "district": k, "category": "x", "y_true": truth[k],
                       "y_pred": float(pred[k])} for d in days for k in truth])
    ref = pd.DataFrame({"origin": origin, "district": list(truth), "category": "x",
                        "last28": [float(v) for v in truth.values()], "last_year_7": np.nan, "last_year_30": np.nan})
    h = hotspot_metrics(p, ref)
    t = {(r["window_days"], r["method"], r["area_share"]): r for r in h["table"]}
    total = sum(truth.values())
    # 10 % of 10 districts = 1 area: the model ranks d0 first (forecast 9, tied with d9; ties keep name order)
    assert t[(30, "model", 0.1)]["hit_rate"] == pytest.approx(truth["d0"] / total)
    assert t[(30, "last 28 days", 0.1)]["hit_rate"] == pytest.approx(9 / total)
    assert t[(30, "last 28 days", 0.2)]["pai"] == pytest.approx(((9 + 8) / total) / 0.2, rel=1e-3)
    assert (30, "last year", 0.1) not in t  # no year of history: no score rather than a made-up one
    assert hotspot_metrics(p[p.district.isin(["d0", "d1"])]) is None  # too few areas
    r = naive_rankings(np.arange(400, dtype=float)[None], 380)
    assert r["last28"][0] == sum(range(352, 380)) and r["last_year_7"][0] == sum(range(16, 23))


def test_the_base_forecasts_a_short_history_without_indexing_past_it():
    from crimecast.forecast.base import base_forecast, scaled_window
    from crimecast.forecast.features import FeatureSpec

    y = _y(90, 2)  # 90 days: shorter than the 91-day level window plus the horizon
    dom = np.asarray(pd.date_range("2024-01-01", periods=120, freq="D").day)
    scale, ratio = scaled_window(y[:, None, -60:], 28)
    b = base_forecast(y, ratio, np.array([90]), FeatureSpec(), dom)
    assert b.shape == (2, 1, 30) and np.isfinite(b).all()
    fc = scale[:, :, None] * b
    assert np.allclose(fc.mean(axis=(1, 2)), y[:, -28:].mean(1), rtol=0.35)  # on the recent level, not 0
