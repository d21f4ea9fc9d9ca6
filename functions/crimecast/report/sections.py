"""Report sections. Each returns a `Section`; a missing input gives a section that says what is missing."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INTERVAL_COLUMNS = ("lo80", "hi80", "lo95", "hi95")
HISTORY_DAYS_SHOWN = 120
RISK_COLOURS = {"High": "#c62828", "Medium": "#ef6c00", "Low": "#2e7d32"}
# Transparent at zero so the density does not paint a box around the points.
DENSITY_COLOURS = [[0.0, "rgba(255,255,255,0)"], [0.15, "#ffeda0"], [0.5, "#feb24c"], [1.0, "#bd0026"]]
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass
class Section:
    anchor: str
    title: str
    lead: str = ""
    parts: list[str] = field(default_factory=list)

    def add(self, fragment: str) -> Section:
        self.parts.append(fragment)
        return self

    def missing(self, text: str) -> Section:
        return self.add(f'<p class="missing">{html.escape(text)}</p>')

    def note(self, text: str) -> Section:
        return self.add(f'<p class="note">{html.escape(text)}</p>')

    def render(self) -> str:
        lead = f'<p class="lead">{html.escape(self.lead)}</p>' if self.lead else ""
        return (f'<section id="{self.anchor}"><h2>{html.escape(self.title)}</h2>{lead}\n'
                + "\n".join(self.parts) + "</section>")


def figure_html(fig, div_id: str, height: int = 420) -> str:  # type: ignore[no-untyped-def]
    import plotly.io as pio

    fig.update_layout(template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return ('<div class="plot">' + pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                                               config=PLOT_CONFIG, default_height=f"{height}px") + "</div>")


# Column headings an analyst reads (the data keep their machine names).
HEADINGS = {
    "units": "units", "expected_weighted": "expected weighted incidents/day",
    "covered_weighted": "of which covered", "forecast_share": "share of forecast harm",
    "unit_share": "share of units", "visits_per_shift": "hot-spot visits/shift", "visit_minutes": "minutes/visit",
    "revisit_minutes": "revisit every (min)", "mae_vs_seasonal_naive": "MAE ÷ seasonal-naive", "mae": "MAE",
    "rmse": "RMSE", "mase": "MASE", "smape_pct": "sMAPE %", "poisson_deviance": "Poisson deviance",
    "coverage80": "80 % coverage", "coverage95": "95 % coverage", "risk_level": "risk", "model_version": "model",
}
PERCENT_COLUMNS = {"forecast_share", "unit_share"}


def table_html(df: pd.DataFrame, floats: str = "{:.2f}", max_rows: int = 200) -> str:
    head = "".join(f"<th>{html.escape(HEADINGS.get(str(c), str(c)))}</th>" for c in df.columns)
    rows = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            if isinstance(v, float | np.floating):
                text = "—" if pd.isna(v) else (f"{v:.0%}" if c in PERCENT_COLUMNS else floats.format(v))
            elif isinstance(v, pd.Timestamp):
                text = v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.date().isoformat()
            else:
                text = str(v)
            cls = f' class="risk-{html.escape(text)}"' if c == "risk_level" else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>… {len(df) - max_rows} more rows not shown.</p>" if len(df) > max_rows else ""
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def latest_run(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Only the latest run_date's rows (a forecasts table may hold several runs)."""
    df = forecasts.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    if "run_date" in df.columns:
        rd = pd.to_datetime(df["run_date"])
        df = df[rd == rd.max()]
    return df


def has_intervals(forecasts: pd.DataFrame | None) -> bool:
    return forecasts is not None and all(c in forecasts.columns and forecasts[c].notna().all()
                                         for c in INTERVAL_COLUMNS)


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


