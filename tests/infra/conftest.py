"""Infra fixtures: the built Lambda bundles and synthesized templates (built once per session).

The bundles come from `layers/build.py` (pip downloads cached under layers/build/.pip-cache; rebuilt only
when a requirements file or the trim rules change). Synthesis runs the real app (`infra/app.py`) with
cdk-nag AwsSolutions on, so a fixture that returns a template has already passed cdk-nag.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cdk_helpers import ROOT, load_layers_build, synth


@pytest.fixture(scope="session")
def layers_build() -> Any:
    """layers/build.py as a module."""
    return load_layers_build()


@pytest.fixture(scope="session")
def built_bundles(layers_build: Any) -> Any:
    """Build (or reuse) every bundle with the real build script, as `make layers` does."""
    proc = subprocess.run([sys.executable, str(ROOT / "layers" / "build.py")], capture_output=True, text=True,
                          cwd=ROOT, timeout=1500)
    if proc.returncode != 0:
        raise RuntimeError(f"layers/build.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return layers_build


@pytest.fixture(scope="session")
def synthesized(built_bundles: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The default deployment (IAM auth, data retained)."""
    return synth(tmp_path_factory.mktemp("cdk-default"))


@pytest.fixture(scope="session")
def template(synthesized: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return synthesized[0]


@pytest.fixture(scope="session")
def dev_synthesized(built_bundles: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """A dev deployment: JWT auth, CORS for one origin, buckets destroyed with the stack, reserved concurrency,
    the API from the worker image, a patrol plan of 12 units in the report."""
    return synth(tmp_path_factory.mktemp("cdk-dev"), **{
        "crimecast:auth": "jwt", "crimecast:jwtIssuer": "https://issuer.example.com/",
        "crimecast:jwtAudience": "client-a,client-b", "crimecast:corsOrigins": "https://app.example.com",
        "crimecast:destroyData": "true", "crimecast:forecastSchedule": "cron(30 6 * * ? *)",
        "crimecast:classifyReservedConcurrency": "5", "crimecast:forecastReservedConcurrency": "1",
        "crimecast:apiPackaging": "image", "crimecast:stackName": "CrimecastDev",
        "crimecast:reportAllocationUnits": "12"})


@pytest.fixture(scope="session")
def dev_template(dev_synthesized: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return dev_synthesized[0]
