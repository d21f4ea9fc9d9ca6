"""Helpers for the infra tests: load layers/build.py, synthesize the CDK app, pick resources."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def load_layers_build() -> Any:
    """layers/build.py as a module: the stack's own loader, so tests see exactly what the stack sees."""
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    from crimecast_infra.functions import layers_build_module

    return layers_build_module()


def synth(tmp: Path, **context: object) -> tuple[dict[str, Any], Path]:
    """Synthesize infra/app.py with cdk.json's context + `context`; returns (template, cloud assembly dir)."""
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    from app import build_app, cdk_context
    from aws_cdk import App

    # Tests do not copy ~800 MiB of assets into each cloud assembly (`make synth` does).
    app, stack = build_app(App(outdir=str(tmp), context=cdk_context(**{"aws:cdk:disable-asset-staging": True},
                                                                     **context)))
    app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    path = tmp / f"{stack.stack_name}.template.json"
    return json.loads(path.read_text()), path


def resources(tpl: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == rtype}