EXPLORER_JS = """
(function(){
const P = JSON.parse(document.getElementById('fc-data').textContent);
const dSel = document.getElementById('fc-district'), cSel = document.getElementById('fc-category');
function opt(sel, values, allLabel){ const o=document.createElement('option'); o.value='*'; o.textContent=allLabel;
  sel.appendChild(o); values.forEach(v=>{const e=document.createElement('option'); e.value=v; e.textContent=v;
  sel.appendChild(e);}); }
opt(dSel, P.districts, 'All districts (sum)'); opt(cSel, P.categories, 'All categories (sum)');
dSel.value = P.districts[0]; cSel.value = P.categories[0];
function pick(){ const d=dSel.value, c=cSel.value;
  const keys = Object.keys(P.series).filter(k=>{const [kd,kc]=k.split('|');
    return (d==='*'||kd===d)&&(c==='*'||kc===c);});
  return keys; }
function sum(keys, field, n){ const out=new Array(n).fill(null);
  keys.forEach(k=>{ const a=P.series[k][field]; if(!a) return;
    a.forEach((v,i)=>{ if(v!==null) out[i]=(out[i]||0)+v; }); });
  return out.map(v=>v===null?null:Math.round(v*100)/100); }
function draw(){ const keys=pick(); const single = keys.length===1; const traces=[];
  const nf=P.fc_dates.length, nh=P.hist_dates.length;
  if (P.intervals && single){ const s=P.series[keys[0]];
    traces.push({x:P.fc_dates, y:s.hi95, mode:'lines', line:{width:0}, showlegend:false, hoverinfo:'skip'});
    traces.push({x:P.fc_dates, y:s.lo95, mode:'lines', line:{width:0}, fill:'tonexty',
      fillcolor:'rgba(38,128,194,0.15)', name:'95 % interval'});
    traces.push({x:P.fc_dates, y:s.hi80, mode:'lines', line:{width:0}, showlegend:false, hoverinfo:'skip'});
    traces.push({x:P.fc_dates, y:s.lo80, mode:'lines', line:{width:0}, fill:'tonexty',
      fillcolor:'rgba(38,128,194,0.35)', name:'80 % interval'});
  }
  if (nh) traces.push({x:P.hist_dates, y:sum(keys,'hist',nh), mode:'lines', name:'recorded',
    line:{color:'#52606d', width:1}});
  traces.push({x:P.fc_dates, y:sum(keys,'y_pred',nf), mode:'lines+markers', name:'forecast',
    line:{color:'#0b69a3', width:2}, marker:{size:4}});
  let note = '';
  if (!P.intervals) note = 'No prediction intervals in this forecast file: point forecast only.';
  else if (!single) note = 'Intervals are shown for one district × category at a time '
    + '(they do not add up across series).';
  document.getElementById('fc-note').textContent = note;
  const title = (dSel.value==='*'?'all districts':dSel.value)+' · '+(cSel.value==='*'?'all categories':cSel.value);
  Plotly.react('fig-forecast', traces, {template:'plotly_white', height:430, title:{text:title},
    margin:{l:60,r:20,t:50,b:50}, yaxis:{title:{text:'recorded incidents per day'}, rangemode:'tozero'},
    legend:{orientation:'h', y:-0.15}}, {displaylogo:false, responsive:true});
}
dSel.addEventListener('change', draw); cSel.addEventListener('change', draw); draw();
})();
"""


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


# ---------------------------------------------------------------- hotspots
def _lat_lon(incidents: pd.DataFrame) -> tuple[str, str] | None:
    for lat, lon in (("lat", "lon"), ("latitude", "longitude"), ("Latitude", "Longitude"), ("lat", "lng")):
        if lat in incidents.columns and lon in incidents.columns:
            return lat, lon
    return None


def hotspots(forecasts: pd.DataFrame | None, incidents: pd.DataFrame | None,
             severity: dict[str, float] | None = None) -> Section:
    from crimecast.allocation import severity_for

    s = Section("hotspots", "Predicted hotspots",
                "Expected recorded incidents per district and day, weighted by category severity (darker = more "
                "expected harm). Weights: " )
    if forecasts is None:
        s.lead = "Expected recorded incidents per district and day, weighted by category severity."
        s.missing("No forecast data in this run, so no hotspots can be predicted.")
    else:
        import plotly.graph_objects as go

        fc = latest_run(forecasts)
        cats = sorted(fc["category"].astype(str).unique())
        w = severity_for(cats, severity)
        s.lead += ", ".join(f"{c} {w[c]:g}" for c in cats) + "."
        fc["weighted"] = fc["y_pred"] * fc["category"].astype(str).map(w)
        grid = fc.pivot_table(index="district", columns="date", values="weighted", aggfunc="sum").fillna(0.0)
        grid = grid.loc[grid.sum(axis=1).sort_values(ascending=True).index]
        fig = go.Figure(go.Heatmap(z=grid.to_numpy().round(2), x=[d.date().isoformat() for d in grid.columns],
                                   y=[str(d) for d in grid.index], colorscale="YlOrRd",
                                   colorbar={"title": {"text": "weighted<br>incidents"}},
                                   hovertemplate="%{y}<br>%{x}<br>%{z:.1f}<extra></extra>"))
        fig.update_layout(xaxis={"title": {"text": "forecast day"}}, yaxis={"title": {"text": "district"}})
        s.add(figure_html(fig, "fig-hotspots", max(320, 26 * len(grid) + 120)))
        top = grid.sum(axis=1).sort_values(ascending=False).head(5)
        s.add("<p>Highest expected weighted incidents over the horizon: "
              + ", ".join(f"<b>{html.escape(str(d))}</b> ({v:,.0f})" for d, v in top.items()) + ".</p>")
    if incidents is not None:
        ll = _lat_lon(incidents)
        if ll is None:
            s.missing("Incidents were given without lat/lon columns: no point map.")
        else:
            import plotly.graph_objects as go

            lat, lon = ll
            pts = incidents[[lat, lon]].apply(pd.to_numeric, errors="coerce").dropna()
            pts = pts[(pts[lat].abs() <= 90) & (pts[lon].abs() <= 180)]
            if len(pts) == 0:
                s.missing("The incidents have no valid coordinates: no point map.")
            else:
                sample = pts.sample(min(len(pts), 4000), random_state=0)
                fig = go.Figure()
                fig.add_trace(go.Histogram2dContour(x=pts[lon], y=pts[lat], colorscale=DENSITY_COLOURS, ncontours=12,
                                                    showscale=False, opacity=0.6, name="density"))
                fig.add_trace(go.Scattergl(x=sample[lon], y=sample[lat], mode="markers", name="incidents",
                                           marker={"size": 3, "color": "#102a43", "opacity": 0.35}))
                fig.update_layout(xaxis={"title": {"text": "longitude"}},
                                  yaxis={"title": {"text": "latitude"}, "scaleanchor": "x",
                                         "scaleratio": float(1 / np.cos(np.radians(pts[lat].median())))})
                s.add(f"<h3>Recorded incident locations ({len(pts):,} points, {len(sample):,} drawn; no map "
                      "tiles)</h3>")
                s.add(figure_html(fig, "fig-incident-map", 520))
    return s


