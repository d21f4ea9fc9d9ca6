"""CloudWatch metrics of the monitoring summary (EMF via Powertools); the stack's drift alarms watch them.

Names are shared with infra/ (crimecast_infra.loop) through `METRICS`: 28-day 80 % and 95 % coverage and
the 28-day MAE relative to the 28-day mean (below 1: better than the baseline)."""

from __future__ import annotations

from typing import Any

COVERAGE80 = "MonitoringCoverage80"
COVERAGE95 = "MonitoringCoverage95"
REL_MAE = "MonitoringRelMaeMa28"
METRICS = (COVERAGE80, COVERAGE95, REL_MAE)


def monitoring_values(manifest: dict[str, Any], window: str = "28") -> dict[str, float]:
    o = (manifest.get("monitoring") or {}).get(window) or {}
    out = {}
    for name, field in ((COVERAGE80, "coverage80"), (COVERAGE95, "coverage95"), (REL_MAE, "rel_mae_ma28")):
        v = o.get(field)
        if isinstance(v, int | float):
            out[name] = float(v)
    return out


def publish_monitoring(metrics: Any, manifest: dict[str, Any]) -> dict[str, float]:
    """Add the monitoring metrics of a finished run (none when nothing could be checked yet)."""
    from crimecast.handlers import Units

    values = monitoring_values(manifest)
    for name, v in values.items():
        metrics.add_metric(name=name, unit=Units.Count, value=v)  # fractions / ratios (0.8 = 80 %)
    return values
