"""The report's first screen (action summary, header window), the model card table, the one hotspot ranking,
the shipped-model backtest's origin choice and the models check's comparison."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crimecast.chicago import load_embedded
from crimecast.hotspots import rank_hotspots
from crimecast.report import build_report
from crimecast.report.cards import model_table, model_warnings
from crimecast.report.summary import review_queue, trust_line, window
from crimecast.shipped_backtest import pick_origins

ROOT = Path(__file__).resolve().parents[2]


def _fc(run="2022-02-12", days=30, districts=("01", "02", "03"), cats=("ALL",), level=None):
    rows = [(d, di, c) for d in pd.date_range(pd.Timestamp(run) + pd.Timedelta(days=1), periods=days)
            for di in districts for c in cats]
    fc = pd.DataFrame(rows, columns=["date", "district", "category"])
    fc["run_date"] = pd.Timestamp("2026-12-02")
    level = level or {"01": 10.0, "02": 30.0, "03": 20.0}
    fc["y_pred"] = fc["district"].map(level).astype(float)
    fc["lo80"], fc["hi80"], fc["lo95"], fc["hi95"] = fc.y_pred * .8, fc.y_pred * 1.2, fc.y_pred * .6, fc.y_pred * 1.4
    fc["model_version"] = "m1"
    return fc


def _hist(end="2022-02-12", districts=("01", "02", "03"), level=None):
    level = level or {"01": 10, "02": 20, "03": 20}
    rows = [(d, di, "ALL", level[di]) for d in pd.date_range(end=end, periods=60) for di in districts]
    return pd.DataFrame(rows, columns=["date", "district", "category", "count"])


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


# ------------------------------------------------------------------ ranking
def test_rank_hotspots_orders_by_weighted_sum_over_the_window_with_ties_by_name():
    fc = _fc(level={"01": 10.0, "02": 30.0, "03": 30.0})
    r = rank_hotspots(fc, days=7)
    assert list(r["district"]) == ["02", "03", "01"] and list(r["rank"]) == [1, 2, 3]
    assert r["y_pred"].iloc[0] == pytest.approx(7 * 30) and r["days"].iloc[0] == 7
    assert r["share"].sum() == pytest.approx(1.0)
    # severity weights change the order: burglary weighs more than theft
    fc2 = _fc(districts=("A", "B"), cats=("theft", "burglary"), level={"A": 5.0, "B": 5.0})
    fc2.loc[(fc2.district == "A") & (fc2.category == "theft"), "y_pred"] = 9.0
    fc2.loc[(fc2.district == "B") & (fc2.category == "burglary"), "y_pred"] = 7.0
    assert list(rank_hotspots(fc2, days=1)["district"]) == ["B", "A"]
    assert list(rank_hotspots(fc2, days=1, severity={"theft": 1, "burglary": 1})["district"]) == ["A", "B"]
    with pytest.raises(ValueError, match="no forecast day"):
        rank_hotspots(fc, start="2030-01-01")


# ------------------------------------------------------------------ header and summary
def test_header_states_the_data_end_and_forecast_window_and_the_run_lag():
    w = window(_fc(), _hist(), "2026-12-02")
    assert w.title == "data to 2022-02-12 · forecast 2022-02-13 – 2022-03-14"
    assert "1,754 days after the last day of data" in w.lag_note
    assert window(_fc(), _hist(), "2022-02-13").lag_note == ""


def test_summary_is_first_and_names_districts_reasons_review_items_and_trust(tmp_path):
    cls = pd.DataFrame({"key": ["incoming/cam/a.jpg", "incoming/cam/b.jpg", "incoming/cam/c.jpg",
                                "incoming/cam/d.mp4"],
                        "risk_level": ["High", "Low", "Medium", "High"], "confidence": [.9, .5, .8, .7],
                        "uncertain": [False, True, False, False],
                        "created_at": pd.date_range("2026-12-01", periods=4, freq="h")})
    backtest = {"models": {"lstm (shipped m1)": {"overall": {"mae": 2.0, "coverage80": .79, "coverage95": .94},
                                                 "n_origins": 3, "run": {"scope": "out-of-sample"}},
                           "seasonal_naive": {"overall": {"mae": 4.0}}, "ets": {"overall": {"mae": 2.5}}}}
    idx = build_report(tmp_path / "r", forecasts=_fc(), history=_hist(), backtest=backtest, classifications=cls,
                       run_date="2026-12-02",
                       review_images={"incoming/cam/a.jpg": _png(), "incoming/cam/b.jpg": _png()},
                       model_info={"forecaster": {"version": "f1", "trained_on": {"kind": "real"}},
                                   "classifier": {"version": "c9", "trained_on": {"kind": "synthetic"}}})
    html = idx.read_text()
    assert html.index('id="summary"') < html.index('id="overview"') < html.index('id="card"')
    assert "data to 2022-02-12 · forecast 2022-02-13 – 2022-03-14" in html.split("</header>")[0]
    summary = html.split('<section id="summary">')[1].split("</section>")[0]
    # 02 first (most expected harm), with its 7-day sum, band and why (+50 % vs its last 4 weeks)
    rows = summary.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.index("<b>02</b>") < rows.index("<b>03</b>") < rows.index("<b>01</b>")
    assert "210 (168–252)" in rows and "+50% vs its last 4 weeks" in rows and "most expected harm" in rows
    # the review list: High and uncertain only (not the Medium one), newest first, thumbnails written and linked
    assert "d.mp4" in summary and "a.jpg" in summary and "b.jpg" in summary and "c.jpg" not in summary
    assert summary.index("d.mp4") < summary.index("b.jpg") < summary.index("a.jpg")
    thumbs = sorted(p.name for p in (tmp_path / "r" / "review").iterdir())
    assert len(thumbs) == 4 and all(t in summary for t in thumbs)  # 2 thumbnails + 2 full pictures
    assert "uncertain → human review" in summary
    # one trust line: error vs the best baseline and interval coverage
    assert "0.80× the error of the best baseline (ets)" in summary and "80 % band held the true count 79%" in summary
    assert "scored on days after the model&#x27;s training data" in summary
    # the synthetic classifier is flagged plainly on the first screen, the real forecaster is not
    assert "classifier (c9) was trained on SYNTHETIC data only" in summary and "forecaster (f1)" not in summary


def test_trust_line_says_when_nothing_was_validated():
    assert "Not validated in this run" in trust_line(None)
    assert "only baselines" in trust_line({"models": {"ets": {"overall": {"mae": 1.0}}}})


def test_review_queue_without_flags_or_results():
    assert review_queue(None) is None
    q = review_queue(pd.DataFrame({"key": ["x"], "risk_level": ["low"]}))
    assert q is not None and q.empty


# ------------------------------------------------------------------ model card
def test_model_card_table_words_and_warnings():
    info = {"forecaster": {"version": "f1", "trained_on": {"kind": "real", "sources": ["Chicago data portal"],
                                                          "n_items": 1234, "data_sha256": "ab" * 32,
                                                          "date_range": ["2010-01-01", "2022-02-12"]},
                           "validation": {"what": "held-out block", "mae": 4.61, "coverage80": 0.8},
                           "command": "crimecast train-forecaster --counts x", "code_version": "deadbeefcafe1234"},
            "classifier": {"version": "c1", "trained_on": {"kind": "synthetic"}},
            "clip": {"version": "k1"}}
    html = model_table(info)
    assert html.index("forecaster") < html.index("classifier") < html.index("clip")
    assert "Chicago data portal" in html and "1,234 items" in html and "2010-01-01 – 2022-02-12" in html
    assert "held-out block: mae 4.61, coverage80 0.8" in html and "crimecast train-forecaster --counts x" in html
    assert "synthetic only" in html and "training data unknown" in html and "not recorded: accuracy unknown" in html
    warns = model_warnings(info)
    assert len(warns) == 2 and "SYNTHETIC" in warns[0] and "does not say what it was trained on" in warns[1]


# ------------------------------------------------------------------ shipped-model backtest origins
def test_pick_origins_out_of_sample_calibration_block_and_other_data():
    end = pd.Timestamp("2022-02-12")
    o, scope = pick_origins({"train_end": "2021-12-31"}, end, 30, 4, 14)
    assert scope == "out-of-sample" and o[0] > pd.Timestamp("2021-12-31") and o[-1] == pd.Timestamp("2022-01-14")
    o, scope = pick_origins({"train_end": "2022-02-12", "training": {"train_origin_range": ["2017-01-01",
                                                                                           "2021-09-17"]}},
                            end, 30, 4, 28)
    assert scope == "calibration block" and len(o) == 4 and o[0] == pd.Timestamp("2021-10-22")  # ≥ 2021-10-17
    o, scope = pick_origins({"train_end": "2024-12-31", "known_series": [["D1", "theft"]]}, end, 30, 2, 28,
                            {("01", "ALL")})
    assert scope == "other data" and len(o) == 2
    with pytest.raises(ValueError, match="no origin"):
        pick_origins({"train_end": "2022-02-12", "training": {"train_origin_range": ["2017", "2022-02-01"]}},
                     end, 30, 4, 28)


# ------------------------------------------------------------------ embedded data
def test_embedded_chicago_data_is_the_contract_and_the_two_views_agree():
    d = load_embedded("district")
    c = load_embedded("category").counts
    assert d.counts["district"].nunique() == 22 and set(d.counts["category"]) == {"ALL"}
    assert str(d.counts["date"].min().date()) == "2010-01-01" and str(d.counts["date"].max().date()) == "2022-02-12"
    assert d.counts.groupby(["district", "category"]).size().nunique() == 1  # zero-filled, every day
    assert set(c["district"]) == {"CITY"} and c["category"].nunique() == 15
    per_day_d = d.counts.groupby("date")["count"].sum()
    per_day_c = c.groupby("date")["count"].sum()
    # the 15 types hold ~97-98 % of all incidents: the type view is a bit smaller than the district view
    ratio = per_day_c.sum() / per_day_d.sum()
    assert 0.95 < ratio < 1.0
    assert d.weather["date"].max() == pd.Timestamp("2018-12-31") and len(d.events) > 2000
    samples = pd.read_csv(ROOT / "data" / "samples" / "samples.csv")
    assert set(samples["source"]) == {"surv-fight", "graffiti"} and all((ROOT / "data" / "samples" / f).is_file()
                                                                         for f in samples["file"])
    assert (ROOT / "data" / "samples" / "ATTRIBUTION.md").read_text().count("Licence:") == 2


# ------------------------------------------------------------------ models check
def _models_check():
    spec = importlib.util.spec_from_file_location("models_check", ROOT / "scripts" / "models_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_models_check_compares_hash_exactly_and_scores_within_tolerance():
    mc = _models_check()
    a = {"trained_on": {"data_sha256": "x" * 64}, "validation": {"macro_f1": 0.74, "mae": 4.6, "per_series": [1],
                                                                  "high": {"recall": 0.9}}}
    ok = {"trained_on": {"data_sha256": "x" * 64}, "validation": {"macro_f1": 0.76, "mae": 4.7,
                                                                   "high": {"recall": 0.88}}}
    assert all(r[3] for r in mc.compare(a, ok))
    bad = {"trained_on": {"data_sha256": "y" * 64}, "validation": {"macro_f1": 0.70, "mae": 5.2}}
    rows = {r[0]: r[3] for r in mc.compare(a, bad)}
    assert rows == {"trained_on.data_sha256": False, "validation.macro_f1": False, "validation.mae": False,
                    "validation.high.recall": False}
    assert not all(r[3] for r in mc.compare({"trained_on": {}}, {"trained_on": {}}))  # nothing recorded ≠ a match
    argv = mc._argv("crimecast train-forecaster --counts c.csv --out models/forecaster", Path("/tmp/x"))
    assert argv[-2:] == ["--out", "/tmp/x"] and argv[1:4] == ["-m", "crimecast.cli", "train-forecaster"]
    # `make models` writes the shipped folder: the recorded command keeps the repository path, not this machine's
    argv = mc._argv("crimecast train-forecaster --counts c.csv --out models/forecaster", ROOT / "models" / "forecaster")
    assert argv[-2:] == ["--out", "models/forecaster"]
    card = mc.model_card_md("classifier", {"version": "v1", "trained_on": {"kind": "synthetic"}})
    assert "SYNTHETIC" in card and "v1" in card
    assert np.isfinite(mc.ABS_TOL)
