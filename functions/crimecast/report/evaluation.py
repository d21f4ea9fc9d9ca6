"""Report sections: backtest metrics (model vs baselines) and the patrol allocation."""

from __future__ import annotations

import html

import pandas as pd

from crimecast.report.base import Section, figure_html, table_html

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
