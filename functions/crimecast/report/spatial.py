"""Report section: predicted hotspots (heat map in the ranking order of crimecast.hotspots) and incident map."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from crimecast.report.base import DENSITY_COLOURS, Section, figure_html, latest_run


# ---------------------------------------------------------------- hotspots
def _lat_lon(incidents: pd.DataFrame) -> tuple[str, str] | None:
    for lat, lon in (("lat", "lon"), ("latitude", "longitude"), ("Latitude", "Longitude"), ("lat", "lng")):
        if lat in incidents.columns and lon in incidents.columns:
            return lat, lon
    return None


def hotspots(forecasts: pd.DataFrame | None, incidents: pd.DataFrame | None,
             severity: dict[str, float] | None = None) -> Section:
    from crimecast.allocation import severity_for
    from crimecast.hotspots import rank_hotspots

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
        grid.index = grid.index.astype(str)
        # The one ranking (crimecast.hotspots, also behind the API's /v1/hotspots), over the whole horizon.
        ranked = rank_hotspots(fc, days=fc["date"].nunique(), severity=severity)
        grid = grid.loc[list(ranked["district"])[::-1]]  # top-ranked district drawn at the top
        fig = go.Figure(go.Heatmap(z=grid.to_numpy().round(2), x=[d.date().isoformat() for d in grid.columns],
                                   y=[str(d) for d in grid.index], colorscale="YlOrRd",
                                   colorbar={"title": {"text": "weighted<br>incidents"}},
                                   hovertemplate="%{y}<br>%{x}<br>%{z:.1f}<extra></extra>"))
        fig.update_layout(xaxis={"title": {"text": "forecast day"}}, yaxis={"title": {"text": "district"}})
        s.add(figure_html(fig, "fig-hotspots", max(320, 26 * len(grid) + 120)))
        top = ranked.head(5)
        s.add("<p>Highest expected weighted incidents over the horizon: "
              + ", ".join(f"<b>{html.escape(str(r.district))}</b> ({r.weighted:,.0f})" for r in top.itertuples())
              + ".</p>")
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