# ---------------------------------------------------------------- backtest
METRIC_COLUMNS = ("mae", "rmse", "mase", "smape_pct", "poisson_deviance", "coverage80", "coverage95")


def _has_metrics(node: dict) -> bool:
    return any(isinstance(node.get(m), int | float) and not isinstance(node.get(m), bool) for m in ("mae", "rmse"))


def backtest_rows(backtest: dict | None) -> pd.DataFrame:
    """Overall metrics per model from a metrics.json dict, whatever the nesting (missing → empty frame)."""
    rows: dict[str, dict] = {}

    def visit(name: str, node: object, depth: int) -> None:
        if not isinstance(node, dict) or depth > 3:
            return
        overall = node.get("overall")
        if isinstance(overall, dict) and _has_metrics(overall):
            run = node.get("run")  # one `crimecast backtest` metrics.json names its model under run.model
            own = run.get("model") if isinstance(run, dict) else None
            rows[name or str(own or "model")] = overall
            return
        if _has_metrics(node):
            rows[name or "model"] = node
            return
        for k, v in node.items():
            if k in ("by_series", "by_horizon_week", "notes"):
                continue
            visit(k if name in ("", "models", "metrics", "overall") else f"{name}/{k}", v, depth + 1)

    visit("", backtest or {}, 0)
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame.from_dict(rows, orient="index")
    keep = [c for c in METRIC_COLUMNS if c in df.columns]
    df = df[keep].apply(pd.to_numeric, errors="coerce")
    df.index.name = "model"
    naive = next((i for i in df.index if "naive" in str(i).lower()), None)
    if naive is not None and "mae" in df.columns and df.loc[naive, "mae"] > 0:
        df.insert(1, "mae_vs_seasonal_naive", df["mae"] / df.loc[naive, "mae"])
    return df.sort_values("mae" if "mae" in df.columns else df.columns[0]).reset_index()


def backtest_metrics(backtest: dict | None) -> Section:
    s = Section("backtest", "Backtest: model vs baselines",
                "Rolling-origin backtest: each origin forecasts the following days using only earlier data. "
                "Lower MAE/RMSE/MASE is better; coverage should be near 0.80 and 0.95.")
    table = backtest_rows(backtest)
    if table.empty:
        return s.missing("No backtest metrics were given for this run (run `crimecast backtest` and pass its "
                         "metrics.json).")
    import plotly.graph_objects as go

    s.add(table_html(table, floats="{:.3f}"))
    if "mae" in table.columns:
        colours = ["#0b69a3" if "naive" not in m and "mean" not in m and "ets" not in m.lower() else "#9fb3c8"
                   for m in table["model"].astype(str)]
        fig = go.Figure(go.Bar(x=table["model"].astype(str), y=table["mae"], marker_color=colours,
                               text=[f"{v:.3f}" for v in table["mae"]], textposition="outside"))
        fig.update_layout(yaxis={"title": {"text": "MAE (incidents/day)"}}, xaxis={"title": {"text": "model"}})
        s.add(figure_html(fig, "fig-backtest", 360))
    for k in ("n_origins", "n_series", "protocol"):
        if isinstance(backtest, dict) and k in backtest:
            s.add(f"<p>{html.escape(k)}: {html.escape(str(backtest[k]))}</p>")
    return s


