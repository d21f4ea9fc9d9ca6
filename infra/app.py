#!/usr/bin/env python3
"""CDK app: `npx cdk synth` (cdk-nag AwsSolutions runs in synth) / `npx cdk deploy` (see README: Deploy).

The dependency bundles must exist first: `make layers` (layers/build.py, no Docker needed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from crimecast_infra.config import DeployConfig  # noqa: E402
from crimecast_infra.stack import CrimecastStack  # noqa: E402

HERE = Path(__file__).resolve().parent


def cdk_context(**overrides: object) -> dict[str, object]:
    """cdk.json's context (feature flags + crimecast defaults) with overrides: what `cdk synth -c` would see."""
    ctx = dict(json.loads((HERE / "cdk.json").read_text())["context"])
    ctx.update(overrides)
    return ctx


def build_app(app: App | None = None) -> tuple[App, CrimecastStack]:
    """The app with its one stack (tests call this with their own context)."""
    app = app or App()
    name = app.node.try_get_context("crimecast:stackName") or "Crimecast"
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT"):
        env = Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ.get("CDK_DEFAULT_REGION"))
    stack = CrimecastStack(app, name, env=env, description="crimecast: crime forecasting and image risk triage")
    if DeployConfig.from_context(app).nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    built, _ = build_app()
    built.synth()
