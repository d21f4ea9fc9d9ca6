"""Synthetic one-row-per-incident exports (open-data style) for ingest tests and benchmarks.

Column names and date layouts imitate real portals so that ingest is exercised the way users run it:
- style "chicago": `ID, Date` ("01/31/2024 11:45:00 PM", local time), `Primary Type`, `District` (7.0-style
  floats mixed in), `Latitude`, `Longitude`
- style "utc": `event_id, occurred_at` (ISO 8601 with a UTC offset), `offence`, `division`, `lat`, `long`
A small share of rows is deliberately unusable (bad dates, empty districts) so the reject path is exercised;
`expected` in the return value says how many rows should be counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

TYPES = ["THEFT", "BATTERY", "ASSAULT", "BURGLARY", "ROBBERY", "NARCOTICS", "CRIMINAL DAMAGE", "MOTOR VEHICLE THEFT"]


def write_incident_export(path: str | Path, n_rows: int, *, seed: int = 0, style: str = "chicago",
                          start: str = "2020-01-01", days: int = 730, districts: int = 22,
                          bad_share: float = 0.001, chunk: int = 500_000) -> dict[str, int]:
    """Write `n_rows` incidents; returns {"rows", "bad_date", "no_district", "expected"}."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    t0 = pd.Timestamp(start).value // 10**9
    stats = {"rows": 0, "bad_date": 0, "no_district": 0, "expected": 0}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if style == "chicago":
            w.writerow(["ID", "Date", "Primary Type", "District", "Latitude", "Longitude"])
        elif style == "utc":
            w.writerow(["event_id", "occurred_at", "offence", "division", "lat", "long"])
        else:
            raise ValueError(f"unknown style {style!r}")
        done = 0
        while done < n_rows:
            n = min(chunk, n_rows - done)
            secs = t0 + rng.integers(0, days * 86400, n)
            ts = pd.to_datetime(secs, unit="s")
            dist = rng.integers(1, districts + 1, n)
            typ = np.asarray(TYPES)[rng.integers(0, len(TYPES), n)]
            lat = np.round(41.64 + rng.random(n) * 0.38, 6)
            lon = np.round(-87.94 + rng.random(n) * 0.42, 6)
            bad_date = rng.random(n) < bad_share
            no_dist = ~bad_date & (rng.random(n) < bad_share)
            if style == "chicago":
                dates = ts.strftime("%m/%d/%Y %I:%M:%S %p").to_numpy(dtype=object)
                dstr = np.where(rng.random(n) < 0.1, np.char.add(dist.astype(str), ".0"), dist.astype(str))
            else:
                dates = (ts.tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%S") + "+00:00").to_numpy(dtype=object)
                dstr = np.char.add("D", np.char.zfill(dist.astype(str), 2))
            dates[bad_date] = "not a date"
            dstr = dstr.astype(object)
            dstr[no_dist] = ""
            ids = np.arange(done, done + n)
            w.writerows(zip(ids, dates, typ, dstr, lat, lon, strict=True))
            stats["bad_date"] += int(bad_date.sum())
            stats["no_district"] += int(no_dist.sum())
            done += n
    stats["rows"] = n_rows
    stats["expected"] = n_rows - stats["bad_date"] - stats["no_district"]
    return stats
