"""Each Lambda handler imports without TensorFlow (serving path), and the API without pandas/plotly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "pandas", "plotly", "statsmodels")


@pytest.mark.parametrize("module", ["crimecast.handlers.api", "crimecast.handlers.classify_upload",
                                    "crimecast.handlers.forecast_job", "crimecast.demo"])
def test_handler_module_does_not_import_tensorflow(module, tmp_path):
    # Given a fresh interpreter with a Lambda-like environment (no AWS calls happen at import)
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))")
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "CRIMECAST_MODEL_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    # Then TensorFlow never loads on the serving path
    assert not loaded["tensorflow"] and not loaded["keras"]
    if module in ("crimecast.handlers.api", "crimecast.handlers.classify_upload"):
        # And the API keeps its cold start slim: pandas/plotly only load in the routes that need them
        assert not any(loaded[m] for m in ("pandas", "plotly", "statsmodels")), loaded
