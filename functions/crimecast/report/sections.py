"""All report sections in one namespace (build.py calls them as `sections.<name>`; tests patch them here).

Split along its seams: base (Section, tables, figures), history (overview, trends, explorer), spatial
(hotspots), evaluation (backtest, allocation), activity (classifications), summary (action summary, header),
cards (model and data card). The explorer's JavaScript and the page CSS are static files in crimecast/assets.
"""

from crimecast.report.activity import classification_activity
from crimecast.report.base import Section, figure_html, has_intervals, latest_run, table_html
from crimecast.report.evaluation import allocation_section, backtest_metrics, backtest_rows
from crimecast.report.history import forecast_explorer, forecast_payload, overview, trends
from crimecast.report.spatial import hotspots

__all__ = ["Section", "allocation_section", "backtest_metrics", "backtest_rows", "classification_activity",
           "figure_html", "forecast_explorer", "forecast_payload", "has_intervals", "hotspots", "latest_run",
           "overview", "table_html", "trends"]