# ---------------------------------------------------------------- allocation
def allocation_section(allocation: pd.DataFrame | None, forecasts: pd.DataFrame | None) -> Section:
    s = Section("allocation", "Patrol allocation",
                "Units per district maximising expected severity-weighted incidents covered, with diminishing "
                "returns per extra unit. Equity view: share of forecast harm vs share of units. Dosage follows the "
                "Koper curve: 10–16 minute visits to hot spots, about every 2 hours, at unpredictable times.")
    if allocation is None:
        return s.missing("No patrol allocation was computed for this run.")
    import plotly.graph_objects as go

    a = allocation.copy()
    facts = [f"{int(a['units'].sum())} units"]
    if a.attrs.get("date"):
        facts.insert(0, f"planned day <b>{html.escape(str(a.attrs['date']))}</b>")
    if a.attrs.get("coverage"):
        facts.append(f"planning assumption: each extra unit in a district covers {a.attrs['coverage']:.0%} of the "
                     "expected harm still uncovered there")
    if a.attrs.get("upper_weight"):
        facts.append(f"demand leans {a.attrs['upper_weight']:.0%} of the way to the 80 % upper forecast bound")
    s.add("<p>" + "; ".join(facts) + ".</p>")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=a["district"].astype(str), y=a["forecast_share"], name="share of forecast harm",
                         marker_color="#f0b429"))
    fig.add_trace(go.Bar(x=a["district"].astype(str), y=a["unit_share"], name="share of patrol units",
                         marker_color="#0b69a3"))
    fig.update_layout(barmode="group", yaxis={"title": {"text": "share", "standoff": 4}, "tickformat": ".0%"},
                      legend={"orientation": "h", "y": 1.1})
    s.add(figure_html(fig, "fig-allocation", 380))
    cols = [c for c in ("district", "units", "expected_weighted", "covered_weighted", "forecast_share",
                        "unit_share", "visits_per_shift", "visit_minutes", "revisit_minutes") if c in a.columns]
    s.add(table_html(a[cols]))
    return s


# ---------------------------------------------------------------- classifications
def classification_activity(classifications: pd.DataFrame | None) -> Section:
    s = Section("classifications", "Recent classification activity",
                "Surveillance images and clips triaged by the risk classifier. A rating is a prompt for a human "
                "to look, not a finding.")
    if classifications is None or "risk_level" not in classifications.columns:
        return s.missing("No classification results for this period.")
    import plotly.graph_objects as go

    c = classifications.copy()
    c["risk_level"] = c["risk_level"].astype(str).str.capitalize()
    counts = c["risk_level"].value_counts().reindex(["High", "Medium", "Low"], fill_value=0)
    ts_col = next((k for k in ("created_at", "time", "timestamp") if k in c.columns), None)
    if ts_col:
        c["_t"] = pd.to_datetime(c[ts_col], errors="coerce", utc=True).dt.tz_localize(None)
        daily = c.dropna(subset=["_t"]).groupby([c["_t"].dt.normalize(), "risk_level"]).size().unstack(fill_value=0)
        fig = go.Figure([go.Bar(x=daily.index, y=daily.get(r, pd.Series(0, index=daily.index)), name=r,
                                marker_color=RISK_COLOURS[r]) for r in ("High", "Medium", "Low")])
        fig.update_layout(barmode="stack", yaxis={"title": {"text": "results per day"}})
    else:
        fig = go.Figure(go.Bar(x=counts.index, y=counts.values, marker_color=[RISK_COLOURS[r] for r in counts.index]))
        fig.update_layout(yaxis={"title": {"text": "results"}})
    s.add("<p>" + " · ".join(f'<span class="risk-{r}">{r}: {int(n)}</span>' for r, n in counts.items()) + "</p>")
    s.add(figure_html(fig, "fig-classifications", 320))
    high = c[c["risk_level"] == "High"]
    if ts_col:
        high = high.sort_values("_t", ascending=False)
    shown = [k for k in ("key", "path", ts_col, "risk_level", "confidence", "action", "model_version")
             if k and k in high.columns]
    if len(high):
        s.add("<h3>Latest High-risk events</h3>" + table_html(high[shown].head(10), floats="{:.2f}"))
    else:
        s.add("<p>No High-risk results in this period.</p>")
    return s
