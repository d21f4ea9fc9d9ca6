"""Tiny helpers for benchmark scripts: machine info and replacing one section of docs/benchmarks.md."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import statistics
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nEvery table here is written by a script in `scripts/`; "
          "rerun the command under a table to refresh it.\n")


def cpu() -> str:
    """The CPU's model name and its widest SIMD / int8 dot-product extension, from /proc/cpuinfo (Linux; "" elsewhere):
    int8 LiteRT latency differs several-fold between hosts with and without AVX-512 VNNI, so a latency row says
    which it was measured on."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    fields = dict(ln.split(":", 1) for ln in info.splitlines() if ":" in ln)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    simd = next((f for f in ("avx512_vnni", "avx_vnni", "avx512f", "avx2", "avx") if f in flags), "no AVX")
    return f"{fields.get('model name', 'unknown CPU')} ({simd})"


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    model = cpu()
    return (f"{platform.processor() or platform.machine()}{', ' + model if model else ''}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, "
            f"load avg {load:.1f} at start, {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")


def median_ms(fn, repeats: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms of this process). On a shared, overloaded machine the CPU time is the
    better estimate of what the call costs on an idle core; both are reported."""
    fn()  # warm-up
    ts, cs = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
        cs.append((time.process_time() - c0) * 1e3)
    return statistics.median(ts), statistics.median(cs)


def write_section(title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the `## title` section of docs/benchmarks.md with `body`."""
    text = doc.read_text() if doc.exists() else HEADER
    block = f"## {title}\n\n{body.rstrip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
