"""Monitoring rows and summaries against a slow, independent recomputation (baselines from
crimecast.forecast.baselines at each origin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crimecast.forecast.baselines import moving_average, seasonal_naive
from crimecast.monitoring.summary import summarize
from crimecast.monitoring.table import build_table


def _data(seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    series = [("A", "theft"), ("A", "assault"), ("B", "theft")]
    counts = pd.DataFrame([(t, d, c, int(rng.poisson(4 + i))) for i, (d, c) in enumerate(series) for t in dates],
                          columns=["date", "district", "category", "count"])
    runs = []
    for origin in dates[60:100:5]:
        for d, c in series:
            for h in range(1, 31):
                p = float(rng.uniform(2, 8))
                runs.append((origin + pd.Timedelta(days=1), origin + pd.Timedelta(days=h), d, c, h, p,
                             p - 2, p + 2, p - 3, p + 3, "v1"))
    fc = pd.DataFrame(runs, columns=["run_date", "date", "district", "category", "horizon", "y_pred", "lo80", "hi80",
                                     "lo95", "hi95", "model_version"])
    return counts, fc


def test_rows_match_a_slow_recomputation():
    counts, fc = _data()
    through = pd.Timestamp("2024-04-20")
    mon = build_table(fc, counts, through)
    want = fc[fc["date"] <= through]
    assert len(mon) == len(want)
    series = counts.set_index(["district", "category", "date"])["count"].sort_index()
    for _, r in mon.sample(200, random_state=1).iterrows():
        hist = series.loc[(r["district"], r["category"])]
        origin = r["date"] - pd.Timedelta(days=int(r["horizon"]))
        past = hist[hist.index <= origin].to_numpy()
        y = hist.loc[r["date"]]
        assert r["y_true"] == y and r["abs_err"] == pytest.approx(abs(r["y_pred"] - y))
        assert r["y_ma28"] == pytest.approx(moving_average(past, 30)[0, int(r["horizon"]) - 1])
        assert r["y_snaive"] == pytest.approx(seasonal_naive(past, 30)[0, int(r["horizon"]) - 1])
        assert r["in80"] == (r["lo80"] <= y <= r["hi80"])


def test_summary_windows_and_relative_mae():
    counts, fc = _data(1)
    through = pd.Timestamp("2024-04-20")
    mon = build_table(fc, counts, through)
    s = summarize(mon, through)
    last28 = mon[mon["date"] > through - pd.Timedelta(days=28)]
    o = s["windows"]["28"]["overall"]
    assert o["n"] == len(last28) and o["mae"] == pytest.approx(last28["abs_err"].mean())
    ok = last28["y_ma28"].notna()
    rel = last28.loc[ok, "abs_err"].mean() / (last28.loc[ok, "y_ma28"] - last28.loc[ok, "y_true"]).abs().mean()
    assert o["rel_mae_ma28"] == pytest.approx(rel)
    assert o["coverage80"] == pytest.approx(last28["in80"].mean())
    assert set(s["windows"]["90"]["by_district"]) == {"A", "B"}
    assert [h["horizon"] for h in s["by_horizon"]] == sorted(mon["horizon"].unique().tolist())
