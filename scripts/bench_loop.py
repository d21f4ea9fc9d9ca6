"""Benchmarks of the daily loop (issue 15): feed ingest, monitoring, retrain. Writes "Daily loop" in
docs/benchmarks.md.

Each measurement runs in its own child process pinned to one core (`taskset -c 0`, BLAS/Arrow/TF threads = 1),
so wall time and peak RSS (ru_maxrss of the child: imports + the measured step) are for one core. Stores are
local directories (`LocalStorage`): the same code as on S3 without network latency (a few month objects per
export on S3 add tens of milliseconds each).

  python scripts/bench_loop.py                 # feed (1/5/10-year histories) + monitoring (10 k series × 90 runs)
  python scripts/bench_loop.py --retrain 100 1000   # + retrain wall/memory (TensorFlow; minutes each)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "loop"
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ARROW_NUM_THREADS": "1",
            "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "POLARS_MAX_THREADS": "1"}
DENSITY = 2740  # incidents/day: 5 M incidents in 5 years
EXPORT_ROWS = 100_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------- feed
def make_history(root: Path, years: int) -> dict:
    """Month partitions of incidents + counts + feeds/state.json for `years` years at DENSITY per day."""
    import numpy as np
    import pandas as pd
    from crimecast import layout as L
    from crimecast.feed.merge import STORED_COLUMNS, _to_bytes, daily_counts
    from crimecast.feed.state import FeedState, write_state
    from crimecast.storage import LocalStorage

    store = LocalStorage(root)
    rng = np.random.default_rng(years)
    end = pd.Timestamp("2025-12-31")
    start = end - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    next_id = 0
    for month in pd.period_range(start, end, freq="M"):
        days = pd.date_range(max(month.start_time, start), min(month.end_time.normalize(), end), freq="D")
        n = DENSITY * len(days)
        df = pd.DataFrame({"incident_id": (np.arange(next_id, next_id + n)).astype(str),
                           "date": np.repeat(days.to_numpy(), DENSITY),
                           "district": np.char.zfill(rng.integers(1, 23, n).astype(str), 2).astype(object),
                           "category": np.array(["THEFT", "BATTERY", "ASSAULT", "BURGLARY", "ROBBERY", "NARCOTICS",
                                                 "CRIMINAL DAMAGE", "MOTOR VEHICLE THEFT"], dtype=object)[
                               rng.integers(0, 8, n)],
                           "lat": rng.random(n) + 41.6, "lon": rng.random(n) - 87.9, "source": "history"})
        next_id += n
        df = df.sort_values(["date", "district", "category", "incident_id"], ignore_index=True)
        store.put_bytes(L.month_key(L.INCIDENTS, str(month)), _to_bytes(df[STORED_COLUMNS]))
        store.put_bytes(L.month_key(L.COUNTS, str(month)), _to_bytes(daily_counts(df)))
    store.put_bytes(L.INGEST_CONFIG, json.dumps({"date_col": "Date", "district_col": "District",
                                                 "category_col": "Primary Type", "id_col": "ID",
                                                 "lat_col": "Latitude", "lon_col": "Longitude",
                                                 "date_format": "%m/%d/%Y %I:%M:%S %p"}).encode())
    write_state(store, FeedState(start.date().isoformat(), end.date().isoformat(),
                                 (end - pd.Timedelta(days=1)).date().isoformat(), 0, 1, "", "history"))
    return {"incidents": next_id, "start": str(start.date()), "end": str(end.date())}


def make_export(path: Path, history_ids: int) -> None:
    """100 k rows over the last 7 days of the history + 3 new days: 10 % re-sent/corrected history ids."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    n_old = EXPORT_ROWS // 10
    ids = np.concatenate([history_ids - 1 - rng.choice(7 * DENSITY, n_old, replace=False),
                          history_ids + np.arange(EXPORT_ROWS - n_old)])
    days = pd.Timestamp("2025-12-25") + pd.to_timedelta(rng.integers(0, 10, EXPORT_ROWS), unit="D")
    ts = days + pd.to_timedelta(rng.integers(0, 86400, EXPORT_ROWS), unit="s")
    pd.DataFrame({"ID": ids, "Date": ts.strftime("%m/%d/%Y %I:%M:%S %p"),
                  "Primary Type": np.array(["THEFT", "BATTERY", "ASSAULT"])[rng.integers(0, 3, EXPORT_ROWS)],
                  "District": rng.integers(1, 23, EXPORT_ROWS), "Latitude": rng.random(EXPORT_ROWS) + 41.6,
                  "Longitude": rng.random(EXPORT_ROWS) - 87.9}).to_csv(path, index=False)


