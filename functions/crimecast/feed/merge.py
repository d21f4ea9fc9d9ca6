"""Merge one export's incidents into the per-incident table and re-derive the daily counts of what changed.

Both tables are partitioned by month (`incidents/month=YYYY-MM/part.parquet`, `counts/month=YYYY-MM/...`).
An export rewrites only the months its valid rows span (first to last day), so its cost depends on the
export and those months, not on the years already stored. Within those months the export's version of an
incident replaces the stored one (last version wins, also when a correction moves it to another day or
district); with `window_replaces` an id stored on a day the export covers but absent from it is deleted.
An incident whose correction moves it out of a month the export does not span would be counted in both
months: exports of the last few days do not do that (see data/README.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crimecast import layout as L
from crimecast.feed.config import IngestConfig
from crimecast.feed.parse import INCIDENT_COLUMNS, Parsed
from crimecast.storage import Storage

STORED_COLUMNS = INCIDENT_COLUMNS + ["source"]
COUNT_COLUMNS = ["date", "district", "category", "count"]
_CONTENT = ["date", "district", "category", "lat", "lon"]


@dataclass
class MergeResult:
    months: list[str] = field(default_factory=list)  # months whose partitions were rewritten
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    incidents_after: int = 0  # in the rewritten months


def isin(values: pd.Series | pd.Index, lookup: pd.Index) -> np.ndarray:
    """values ∈ lookup as a boolean array (pyarrow's hash set: pandas' isin on Arrow strings loops in Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(values) or not len(lookup):
        return np.zeros(len(values), dtype=bool)
    arr = pa.array(np.asarray(values, dtype=object).astype(str))
    vs = pa.array(np.asarray(lookup, dtype=object).astype(str))
    return np.asarray(pc.is_in(arr, value_set=vs).to_numpy(zero_copy_only=False), dtype=bool)


def months_spanned(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]


def read_parquet(store: Storage, key: str) -> pd.DataFrame | None:
    if not store.exists(key):
        return None
    return pd.read_parquet(io.BytesIO(store.get_bytes(key)))


def _to_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def daily_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Non-zero (date, district, category) cells of one month's incidents."""
    if not len(incidents):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(COUNT_COLUMNS, ["datetime64[ns]", "object", "object", "int64"], strict=True)})
    c = incidents.groupby(["date", "district", "category"], sort=True).size().rename("count").reset_index()
    c["count"] = c["count"].astype("int64")
    return c[COUNT_COLUMNS]


def merge_export(store: Storage, parsed: Parsed, source: str, cfg: IngestConfig) -> MergeResult:
    inc = parsed.incidents
    res = MergeResult()
    if not len(inc):
        return res
    first, last = inc["date"].min(), inc["date"].max()
    inc = inc.assign(source=source, _month=inc["date"].dt.strftime("%Y-%m"))
    new_ids = pd.Index(inc["incident_id"])
    old_parts: dict[str, pd.DataFrame] = {}
    for m in months_spanned(first, last):
        old = read_parquet(store, L.month_key(L.INCIDENTS, m))
        old_parts[m] = old if old is not None else pd.DataFrame(columns=STORED_COLUMNS)
    old_all = pd.concat(old_parts.values(), ignore_index=True)
    # Added / updated / unchanged against every version in the touched months.
    prev = old_all.drop_duplicates("incident_id", keep="last").set_index("incident_id")
    hit = isin(new_ids, prev.index)
    res.added = int((~hit).sum())
    if hit.any():
        a = inc.loc[hit, ["incident_id"] + _CONTENT].set_index("incident_id")
        b = prev.loc[a.index, _CONTENT]
        same = ((a["date"].to_numpy() == pd.to_datetime(b["date"]).to_numpy())
                & (a["district"].to_numpy() == b["district"].to_numpy())
                & (a["category"].to_numpy() == b["category"].to_numpy()))
        res.unchanged = int(same.sum())
        res.updated = int(len(a) - same.sum())
    seen = pd.Index(list(parsed.seen_ids)) if cfg.window_replaces else None
    for m, old in old_parts.items():
        keep = old[~isin(old["incident_id"], new_ids)]
        if seen is not None and len(keep):
            d = pd.to_datetime(keep["date"])
            gone = ((d >= first) & (d <= last)).to_numpy() & ~isin(keep["incident_id"], seen)
            res.deleted += int(gone.sum())
            keep = keep[~gone]
        new_m = inc[inc["_month"] == m][STORED_COLUMNS]
        merged = pd.concat([keep, new_m], ignore_index=True) if len(keep) else new_m.reset_index(drop=True)
        merged = merged.sort_values(["date", "district", "category", "incident_id"], kind="stable",
                                    ignore_index=True)
        merged["date"] = pd.to_datetime(merged["date"]).astype("datetime64[ns]")
        for col in ("lat", "lon"):
            merged[col] = pd.to_numeric(merged[col], errors="coerce").astype("float64")
        res.incidents_after += len(merged)
        ikey, ckey = L.month_key(L.INCIDENTS, m), L.month_key(L.COUNTS, m)
        if not len(merged):
            if len(old):
                store.delete(ikey)
                store.delete(ckey)
                res.months.append(m)
            continue
        store.put_bytes(ikey, _to_bytes(merged[STORED_COLUMNS]))
        store.put_bytes(ckey, _to_bytes(daily_counts(merged)))
        res.months.append(m)
    return res
