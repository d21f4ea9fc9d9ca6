"""Assemble the report page from its sections and write it atomically."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pandas as pd

from crimecast.contract import atomic_path
from crimecast.report import cards, sections, summary
from crimecast.report.base import ASSETS, Section
from crimecast.report.monitoring import monitoring_section

PLOTLY_JS_NAME = "plotly.min.js"


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


CSS = _asset("report.css")

# Collect JS errors so a browser test (or a curious analyst) can see them: window.__reportErrors.
ERROR_HOOK = """<script>window.__reportErrors=[];window.addEventListener('error',function(e){
window.__reportErrors.push(String(e.message||e));});</script>"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


REQUIRED = {
    "forecasts": ("date", "district", "category", "y_pred"),
    "history": ("date", "district", "category", "count"),
    "allocation": ("district", "units", "forecast_share", "unit_share"),
}


def _as_frame(df: pd.DataFrame | None, name: str | None = None) -> pd.DataFrame | None:
    """None for a missing or empty table; ValueError naming the table and columns for a malformed one."""
    if df is None or len(df) == 0:
        return None
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"build_report: {name or 'table'} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in REQUIRED.get(name or "", ()) if c not in df.columns]
    if missing:
        raise ValueError(f"build_report: {name} table is missing column(s) {missing}; found {list(df.columns)}")
    return df


def build_report(out_dir: Path, *, forecasts: pd.DataFrame | None, history: pd.DataFrame | None = None,
                 backtest: dict | None = None, allocation: pd.DataFrame | None = None,
                 classifications: pd.DataFrame | None = None, run_date: Any = None,
                 model_info: dict | None = None, incidents: pd.DataFrame | None = None,
                 monitoring: dict | None = None, review_images: dict[str, bytes] | None = None) -> Path:
    """Write `out_dir/index.html` (+ `plotly.min.js`) for one forecast run and return the index path.

    forecasts: forecasts contract table (intervals optional); history: counts contract table;
    backtest: the metrics.json dict of `crimecast backtest`; allocation: `crimecast.allocation.allocate`
    output; classifications: classification result rows (key/path, risk_level, confidence, created_at…);
    model_info: {"forecaster": metadata, "classifier": metadata}; incidents: rows with lat/lon for the map;
    review_images: {upload key: bytes} of uploads waiting for review (thumbnails + copies under out_dir/review/).
    """
    out_dir = Path(out_dir)
    forecasts, history = _as_frame(forecasts, "forecasts"), _as_frame(history, "history")
    allocation = _as_frame(allocation, "allocation")
    classifications, incidents = _as_frame(classifications), _as_frame(incidents)
    if backtest is not None and not isinstance(backtest, dict):
        raise ValueError(f"build_report: backtest must be the metrics.json dict, got {type(backtest).__name__}")
    model_info = model_info or {}
    if run_date is None and forecasts is not None and "run_date" in forecasts.columns:
        run_date = pd.to_datetime(forecasts["run_date"]).max()
    run_label = pd.Timestamp(run_date).date().isoformat() if run_date is not None else "unknown date"

    severity = allocation.attrs.get("severity") if allocation is not None else None
    win = summary.window(forecasts, history, run_date)
    media = summary.review_media(summary.review_queue(classifications), review_images)
    parts: list[Section] = [
        summary.action_summary(forecasts, history, backtest, classifications, model_info, media, severity, win),
        sections.overview(forecasts, history, allocation, classifications, run_label),
        sections.trends(history),
        sections.forecast_explorer(forecasts, history),
        sections.hotspots(forecasts, incidents, severity),
        sections.backtest_metrics(backtest),
        monitoring_section(monitoring, model_info),  # crimecast.monitoring.summarize output (the forecast job's)
        sections.allocation_section(allocation, forecasts),
        sections.classification_activity(classifications),
        cards.model_and_data_card(forecasts, history, backtest, model_info, monitoring),
    ]
    body = "\n".join(s.render() for s in parts)
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in parts)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{html.escape(k)} {html.escape(str(v.get('version', '?')))}"
                         for k, v in model_info.items() if isinstance(v, dict)) or "no model metadata given"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crimecast report — {html.escape(win.title)}</title>
<style>{CSS}</style>
{ERROR_HOOK}
<script src="{PLOTLY_JS_NAME}"></script>
</head><body>
<header><h1>crimecast report — {html.escape(win.title)}</h1>
<p>Run {html.escape(run_label)} · generated {generated} · models: {versions}. Forecasts describe areas and days,
never people.</p>{f'<p class="lag">{html.escape(win.lag_note)}</p>' if win.lag_note else ""}</header>
<nav>{nav}</nav>
<main>
<script>if(typeof Plotly==='undefined'){{document.write('<p class="note">The chart library '
+'{PLOTLY_JS_NAME} was not found next to this page: copy both files together.</p>');}}</script>
{body}
</main>
<footer>crimecast · self-contained report (open offline; {PLOTLY_JS_NAME} must stay next to index.html)</footer>
<script>window.__reportReady=true;</script>
</body></html>
"""
    js = _plotly_js()
    js_path = out_dir / PLOTLY_JS_NAME
    if not js_path.exists() or js_path.stat().st_size != len(js.encode("utf-8")):
        with atomic_path(js_path) as tmp:
            tmp.write_text(js, encoding="utf-8")
            tmp.chmod(0o644)
    for _thumb, _full, files in media.values():  # review pictures before the page that shows them
        for rel, data in files.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(out_dir / rel) as tmp:
                tmp.write_bytes(data)
                tmp.chmod(0o644)
    index = out_dir / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(page, encoding="utf-8")
        tmp.chmod(0o644)  # mkstemp makes 0600; a report is meant to be served and shared
    return index
