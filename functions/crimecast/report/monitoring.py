"""Report section "How did our forecasts do?": earlier runs' forecasts against the counts now known.

Reads the summary `crimecast.monitoring.summarize` returns (the forecast job stores it beside the run);
plain words first, then the charts (daily error vs the 28-day mean, coverage, error by horizon) and the
per-district table. `live_accuracy_html` is the one-paragraph version the model card shows.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from crimecast.report.base import Section, figure_html, table_html


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v):.0%}"


def _num(v: Any, fmt: str = "{:.2f}") -> str:
    return "—" if v is None else fmt.format(float(v))


def _verdict(o: dict[str, Any]) -> str:
    rel = o.get("rel_mae_ma28")
    cov80 = o.get("coverage80")
    words = []
    if rel is not None:
        if rel < 0.97:
            words.append(f"our forecasts were {1 - rel:.0%} closer to what happened than simply repeating the "
                         "last 28 days' average")
        elif rel <= 1.03:
            words.append("our forecasts were about as close to what happened as the last 28 days' average")
        else:
            words.append(f"our forecasts were {rel - 1:.0%} further from what happened than the last 28 days' "
                         "average: worth a look (retraining, or a change in the data)")
    if cov80 is not None:
        words.append(f"the 80 % range held the real count {cov80:.0%} of the time"
                     + (" (about right)" if 0.72 <= cov80 <= 0.88 else
                        " (too narrow: be more cautious with it)" if cov80 < 0.72 else " (wider than needed)"))
    return "; ".join(words)


def _checked_days(monitoring: dict[str, Any]) -> list[str]:
    days = sorted(str(d["date"]) for d in monitoring.get("daily") or [])
    return days or ([str(monitoring["through"])] if monitoring.get("through") else [])


def in_sample_note(monitoring: dict[str, Any] | None, train_end: Any) -> str | None:
    """Plain words when checked days are on or before the model's `train_end` (metadata): then the numbers show the
    loop working, not how the model does on days it has never seen. None when no checked day is in training."""
    if not monitoring or not monitoring.get("rows") or not train_end:
        return None
    end = pd.Timestamp(str(train_end)).date().isoformat()
    days = _checked_days(monitoring)
    inside = [d for d in days if d <= end]
    if not inside:
        return None
    which = "all the checked days" if len(inside) == len(days) else \
        f"{len(inside)} of the {len(days)} checked days ({inside[0]} – {inside[-1]})"
    return (f"Not live accuracy: the forecaster was trained on data through {end}, so {which} were in the model's "
            "training data. This shows the loop working, not how well the model forecasts days it has not seen.")


def train_end_of(model_info: dict[str, Any] | None) -> Any:
    """The forecaster's `train_end` from the report's model_info ({"forecaster": metadata, ...}), or None."""
    fc = (model_info or {}).get("forecaster")
    return fc.get("train_end") if isinstance(fc, dict) else None


def live_accuracy_html(monitoring: dict[str, Any] | None, train_end: Any = None) -> str:
    """One paragraph for the model card: live accuracy over the last 28 and 90 days (flagged when in-sample)."""
    if not monitoring or not monitoring.get("rows"):
        return '<p class="missing">Live accuracy: no earlier run can be checked against actual counts yet.</p>'
    parts = []
    for w in ("28", "90"):
        o = monitoring["windows"].get(w, {}).get("overall", {})
        if o.get("n"):
            parts.append(f"last {w} days: MAE {_num(o.get('mae'))}, ÷ 28-day mean {_num(o.get('rel_mae_ma28'))}, "
                         f"÷ seasonal-naive {_num(o.get('rel_mae_snaive'))}, "
                         f"80 % coverage {_pct(o.get('coverage80'))}, 95 % coverage {_pct(o.get('coverage95'))}")
    note = in_sample_note(monitoring, train_end)
    label = "Accuracy of earlier runs" if note else "Live accuracy"
    return f"<p><b>{label}</b> (forecasts of earlier runs vs counts now known; through " \
           f"{html.escape(str(monitoring.get('through')))}): " + html.escape("; ".join(parts)) + ".</p>" \
           + (f'<p class="warn">{html.escape(note)}</p>' if note else "")


def monitoring_section(monitoring: dict[str, Any] | None, model_info: dict[str, Any] | None = None) -> Section:
    """model_info: {"forecaster": metadata, ...}; its `train_end` says whether the checked days were in training."""
    s = Section("monitoring", "How did our forecasts do?",
                "Every day the forecasts of earlier runs are compared with the counts now known (late records and "
                "corrections included), next to two simple rules: the last 28 days' average and last week repeated.")
    if not monitoring or not monitoring.get("rows"):
        return s.missing("Nothing to check yet: no earlier run has a forecast day that is complete in the data. "
                         "This section fills in from the second daily run on.")
    w28 = monitoring["windows"].get("28", {}).get("overall", {})
    w90 = monitoring["windows"].get("90", {}).get("overall", {})
    o = w28 if w28.get("n") else w90
    s.add(f"<p><b>In short:</b> over the last 28 days (through {html.escape(str(monitoring['through']))}), "
          f"{html.escape(_verdict(o))}. Checked: {monitoring['rows']:,} forecast values from "
          f"{monitoring['runs']} runs.</p>")
    note = in_sample_note(monitoring, train_end_of(model_info))
    if note:
        s.add(f'<p class="warn"><b>{html.escape(note)}</b></p>')
    rows = []
    for label, st in (("last 28 days", w28), ("last 90 days", w90)):
        if st.get("n"):
            rows.append({"window": label, "checked": st["n"], "mae": st.get("mae"), "rel. 28-day mean":
                         st.get("rel_mae_ma28"), "rel. seasonal-naive": st.get("rel_mae_snaive"),
                         "coverage80": st.get("coverage80"), "coverage95": st.get("coverage95")})
    s.add(table_html(pd.DataFrame(rows), floats="{:.3f}"))
    s.note("MAE: mean absolute error in crimes per day per district × category. Relative MAE below 1 means our "
           "forecasts beat that rule on the same days. Coverage: how often the real count fell inside the range.")
    daily = pd.DataFrame(monitoring.get("daily") or [])
    if len(daily):
        import plotly.graph_objects as go

        fig = go.Figure()
        fig.add_scatter(x=daily["date"], y=daily["mae"], name="our forecasts", mode="lines+markers")
        fig.add_scatter(x=daily["date"], y=daily["mae_ma28"], name="28-day average", mode="lines",
                        line={"dash": "dot"})
        fig.update_layout(title="Average error per series by forecast day (lower is better)",
                          yaxis_title="MAE (crimes/day)")
        s.add(figure_html(fig, "monitoring-daily", height=340))
        fig = go.Figure()
        fig.add_scatter(x=daily["date"], y=daily["coverage80"], name="80 % range", mode="lines+markers")
        fig.add_scatter(x=daily["date"], y=daily["coverage95"], name="95 % range", mode="lines+markers")
        for level in (0.8, 0.95):
            fig.add_hline(y=level, line_dash="dot", line_color="grey")
        fig.update_layout(title="How often the real count fell inside the range", yaxis_tickformat=".0%",
                          yaxis_range=[0, 1.05])
        s.add(figure_html(fig, "monitoring-coverage", height=320))
    hz = pd.DataFrame(monitoring.get("by_horizon") or [])
    if len(hz):
        import plotly.graph_objects as go

        fig = go.Figure()
        fig.add_bar(x=hz["horizon"], y=hz["mae"], name="our forecasts")
        if "mae_ma28" in hz:
            fig.add_scatter(x=hz["horizon"], y=hz["mae_ma28"], name="28-day average", mode="lines")
        fig.update_layout(title="Error by days ahead (last 90 days)", xaxis_title="days ahead",
                          yaxis_title="MAE (crimes/day)")
        s.add(figure_html(fig, "monitoring-horizon", height=320))
    by_d = monitoring["windows"].get("28", {}).get("by_district") or monitoring["windows"].get("90", {}).get(
        "by_district") or {}
    if by_d:
        t = pd.DataFrame([{"district": k, "checked": v.get("n"), "mae": v.get("mae"),
                           "rel. 28-day mean": v.get("rel_mae_ma28"), "coverage80": v.get("coverage80"),
                           "coverage95": v.get("coverage95")} for k, v in by_d.items()])
        s.add("<h3>Per district (last 28 days)</h3>" + table_html(t.sort_values("rel. 28-day mean",
                                                                                 ascending=False), floats="{:.3f}"))
    return s
