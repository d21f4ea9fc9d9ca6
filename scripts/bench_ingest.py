"""Ingest throughput and peak memory on a generated incident export (default 5 M rows).

    .venv/bin/python scripts/bench_ingest.py [--rows 5000000] [--keep DIR]

Generates a Chicago-style export (the date layout that needs an explicit --date-format) and a UTC-offset
one, runs `crimecast ingest` on each in a child process, and reports rows/s and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine, write_section  # noqa: E402
from crimecast.synth_incidents import write_incident_export  # noqa: E402


def run(cmd: list[str]) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, rss_mib


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--keep", help="directory for the generated files (default: a temp dir, removed)")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="crimecast-bench-ingest-"))
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for style, flags in [("chicago", ["--date-col", "Date", "--district-col", "District", "--category-col",
                                      "Primary Type", "--date-format", "%m/%d/%Y %I:%M:%S %p",
                                      "--lat-col", "Latitude", "--lon-col", "Longitude"]),
                         ("utc", ["--date-col", "occurred_at", "--district-col", "division",
                                  "--category-col", "offence",
                                  "--timezone", "America/Chicago"])]:
        src = tmp / f"{style}.csv"
        t = time.perf_counter()
        stats = write_incident_export(src, args.rows, seed=3, style=style, days=5 * 365)
        gen = time.perf_counter() - t
        out = tmp / f"{style}-counts.parquet"
        wall, rss = run([sys.executable, "-m", "crimecast.cli", "ingest", str(src), "--out", str(out), "--quiet",
                         *flags])
        import pandas as pd

        total = int(pd.read_parquet(out)["count"].sum())
        ok = "yes" if total == stats["expected"] else f"NO ({total} vs {stats['expected']})"
        rows.append(f"| {style} | {args.rows:,} | {src.stat().st_size / 2**20:,.0f} | {wall:.1f} | "
                    f"{args.rows / wall:,.0f} | {rss:,.0f} | {ok} |")
        print(rows[-1], f"(generation {gen:.0f} s)", flush=True)
        src.unlink()
    body = (f"Command: `.venv/bin/python scripts/bench_ingest.py --rows {args.rows}`  \nMachine: {machine()}\n\n"
            "| export style | rows | file MiB | wall s | rows/s | peak RSS MiB (max of runs so far) "
            "| total preserved |\n"
            "|---|---|---|---|---|---|---|\n") + "\n".join(rows) + (
            "\n\nThe Chicago style carries lat/lon, so it also writes the per-incident side Parquet. "
            "Goal: bounded memory (≤ 2 GB RSS) on a 5 M-row export.\n")
    print(body)
    write_section("Ingest (issue 2)", body)


if __name__ == "__main__":
    main()
