"""A real browser (headless Chromium via chromedriver + selenium) opens generated reports offline.

Checks: no JavaScript errors, every Plotly figure rendered (has an SVG with drawn traces), the forecast
selectors switch series, and a screenshot is saved (under .cache/screenshots/ for a human to look at).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crimecast.allocation import allocate
from crimecast.report import build_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".cache" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("headless Chromium not installed (Debian packages chromium and chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) not installed")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="crimecast-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1300,2400"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _inputs(n_districts: int = 5, intervals: bool = True):
    rng = np.random.default_rng(3)
    cats = ["theft", "assault", "burglary"]
    districts = [f"District {i}" for i in range(n_districts)]
    dates = pd.date_range("2024-06-01", "2025-12-31")
    hist = pd.DataFrame([(d, di, c) for d in dates for di in districts for c in cats],
                        columns=["date", "district", "category"])
    dow = hist["date"].dt.dayofweek.to_numpy()
    hist["count"] = rng.poisson(4 + 2 * (dow >= 5))
    fc = pd.DataFrame([(d, di, c) for d in pd.date_range("2026-01-01", periods=30) for di in districts for c in cats],
                      columns=["date", "district", "category"])
    fc["run_date"] = pd.Timestamp("2025-12-31")
    fc["horizon"] = (fc["date"] - fc["run_date"]).dt.days
    fc["y_pred"] = rng.gamma(6, 0.8, len(fc))
    if intervals:
        for lvl, (a, b) in {"80": (0.6, 1.45), "95": (0.4, 1.8)}.items():
            fc[f"lo{lvl}"], fc[f"hi{lvl}"] = fc["y_pred"] * a, fc["y_pred"] * b
    fc["model_version"] = "test-1"
    backtest = {"models": {"lstm": {"overall": {"mae": 1.4, "rmse": 1.9, "coverage80": 0.78, "coverage95": 0.93}},
                           "seasonal_naive": {"overall": {"mae": 2.0, "rmse": 2.6}}}, "n_origins": 4}
    cls = pd.DataFrame({"key": [f"incoming/cam{i % 3}/f{i}.jpg" for i in range(40)],
                        "risk_level": rng.choice(["High", "Medium", "Low"], 40, p=[0.2, 0.3, 0.5]),
                        "confidence": rng.uniform(0.4, 1, 40),
                        "created_at": pd.date_range("2025-12-25", periods=40, freq="5h"), "action": "review"})
    inc = pd.DataFrame({"lat": 41.85 + rng.normal(0, 0.04, 1500), "lon": -87.68 + rng.normal(0, 0.05, 1500)})
    return fc, hist, backtest, cls, inc


def _open(drv, index: Path):
    drv.get(index.as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 30).until(lambda d: d.execute_script("return window.__reportReady === true"))
    # Plotly draws asynchronously; wait until every figure div has its SVG.
    WebDriverWait(drv, 30).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('.plotly-graph-div, #fig-forecast')]"
        ".every(e => e.querySelector('svg.main-svg'))"))


def _js_errors(drv) -> list[str]:
    errors = list(drv.execute_script("return window.__reportErrors || []"))
    errors += [e["message"] for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    return errors


def test_full_report_renders_without_js_errors(browser, tmp_path):
    # Given a report built from every kind of input
    fc, hist, backtest, cls, inc = _inputs()
    index = build_report(tmp_path / "report", forecasts=fc, history=hist, backtest=backtest,
                         allocation=allocate(fc, 20), classifications=cls,
                         model_info={"forecaster": {"name": "forecaster", "version": "test-1"}}, incidents=inc)
    # When Chromium opens it from disk (no network)
    _open(browser, index)
    # Then there are no JS errors and every figure drew traces
    assert _js_errors(browser) == []
    assert browser.execute_script("return typeof Plotly") == "object"
    # Offline: every resource the page loaded came from disk
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                  ".concat([...document.querySelectorAll('[src],link[href]')]"
                                  ".map(e => e.src || e.href))")
    assert any(u.endswith("/plotly.min.js") for u in urls)
    assert all(u.startswith("file://") for u in urls), urls
    ids = browser.execute_script(
        "return [...document.querySelectorAll('.plotly-graph-div')].filter(e => e.querySelector("
        "'.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm, .contourlayer .contour, canvas, image'))"
        ".map(e => e.id)")
    for fig in ("fig-forecast", "fig-hotspots", "fig-backtest", "fig-allocation", "fig-classifications",
                "fig-incident-map"):
        assert fig in ids, f"{fig} did not render traces; rendered: {ids}"
    trends_available = browser.execute_script("return !!document.getElementById('fig-trend')")
    if trends_available:
        assert "fig-trend" in ids and "fig-stl" in ids
    # And the selectors switch the forecast series
    first_title = browser.execute_script("return document.querySelector('#fig-forecast .gtitle').textContent")
    browser.execute_script("const s=document.getElementById('fc-district'); s.value='District 3';"
                           "s.dispatchEvent(new Event('change'));")
    second_title = browser.execute_script("return document.querySelector('#fig-forecast .gtitle').textContent")
    assert first_title.startswith("District 0") and second_title.startswith("District 3")
    n_traces = browser.execute_script("return document.getElementById('fig-forecast').data.length")
    assert n_traces == 6  # 2 bands × 2 edges + history + forecast
    assert _js_errors(browser) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "report_full.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_empty_run_and_missing_intervals_render_and_explain(browser, tmp_path):
    empty = build_report(tmp_path / "empty", forecasts=None)
    _open(browser, empty)
    assert _js_errors(browser) == []
    text = browser.find_element("tag name", "body").text
    assert "No forecast data in this run" in text
    browser.save_screenshot(str(tmp_path / "empty.png"))

    fc, hist, *_ = _inputs(n_districts=3, intervals=False)
    noint = build_report(tmp_path / "noint", forecasts=fc, history=hist)
    _open(browser, noint)
    assert _js_errors(browser) == []
    assert "no prediction intervals" in browser.find_element("tag name", "body").text
    assert browser.execute_script("return document.getElementById('fig-forecast').data.length") == 2


def test_first_screen_holds_the_action_summary(browser, tmp_path):
    # Given a report of the embedded real Chicago data, with review items that have real sample pictures
    from crimecast.chicago import load_embedded

    hist = load_embedded().counts
    districts = sorted(hist["district"].unique())
    rng = np.random.default_rng(5)
    fc = pd.DataFrame([(d, di, "ALL") for d in pd.date_range("2022-02-13", periods=30) for di in districts],
                      columns=["date", "district", "category"])
    fc["run_date"], fc["horizon"] = pd.Timestamp("2026-12-02"), (fc["date"] - pd.Timestamp("2022-02-12")).dt.days
    fc["y_pred"] = rng.gamma(30, 1.0, len(fc))
    for lvl, (a, b) in {"80": (0.75, 1.25), "95": (0.6, 1.45)}.items():
        fc[f"lo{lvl}"], fc[f"hi{lvl}"] = fc["y_pred"] * a, fc["y_pred"] * b
    fc["model_version"] = "f1"
    pics = sorted((ROOT / "data" / "samples" / "images").rglob("*.jpg"))[:6]
    cls = pd.DataFrame({"key": [f"incoming/cam/{p.name}" for p in pics], "risk_level": ["High"] * 3 + ["Low"] * 3,
                        "confidence": 0.9, "uncertain": [False] * 3 + [True] * 3,
                        "created_at": pd.date_range("2026-12-01", periods=len(pics), freq="h")})
    backtest = {"models": {"lstm (shipped f1)": {"overall": {"mae": 4.6, "coverage80": 0.8, "coverage95": 0.95},
                                                 "n_origins": 3, "run": {"scope": "calibration block"}},
                           "ets": {"overall": {"mae": 5.0}}, "seasonal_naive": {"overall": {"mae": 6.7}}}}
    index = build_report(tmp_path / "r", forecasts=fc, history=hist, backtest=backtest, allocation=allocate(fc, 40),
                         classifications=cls, run_date="2026-12-02",
                         review_images={k: p.read_bytes() for k, p in zip(cls["key"], pics, strict=True)},
                         model_info={"forecaster": {"version": "f1", "trained_on": {"kind": "real"}},
                                     "classifier": {"version": "c1", "trained_on": {"kind": "synthetic"}}})
    # When Chromium opens it in a laptop-sized window
    browser.set_window_size(1300, 900)
    try:
        _open(browser, index)
        assert _js_errors(browser) == []
        # Then the header states the data's last day and the forecast window,
        header = browser.find_element("tag name", "header").text
        assert "data to 2022-02-12 · forecast 2022-02-13 – 2022-03-14" in header and "1,754 days after" in header
        # and the first screen (no scrolling) holds the action summary: the synthetic-model warning, the trust line,
        # the districts needing attention and the review thumbnails (loaded pictures, linked)
        visible = browser.execute_script("""
          const h = window.innerHeight, out = {};
          const on = e => { if (!e) return false; const r = e.getBoundingClientRect();
                            return r.top >= 0 && r.top < h && r.height > 0; };
          out.warn = on(document.querySelector('#summary .warn'));
          out.trust = on(document.querySelector('#summary .trust'));
          out.table = on(document.querySelector('#summary table.summary tbody tr'));
          const imgs = [...document.querySelectorAll('#summary .thumb img')];
          out.thumbs = imgs.filter(i => on(i) && i.complete && i.naturalWidth > 0 && i.closest('a')).length;
          return out;""")
        assert visible == {"warn": True, "trust": True, "table": True, "thumbs": visible["thumbs"]}, visible
        assert visible["thumbs"] >= 3
        text = browser.find_element("id", "summary").text
        assert "Needs attention 2022-02-13 – 2022-02-19" in text and "SYNTHETIC" in text and "Trust:" in text
        # No section of this complete run is empty (only "missing" notes)
        empty = browser.execute_script(
            "return [...document.querySelectorAll('main section')].filter(s => [...s.children].every("
            "c => c.tagName === 'H2' || c.classList.contains('lead') || c.classList.contains('missing'))"
            ").map(s => s.id)")
        assert empty == ["monitoring"] or empty == [], empty  # forecast monitoring needs an earlier run
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / "report_first_screen.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000
    finally:
        browser.set_window_size(1300, 2400)
