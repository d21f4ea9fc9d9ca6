"""What the forecast job calls: read the earlier runs, rebuild their monitoring rows against the counts as
now known, write `monitoring/rows/run_date=…/part.parquet` (one object per run: a re-run replaces it) and
`monitoring/summary/run_date=….json`. Runs whose forecasts all lie more than `LOOKBACK_DAYS` before the last
complete day are left as they are (their windows are closed; corrections that old are rare). The forecast job
calls `compute_monitoring` with its reads (before its first write) and `write_monitoring` after the forecasts."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pandas as pd

from crimecast import layout as L
from crimecast.monitoring.summary import summarize
from crimecast.monitoring.table import Actuals
from crimecast.storage import Storage

LOOKBACK_DAYS = 120  # the 90-day window + a 30-day horizon


def forecast_runs(results: Storage, forecasts_prefix: str = L.FORECASTS) -> dict[str, str]:
    """{run_date: key} of every forecast partition."""
    pat = re.compile(re.escape(forecasts_prefix + L.FORECASTS_PARTITION) + r"(\d{4}-\d{2}-\d{2})/" +
                     re.escape(L.FORECAST_PART))
    out = {}
    for info in results.list(forecasts_prefix + L.FORECASTS_PARTITION):
        m = pat.fullmatch(info.key)
        if m:
            out[m.group(1)] = info.key
    return out


def compute_monitoring(results: Storage, counts: pd.DataFrame, through: pd.Timestamp | str, run_date: str,
                       forecasts_prefix: str = L.FORECASTS) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Read the runs in the look-back window (earlier than `run_date`) and join them with `counts` (no writes)."""
    through = pd.Timestamp(through)
    lo = (through - pd.Timedelta(days=LOOKBACK_DAYS)).date().isoformat()
    runs = {d: k for d, k in forecast_runs(results, forecasts_prefix).items() if lo <= d < run_date}
    actuals = Actuals(counts, through) if runs else None
    parts = [actuals.join(pd.read_parquet(io.BytesIO(results.get_bytes(k)))) for _, k in sorted(runs.items())
             if actuals is not None]
    parts = [p for p in parts if len(p)]
    mon = pd.concat(parts, ignore_index=True) if parts else None
    summary = summarize(mon if mon is not None else pd.DataFrame(columns=["run_date", "date"]), through, run_date)
    return mon, summary


def write_monitoring(results: Storage, mon: pd.DataFrame | None, summary: dict[str, Any], run_date: str) -> None:
    """One Parquet object per earlier run (a re-run replaces it) and the run's summary JSON."""
    if mon is not None:
        for day, part in mon.groupby(mon["run_date"].dt.strftime("%Y-%m-%d"), sort=True):
            buf = io.BytesIO()
            part.to_parquet(buf, index=False, compression="zstd")
            results.put_bytes(L.monitoring_rows_key(str(day)), buf.getvalue())
    results.put_bytes(L.monitoring_summary_key(run_date), json.dumps(summary, indent=1).encode(), "application/json")


def update_monitoring(results: Storage, counts: pd.DataFrame, through: pd.Timestamp | str, run_date: str,
                      forecasts_prefix: str = L.FORECASTS) -> dict[str, Any]:
    """compute + write; returns the summary."""
    mon, summary = compute_monitoring(results, counts, through, run_date, forecasts_prefix)
    write_monitoring(results, mon, summary, run_date)
    return summary


def read_monitoring(results: Storage) -> pd.DataFrame | None:
    """Every stored monitoring row (tests, the replay's OUT/monitoring)."""
    frames = [pd.read_parquet(io.BytesIO(results.get_bytes(i.key))) for i in results.list(L.MONITORING_ROWS)
              if i.key.endswith(".parquet")]
    return pd.concat(frames, ignore_index=True) if frames else None
