"""A clip's High segments reach the classification row (Parquet/Athena) and the report's High-risk table."""

from __future__ import annotations

import pandas as pd
from crimecast.report.activity import classification_activity
from crimecast.tables import CLASSIFICATION_ROWS, classification_row, format_segments


def test_format_segments():
    segs = [{"start_s": 3.2, "end_s": 6.4, "confidence": 0.8123}, {"start_s": 12, "end_s": 14.04, "confidence": 0.66}]
    assert format_segments(segs) == "3.2–6.4 s (0.81); 12.0–14.0 s (0.66)"
    assert format_segments([]) == ""  # a video with no High stretch
    assert format_segments(None) is None  # an image: no timeline at all
    assert format_segments([{"start_s": 1}, {"start_s": 0, "end_s": 2, "confidence": 0.9}]) == "0.0–2.0 s (0.90)"


def test_row_carries_segments():
    video = {"risk_level": "High", "probabilities": {"High": 0.8, "Medium": 0.1, "Low": 0.1},
             "high_segments": [{"start_s": 0.0, "end_s": 2.0, "confidence": 0.9}], "status": "ok"}
    row = classification_row(video)
    assert set(row) == set(CLASSIFICATION_ROWS.names)
    assert row["high_segments"] == "0.0–2.0 s (0.90)"
    assert classification_row({"risk_level": "Low", "status": "ok"})["high_segments"] is None


def test_report_high_table_shows_segments_only_when_a_video_has_them():
    rows = pd.DataFrame([
        {"key": "incoming/a/cam.mp4", "created_at": "2026-12-01T10:00:00Z", "risk_level": "High", "confidence": 0.8,
         "action": "immediate response", "high_segments": "3.2–6.4 s (0.81)", "model_version": "v1"},
        {"key": "incoming/b/cam.jpg", "created_at": "2026-12-01T09:00:00Z", "risk_level": "High", "confidence": 0.7,
         "action": "immediate response", "high_segments": None, "model_version": "v1"},
    ])
    html = classification_activity(rows).render()
    assert "High during (video)" in html and "3.2–6.4 s (0.81)" in html and "None" not in html
    assert "confidence under 0.50" not in html  # both Highs are confident
    unsure = rows.assign(confidence=[0.8, 0.21])
    assert "1 of these was rated High with a confidence under 0.50" in classification_activity(unsure).render()
    images_only = rows.iloc[[1]]
    html2 = classification_activity(images_only).render()
    assert "High during" not in html2 and "cam.jpg" in html2
