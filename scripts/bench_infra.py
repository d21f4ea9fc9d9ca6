"""Measure the Lambda bundles (unzipped MiB per function, biggest packages) and the CDK synth time.

Prints markdown and replaces the `## Infrastructure (issue 6)` section of docs/benchmarks.md.
Usage: .venv/bin/python scripts/bench_infra.py [--no-synth]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = "## Infrastructure (issue 6)"


def _build_module():
    spec = importlib.util.spec_from_file_location("crimecast_layers_build", ROOT / "layers" / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def top_packages(build, site: Path, n: int = 8) -> str:
    sizes = sorted(((build.mib(p), p.name) for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")),
                   reverse=True)[:n]
    return ", ".join(f"{name} {mb:.0f}" for mb, name in sizes)


def synth_seconds() -> float:
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    code = ("import sys; sys.path.insert(0, 'infra'); from aws_cdk import App; from app import build_app, cdk_context; "
            "import tempfile; d = tempfile.mkdtemp(); "
            "app, _ = build_app(App(outdir=d, context=cdk_context(**{'aws:cdk:disable-asset-staging': True}))); "
            "app.synth()")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-synth", action="store_true", help="skip timing cdk synth (≈ 45 s)")
    args = ap.parse_args()
    build = _build_module()
    t0 = time.perf_counter()
    for name in build.BUNDLES:
        build.build(name)
    build_s = time.perf_counter() - t0
    lines = [HEADER, "",
             f"Command: `.venv/bin/python scripts/bench_infra.py{' --no-synth' if args.no_synth else ''}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"load avg {os.getloadavg()[0]:.1f} at start, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             "Unzipped sizes as Lambda counts them (MiB = 2^20 bytes), after trimming (layers/build.py):", "",
             build.size_table(), "",
             "| bundle | biggest packages (MiB) |", "|---|---|"]
    for name in build.BUNDLES:
        lines.append(f"| {name} | {top_packages(build, build.deps_dir(name))} |")
    lines += ["", f"Bundle build check (hash unchanged → no pip run): {build_s:.1f} s."]
    if not args.no_synth:
        with tempfile.TemporaryDirectory():
            lines.append(f"`cdk synth` of the app in-process with cdk-nag on (assets not copied): "
                         f"{synth_seconds():.1f} s.")
    lines += ["", "Limits: zip function + layers ≤ 250 MiB (goal 200); container image ≤ 10 GiB. The API stays a zip "
              "(no OpenCV: inline video is not served by the zip API; videos go through POST /v1/uploads, or deploy "
              "with -c crimecast:apiPackaging=image to run the API from the worker image); "
              "classify-upload and forecast-job share one image because OpenCV + pyarrow + pandas + SciPy/statsmodels "
              "+ plotly + LiteRT do not fit a zip.", ""]
    section = "\n".join(lines)
    print(section)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if HEADER in text:
        start = text.index(HEADER)
        nxt = text.find("\n## ", start + len(HEADER))
        text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
