"""Size budget and exactness of the Lambda bundles built by layers/build.py (no Docker).

Prints every function's unzipped size. The zip function (API: code + layer) must stay <= 250 MiB (Lambda's
hard limit; goal 200 MiB); the container-image functions are measured the same way (limit 10 GiB).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdk_helpers import ROOT

pytestmark = pytest.mark.slow  # builds the Lambda bundles (first run: pip downloads) and synthesizes

HERE = Path(__file__).resolve().parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _installed(site: Path) -> dict[str, str]:
    out = {}
    for d in site.glob("*.dist-info"):
        meta = (d / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
        version = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
        out[_norm(name)] = version
    return out


def test_size_budget(built_bundles: Any) -> None:
    sizes = built_bundles.sizes()
    print("\n" + built_bundles.size_table())
    for fn, s in sizes.items():
        assert s["total"] <= s["limit"], f"{fn}: {s['total']:.1f} MiB > {s['limit']:.0f} MiB"
    api = sizes["api (zip: code + layer)"]
    assert api["limit"] == 250.0
    # Issue 16: the API function (no pandas/pyarrow/OpenCV/Powertools) is at most 100 MiB unzipped.
    assert api["total"] <= built_bundles.API_GOAL_MIB, f"api: {api['total']:.1f} MiB > {built_bundles.API_GOAL_MIB} MiB"
    site = built_bundles.deps_dir("api")
    for absent in ("pandas", "pyarrow", "cv2", "boto3", "botocore", "aws_lambda_powertools"):
        assert not (site / absent).exists(), f"{absent} is in the API bundle"


def test_requirements_pin_what_pyproject_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["runtime"]:
        name, _, version = spec.partition("==")
        declared[_norm(name.split("[")[0])] = version
    for req in sorted((ROOT / "layers").glob("requirements-*.txt")):
        pins = _pins(req)
        for name, version in pins.items():
            if name in declared:
                assert version == declared[name], \
                    f"{req.name}: {name}=={version} but pyproject.toml has {declared[name]}"
        assert "boto3" not in pins and "botocore" not in pins, f"{req.name}: Lambda provides boto3"


@pytest.mark.parametrize("bundle", ["api", "worker"])
def test_bundle_holds_exactly_the_pinned_versions(built_bundles: Any, bundle: str) -> None:
    pins = _pins(built_bundles.BUNDLES[bundle]["requirements"])
    installed = _installed(built_bundles.deps_dir(bundle))
    assert installed == pins, {"missing": set(pins) - set(installed), "extra": set(installed) - set(pins),
                               "differ": {k for k in pins if k in installed and pins[k] != installed[k]}}


def test_image_context_is_the_measured_bundle(built_bundles: Any) -> None:
    ctx = built_bundles.image_dir("worker")
    dockerfile = (ctx / "Dockerfile").read_text()
    assert dockerfile == (ROOT / "layers" / "Dockerfile").read_text()
    instructions = [ln.split()[0] for ln in dockerfile.splitlines() if ln.strip() and not ln.startswith("#")]
    assert instructions == ["FROM", "COPY", "COPY", "RUN", "CMD"]
    (run,) = [ln for ln in dockerfile.splitlines() if ln.startswith("RUN")]
    assert "compileall" in run and "pip" not in run, "the image must not resolve packages again"
    assert "public.ecr.aws/lambda/python:3.12" in dockerfile
    src = ROOT / "functions"
    code = sorted(p.relative_to(src).as_posix() for p in (src / "crimecast").rglob("*.py")
                  if not p.relative_to(src).as_posix().startswith("crimecast/gui/"))  # desktop-only: not bundled
    staged = sorted(p.relative_to(ctx / "app").as_posix() for p in (ctx / "app" / "crimecast").rglob("*.py"))
    assert staged == code


def test_rebuild_is_skipped_when_requirements_are_unchanged(built_bundles: Any) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "layers" / "build.py"), "api"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "pip install" not in proc.stdout, "an unchanged bundle was rebuilt"


def _python312() -> str | None:
    """A working CPython 3.12 (Lambda's python3.12), or None. pyenv shims exist without a selected version."""
    cands = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob("3.12*/bin/python3.12"))
    cands += [c for c in (shutil.which("python3.12"), "/usr/bin/python3.12") if c]
    for cand in cands:
        try:
            proc = subprocess.run([cand, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                                  text=True, timeout=30)
        except OSError:
            continue
        if proc.returncode == 0 and proc.stdout.strip() == "(3, 12)":
            return cand
    return None


@pytest.fixture(scope="module")
def lambda_runtime_packages(built_bundles: Any) -> Path:
    """What the python3.12 Lambda runtime provides on its own (boto3), for the import smoke test."""
    target = built_bundles.BUILD / "lambda-runtime-boto3"
    if not (target / "boto3").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", *built_bundles.PIP_FLAGS, "--cache-dir",
                        str(built_bundles.PIP_CACHE), "--target", str(target), "boto3==1.44.5"],
                       check=True, timeout=600)
    return target


