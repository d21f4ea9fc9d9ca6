"""Helpers shared by test modules: `from testlib import ROOT, run_cli`.

Kept out of conftest.py on purpose: tests/integration has a conftest.py of its own, and in a
whole-suite run `from conftest import ...` can resolve to that one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def run_cli(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run the `crimecast` CLI in a subprocess (the way users and other tools call it)."""
    return subprocess.run([sys.executable, "-m", "crimecast.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
