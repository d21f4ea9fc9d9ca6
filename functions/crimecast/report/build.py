"""Assemble the report page from its sections and write it atomically."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pandas as pd

from crimecast.contract import atomic_path
from crimecast.report import cards, sections
from crimecast.report.sections import Section

PLOTLY_JS_NAME = "plotly.min.js"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#102a43;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:0;color:#bcccdc}
nav{background:#fff;border-bottom:1px solid #d9e2ec;padding:8px 32px;position:sticky;top:0;z-index:5}
nav a{margin-right:14px;color:#243b53;text-decoration:none;font-size:14px} nav a:hover{text-decoration:underline}
main{max-width:1200px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:16px 20px;margin:18px 0}
section h2{margin-top:0;font-size:20px}
.lead{color:#486581;margin-top:-6px}
.note{background:#fffbea;border-left:4px solid #f0b429;padding:8px 12px;margin:10px 0}
.missing{background:#f0f4f8;border-left:4px solid #9fb3c8;padding:8px 12px;margin:10px 0;color:#486581}
table.data{border-collapse:collapse;font-size:13px;margin:8px 0} table.data th,table.data td{border-bottom:1px solid
 #e4e7eb;padding:4px 10px;text-align:right} table.data th:first-child,table.data td:first-child{text-align:left}
table.data th{background:#f0f4f8}
.controls label{margin-right:16px;font-size:14px} .controls select{font-size:14px;padding:2px 4px}
.risk-High{color:#c62828;font-weight:600} .risk-Medium{color:#ef6c00;font-weight:600} .risk-Low{color:#2e7d32}
.plot{min-height:200px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
.cards>div{min-width:0;overflow-x:auto} .cards li{overflow-wrap:anywhere}
.cards div h3{font-size:16px;margin:8px 0 4px} ul{margin:4px 0 8px 18px;padding:0}
footer{color:#829ab1;font-size:12px;text-align:center;padding:12px}
"""

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
                 model_info: dict | None = None, incidents: pd.DataFrame | None = None) -> Path:
    """Write `out_dir/index.html` (+ `plotly.min.js`) for one forecast run and return the index path.

    forecasts: forecasts contract table (intervals optional); history: counts contract table;
    backtest: the metrics.json dict of `crimecast backtest`; allocation: `crimecast.allocation.allocate`
    output; classifications: classification result rows (key/path, risk_level, confidence, created_at…);
    model_info: {"forecaster": metadata, "classifier": metadata}; incidents: rows with lat/lon for the map.
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

    parts: list[Section] = [
        sections.overview(forecasts, history, allocation, classifications, run_label),
        sections.trends(history),
        sections.forecast_explorer(forecasts, history),
        sections.hotspots(forecasts, incidents, allocation.attrs.get("severity") if allocation is not None else None),
        sections.backtest_metrics(backtest),
        sections.allocation_section(allocation, forecasts),
        sections.classification_activity(classifications),
        cards.model_and_data_card(forecasts, history, backtest, model_info),
    ]
    body = "\n".join(s.render() for s in parts)
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in parts)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{html.escape(k)} {html.escape(str(v.get('version', '?')))}"
                         for k, v in model_info.items() if isinstance(v, dict)) or "no model metadata given"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crimecast report — {html.escape(run_label)}</title>
<style>{CSS}</style>
{ERROR_HOOK}
<script src="{PLOTLY_JS_NAME}"></script>
</head><body>
<header><h1>crimecast forecast report — run {html.escape(run_label)}</h1>
<p>Generated {generated} · models: {versions}. Forecasts describe areas and days, never people.</p></header>
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
    index = out_dir / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(page, encoding="utf-8")
        tmp.chmod(0o644)  # mkstemp makes 0600; a report is meant to be served and shared
    return index
