"""The report's "How did our forecasts do?" says plainly when the checked days were in the model's training data
(its metadata's `train_end`), in the section and in the model card's live-accuracy line."""

from __future__ import annotations

import numpy as np
import pandas as pd
from crimecast.monitoring.summary import summarize
from crimecast.monitoring.table import build_table
from crimecast.report import build_report
from crimecast.report.monitoring import in_sample_note, live_accuracy_html, monitoring_section

THROUGH = pd.Timestamp("2024-04-20")


def _summary():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=111, freq="D")  # through 2024-04-20
    counts = pd.DataFrame([(t, d, "ALL", int(rng.poisson(5))) for d in ("A", "B") for t in dates],
                          columns=["date", "district", "category", "count"])
    rows = []
    for origin in dates[70:100:7]:
        for d in ("A", "B"):
            for h in range(1, 31):
                p = float(rng.uniform(3, 7))
                rows.append((origin + pd.Timedelta(days=1), origin + pd.Timedelta(days=h), d, "ALL", h, p,
                             p - 2, p + 2, p - 3, p + 3, "v1"))
    fc = pd.DataFrame(rows, columns=["run_date", "date", "district", "category", "horizon", "y_pred", "lo80", "hi80",
                                     "lo95", "hi95", "model_version"])
    s = summarize(build_table(fc, counts, THROUGH), THROUGH)
    days = [d["date"] for d in s["daily"]]
    return s, days[0], days[-1]


def test_checked_days_all_in_training_are_flagged_in_section_and_card(tmp_path):
    s, first, last = _summary()
    meta = {"forecaster": {"version": "v1", "train_end": last}}  # trained through the last checked day
    note = in_sample_note(s, last)
    assert note and "all the checked days were in the model's training data" in note and "not live accuracy" \
        in note.lower() and "shows the loop working" in note
    html = monitoring_section(s, meta).render()
    assert "Nothing to check yet" not in html and 'class="warn"' in html and "training data" in html
    card = live_accuracy_html(s, last)
    assert "training data" in card and "Live accuracy" not in card  # not called live when it is in-sample
    page = build_report(tmp_path, forecasts=None, monitoring=s, model_info=meta).read_text()
    assert page.count("were in the model&#x27;s training data") == 2  # the section and the model card


def test_partly_in_training_says_how_many_days_and_live_days_get_no_note():
    s, first, last = _summary()
    days = [d["date"] for d in s["daily"]]
    mid = days[len(days) // 2]
    note = in_sample_note(s, mid)
    assert note and f"{days.index(mid) + 1} of the {len(days)} checked days ({first} – {mid})" in note
    # trained before every checked day (out of sample), or no metadata: no note, the section is as before
    before = (pd.Timestamp(first) - pd.Timedelta(days=1)).date().isoformat()
    assert in_sample_note(s, before) is None and in_sample_note(s, None) is None
    for meta in ({"forecaster": {"train_end": before}}, {"forecaster": {}}, None):
        html = monitoring_section(s, meta).render()
        assert "training data" not in html and "In short" in html
    card = live_accuracy_html(s, before)
    assert "training data" not in card and "<b>Live accuracy</b>" in card
    # nothing checked yet: no note either
    assert in_sample_note({"rows": 0}, last) is None
