"""Report section: recent classification activity."""

from __future__ import annotations

import pandas as pd

from crimecast.report.base import RISK_COLOURS, Section, figure_html, table_html


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
    if ts_col:  # newest first; the parsed time is shown as "YYYY-MM-DD HH:MM" (UTC), not the stored ISO string
        high = high.sort_values("_t", ascending=False).assign(when_utc=lambda d: d["_t"])
    shown = [k for k in ("key", "path", "when_utc" if ts_col else None, "risk_level", "confidence", "action",
                         "high_segments", "model_version") if k and k in high.columns]
    if "high_segments" in shown and not high["high_segments"].fillna("").astype(str).str.len().any():
        shown.remove("high_segments")  # no video among them: the column would be empty
    if len(high):
        s.add("<h3>Latest High-risk events</h3>" + table_html(high[shown].head(10), floats="{:.2f}"))
        conf = pd.to_numeric(high.get("confidence", pd.Series(dtype=float)), errors="coerce")
        n_unsure = int((conf.head(10) < 0.5).sum())
        if n_unsure:
            verb = "was" if n_unsure == 1 else "were"
            s.note(f"{n_unsure} of these {verb} rated High with a confidence under 0.50: the classifier "
                   "leans to High when unsure, so that at least 90 % of truly High scenes are caught (its High "
                   "rule); such a rating asks a person to look and is also in the review queue.")
    else:
        s.add("<p>No High-risk results in this period.</p>")
    return s
