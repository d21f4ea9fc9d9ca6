"""Security checks on the synthesized stack: cdk-nag (zero unacknowledged findings) and cfn-lint (zero errors)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cdk_helpers import INFRA

pytestmark = pytest.mark.slow  # builds the Lambda bundles (first run: pip downloads) and synthesizes

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_cdk_nag_passes_and_every_acknowledgement_has_a_reason(synthesized: tuple[dict[str, Any], Path]) -> None:
    _, path = synthesized  # the fixture's app.synth() would have raised ValidationFailed on a finding
    report = json.loads((path.parent / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success" and nag["violations"] == []
    suppressed = nag["suppressedViolations"]
    rules = {s["ruleName"].split("[")[0] for s in suppressed}
    assert rules <= {"AwsSolutions-IAM5", "AwsSolutions-L1", "AwsSolutions-SQS3", "AwsSolutions-IAM4"}, rules
    for s in suppressed:
        assert len(s["reason"]) >= 80, f"{s['ruleName']}: reason too thin: {s['reason']!r}"
        if s["ruleName"].startswith("AwsSolutions-IAM5"):
            # Only prefix-scoped object ARNs are accepted wildcards, never a bare '*'.
            assert s["ruleName"].endswith("/*]") and "Resource::*]" not in s["ruleName"], s["ruleName"]
    print(f"cdk-nag AwsSolutions: 0 findings, {len(suppressed)} acknowledged "
          f"({', '.join(sorted(rules))})")


def test_acknowledgement_reasons_are_specific() -> None:
    sys.path.insert(0, str(INFRA))
    src = (INFRA / "crimecast_infra" / "nag.py").read_text()
    import ast

    calls = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_ack"]
    assert len(calls) >= 4
    for c in calls:
        reason = c.args[2]
        text = reason.value if isinstance(reason, ast.Constant) else "".join(
            v.value for v in ast.walk(reason) if isinstance(v, ast.Constant) and isinstance(v.value, str))
        assert len(text) >= 80, f"acknowledgement reason too thin: {text!r}"


def test_an_unreviewed_wildcard_fails_synth(built_bundles: Any, tmp_path: Path) -> None:
    """cdk-nag is live: a new Resource '*' statement on a function role breaks synthesis."""
    sys.path.insert(0, str(INFRA))
    from app import build_app, cdk_context
    from aws_cdk import App
    from aws_cdk import aws_iam as iam

    app, stack = build_app(App(outdir=str(tmp_path), context=cdk_context(**{"aws:cdk:disable-asset-staging": True})))
    stack.functions.api.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(Exception, match="ValidationFailed|Validation failed"):
        app.synth()


@pytest.mark.parametrize("variant", ["synthesized", "dev_synthesized"])
def test_cfn_lint_reports_no_errors(variant: str, request: pytest.FixtureRequest) -> None:
    _, path = request.getfixturevalue(variant)
    # W3005: redundant DependsOn that CDK writes itself (see shared/TOOLCHAIN.md).
    proc = subprocess.run([str(CFN_LINT), "--format", "parseable", "--ignore-checks", "W3005", "--", str(path)],
                          capture_output=True, text=True, timeout=600)
    errors = [line for line in proc.stdout.splitlines() if ":E" in line]
    assert not errors, "\n".join(errors)
    assert proc.returncode in (0, 4), proc.stdout + proc.stderr  # 4 = warnings only
    print(proc.stdout or "cfn-lint: no findings")


def _image_tag(fn: dict[str, Any]) -> str | None:
    """The asset hash an image function's ImageUri points at (None for a zip function)."""
    uri = fn["Properties"]["Code"].get("ImageUri")
    return None if uri is None else uri["Fn::Sub"].rsplit(":", 1)[1]


def test_synth_stages_the_image_without_docker(synthesized: tuple[dict[str, Any], Path], built_bundles: Any,
                                               dev_synthesized: tuple[dict[str, Any], Path]) -> None:
    """Two image assets (a directory + Dockerfile each) that `cdk deploy` builds; synth ran no Docker:
    the worker image (classify-upload, forecast job, feed; the API too with apiPackaging=image) and the retrain
    image (TensorFlow; only the retrain function)."""
    from cdk_helpers import ROOT, resources

    tpl, path = synthesized
    assets = json.loads(path.with_name(path.name.replace(".template.json", ".assets.json")).read_text())
    images = assets["dockerImages"]
    assert len(images) == 2, "the worker image (shared by three functions) and the retrain image"

    def source_dir(image: dict[str, Any]) -> Path:
        d = Path(image["source"]["directory"])
        return d if d.is_absolute() else path.parent / d

    worker_dir = built_bundles.image_dir("worker")
    (worker,) = [h for h, i in images.items() if (source_dir(i) / i["source"].get("dockerFile", "Dockerfile"))
                 .read_text() == (worker_dir / "Dockerfile").read_text()]
    (retrain,) = set(images) - {worker}
    assert "dockerFile" not in images[worker]["source"]
    rsrc = images[retrain]["source"]
    assert source_dir(images[retrain]).resolve() == ROOT.resolve() and rsrc["dockerFile"] == "layers/retrain/Dockerfile"
    # TensorFlow only in the retrain image (the serving path never imports it).
    assert re.search(r"^tensorflow\b", (ROOT / "layers/retrain/requirements-retrain.txt").read_text(), re.M | re.I)
    assert not re.search(r"^tensorflow", (ROOT / "layers/requirements-worker.txt").read_text(), re.M | re.I)
    # The retrain build context is the repository root minus everything but RETRAIN_CONTEXT_KEEP: every COPY
    # source of its Dockerfile must be kept, or `cdk deploy`'s docker build fails.
    sys.path.insert(0, str(INFRA))
    from crimecast_infra.loop import RETRAIN_CONTEXT_KEEP

    copies = [src for line in (ROOT / rsrc["dockerFile"]).read_text().splitlines() if line.startswith("COPY ")
              for src in line.split()[1:-1]]
    assert copies and all(any(c == k or c.startswith(k + "/") for k in RETRAIN_CONTEXT_KEEP) for c in copies), copies
    assert all(i["source"].get("platform") == "linux/amd64" for i in images.values())

    fns = {k: _image_tag(f) for k, f in resources(tpl, "AWS::Lambda::Function").items()}
    by_name = {n: [t for k, t in fns.items() if k.startswith(n)] for n in
               ("FunctionsApi", "FunctionsClassifyUpload", "FunctionsForecastJob", "LoopFeedIngest", "LoopRetrain")}
    assert by_name == {"FunctionsApi": [None], "FunctionsClassifyUpload": [worker], "FunctionsForecastJob": [worker],
                       "LoopFeedIngest": [worker], "LoopRetrain": [retrain]}
    dev_tpl, _ = dev_synthesized  # apiPackaging=image: the API runs from the same worker image
    dev = {k: _image_tag(f) for k, f in resources(dev_tpl, "AWS::Lambda::Function").items()}
    (dev_api,) = [t for k, t in dev.items() if k.startswith("FunctionsApi")]
    (dev_cls,) = [t for k, t in dev.items() if k.startswith("FunctionsClassifyUpload")]
    assert dev_api == dev_cls is not None
    zips = [a for a in assets["files"].values() if a["source"].get("packaging") == "zip"]
    assert len(zips) >= 2, "the API code and its layer are zip assets"