def child_feed(years: int) -> dict:
    import shutil

    src = CACHE / f"feed-history-{years}y"
    if not (src / "feeds").exists():
        info = make_history(src, years)
        (src / ".info.json").write_text(json.dumps(info))
    info = json.loads((src / ".info.json").read_text())
    work = CACHE / f"feed-work-{years}y"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(src, work)
    export = CACHE / f"export-100k-{years}y.csv"
    if not export.exists():
        make_export(export, info["incidents"])
    return {"history": info}


def measure_feed(years: int) -> dict:
    from crimecast import layout as L
    from crimecast.jobs.feed_ingest import ingest_export
    from crimecast.storage import LocalStorage

    work = CACHE / f"feed-work-{years}y"
    store = LocalStorage(work)
    key = L.FEED_INCOMING + "export-100k.csv"
    store.put_bytes(key, (CACHE / f"export-100k-{years}y.csv").read_bytes())
    t, c = time.perf_counter(), _cpu()
    s = ingest_export(store, key, version_id="bench", event_time="2026-01-04T06:00:00Z")
    return {"wall_s": time.perf_counter() - t, "cpu_s": _cpu() - c, "summary": {k: s[k] for k in (
        "rows_read", "incidents", "added", "updated", "unchanged", "months_rewritten", "timings_s")}}


