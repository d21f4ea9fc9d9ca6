"""Measure the Lambda bundles (unzipped MiB per function, biggest packages) and the CDK synth time.

Prints markdown and replaces the `## Infrastructure (issue 6)` section of docs/benchmarks.md.
Usage: .venv/bin/python scripts/bench_infra.py [--no-synth]
"""

from __future__ import annotations

import argparse
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
    """layers/build.py, loaded the way the CDK stack loads it."""
    if str(ROOT / "infra") not in sys.path:
        sys.path.insert(0, str(ROOT / "infra"))
    from crimecast_infra.functions import layers_build_module

    return layers_build_module()


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


def python312() -> str | None:
    cands = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob("3.12*/bin/python3.12"))
    for cand in cands + ["/usr/bin/python3.12"]:
        try:
            ok = subprocess.run([cand, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                capture_output=True, timeout=30).returncode == 0
        except OSError:
            continue
        if ok:
            return cand
    return None


COLD_IMPORT = """
import os, sys, time
sys.path[:0] = sys.argv[1:4]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", CRIMECAST_UPLOADS_BUCKET="u", CRIMECAST_DATA_BUCKET="d",
                  CRIMECAST_RESULTS_BUCKET="r", CRIMECAST_REPORTS_BUCKET="p", CRIMECAST_MODELS_BUCKET="d")
t0 = time.perf_counter()
__import__(sys.argv[4])
print(time.perf_counter() - t0)
"""


def cold_imports(build, repeats: int = 3) -> list[str]:
    """Seconds to import each handler module in a fresh python3.12 with only its bundle (no .pyc, as on Lambda)."""
    py = python312()
    runtime = build.BUILD / "lambda-runtime-boto3"
    if py is None or not (runtime / "boto3").is_dir():
        return ["(cold-import timing skipped: needs python3.12 and layers/build/lambda-runtime-boto3 from the tests)"]
    rows = [f"| handler module | bundle | import s (median of {repeats}, fresh interpreter, bytecode as shipped) |",
            "|---|---|---|"]
    cases = [("crimecast.handlers.api", "api", build.api_code_dir()),
             ("crimecast.handlers.api", "worker", build.image_dir("worker") / "app"),
             ("crimecast.handlers.classify_upload", "worker", build.image_dir("worker") / "app"),
             ("crimecast.handlers.forecast_job", "worker", build.image_dir("worker") / "app")]
    for module, bundle, code in cases:
        times = []
        for _ in range(repeats):
            out = subprocess.run([py, "-I", "-B", "-c", COLD_IMPORT, str(code), str(build.deps_dir(bundle)),
                                  str(runtime), module], capture_output=True, text=True, cwd="/tmp", check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
        rows.append(f"| {module} | {bundle} | {sorted(times)[len(times) // 2]:.2f} |")
    return rows


def cdk_out_api(build) -> str:
    """The API function as `make synth` staged it in infra/cdk.out: its code asset + its layers' assets."""
    import json

    out = ROOT / "infra" / "cdk.out"
    tpls = sorted(out.glob("*.template.json"))
    if not tpls:
        return "(infra/cdk.out not found: run `make synth` to measure the synthesized API function)"
    res = json.loads(tpls[0].read_text())["Resources"]
    for v in res.values():
        if v["Type"] == "AWS::Lambda::Function" and v["Properties"].get("Handler") == "crimecast.handlers.api.handler":
            paths = [v["Metadata"]["aws:asset:path"]] + [res[x["Ref"]]["Metadata"]["aws:asset:path"]
                                                         for x in v["Properties"].get("Layers", [])]
            sizes = [build.mib(out / p) for p in paths]
            return (f"Synthesized API function in `infra/cdk.out` (`make synth`): code {sizes[0]:.1f} MiB + layer "
                    f"{sum(sizes[1:]):.1f} MiB = **{sum(sizes):.1f} MiB** unzipped (goal ≤ {build.API_GOAL_MIB:.0f}).")
    return "(no API function in infra/cdk.out)"


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
    lines += ["", cdk_out_api(build), "", *cold_imports(build)]
    lines += ["", f"Bundle build check (hash unchanged → no pip run): {build_s:.1f} s."]
    if not args.no_synth:
        with tempfile.TemporaryDirectory():
            lines.append(f"`cdk synth` of the app in-process with cdk-nag on (assets not copied): "
                         f"{synth_seconds():.1f} s.")
    lines += ["", "Limits: zip function + layers ≤ 250 MiB (API goal 100, issue 16); container image ≤ 10 GiB. The "
              "API zip has no pandas/pyarrow (it reads the run's numpy serving artifact), no Powertools and no OpenCV "
              "(inline video is not served by the zip API; videos go through POST /v1/uploads, or deploy "
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
