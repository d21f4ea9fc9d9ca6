"""The feed job: one export object under feeds/incoming/ → incidents, counts, rejected rows, summary, state.

Order of writes (each a single PUT): month partitions of incidents/ and counts/ → feeds/rejected/<export>.csv
(when rows were rejected) and <export>.summary.json → feeds/state.json → feeds/processed/<export>@<version>.json.
The marker is last: an invocation that dies half-way is retried and redoes the same merge (the merge is
idempotent: last version wins), and a re-delivered event for a version with a marker changes nothing.
An export that cannot be used at all (wrong config, changed layout, not UTF-8, empty, too large) gets
feeds/rejected/<export>.error.json and raises `FeedError`/`IngestConfigError` so the invocation fails
(retried, then the DLQ); nothing of it is applied. The export itself is never changed or deleted.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from crimecast import layout as L
from crimecast.feed.config import IngestConfig, IngestConfigError, parse_config
from crimecast.feed.merge import merge_export
from crimecast.feed.parse import FeedError, parse_export
from crimecast.feed.state import EMPTY, read_state, write_state
from crimecast.storage import NotFound, Storage

log = logging.getLogger(__name__)


def export_name(key: str) -> str:
    if not key.startswith(L.FEED_INCOMING):
        raise FeedError(f"{key}: not under {L.FEED_INCOMING}")
    return key[len(L.FEED_INCOMING):]


def load_config(data: Storage) -> IngestConfig:
    try:
        raw = data.get_bytes(L.INGEST_CONFIG)
    except NotFound:
        raise IngestConfigError(f"{data.uri(L.INGEST_CONFIG)}: missing; write one with "
                                "`crimecast ingest ... --save-config ingest.json` and upload it") from None
    return parse_config(raw, where=data.uri(L.INGEST_CONFIG))


def _error_record(data: Storage, name: str, version: str, exc: Exception) -> dict[str, Any]:
    rec = {"export": name, "version": version, "status": "error", "error_type": type(exc).__name__,
           "error": str(exc), "at": datetime.now(UTC).isoformat(timespec="seconds"),
           "applied": "nothing (the export was not ingested; earlier data is unchanged)"}
    data.put_bytes(L.feed_rejected_key(name, ".error.json"), json.dumps(rec, indent=1).encode(), "application/json")
    return rec


def ingest_export(data: Storage, key: str, *, version_id: str | None = None, etag: str | None = None,
                  event_time: str | None = None) -> dict[str, Any]:
    """Ingest one export object; returns its summary (status 'ingested' or 'duplicate')."""
    t0 = time.perf_counter()
    name = export_name(key)
    version = version_id if version_id and version_id != "null" else (etag or "null")
    marker = L.feed_processed_key(name, version)
    if data.exists(marker):
        prior = json.loads(data.get_bytes(marker))
        log.info("export %s version %s was already ingested: nothing to do", name, version)
        return {**prior, "status": "duplicate"}
    try:
        cfg = load_config(data)
        head = data.head(key)
        if head.size > cfg.max_export_bytes:
            raise FeedError(f"{name}: the export is {head.size / 2**20:.0f} MiB, over max_export_bytes "
                            f"({cfg.max_export_bytes / 2**20:.0f} MiB): split it into smaller files")
        state = read_state(data) or EMPTY
        min_day = cfg.min_date or state.history_start or None
        ref_day = pd.Timestamp(event_time[:10]) if event_time else pd.Timestamp(datetime.now(UTC).date())
        with tempfile.TemporaryDirectory(prefix="crimecast-feed-") as td:
            local = Path(td) / Path(name).name
            local.write_bytes(data.get_bytes(key, version_id=version_id))
            t = time.perf_counter()
            parsed = parse_export(local, name, cfg, ref_day=ref_day,
                                  min_day=pd.Timestamp(min_day) if min_day else None)
            parse_s = time.perf_counter() - t
    except (FeedError, IngestConfigError) as exc:
        _error_record(data, name, version, exc)
        raise
    t = time.perf_counter()
    merged = merge_export(data, parsed, name, cfg)
    merge_s = time.perf_counter() - t
    n_rej = len(parsed.rejected)
    if n_rej:
        data.put_bytes(L.feed_rejected_key(name), parsed.rejected.to_csv(index=False).encode(), "text/csv")
    inc = parsed.incidents
    if len(inc):
        state = state.updated(inc["date"].min(), inc["date"].max(), cfg.reporting_lag_days, name)
    summary = {
        "export": name, "key": key, "version": version, "status": "ingested",
        "event_time": event_time, "rows_read": parsed.rows_read, "incidents": int(len(inc)),
        "duplicates_in_export": parsed.duplicates_in_export, "rejected": n_rej,
        "rejected_reasons": dict(parsed.reasons),
        "rejected_key": L.feed_rejected_key(name) if n_rej else None,
        "added": merged.added, "updated": merged.updated, "unchanged": merged.unchanged, "deleted": merged.deleted,
        "months_rewritten": merged.months,
        "first_day": inc["date"].min().date().isoformat() if len(inc) else None,
        "last_day": inc["date"].max().date().isoformat() if len(inc) else None,
        "history_start": state.history_start or None, "last_complete_day": state.last_complete_day or None,
        "timings_s": {"parse": round(parse_s, 3), "merge": round(merge_s, 3),
                      "total": round(time.perf_counter() - t0, 3)},
    }
    body = json.dumps(summary, indent=1, default=str).encode()
    data.put_bytes(L.feed_rejected_key(name, ".summary.json"), body, "application/json")
    if len(inc):
        write_state(data, state)
    data.put_bytes(marker, body, "application/json")
    return summary
