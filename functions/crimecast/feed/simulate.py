"""Daily incident exports the way a records system sends them, made from a counts table (tests, demo, bench).

Each counts cell becomes that many incidents with an id and a time of day. An initial export holds the
history; then one export per simulated day holds its new day plus the `overlap` days before it. Some
incidents are reported late (they first appear 1..overlap days after their day) and some are corrected
(another district or category) in a later export than their first. `truth` is what the maintained counts
must equal: every incident that appeared in any export, in its last exported version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["ID", "Date", "Primary Type", "District", "Latitude", "Longitude"]
CONFIG = {"date_col": "Date", "district_col": "District", "category_col": "Primary Type", "id_col": "ID",
          "date_format": "%m/%d/%Y %I:%M:%S %p", "lat_col": "Latitude", "lon_col": "Longitude"}


def simulate_exports(counts: pd.DataFrame, out_dir: str | Path, *, days: int = 5, overlap: int = 3,
                     late_share: float = 0.05, correct_share: float = 0.03, history_days: int | None = None,
                     seed: int = 0, gzip_every: int = 0) -> dict[str, Any]:
    """Write `export-YYYY-MM-DD.csv` files (the date is the export's day: it holds incidents before it).

    Returns {"files": [...], "truth": counts of the unique incidents (non-zero cells), "incidents": n,
    "corrected": n, "late": n, "config": the matching config/ingest.json}."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    c = counts[counts["count"] > 0].copy()
    c["date"] = pd.to_datetime(c["date"])
    last = c["date"].max()
    if history_days:
        c = c[c["date"] > last - pd.Timedelta(days=history_days)]
    n = c["count"].to_numpy(dtype=np.int64)
    idx = np.repeat(np.arange(len(c)), n)
    inc = pd.DataFrame({"date": c["date"].to_numpy()[idx], "district": c["district"].astype(str).to_numpy()[idx],
                        "category": c["category"].astype(str).to_numpy()[idx]})
    m = len(inc)
    inc["id"] = rng.permutation(m) + 10_000_000
    inc["secs"] = rng.integers(0, 86400, m)
    inc["lag"] = np.where(rng.random(m) < late_share, rng.integers(1, overlap + 1, m), 0)
    districts = np.array(sorted(inc["district"].unique()))
    cats = np.array(sorted(inc["category"].unique()))
    corr = rng.random(m) < correct_share
    alt_d = districts[rng.integers(0, len(districts), m)]
    alt_c = cats[rng.integers(0, len(cats), m)]
    use_d = (rng.random(m) < 0.5) | (len(cats) < 2)
    inc["district2"] = np.where(corr & use_d, alt_d, inc["district"])
    inc["category2"] = np.where(corr & ~use_d, alt_c, inc["category"])
    inc["corr_after"] = rng.integers(1, overlap + 1, m)  # days after first appearance the fix is exported
    e0 = last - pd.Timedelta(days=days - 1)  # first export day: holds everything before it
    appear = inc["date"] + pd.to_timedelta(1 + inc["lag"], unit="D")  # first export day that holds it
    files = []
    versions = []
    for k in range(days + 1):
        day = e0 + pd.Timedelta(days=k)
        lo = pd.Timestamp.min if k == 0 else day - pd.Timedelta(days=1 + overlap)
        sel = (inc["date"] >= lo) & (inc["date"] <= day - pd.Timedelta(days=1)) & (appear <= day)
        part = inc[sel]
        fixed = (part["district2"] != part["district"]) | (part["category2"] != part["category"])
        fixed &= appear[sel] + pd.to_timedelta(part["corr_after"], unit="D") <= day
        d = np.where(fixed, part["district2"], part["district"])
        cat = np.where(fixed, part["category2"], part["category"])
        ts = part["date"] + pd.to_timedelta(part["secs"], unit="s")
        df = pd.DataFrame({"ID": part["id"].to_numpy(), "Date": ts.dt.strftime("%m/%d/%Y %I:%M:%S %p").to_numpy(),
                           "Primary Type": cat, "District": d,
                           "Latitude": np.round(41.7 + rng.random(len(part)) * 0.3, 6),
                           "Longitude": np.round(-87.8 + rng.random(len(part)) * 0.3, 6)})
        df = df.sample(frac=1.0, random_state=k)  # exports are not sorted
        name = f"export-{day.date().isoformat()}.csv" + (".gz" if gzip_every and k % gzip_every == 1 else "")
        df.to_csv(out / name, index=False)
        files.append(out / name)
        versions.append(pd.DataFrame({"id": part["id"].to_numpy(), "date": part["date"].to_numpy(),
                                      "district": d, "category": cat}))
    fv = pd.concat(versions, ignore_index=True).drop_duplicates("id", keep="last")
    truth = fv.groupby(["date", "district", "category"]).size().rename("count").reset_index()
    cfg = dict(CONFIG)
    return {"files": [str(f) for f in files], "truth": truth, "incidents": len(fv),
            "corrected": int(corr.sum()), "late": int((inc["lag"] > 0).sum()),
            "config": cfg, "last_export_day": (e0 + pd.Timedelta(days=days)).date().isoformat()}
