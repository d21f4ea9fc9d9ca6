"""Time `make demo-once` from a fresh clone (issue 12's "≤ 5 minutes, without training") → docs/benchmarks.md.

    .venv/bin/python scripts/bench_demo.py [--models-from DIR] [--no-write]

Clones this repository to a temporary folder, links the existing virtual environment (`.venv`; `make -o venv`
so the clone does not reinstall it), puts the clone's own code first on PYTHONPATH, runs `make demo-once` and
records wall time, CPU time (user + sys of every process), the machine's load, and the demo's own phase lines.
`--models-from DIR` copies DIR/forecaster and DIR/classifier into the clone when the clone has no committed
models (before the model owners have committed theirs): the table says so.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-from", type=Path, help="models to copy in when the clone has none committed")
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args()
    where = machine()
    with tempfile.TemporaryDirectory(prefix="crimecast-clone-") as td:
        clone = Path(td) / "crimecast"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True,
                                check=True).stdout.strip()
        (clone / ".venv").symlink_to(ROOT / ".venv")
        copied = []
        for name in ("forecaster", "classifier"):
            if not (clone / "models" / name / "metadata.json").exists():
                if a.models_from is None:
                    print(f"the clone has no models/{name}: pass --models-from DIR", file=sys.stderr)
                    return 2
                shutil.copytree(a.models_from / name, clone / "models" / name)
                copied.append(name)
        env = {**os.environ, "PYTHONPATH": f"{clone / 'functions'}:{clone / 'training'}"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(["make", "-o", "venv", "demo-once"], cwd=clone, env=env, capture_output=True,
                              text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        report = clone / "demo-out" / "reports" / "latest" / "index.html"
        complete = report.exists() and "No backtest metrics" not in report.read_text()
    print(proc.stdout[-4000:])
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        return 1
    phases = [ln.strip() for ln in proc.stdout.splitlines() if ln.startswith("[demo ")]
    noise = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith(("make", ".venv/bin"))]
    rows = [("wall time, `make demo-once` (clone → served API → complete report)", f"{wall:.0f} s"),
            ("CPU time, all processes (user + sys)", f"{cpu:.0f} s"),
            ("report complete (backtest, allocation, classifications)", "yes" if complete else "NO"),
            ("lines on stderr (TensorFlow/LiteRT dumps, warnings)", str(len(noise))),
            ("trained anything", "no" if not any("train-" in ph for ph in phases) else "YES"),
            ("models", "committed in the clone" if not copied else f"copied in ({', '.join(copied)}: not committed "
                                                                      "yet at this commit)")]
    body = (f"`.venv/bin/python scripts/bench_demo.py{' --models-from ' + str(a.models_from) if copied else ''}` "
            f"at commit {commit}; {where}. The 2-core machine was shared with other jobs when measured: the "
            "load average above says how busy; the CPU time is what the demo itself needed.\n\n"
            "| measure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
            + "\n\nThe demo's own phase lines:\n\n```\n" + "\n".join(re.sub(r"/tmp/\S+", "…", ph) for ph in phases)
            + "\n```\n")
    print(body)
    if not a.no_write:
        write_section("Main job: `make demo` from a clean clone (issue 12)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
