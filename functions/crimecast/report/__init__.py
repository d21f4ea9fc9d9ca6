"""Static, offline Plotly report of one forecast run: `build_report(out_dir, forecasts=...)`.

Writes `out_dir/index.html` and `out_dir/plotly.min.js` (the one sibling file; no network needed to
view it). Every input may be missing or empty: the report then says what is missing instead of failing.
"""

from crimecast.report.build import PLOTLY_JS_NAME, build_report

__all__ = ["PLOTLY_JS_NAME", "build_report"]
