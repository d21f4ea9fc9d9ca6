"""`crimecast report`: files in, offline report out; bad input exits 2 and writes nothing."""

from __future__ import annotations

import json

from test_report import _forecasts, _history
from testlib import run_cli  # `crimecast ...` in a subprocess


def test_report_cli_builds_from_files(tmp_path):
    fc, hist = _forecasts(), _history(days=60)
    fc.to_parquet(tmp_path / "fc.parquet")
    hist.assign(date=hist["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "counts.csv", index=False)
    for model, mae in (("lstm", 1.1), ("seasonal_naive", 1.5)):
        (tmp_path / model).mkdir()
        (tmp_path / model / "metrics.json").write_text(json.dumps({"overall": {"mae": mae, "rmse": 2 * mae},
                                                                   "run": {"model": model}}))
    res = tmp_path / "results"
    res.mkdir()
    for i, level in enumerate(["High", "Low", "Medium"]):
        (res / f"r{i}.json").write_text(json.dumps({"key": f"incoming/{i}.jpg", "risk_level": level,
                                                    "confidence": 0.7, "created_at": f"2026-01-0{i + 1}T10:00:00Z"}))
    out = tmp_path / "report"
    proc = run_cli("report", "--out", str(out), "--forecasts", str(tmp_path / "fc.parquet"), "--history",
                   str(tmp_path / "counts.csv"), "--backtest", str(tmp_path / "lstm" / "metrics.json"),
                   str(tmp_path / "seasonal_naive" / "metrics.json"), "--units", "8", "--classifications", str(res))
    assert proc.returncode == 0, proc.stderr
    text = (out / "index.html").read_text()
    assert proc.stdout.strip() == str(out / "index.html")
    assert "seasonal_naive" in text and "0.733" in text  # 1.1 / 1.5 vs the naive baseline
    assert 'id="fig-allocation"' in text and "8 units over 4 districts" in text
    assert "incoming/0.jpg" in text and 'class="risk-High"' in text


def test_report_cli_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "fc.csv"
    bad.write_text("date,district,category,mean\n2026-01-01,A,theft,1\n")
    out = tmp_path / "report"
    proc = run_cli("report", "--out", str(out), "--forecasts", str(bad))
    assert proc.returncode == 2 and "y_pred" in proc.stderr and str(bad) in proc.stderr
    assert not out.exists()
    proc = run_cli("report", "--out", str(out), "--units", "3")
    assert proc.returncode == 2 and "needs --forecasts" in proc.stderr and not out.exists()
    broken = tmp_path / "metrics.json"
    broken.write_text("{not json")
    proc = run_cli("report", "--out", str(out), "--backtest", str(broken))
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr and not out.exists()


def test_report_cli_empty_run_still_writes_a_report(tmp_path):
    proc = run_cli("report", "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert "No forecast data in this run" in (tmp_path / "r" / "index.html").read_text()