@pytest.mark.parametrize("bundle", ["api", "worker"])
def test_trimmed_bundle_runs_under_python312(built_bundles: Any, lambda_runtime_packages: Path, bundle: str,
                                             forecaster_model_dir: Path, tmp_path: Path) -> None:
    """The trimmed bundle + function code, alone on sys.path of a 3.12 interpreter, import and run."""
    py = _python312()
    if py is None:
        pytest.skip("no python3.12 interpreter on this machine")
    code = built_bundles.api_code_dir() if bundle == "api" else built_bundles.image_dir("worker") / "app"
    extra = []
    if bundle == "api":  # a serving artifact made by the forecast job's writer, read with the bundle alone
        import pandas as pd
        from crimecast.serving import build_artifact

        fc = pd.DataFrame({"date": pd.to_datetime(["2026-01-02"] * 4), "district": ["A", "A", "B", "B"],
                           "category": ["theft", "assault"] * 2, "horizon": 1, "y_pred": [1.0, 2.0, 3.0, 0.5],
                           "lo80": 0.0, "hi80": 4.0, "lo95": 0.0, "hi95": 5.0})
        extra = [str(tmp_path / "serving.npz")]
        (tmp_path / "serving.npz").write_bytes(build_artifact(fc, run_date="2026-01-01", model_version="v1"))
    # -B: write no bytecode into the bundle (it would inflate the measured size).
    proc = subprocess.run([py, "-I", "-B", str(HERE / "bundle_smoke.py"), bundle, str(built_bundles.deps_dir(bundle)),
                           str(code), str(lambda_runtime_packages), str(forecaster_model_dir / "model.tflite"), *extra],
                          capture_output=True, text=True, timeout=600, cwd="/tmp")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    print(proc.stdout.strip().splitlines()[-1])


def test_synthesized_api_function_is_at_most_100_mib(synthesized: tuple[dict[str, Any], Path],
                                                      built_bundles: Any) -> None:
    """Issue 16: the API function as synthesized (its code asset + its layers' assets) ≤ 100 MiB unzipped."""
    import json

    from cdk_helpers import resources

    tpl, tpl_path = synthesized
    fns = {k: v for k, v in resources(tpl, "AWS::Lambda::Function").items()
           if v["Properties"].get("Handler") == "crimecast.handlers.api.handler"}
    assert len(fns) == 1, sorted(fns)
    (api,) = fns.values()
    layers = resources(tpl, "AWS::Lambda::LayerVersion")
    # Each Code/Content S3Key is "<asset hash>.zip"; the assets manifest says which directory that asset is.
    (manifest,) = tpl_path.parent.glob("*.assets.json")
    files = json.loads(manifest.read_text())["files"]

    def source(code: dict[str, Any]) -> Path:
        src = Path(files[code["S3Key"].split(".")[0]]["source"]["path"])
        return src if src.is_absolute() else tpl_path.parent / src

    paths = [source(api["Properties"]["Code"])]
    for ref in api["Properties"].get("Layers", []):
        paths.append(source(layers[ref["Ref"]]["Properties"]["Content"]))
    sizes = {str(p): built_bundles.mib(p) for p in paths}
    total = sum(sizes.values())
    print(f"\nsynthesized API function: {total:.1f} MiB unzipped ({sizes})")
    assert paths[0].resolve() == built_bundles.api_code_dir().resolve(), "the API zip is not the staged code"
    assert total <= built_bundles.API_GOAL_MIB, sizes
