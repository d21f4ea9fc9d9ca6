"""What the forecast job calls. `plan_monitoring` (with the job's reads, before any write): the actual counts
as a matrix and the earlier runs to check. `write_monitoring` (after the forecasts): one run at a time, read its
forecasts, join them with the counts as now known, write `monitoring/rows/run_date=…/part.parquet` (one object per
run: a re-run replaces it) and keep only per-(date, district, horizon) sums; then the summary
`monitoring/summary/run_date=….json`. Memory stays at one run's rows (10 k series × 30 days), not 90 runs'.
Runs whose forecasts all lie more than `LOOKBACK_DAYS` before the last complete day are left as they are
(their windows are closed; corrections that old are rare)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crimecast import layout as L
from crimecast.monitoring.summary import aggregate, summarize_sums
from crimecast.monitoring.table import Actuals
from crimecast.storage import Storage

LOOKBACK_DAYS = 120  # the 90-day window + a 30-day horizon


@dataclass
class Plan:
    through: pd.Timestamp
    run_date: str
    actuals: Actuals | None
    runs: dict[str, str] = field(default_factory=dict)  # {run_date: forecasts key}, earlier runs only


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


def plan_monitoring(results: Storage, counts: pd.DataFrame, through: pd.Timestamp | str, run_date: str,
                    forecasts_prefix: str = L.FORECASTS) -> Plan:
    """The runs in the look-back window earlier than `run_date`, and the counts matrix (no writes)."""
    through = pd.Timestamp(through)
    lo = (through - pd.Timedelta(days=LOOKBACK_DAYS)).date().isoformat()
    runs = {d: k for d, k in sorted(forecast_runs(results, forecasts_prefix).items()) if lo <= d < run_date}
    return Plan(through, run_date, Actuals(counts, through) if runs else None, runs)


def _fingerprint(part: pd.DataFrame) -> str:
    """What decides whether a run's stored rows are still right: its rows, forecasts and actuals."""
    h = hashlib.sha1(str(len(part)).encode())
    for col in ("date", "horizon", "y_pred", "y_true", "y_ma28", "y_snaive"):
        h.update(part[col].to_numpy().tobytes())
    h.update(part["district"].cat.codes.to_numpy().tobytes() if hasattr(part["district"], "cat") else b"")
    return h.hexdigest()


def _previous_fingerprints(results: Storage, run_date: str) -> dict[str, str]:
    """{run_date: fingerprint} from the newest earlier summary (empty when there is none)."""
    keys = sorted(i.key for i in results.list(L.MONITORING_SUMMARY) if i.key < L.monitoring_summary_key(run_date))
    if not keys:
        return {}
    try:
        return dict(json.loads(results.get_bytes(keys[-1])).get("fingerprints") or {})
    except ValueError:
        return {}


def write_monitoring(results: Storage, plan: Plan) -> dict[str, Any]:
    """Join, write and summarise run by run; returns (and stores) the summary. A run whose rows are unchanged
    since the previous summary (same fingerprint: no new complete day in its horizon, no correction of its
    actuals, same forecasts) is not rewritten."""
    sums = []
    before = _previous_fingerprints(results, plan.run_date)
    prints: dict[str, str] = {}
    written = 0
    for day, key in plan.runs.items():
        assert plan.actuals is not None
        part = plan.actuals.join(pd.read_parquet(io.BytesIO(results.get_bytes(key))))
        if not len(part):
            continue
        prints[day] = fp = _fingerprint(part)
        if before.get(day) != fp or not results.exists(L.monitoring_rows_key(day)):
            buf = io.BytesIO()
            part.to_parquet(buf, index=False, compression="snappy")
            results.put_bytes(L.monitoring_rows_key(day), buf.getvalue())
            written += 1
        sums.append(aggregate(part))
    agg = pd.concat(sums, ignore_index=True) if sums else aggregate(pd.DataFrame())
    summary = summarize_sums(agg, plan.through, plan.run_date, runs=len(sums))
    summary["partitions_written"] = written
    summary["fingerprints"] = prints
    results.put_bytes(L.monitoring_summary_key(plan.run_date), json.dumps(summary, indent=1).encode(),
                      "application/json")
    return summary


def update_monitoring(results: Storage, counts: pd.DataFrame, through: pd.Timestamp | str, run_date: str,
                      forecasts_prefix: str = L.FORECASTS) -> dict[str, Any]:
    """plan + write; returns the summary."""
    return write_monitoring(results, plan_monitoring(results, counts, through, run_date, forecasts_prefix))


def read_monitoring(results: Storage) -> pd.DataFrame | None:
    """Every stored monitoring row (tests, the replay's OUT/monitoring)."""
    frames = [pd.read_parquet(io.BytesIO(results.get_bytes(i.key))) for i in results.list(L.MONITORING_ROWS)
              if i.key.endswith(".parquet")]
    return pd.concat(frames, ignore_index=True) if frames else None
