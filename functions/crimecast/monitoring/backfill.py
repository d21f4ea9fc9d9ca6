"""Earlier runs for a first deployment or the demo: what the forecast job would have written on earlier days.

`backfill_runs` runs the forecaster at origins before the counts' last day, each with only the counts up to
its origin (`predict_next_30_days(..., as_of=origin)`), and stores them as `forecasts/run_date=<origin+1>/`
— no manifest, so the API never serves them as "the latest run". The next forecast-job run then has
earlier forecasts to check against the counts, and its report's "How did our forecasts do?" is filled from
day one instead of from the second daily run on.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from crimecast import layout as L
from crimecast.storage import Storage

FORECAST_COLUMNS = ["run_date", "date", "district", "category", "horizon", "y_pred", "lo80", "hi80", "lo95", "hi95",
                    "model_version"]


def backfill_runs(results: Storage, forecaster: Any, counts: pd.DataFrame, *, runs: int = 4, step: int = 7,
                  prefixes: L.Prefixes = L.Prefixes(), events: pd.DataFrame | None = None,
                  weather: pd.DataFrame | None = None) -> list[str]:
    """Write `runs` earlier runs (origins `step` days apart, the last one `step` days before the counts' last
    day); returns their run dates. Existing runs of those dates are left alone."""
    last = pd.to_datetime(counts["date"]).max()
    version = str(getattr(forecaster, "version", "") or "") + " (backfilled)"
    done = []
    for k in range(runs, 0, -1):
        origin = last - pd.Timedelta(days=k * step)
        run_date = (origin + pd.Timedelta(days=1)).date().isoformat()
        key = L.forecast_key(prefixes, run_date)
        if results.exists(key):
            continue
        fc = forecaster.predict_next_30_days(counts, events=events, weather=weather, as_of=origin.date())
        fc = fc.assign(run_date=pd.Timestamp(run_date), model_version=version)[FORECAST_COLUMNS]
        buf = io.BytesIO()
        fc.to_parquet(buf, index=False)
        results.put_bytes(key, buf.getvalue())
        done.append(run_date)
    return done
