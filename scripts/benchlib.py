"""Tiny helpers for benchmark scripts: machine info and replacing one section of docs/benchmarks.md."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nEvery table here is written by a script in `scripts/`; "
          "rerun the command under a table to refresh it.\n")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, "
            f"load avg {load:.1f} at start, {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")


def write_section(title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the `## title` section of docs/benchmarks.md with `body`."""
    text = doc.read_text() if doc.exists() else HEADER
    block = f"## {title}\n\n{body.rstrip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
