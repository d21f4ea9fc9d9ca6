"""Report sections about the past and the forecast itself: overview, trends, forecast explorer."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from crimecast.report.base import (
    ASSETS,
    HISTORY_DAYS_SHOWN,
    INTERVAL_COLUMNS,
    Section,
    figure_html,
    has_intervals,
    latest_run,
)


# ---------------------------------------------------------------- overview
def overview(forecasts, history, allocation, classifications, run_label: str) -> Section:  # type: ignore[no-untyped-def]
    s = Section("overview", "Overview", f"Forecast run {run_label}: what this page holds and what is missing.")
    facts = []
    if forecasts is not None:
        fc = latest_run(forecasts)
        n_series = fc.groupby(["district", "category"]).ngroups
        facts.append(f"{n_series} series (district × category), forecast days {fc['date'].min().date()} – "
                     f"{fc['date'].max().date()}; expected total {fc['y_pred'].sum():,.0f} recorded incidents.")
        if not has_intervals(fc):
            s.note("This forecast file has no prediction intervals (lo80/hi80/lo95/hi95): only point forecasts "
                   "are shown, and interval coverage cannot be judged.")
    else:
        s.add('<p class="missing"><b>No forecast data in this run.</b> The forecast job produced no rows (for '
              "example: no counts were available, or the run failed before forecasting). Sections below show "
              "what inputs were present.</p>")
    if history is not None:
        facts.append(f"History: {pd.to_datetime(history['date']).min().date()} – "
                     f"{pd.to_datetime(history['date']).max().date()}, {int(history['count'].sum()):,} recorded "
                     "incidents.")
    else:
        s.missing("No history (counts) table was given: trends and decomposition are not shown.")
    if allocation is not None:
        facts.append(f"Patrol allocation: {int(allocation['units'].sum())} units over {len(allocation)} districts.")
    if classifications is not None:
        high = int((classifications.get("risk_level", pd.Series(dtype=str)).astype(str) == "High").sum())
        facts.append(f"Image/video classifications: {len(classifications)} results, {high} rated High.")
    if facts:
        s.add("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in facts) + "</ul>")
    return s


# ---------------------------------------------------------------- trends
def _citywide(history: pd.DataFrame) -> pd.Series:
    h = history.copy()
    h["date"] = pd.to_datetime(h["date"])
    return h.groupby("date")["count"].sum().asfreq("D", fill_value=0)


def trends(history: pd.DataFrame | None) -> Section:
    s = Section("trends", "City-wide trend and decomposition",
                "Daily recorded incidents across all districts and categories, with 7- and 28-day means, "
                "year-over-year change, and an STL split into trend, weekly pattern and remainder.")
    if history is None:
        return s.missing("No history (counts) table was given, so trends cannot be drawn.")
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    try:
        from crimecast.forecast.trends import citywide_trends, stl_decompose
    except ImportError as exc:  # the trends module belongs to the forecasting package
        return s.missing(f"Trend analysis is not available in this build ({exc}).")

    t = citywide_trends(history)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06,
                        subplot_titles=("Recorded incidents per day", "Year-over-year change of the 28-day mean (%)"))
    fig.add_trace(go.Scatter(x=t["date"], y=t["count"], name="daily", mode="lines",
                             line={"color": "#bcccdc", "width": 1}), 1, 1)
    fig.add_trace(go.Scatter(x=t["date"], y=t["roll7"], name="7-day mean", line={"color": "#2680c2"}), 1, 1)
    fig.add_trace(go.Scatter(x=t["date"], y=t["roll28"], name="28-day mean", line={"color": "#102a43", "width": 2}),
                  1, 1)
    fig.add_trace(go.Scatter(x=t["date"], y=t["yoy_pct"], name="YoY %", line={"color": "#d64545"}), 2, 1)
    fig.update_layout(legend={"orientation": "h", "y": -0.08, "yanchor": "top"})
    s.add(figure_html(fig, "fig-trend", 540))
    series = _citywide(history)
    if len(series) < 28:
        return s.missing(f"Only {len(series)} days of history: STL decomposition needs at least 4 weeks.")
    dec = stl_decompose(series.iloc[-730:], period=7)
    fig2 = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                         subplot_titles=("observed", "trend", "weekly seasonal", "remainder"))
    for i, col in enumerate(("observed", "trend", "seasonal", "resid"), start=1):
        fig2.add_trace(go.Scatter(x=dec["date"], y=dec[col], name=col, mode="lines", showlegend=False,
                                  line={"width": 1}), i, 1)
    s.add("<h3>STL decomposition (period 7 days, last two years at most)</h3>")
    s.add(figure_html(fig2, "fig-stl", 620))
    return s


# ---------------------------------------------------------------- forecast explorer
def _round(a: np.ndarray) -> list:
    r = np.round(np.asarray(a, dtype=float), 2)
    return [None if v != v else v for v in r.tolist()]  # NaN → null


def forecast_payload(forecasts: pd.DataFrame, history: pd.DataFrame | None) -> dict:
    """Compact JSON for the explorer: shared date axes and per-series arrays (2 decimals)."""
    fc = latest_run(forecasts)
    fc_dates = sorted(fc["date"].unique())
    intervals = has_intervals(fc)
    hist_dates: list = []
    hist_wide = None
    if history is not None:
        h = history.copy()
        h["date"] = pd.to_datetime(h["date"])
        start = h["date"].max() - pd.Timedelta(days=HISTORY_DAYS_SHOWN - 1)
        h = h[h["date"] >= start]
        hist_wide = h.pivot_table(index="date", columns=["district", "category"], values="count", aggfunc="sum")
        hist_dates = list(hist_wide.index)
    series: dict[str, dict] = {}
    cols = ["y_pred", *INTERVAL_COLUMNS] if intervals else ["y_pred"]
    # One pivot for all series (a groupby loop over 300 series took seconds).
    wide = {k: fc.pivot_table(index=["district", "category"], columns="date", values=k, aggfunc="mean")
            .reindex(columns=fc_dates) for k in cols}
    hist_cols = set(hist_wide.columns) if hist_wide is not None else set()
    for pos, (d, c) in enumerate(wide["y_pred"].index):
        entry = {k: _round(wide[k].to_numpy(float)[pos]) for k in cols}
        if (d, c) in hist_cols:
            entry["hist"] = _round(hist_wide[(d, c)].to_numpy(float))
        series[f"{d}|{c}"] = entry
    districts = sorted(fc["district"].astype(str).unique())
    cats = sorted(fc["category"].astype(str).unique())
    return {"fc_dates": [pd.Timestamp(x).date().isoformat() for x in fc_dates],
            "hist_dates": [pd.Timestamp(x).date().isoformat() for x in hist_dates],
            "districts": districts, "categories": cats, "intervals": intervals, "series": series}

EXPLORER_JS = (ASSETS / "report_explorer.js").read_text(encoding="utf-8")


def forecast_explorer(forecasts: pd.DataFrame | None, history: pd.DataFrame | None) -> Section:
    s = Section("forecast", "Forecast by district and category",
                "Choose a district and a category: the last recorded days and the next days' forecast with 80 % "
                "and 95 % intervals (the shaded bands should contain the true count about 80 % / 95 % of the time).")
    if forecasts is None:
        return s.missing("No forecast data in this run, so there is nothing to explore.")
    payload = forecast_payload(forecasts, history)
    if not payload["intervals"]:
        s.note("This forecast file has no prediction intervals (lo80/hi80/lo95/hi95): only point forecasts are "
               "drawn.")
    # "<" as \u003c: nothing in the data can close or open a tag inside the <script> element.
    data = json.dumps(payload, separators=(",", ":")).replace("<", "\\u003c")
    s.add('<div class="controls"><label>District <select id="fc-district"></select></label>'
          '<label>Category <select id="fc-category"></select></label></div>'
          '<p id="fc-note" class="lead"></p>'
          '<div id="fig-forecast" class="plot plotly-graph-div" style="height:430px"></div>'
          f'<script type="application/json" id="fc-data">{data}</script>'
          f"<script>{EXPLORER_JS}</script>")
    return s
