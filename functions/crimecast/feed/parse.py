"""One export (CSV or CSV.gz, any layout `crimecast ingest` reads) → clean incident rows + rejected rows.

Clean rows: `incident_id, date, district, category, lat, lon` (one per incident: within the export the last
row of an id wins; without an id column the id is a hash of the whole raw row, so identical rows count once).
Rejected rows keep their line number, a reason and the raw values. A file that cannot be read at all
(missing columns, not UTF-8, not CSV, empty, too large) raises `FeedError` naming the file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crimecast.feed.config import IngestConfig
from crimecast.ingest import _parse_dates

CHUNK_ROWS = 250_000
INCIDENT_COLUMNS = ["incident_id", "date", "district", "category", "lat", "lon"]
REJECT_COLUMNS = ["line", "reason", "date", "district", "category", "incident_id"]


class FeedError(ValueError):
    """The export as a whole cannot be ingested (nothing of it is applied)."""


@dataclass
class Parsed:
    incidents: pd.DataFrame  # INCIDENT_COLUMNS, unique incident_id
    rejected: pd.DataFrame  # REJECT_COLUMNS
    rows_read: int = 0
    duplicates_in_export: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seen_ids: set[str] = field(default_factory=set)  # every id in the export, rejected rows' too


def _open_check(path: Path, name: str, cfg: IngestConfig) -> list[str]:
    size = path.stat().st_size
    if size == 0:
        raise FeedError(f"{name}: the export is empty (0 bytes)")
    if size > cfg.max_export_bytes:
        raise FeedError(f"{name}: the export is {size / 2**20:.0f} MiB, over max_export_bytes "
                        f"({cfg.max_export_bytes / 2**20:.0f} MiB): split it into smaller files (e.g. one per day)")
    try:
        header = pd.read_csv(path, nrows=0, sep=cfg.delimiter, encoding="utf-8").columns
    except UnicodeDecodeError:
        raise FeedError(f"{name}: not UTF-8 text in the header; re-save the export as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise FeedError(f"{name}: the export has no header row") from None
    except (pd.errors.ParserError, OSError, EOFError) as exc:
        raise FeedError(f"{name}: not a readable CSV: {exc}") from None
    header = [str(c).strip().lstrip("\ufeff") for c in header]
    missing = [f"{v} (for {k})" for k, v in cfg.usecols.items() if v not in header]
    if missing:
        raise FeedError(f"{name}: the column layout changed: missing {missing}; the export has {header}. "
                        "Update config/ingest.json (crimecast ingest --save-config) to the new layout")
    return header


def parse_export(path: str | Path, name: str, cfg: IngestConfig, *, ref_day: pd.Timestamp,
                 min_day: pd.Timestamp | None) -> Parsed:
    """Read and check one export. `ref_day`: its arrival day (future-date check); `min_day`: history start."""
    path = Path(path)
    header = _open_check(path, name, cfg)
    cols = cfg.usecols
    rename = {v: k for k, v in cols.items()}
    max_day = pd.Timestamp(ref_day).normalize() + pd.Timedelta(days=cfg.max_future_days)
    good, bad = [], []
    reasons: Counter[str] = Counter()
    rows = 0
    line0 = 2
    # Without an id column, the whole raw row is the identity: read every column for the hash.
    usecols = None if not cfg.id_col else list(cols.values())
    try:
        reader = pd.read_csv(path, usecols=usecols, dtype=str, keep_default_na=False, sep=cfg.delimiter,
                             chunksize=CHUNK_ROWS, encoding="utf-8")
        for chunk in reader:
            chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
            n = len(chunk)
            lines = np.arange(line0, line0 + n)
            line0 += n
            rows += n
            if cfg.id_col:
                ids = chunk[cfg.id_col].str.strip()
            else:
                h = pd.util.hash_pandas_object(chunk[header], index=False).to_numpy()
                ids = pd.Series(np.char.add("h", h.astype(str)), index=chunk.index)
            c = chunk[list(cols.values())].rename(columns=rename)
            dates = _parse_dates(c["date"], cfg.date_format, cfg.timezone)
            district = c["district"].str.strip().str.replace(r"\.0+$", "", regex=True)
            category = c["category"].str.strip()
            reason = np.full(n, "", dtype=object)

            def flag(mask: np.ndarray, why: str, reason: np.ndarray = reason) -> None:
                m = mask & (reason == "")
                reason[m] = why

            flag((ids == "").to_numpy(), "missing incident id")
            flag(dates.isna().to_numpy(), "unparseable date")
            flag((dates > max_day).to_numpy(), f"future date (after {max_day.date()})")
            if min_day is not None:
                flag((dates < min_day).to_numpy(), f"before the history start {pd.Timestamp(min_day).date()}")
            flag((district == "").to_numpy(), "missing district")
            flag((category == "").to_numpy(), "missing category")
            if cfg.category_map is not None:
                mapped = category.str.upper().map(cfg.category_map)
                flag(mapped.isna().to_numpy(), "category not in category_map")
                category = mapped.fillna("")
            ok = reason == ""
            if (~ok).any():
                bad.append(pd.DataFrame({"line": lines[~ok], "reason": reason[~ok], "date": c["date"][~ok].to_numpy(),
                                         "district": c["district"][~ok].to_numpy(),
                                         "category": c["category"][~ok].to_numpy(),
                                         "incident_id": ids[~ok].to_numpy()}))
                reasons.update(reason[~ok].tolist())
            lat = pd.to_numeric(c["lat"], errors="coerce").to_numpy() if "lat" in c else np.full(n, np.nan)
            lon = pd.to_numeric(c["lon"], errors="coerce").to_numpy() if "lon" in c else np.full(n, np.nan)
            good.append(pd.DataFrame({"incident_id": ids[ok].to_numpy(), "date": dates[ok].to_numpy(),
                                      "district": district[ok].to_numpy(), "category": category[ok].to_numpy(),
                                      "lat": lat[ok], "lon": lon[ok]}))
            seen = ids.to_numpy()
            good[-1].attrs["seen"] = seen[seen != ""]
    except UnicodeDecodeError:
        raise FeedError(f"{name}: not UTF-8 text near line {line0}; re-save the export as UTF-8") from None
    except (pd.errors.ParserError, EOFError, OSError) as exc:
        raise FeedError(f"{name}: not a well-formed CSV near line {line0}: {exc}") from None
    seen_ids: set[str] = set()
    for g in good:
        seen_ids.update(g.attrs.pop("seen").tolist())
    inc = pd.concat(good, ignore_index=True) if good else pd.DataFrame(columns=INCIDENT_COLUMNS)
    n_before = len(inc)
    inc = inc.drop_duplicates("incident_id", keep="last").reset_index(drop=True)  # the later row of an id wins
    inc["date"] = pd.to_datetime(inc["date"]).astype("datetime64[ns]")
    rej = pd.concat(bad, ignore_index=True) if bad else pd.DataFrame(columns=REJECT_COLUMNS)
    return Parsed(inc[INCIDENT_COLUMNS], rej, rows_read=rows, duplicates_in_export=n_before - len(inc),
                  reasons=reasons, seen_ids=seen_ids)
