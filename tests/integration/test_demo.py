"""`crimecast demo`: the local main job end to end (moto S3, uvicorn API, handlers, report).

The default run uses the embedded real data (data/chicago, data/samples) with the quick test models standing
in for the shipped ones (they are copied to a temporary models/ folder, so nothing is trained by the demo).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pandas as pd
import pytest
from lambda_helpers import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOISE = re.compile(r"tensorflow|Traceback|XNNPACK|oneDNN|WARNING|Warning:|absl", re.I)


def _models(tmp_path, classifier_model_dir, forecaster_model_dir):
    models = tmp_path / "models"
    shutil.copytree(classifier_model_dir, models / "classifier")
    shutil.copytree(forecaster_model_dir, models / "forecaster")
    return models


def _read_until(proc: subprocess.Popen, lines: queue.Queue, pattern: str, timeout: float) -> str:
    """stdout lines (collected by a reader thread) until one contains `pattern` (the demo keeps serving after it)."""
    seen = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if pattern in line:
            return "".join(seen)
    raise AssertionError(f"no {pattern!r} within {timeout} s; got:\n" + "".join(seen)[-3000:])


def _reader(stream, lines: queue.Queue) -> threading.Thread:
    t = threading.Thread(target=lambda: [lines.put(x) for x in iter(stream.readline, "")], daemon=True)
    t.start()
    return t


def test_demo_on_the_embedded_real_data_serves_until_sigint_even_when_inherited_ignored(
        tmp_path, classifier_model_dir, forecaster_model_dir):
    # Given models in a models/ folder and no data argument (so the embedded real data is used)
    models = _models(tmp_path, classifier_model_dir, forecaster_model_dir)
    out = tmp_path / "out"
    # When the demo starts the way a shell starts a background job: SIGINT inherited as *ignored*
    proc = subprocess.Popen([sys.executable, "-m", "crimecast.cli", "demo", "--out", str(out), "--models", str(models),
                             "--port", "0", "--images", "4", "--backtest-origins", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines: queue.Queue = queue.Queue()
    errors: queue.Queue = queue.Queue()
    readers = [_reader(proc.stdout, lines), _reader(proc.stderr, errors)]
    try:
        head = _read_until(proc, lines, "serving the API until Ctrl-C", timeout=900)
        # Then it said what it runs on, served the API, and the report holds every section
        assert "crimecast demo starting" in head and "embedded real data: Chicago, 22 police districts" in head
        assert "backtest of the shipped forecaster vs 3 baselines" in head
        api = re.search(r"^\s+API:\s+(http://\S+)", head, re.M).group(1)
        with urllib.request.urlopen(f"{api}/v1/health", timeout=30) as r:
            assert r.status == 200
        html = (out / "reports" / "latest" / "index.html").read_text()
        assert html.index('<section id="summary">') < html.index('<section id="overview">')
        assert "data to 2022-02-12 · forecast 2022-02-13 – 2022-03-14" in html
        for empty in ("No backtest metrics", "No patrol allocation", "No classification results", "accuracy unknown "
                      "for this run", "No forecast data"):
            assert empty not in html, empty
        assert "Needs attention 2022-02-13 – 2022-02-19" in html
        assert "Trust:</b> In the backtest (1 origin × 30 days)" in html
        assert "<td><b>classifier</b>" in html and "<td><b>forecaster</b>" in html  # the model card table
        assert 'class="warn"' in html  # the quick test models are synthetic / unstated: flagged plainly
        thumbs = list((out / "reports" / "latest" / "review").glob("*-thumb.jpg"))
        assert thumbs and all(t.name in html for t in thumbs)
        # The daily loop: 4 backfilled earlier runs (a week apart) beside the scheduled run, checked in its report
        assert "daily loop: backfilled 4 earlier runs" in head
        run_date = re.search(r"run_date=(\d{4}-\d{2}-\d{2})\)", head).group(1)
        runs = sorted(p.name for p in (out / "forecasts").iterdir())
        assert runs == [f"run_date={d}" for d in ("2022-01-16", "2022-01-23", "2022-01-30", "2022-02-06", run_date)]
        parts = list((out / "forecasts" / f"run_date={run_date}").rglob("*.parquet"))
        fc = pd.read_parquet(parts[0])
        assert len(parts) == 1 and fc["district"].nunique() == 22 and set(fc["category"]) == {"ALL"}
        assert str(fc["date"].min().date()) == "2022-02-13"
        mon = html[html.index('<section id="monitoring">'):]
        mon = mon[:mon.index("</section>")]
        assert "Nothing to check yet" not in mon and "from 4 runs" in mon and 'id="monitoring-daily"' in mon
        # the test forecaster's metadata decides whether the checked days (to 2022-02-12) were in its training data
        train_end = json.loads((models / "forecaster" / "metadata.json").read_text()).get("train_end")
        assert ("were in the model&#x27;s training data" in mon) == bool(train_end and train_end >= "2022-02-12")
        assert len(list((out / "results").rglob("*.json"))) == 5  # 4 real images + the real clip
    finally:
        # And Ctrl-C (SIGINT) stops it cleanly although it was inherited ignored
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        for r in readers:
            r.join(10)
        rest = "".join(iter(lambda: lines.get() if not lines.empty() else None, None))
        err = "".join(iter(lambda: errors.get() if not errors.empty() else None, None))
    assert proc.returncode == 0, err[-3000:]
    assert "shutting down" in rest and "stopped: API and local S3 shut down" in rest
    # Quiet logs: nothing from TensorFlow/LiteRT, no warnings or tracebacks, on either stream
    assert not NOISE.search(err), err[-3000:]
    assert not NOISE.search(head + rest), (head + rest)[-3000:]


def test_demo_synthetic_once_leaves_report_and_forecasts(tmp_path, synth_dir, classifier_model_dir,
                                                         forecaster_model_dir):
    models = _models(tmp_path, classifier_model_dir, forecaster_model_dir)
    out = tmp_path / "out"
    shutil.copytree(synth_dir, out / "data", ignore=shutil.ignore_patterns(".done"))
    proc = run_cli("demo", "--synthetic", "--once", "--out", str(out), "--models", str(models), "--port", "0",
                   "--images", "4", "--backtest-origins", "0", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SYNTHETIC data" in proc.stdout and "done (--once)" in proc.stdout
    html = (out / "reports" / "latest" / "index.html").read_text()
    assert "Recent classification activity" in html and "No classification results" not in html
    run_date = re.search(r"run_date=(\d{4}-\d{2}-\d{2})\)", proc.stdout).group(1)
    parts = list((out / "forecasts").rglob("*.parquet"))
    assert len(parts) == 5  # the run + 4 backfilled earlier runs (the daily loop)
    parts = [p for p in parts if p.parent.name == f"run_date={run_date}"]
    assert len(parts) == 1
    fc = pd.read_parquet(parts[0])
    assert len(fc) > 0 and {"y_pred", "lo80", "hi80", "lo95", "hi95", "model_version"} <= set(fc.columns)
    assert len(list((out / "results").rglob("*.json"))) == 5  # 4 images + 1 video
    assert "curl -s -X POST" in proc.stdout and "/v1/classify" in proc.stdout and "risk_level=" in proc.stdout
    manifest = json.loads(next((out / "runs").rglob("manifest.json")).read_text())
    assert manifest["series"] == fc.groupby(["district", "category"]).ngroups


def test_demo_never_trains_unless_asked(tmp_path):
    empty = tmp_path / "models"
    empty.mkdir()
    t = time.time()
    proc = run_cli("demo", "--once", "--out", str(tmp_path / "out"), "--models", str(empty), "--port", "0",
                   timeout=120)
    assert proc.returncode == 2
    assert "no forecaster and no classifier model" in proc.stdout and "make models" in proc.stdout
    assert "train-" not in proc.stdout and time.time() - t < 60
    assert not list(empty.iterdir())


@pytest.mark.parametrize("bad", ["nosuch-folder"])
def test_demo_bad_data_folder_is_a_clear_error(tmp_path, bad, classifier_model_dir, forecaster_model_dir):
    models = _models(tmp_path, classifier_model_dir, forecaster_model_dir)
    proc = run_cli("demo", "--once", "--data", str(tmp_path / bad), "--models", str(models), "--out",
                   str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2 and f"--data {tmp_path / bad}: not a folder" in proc.stdout
