"""Fuzz the running API against its own OpenAPI with the schemathesis CLI (a large budget), as an outsider would.

    .venv/bin/python scripts/bench_api_fuzz.py [--max-examples 400] [--workers 2] [--no-write]

Starts a local S3 (moto server) with the classifier, the forecaster and one real forecast run, serves the API with
uvicorn over real HTTP, and runs `schemathesis run URL/openapi.json` with the checks not_a_server_error,
status_code_conformance, content_type_conformance and response_schema_conformance, in every generation mode
(valid and invalid data) and phase. Writes the `API fuzzing (issue 16)` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apibench import default_models, seeded_api_env  # noqa: E402
from benchlib import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECTION = "API fuzzing (issue 16)"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "crimecast.api:create_app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                            env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/v1/health", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the API did not start")


def run_fuzz(url: str, max_examples: int, workers: int, seed: int, report: Path) -> dict:
    exe = Path(sys.executable).with_name("schemathesis")
    cmd = [str(exe), "run", f"{url}/openapi.json", "--checks", CHECKS, "--max-examples", str(max_examples),
           "--workers", str(workers), "--seed", str(seed), "--continue-on-failure", "--report", "junit",
           "--report-junit-path", str(report), "--request-timeout", "60"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    wall = time.perf_counter() - t0
    out = p.stdout + p.stderr
    (report.parent / "schemathesis.log").write_text(out)
    cases = _int(r"Test cases:\s*(\d+) generated", out)
    passed = _int(r"Test cases:.*?(\d+) passed", out)
    failed = _int(r"(\d+) failures?", out) if "failure" in out.lower() else 0
    server_errors = len(re.findall(r"Server error", out))
    phases = re.findall(r"^\s*(?:✅|❌|⏭|🚫)?\s*(Examples|Coverage|Fuzzing|Stateful) \(in [^)]*\)", out, re.M)
    return {"exit": p.returncode, "cases": cases, "passed": passed, "failed": failed, "server_errors": server_errors,
            "wall_s": wall, "cmd": " ".join(cmd[1:]), "tail": out[-3000:], "phases": phases}


def _int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text, re.S)
    return int(m.group(1)) if m else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-examples", type=int, default=400, help="per operation and phase (7 operations)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    classifier, forecaster = default_models()
    if classifier is None or forecaster is None:
        print("bench_api_fuzz: no models (models/ or the test suite's cache); run `make models` or the tests first",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="crimecast-fuzz-") as td, \
            seeded_api_env(Path(td), classifier, forecaster) as seeded:
        proc, url = serve(seeded["env"])
        try:
            r = run_fuzz(url, a.max_examples, a.workers, a.seed, Path(td) / "junit.xml")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(r["tail"])
    ok = r["exit"] == 0 and not r["failed"]
    table = ("| operations | cases generated | passed | failures | 5xx | wall s | result |\n"
             "|---|---|---|---|---|---|---|\n"
             f"| 7 | {r['cases']} | {r['passed']} | {r['failed']} | {r['server_errors']} | {r['wall_s']:.0f} | "
             f"{'no 5xx, no schema or status violation' if ok else 'FAILED (see the log)'} |")
    body = (f"Command: `.venv/bin/python scripts/bench_api_fuzz.py --max-examples {a.max_examples} --workers "
            f"{a.workers} --seed {a.seed}`  \nMachine: {machine()}\n\n{table}\n\n"
            f"schemathesis 4.32.5 (`schemathesis {r['cmd'].replace(url_of(r['cmd']), 'URL')}`) against the API served "
            "by uvicorn over HTTP (the FastAPI app Lambda runs), with a moto S3 holding the classifier, the "
            "forecaster and one complete forecast run; valid and invalid requests, every phase (examples, coverage, "
            "fuzzing, stateful). Goal: ≥ 5,000 cases without a 5xx or a schema violation.")
    if not a.no_write:
        write_section(SECTION, body)
        print(f"wrote the '{SECTION}' section of docs/benchmarks.md")
    print(json.dumps({k: v for k, v in r.items() if k != "tail"}))
    return 0 if ok else 1


def url_of(cmd: str) -> str:
    m = re.search(r"(http://127\.0\.0\.1:\d+)", cmd)
    return m.group(1) if m else ""


if __name__ == "__main__":
    sys.exit(main())
