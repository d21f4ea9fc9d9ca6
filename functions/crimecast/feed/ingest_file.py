"""`crimecast ingest --id-col`: one local export → counts with the feed's rules (the last row of an id wins).

The same parser and derivation as the feed function (`crimecast.feed.parse`, `crimecast.feed.merge.daily_counts`),
so a local ingest and the cloud feed count an export identically. Holds the export's incidents in memory
(about 100 bytes per row); the streaming `crimecast ingest` without --id-col does not.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from crimecast.contract import write_table
from crimecast.feed.config import config_from_flags
from crimecast.feed.merge import daily_counts
from crimecast.feed.parse import parse_export
from crimecast.feed.state import zero_fill


def ingest_with_ids(args: argparse.Namespace) -> dict[str, Any]:
    cfg = config_from_flags(args)
    parsed = parse_export(args.incidents, args.incidents, cfg, ref_day=pd.Timestamp.now().normalize(), min_day=None)
    if not len(parsed.incidents):
        raise ValueError(f"{args.incidents}: no usable incident rows ({parsed.rows_read} read; rejected: "
                         f"{dict(parsed.reasons)})")
    c = daily_counts(parsed.incidents)
    counts = zero_fill(c, c["date"].min(), c["date"].max())
    write_table(counts, args.out)
    return {"rows_read": parsed.rows_read, "incidents": len(parsed.incidents),
            "duplicate_rows_replaced": parsed.duplicates_in_export, "rejected": dict(parsed.reasons),
            "out_rows": len(counts), "start": str(counts["date"].min().date()),
            "end": str(counts["date"].max().date())}