# ---------------------------------------------------------------- monitoring
def child_monitoring_setup(series: int, runs: int) -> dict:
    import numpy as np
    import pandas as pd
    from crimecast import layout as L
    from crimecast.storage import LocalStorage

    root = CACHE / f"mon-{series}x{runs}"
    if (root / "counts.parquet").exists():
        return {"root": str(root)}
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    d = np.char.add("D", np.char.zfill((np.arange(series) % 25).astype(str), 2))
    c = np.char.add("C", (np.arange(series) // 25).astype(str))
    lam = rng.gamma(2.0, 1.5, series)
    counts = pd.DataFrame({"date": np.tile(dates.to_numpy(), series), "district": np.repeat(d, len(dates)),
                           "category": np.repeat(c, len(dates)),
                           "count": rng.poisson(np.repeat(lam, len(dates))).astype("int64")})
    root.mkdir(parents=True, exist_ok=True)
    counts.to_parquet(root / "counts.parquet", index=False)
    store = LocalStorage(root / "results")
    last = dates[-1]
    for k in range(runs):
        origin = last - pd.Timedelta(days=runs - k)
        fd = origin + pd.to_timedelta(np.arange(1, 31), unit="D")
        yp = np.repeat(lam, 30) * rng.uniform(0.8, 1.2, series * 30)
        fc = pd.DataFrame({"run_date": origin + pd.Timedelta(days=1), "date": np.tile(fd.to_numpy(), series),
                           "district": np.repeat(d, 30), "category": np.repeat(c, 30),
                           "horizon": np.tile(np.arange(1, 31), series), "y_pred": yp, "lo80": yp * 0.4,
                           "hi80": yp * 1.7, "lo95": yp * 0.2, "hi95": yp * 2.2, "model_version": "bench"})
        key = L.forecast_key(L.Prefixes(), (origin + pd.Timedelta(days=1)).date().isoformat())
        store._path(key).parent.mkdir(parents=True, exist_ok=True)
        fc.to_parquet(store._path(key), index=False)
    return {"root": str(root)}


def measure_monitoring(series: int, runs: int) -> dict:
    import shutil

    import pandas as pd
    from crimecast import layout as L
    from crimecast.monitoring.store import forecast_runs, plan_monitoring, write_monitoring
    from crimecast.storage import LocalStorage

    root = CACHE / f"mon-{series}x{runs}"
    counts = pd.read_parquet(root / "counts.parquet")
    store = LocalStorage(root / "results")
    for extra in [d for d in forecast_runs(store) if d > "2025-12-31"]:  # a previous bench's "next day" run
        store.delete(L.forecast_key(L.Prefixes(), extra))
    shutil.rmtree(root / "results" / "monitoring", ignore_errors=True)
    through = counts["date"].max()
    t, c = time.perf_counter(), _cpu()
    plan = plan_monitoring(store, counts, through, "2026-01-01")
    t_plan = time.perf_counter() - t
    summary = write_monitoring(store, plan)
    out = {"wall_s": time.perf_counter() - t, "cpu_s": _cpu() - c, "compute_s": t_plan, "rows": summary["rows"],
           "runs": summary["runs"], "mae_28": summary["windows"]["28"]["overall"]["mae"],
           "written": summary["partitions_written"]}
    # The next day: one more complete day of counts and one more run; unchanged runs are not rewritten.
    nxt = through + pd.Timedelta(days=1)
    counts = pd.concat([counts, counts[counts["date"] == through].assign(date=nxt)], ignore_index=True)
    newest = max(forecast_runs(store))
    fc = pd.read_parquet(store.uri(L.forecast_key(L.Prefixes(), newest)))
    fc = fc.assign(run_date=fc["run_date"] + pd.Timedelta(days=1), date=fc["date"] + pd.Timedelta(days=1))
    new_key = store._path(L.forecast_key(L.Prefixes(), "2026-01-01"))
    new_key.parent.mkdir(parents=True, exist_ok=True)
    fc.to_parquet(new_key, index=False)
    t, c = time.perf_counter(), _cpu()
    summary = write_monitoring(store, plan_monitoring(store, counts, nxt, "2026-01-02"))
    out |= {"next_wall_s": time.perf_counter() - t, "next_cpu_s": _cpu() - c, "next_runs": summary["runs"],
            "next_written": summary["partitions_written"]}
    return out


# ---------------------------------------------------------------- retrain
def child_retrain(series: int, profile: str) -> dict:
    import importlib

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-01", "2025-12-31", freq="D")
    lam = rng.gamma(2.0, 2.0, series)
    dow = 1 + 0.15 * np.sin(2 * np.pi * dates.dayofweek.to_numpy() / 7)
    y = rng.poisson(lam[:, None] * dow[None, :])
    counts = pd.DataFrame({"date": np.tile(dates.to_numpy(), series),
                           "district": np.repeat(np.char.add("D", (np.arange(series) % 25).astype(str)), len(dates)),
                           "category": np.repeat(np.char.add("C", (np.arange(series) // 25).astype(str)), len(dates)),
                           "count": y.ravel().astype("int64")})
    train_challenger = importlib.import_module("crimecast_training.retrain").train_challenger
    out = CACHE / f"retrain-{series}-{profile}"
    t, c = time.perf_counter(), _cpu()
    train_challenger(counts, out, profile=profile)
    return {"wall_s": time.perf_counter() - t, "cpu_s": _cpu() - c, "series": series, "days": len(dates)}


# ---------------------------------------------------------------- driver
def run_child(args: list[str], timeout: int = 3600) -> dict:
    env = {**os.environ, **ONE_CORE}
    cmd = ["taskset", "-c", os.environ.get("BENCH_CORE", "0"), sys.executable, __file__, "--child", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def child(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "feed-setup":
        out = child_feed(int(argv[1]))
    elif kind == "feed":
        out = measure_feed(int(argv[1]))
    elif kind == "mon-setup":
        out = child_monitoring_setup(int(argv[1]), int(argv[2]))
    elif kind == "mon":
        out = measure_monitoring(int(argv[1]), int(argv[2]))
    elif kind == "retrain":
        out = child_retrain(int(argv[1]), argv[2])
    else:
        raise SystemExit(f"unknown child {kind}")
    out["peak_rss_mb"] = _peak_mb()
    print(json.dumps(out, default=str))


def main() -> int:
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, nargs="+", default=[1, 5, 10])
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=90)
    ap.add_argument("--retrain", type=int, nargs="*", default=[], help="series counts for the retrain rows")
    ap.add_argument("--profile", default="full", choices=["full", "quick"])
    ap.add_argument("--skip", nargs="*", default=[], choices=["feed", "monitoring"])
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import machine, write_section

    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = "python scripts/bench_loop.py " + " ".join(sys.argv[1:])
    head = [f"Machine: {machine()}. One core per measurement (`taskset -c $BENCH_CORE`, BLAS/Arrow/TF threads 1); "
            "peak RSS is the measuring process's (imports included). Stores: local directories. The 2-core machine "
            "is shared with other jobs (load average above): CPU seconds are the contention-free cost, wall time "
            "includes waiting for the core.", ""]
    sections: dict[str, list[str]] = {}
    if "feed" not in a.skip:
        lines = ["A 100 k-row export (7 days of history re-sent, 10 % of it corrected ids, + 3 new days) merged into "
                 "a stored history of 2,740 incidents/day.", "",
                 "| history | incidents stored | wall (s) | CPU (s) | peak RSS (MB) | months rewritten | added | "
                 "re-sent/corrected |", "|---|---|---|---|---|---|---|---|"]
        for y in a.years:
            setup = run_child(["feed-setup", str(y)])
            r = run_child(["feed", str(y)])
            s = r["summary"]
            lines.append(f"| {y} years | {setup['history']['incidents']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                         f"{r['peak_rss_mb']:.0f} | {len(s['months_rewritten'])} | {s['added']:,} | "
                         f"{s['updated'] + s['unchanged']:,} |")
            print(lines[-1], flush=True)
        lines += ["", "Goal: ≤ 60 s and ≤ 2 GB on one core for 5 M incidents, cost independent of the years stored "
                  "(only the months an export spans are read and rewritten)."]
        sections["Daily loop: feed ingest"] = lines
    if "monitoring" not in a.skip:
        run_child(["mon-setup", str(a.series), str(a.runs)])
        r = run_child(["mon", str(a.series), str(a.runs)])
        sections["Daily loop: monitoring"] = [
            "| series | runs | rows joined | step | partitions written | wall (s) | CPU (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|---|---|",
            f"| {a.series:,} | {r['runs']} | {r['rows']:,} | first build (every run written) | {r['written']} | "
            f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} |",
            f"| {a.series:,} | {r['next_runs']} | | the next day (one more day, one more run) | {r['next_written']} | "
            f"{r['next_wall_s']:.1f} | {r['next_cpu_s']:.1f} | (same process) |", "",
            "Goal: 10 k series × 90 days of runs within 30 s on one core. A run's partition is rewritten only when "
            "its rows changed (a new complete day in its horizon, a corrected actual)."]
        print("\n".join(sections["Daily loop: monitoring"][2:4]), flush=True)
    if a.retrain:
        lines = [f"Profile `{a.profile}` of `crimecast_training.retrain.train_challenger` (the retrain function's "
                 "trainer: `train` + `export`), 4 years of daily counts per series.", "",
                 "| series | days | wall (s) | CPU (s) | peak RSS (MB) |", "|---|---|---|---|---|"]
        for n in a.retrain:
            r = run_child(["retrain", str(n), a.profile], timeout=5400)
            lines.append(f"| {n:,} | {r['days']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_rss_mb']:.0f} |")
            print(lines[-1], flush=True)
        sections[f"Daily loop: retrain ({a.profile})"] = lines
    for title, lines in sections.items():
        body = "\n".join(head + lines + ["", f"Command: `{cmd.strip()}`"])
        if not a.no_write:
            write_section(title, body)
        print(f"## {title}\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
