"""Report building without a browser: sections, missing inputs, escaping, atomic output, offline JS."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from crimecast.allocation import allocate
from crimecast.report import PLOTLY_JS_NAME, build_report
from crimecast.report.sections import backtest_rows, forecast_payload


def _forecasts(n_districts=4, cats=("theft", "assault"), days=30, intervals=True, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(d, f"D{i}", c) for d in pd.date_range("2026-01-01", periods=days) for i in range(n_districts)
            for c in cats]
    fc = pd.DataFrame(rows, columns=["date", "district", "category"])
    fc["run_date"] = pd.Timestamp("2025-12-31")
    fc["horizon"] = (fc["date"] - fc["run_date"]).dt.days
    fc["y_pred"] = rng.gamma(4, 1.0, len(fc))
    if intervals:
        fc["lo80"], fc["hi80"] = fc["y_pred"] * 0.6, fc["y_pred"] * 1.4
        fc["lo95"], fc["hi95"] = fc["y_pred"] * 0.4, fc["y_pred"] * 1.8
    fc["model_version"] = "m1"
    return fc


def _history(n_districts=4, cats=("theft", "assault"), days=400, seed=1):
    rng = np.random.default_rng(seed)
    rows = [(d, f"D{i}", c) for d in pd.date_range(end="2025-12-31", periods=days) for i in range(n_districts)
            for c in cats]
    h = pd.DataFrame(rows, columns=["date", "district", "category"])
    h["count"] = rng.poisson(3, len(h)).astype("int64")
    return h


def _payload(html_text: str) -> dict:
    m = re.search(r'<script type="application/json" id="fc-data">(.*?)</script>', html_text, re.S)
    assert m, "forecast explorer data missing"
    return json.loads(m.group(1))


def test_full_report_has_every_section_and_offline_js(tmp_path):
    fc = _forecasts()
    backtest = {"models": {"lstm": {"overall": {"mae": 1.2, "coverage80": 0.81}},
                           "seasonal_naive": {"overall": {"mae": 1.6}}}}
    cls = pd.DataFrame({"key": ["a.jpg", "b.jpg", "c.mp4"], "risk_level": ["High", "Low", "High"],
                        "confidence": [0.9, 0.7, 0.8], "created_at": pd.to_datetime(["2026-01-01", "2026-01-02",
                                                                                     "2026-01-02"])})
    index = build_report(tmp_path / "r", forecasts=fc, history=_history(), backtest=backtest,
                         allocation=allocate(fc, 10), classifications=cls,
                         model_info={"forecaster": {"name": "forecaster", "version": "fv7"},
                                     "classifier": {"name": "classifier", "version": "cv2"}})
    assert index == tmp_path / "r" / "index.html"
    text = index.read_text()
    js = tmp_path / "r" / PLOTLY_JS_NAME
    assert js.stat().st_size > 1_000_000 and "Plotly" in js.read_text()[:5000]
    assert f'<script src="{PLOTLY_JS_NAME}"></script>' in text
    assert "https://" not in text.split("<body>")[0], "report must not fetch anything at load time"
    for anchor in ("overview", "trends", "forecast", "hotspots", "backtest", "allocation", "classifications",
                   "card"):
        assert f'<section id="{anchor}">' in text
    for fig in ("fig-hotspots", "fig-backtest", "fig-allocation", "fig-classifications"):
        assert f'id="{fig}"' in text
    assert "fv7" in text and "cv2" in text
    assert "Recorded crime is not all crime" in text and "never people" in text and "Feedback loops" in text
    assert "Out of scope" in text and "Intended uses" in text
    assert "No forecast data in this run" not in text
    # The explorer carries every series, with intervals, in one selector-driven chart
    p = _payload(text)
    assert len(p["series"]) == 8 and p["intervals"] is True
    assert len(p["fc_dates"]) == 30 and len(p["hist_dates"]) == 120
    s = p["series"]["D0|theft"]
    assert all(lo <= y <= hi for lo, y, hi in zip(s["lo80"], s["y_pred"], s["hi80"], strict=True))
    # Backtest: the model is compared with the seasonal-naive baseline
    assert "MAE ÷ seasonal-naive" in text and "0.750" in text


def test_trends_section_uses_the_forecasting_trends_module(tmp_path):
    trends = pytest.importorskip("crimecast.forecast.trends", reason="crimecast.forecast.trends not written yet")
    assert hasattr(trends, "citywide_trends")
    text = build_report(tmp_path, forecasts=_forecasts(), history=_history()).read_text()
    assert 'id="fig-trend"' in text and 'id="fig-stl"' in text


def test_empty_run_explains_there_is_no_data(tmp_path):
    text = build_report(tmp_path, forecasts=None).read_text()
    assert "No forecast data in this run" in text
    assert "No backtest metrics" in text and "No patrol allocation" in text
    assert "No classification results" in text and "No history" in text
    empty = build_report(tmp_path / "e2", forecasts=_forecasts().iloc[0:0]).read_text()
    assert "No forecast data in this run" in empty


def test_missing_intervals_still_render_and_say_so(tmp_path):
    fc = _forecasts(intervals=False)
    text = build_report(tmp_path, forecasts=fc, allocation=allocate(fc, 6)).read_text()
    assert "no prediction intervals" in text
    p = _payload(text)
    assert p["intervals"] is False and "lo80" not in p["series"]["D1|assault"]


def test_user_strings_are_escaped(tmp_path):
    fc = _forecasts(n_districts=1)
    fc["district"] = "<script>alert(1)</script>"
    text = build_report(tmp_path, forecasts=fc, allocation=allocate(fc, 2)).read_text()
    assert "<script>alert(1)" not in text  # neither in HTML nor inside embedded JSON
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # tables show it as text


def test_incident_points_make_a_map_only_with_coordinates(tmp_path):
    rng = np.random.default_rng(0)
    inc = pd.DataFrame({"latitude": 41.8 + rng.normal(0, 0.01, 300), "longitude": -87.6 + rng.normal(0, 0.01, 300)})
    assert 'id="fig-incident-map"' in build_report(tmp_path / "a", forecasts=_forecasts(), incidents=inc).read_text()
    no_ll = build_report(tmp_path / "b", forecasts=_forecasts(), incidents=pd.DataFrame({"x": [1]})).read_text()
    assert 'id="fig-incident-map"' not in no_ll and "without lat/lon" in no_ll


def test_allocation_in_the_report_follows_the_forecast(tmp_path):
    fc = _forecasts()
    fc.loc[fc["district"] == "D2", "y_pred"] *= 20
    alloc = allocate(fc, 12)
    assert alloc.iloc[0]["district"] == "D2"
    text = build_report(tmp_path, forecasts=fc, allocation=alloc).read_text()
    assert "D2</b>" in text.split('id="hotspots"')[1].split("</section>")[0]  # top hotspot named


def test_failed_build_leaves_no_partial_index(tmp_path, monkeypatch):
    out = tmp_path / "r"
    build_report(out, forecasts=_forecasts())
    before = (out / "index.html").read_bytes()

    import crimecast.report.sections as sections

    def boom(*a, **k):
        raise RuntimeError("section failed")

    monkeypatch.setattr(sections, "backtest_metrics", boom)
    with pytest.raises(RuntimeError):
        build_report(out, forecasts=_forecasts(seed=5), backtest={"x": 1})
    assert (out / "index.html").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["index.html", PLOTLY_JS_NAME]


def test_backtest_rows_handle_several_shapes():
    flat = backtest_rows({"lstm": {"mae": 1.0, "rmse": 2.0}, "seasonal_naive": {"mae": 2.0, "rmse": 3.0}})
    assert list(flat["model"]) == ["lstm", "seasonal_naive"]
    assert flat.loc[0, "mae_vs_seasonal_naive"] == pytest.approx(0.5)
    nested = backtest_rows({"overall": {"lstm": {"overall": {"mae": 3.0}}}, "notes": {"a": "b"}})
    assert list(nested["model"]) == ["lstm"]
    assert backtest_rows(None).empty and backtest_rows({"notes": "x"}).empty
    # One `crimecast backtest` metrics.json: the model name is under run.model
    single = backtest_rows({"overall": {"mae": 2.5}, "by_series": {"A|x": {"mae": 9.0}}, "run": {"model": "ets"}})
    assert list(single["model"]) == ["ets"] and single.loc[0, "mae"] == 2.5


def test_payload_uses_the_latest_run_only():
    a, b = _forecasts(n_districts=1, cats=("theft",)), _forecasts(n_districts=1, cats=("theft",), seed=9)
    b["run_date"] = pd.Timestamp("2026-01-05")
    p = forecast_payload(pd.concat([a, b]), None)
    assert p["series"]["D0|theft"]["y_pred"][0] == round(float(b["y_pred"].iloc[0]), 2)


def test_malformed_tables_are_named_and_nothing_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"forecasts table is missing column\(s\) \['y_pred'\]"):
        build_report(tmp_path / "x", forecasts=_forecasts().drop(columns=["y_pred"]))
    with pytest.raises(ValueError, match=r"history table is missing column\(s\) \['count'\]"):
        build_report(tmp_path / "x", forecasts=None, history=_history().rename(columns={"count": "n"}))
    assert not (tmp_path / "x").exists()
