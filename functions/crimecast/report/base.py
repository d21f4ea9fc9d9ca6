"""Report building blocks: the `Section` type, figure and table HTML, shared constants."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crimecast.hotspots import latest_run
from crimecast.tables import interval_columns

__all__ = ["latest_run"]
ASSETS = Path(__file__).resolve().parents[1] / "assets"  # report.css, report_explorer.js (read at build time)
INTERVAL_COLUMNS = tuple(interval_columns())  # lo80, hi80, lo95, hi95 (crimecast.tables)
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
    "high_segments": "High during (video)", "when_utc": "when (UTC)",
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
                text = "—" if v is None else str(v)
            cls = f' class="risk-{html.escape(text)}"' if c == "risk_level" else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>… {len(df) - max_rows} more rows not shown.</p>" if len(df) > max_rows else ""
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'

def has_intervals(forecasts: pd.DataFrame | None) -> bool:
    return forecasts is not None and all(c in forecasts.columns and forecasts[c].notna().all()
                                         for c in INTERVAL_COLUMNS)
