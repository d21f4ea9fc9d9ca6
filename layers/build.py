"""Build the Lambda dependency bundles without Docker, trim them, and rebuild only when inputs change.

Two kinds of bundle, both made by `pip install --platform ... --only-binary=:all: --python-version 3.12
--implementation cp --target DIR` from an exactly pinned requirements file:

* `api`    -> layers/build/api/layer/python/...   a Lambda *layer* for the zip API function
* `worker` -> layers/build/worker/image/...        the Docker build context of the container-image
              function shared by classify-upload and forecast-job (Dockerfile + deps/ + app/).
              The Dockerfile only COPYs what was installed and measured here, so the image holds
              byte-for-byte the packages the size test measured (no second resolve inside Docker).

A bundle is rebuilt only when the sha256 of its requirements file, the pip flags and the trim rules
changes (stored in `<bundle>/.inputs-sha256`). The function code (`functions/crimecast`) is re-synced
into the image context on every call (cheap) so the image never carries stale code.

Usage: python layers/build.py [api|worker ...] [--sizes] [--force]
Sizes are MiB (2**20 bytes), unzipped, as Lambda counts them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "build"
PIP_CACHE = BUILD / ".pip-cache"
FUNCTIONS_DIR = ROOT / "functions"

LAMBDA_PYTHON = "3.12"
# manylinux_2_27/2_28 wheels (ai-edge-litert, numpy 2.4) need Amazon Linux 2023 = python3.12 runtime.
PLATFORMS = ["manylinux2014_x86_64", "manylinux_2_27_x86_64", "manylinux_2_28_x86_64"]
PIP_FLAGS = ["--only-binary=:all:", "--python-version", LAMBDA_PYTHON, "--implementation", "cp",
             "--no-compile", "--disable-pip-version-check", "--quiet"]
for _p in PLATFORMS:
    PIP_FLAGS += ["--platform", _p]

LIMIT_MIB = 250.0  # Lambda: function code + all layers, unzipped
GOAL_MIB = 200.0

BUNDLES = {
    "api": {"requirements": HERE / "requirements-api.txt", "kind": "layer"},
    "worker": {"requirements": HERE / "requirements-worker.txt", "kind": "image"},
}

# Directories removed wherever they occur: test suites, bytecode caches, C/C++ headers.
TRIM_DIR_NAMES = {"tests", "__pycache__", "include"}
# Paths (relative to site-packages) that nothing on the serving path loads. Each was checked with
# `readelf -d`: no kept extension module lists them as NEEDED; their Python modules import them lazily.
TRIM_PATHS = [
    # LiteRT: GPU/NPU delegates and model tools; Lambda has CPU only.
    "ai_edge_litert/libLiteRtWebGpuAccelerator.so", "ai_edge_litert/tools", "ai_edge_litert/vendors",
    "ai_edge_litert/aot",
    # pyarrow: Flight RPC and the S3 filesystem (we read S3 with boto3), C++ test helpers, and the
    # two extra copies of libarrow_python* (wheels cannot hold symlinks; the loader wants the .2600 soname).
    "pyarrow/libarrow_flight.so.2600", "pyarrow/_flight.cpython-312-x86_64-linux-gnu.so",
    "pyarrow/libarrow_python_flight.so", "pyarrow/libarrow_python_flight.so.2600",
    "pyarrow/libarrow_python_flight.so.2600.1.0", "pyarrow/flight.py",
    "pyarrow/libarrow_s3.so.2600", "pyarrow/_s3fs.cpython-312-x86_64-linux-gnu.so",
    "pyarrow/_pyarrow_cpp_tests.cpython-312-x86_64-linux-gnu.so",
    "pyarrow/libarrow_python.so", "pyarrow/libarrow_python.so.2600.1.0",
    "pyarrow/libarrow_python_parquet_encryption.so", "pyarrow/libarrow_python_parquet_encryption.so.2600.1.0",
    "pyarrow/src",
    # OpenCV: Haar cascades we do not use.
    "cv2/data",
    # Jupyter/JupyterLab extension assets of plotly (reports embed plotly.min.js from package_data).
    "plotly/labextension",
    # Lambda's runtime provides boto3/botocore; a second copy would only shadow it.
    "boto3", "botocore", "s3transfer",
]
# File suffixes never needed at run time (Cython sources, type stubs).
TRIM_SUFFIXES = (".pyx", ".pxd", ".pxi", ".pyi", ".h", ".hpp", ".cc", ".cpp")


def mib(path: Path) -> float:
    """Total size of the regular files under `path` in MiB (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total / 2**20


def inputs_hash(requirements: Path) -> str:
    h = hashlib.sha256()
    h.update(requirements.read_bytes())
    h.update(json.dumps([PIP_FLAGS, sorted(TRIM_DIR_NAMES), TRIM_PATHS, TRIM_SUFFIXES]).encode())
    return h.hexdigest()


def trim(site: Path) -> float:
    """Delete files nothing at run time needs; returns MiB removed."""
    before = mib(site)
    for rel in TRIM_PATHS:
        p = site / rel
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    for dirpath, dirs, files in os.walk(site, topdown=True):
        for d in list(dirs):
            if d in TRIM_DIR_NAMES:
                shutil.rmtree(os.path.join(dirpath, d))
                dirs.remove(d)
        for f in files:
            if f.endswith(TRIM_SUFFIXES) or f.endswith(".pyc"):
                os.unlink(os.path.join(dirpath, f))
    return before - mib(site)


def pip_install(requirements: Path, target: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "install", *PIP_FLAGS, "--cache-dir", str(PIP_CACHE),
           "--target", str(target), "-r", str(requirements)]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def deps_dir(name: str) -> Path:
    """Where bundle `name`'s trimmed site-packages live once built."""
    if BUNDLES[name]["kind"] == "layer":
        return BUILD / name / "layer" / "python"  # Lambda adds /opt/python to sys.path
    return BUILD / name / "image" / "deps"


def layer_dir(name: str) -> Path:
    """The directory to hand to `lambda.Code.from_asset` for a layer bundle."""
    return BUILD / name / "layer"


def image_dir(name: str) -> Path:
    """The Docker build context of an image bundle."""
    return BUILD / name / "image"


def code_dir() -> Path:
    """The zip function code: the `functions/` directory (package `crimecast`)."""
    return FUNCTIONS_DIR


# Left out of every Lambda bundle: the desktop client (`crimecast.gui`, Tkinter) runs on a desktop, never in Lambda.
CODE_EXCLUDE = ("gui",)  # subpackages / modules of `crimecast`


def _code_ignore(src: str, names: list[str]) -> set[str]:
    ignored = set(shutil.ignore_patterns("__pycache__", "*.pyc")(src, names))
    if Path(src) == FUNCTIONS_DIR / "crimecast":
        ignored |= {n for n in names if n in CODE_EXCLUDE or n.removesuffix(".py") in CODE_EXCLUDE}
    return ignored


def copy_code(dest: Path) -> None:
    """`crimecast` into `dest/crimecast` as the Lambda functions get it: no bytecode, no CODE_EXCLUDE."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(FUNCTIONS_DIR / "crimecast", dest / "crimecast", ignore=_code_ignore)


def build(name: str, force: bool = False) -> Path:
    """Build bundle `name` if its inputs changed; return its deps directory."""
    spec = BUNDLES[name]
    root = BUILD / name
    stamp = root / ".inputs-sha256"
    digest = inputs_hash(spec["requirements"])
    deps = deps_dir(name)
    if force or not (stamp.exists() and stamp.read_text().strip() == digest and deps.is_dir()):
        tmp = BUILD / f".{name}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        pip_install(spec["requirements"], tmp)
        removed = trim(tmp)
        print(f"{name}: trimmed {removed:.1f} MiB", flush=True)
        if root.exists():
            shutil.rmtree(root)
        deps.parent.mkdir(parents=True)
        tmp.rename(deps)
        stamp.write_text(digest + "\n")
    # Anything that imported from the bundle here (tests) may have left bytecode: Lambda never sees it.
    for cache in list(deps.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    if spec["kind"] == "image":
        ctx = image_dir(name)
        shutil.copy2(HERE / "Dockerfile", ctx / "Dockerfile")
        (ctx / ".dockerignore").write_text("**/__pycache__\n")
        copy_code(ctx / "app")
    return deps


def sizes() -> dict[str, dict[str, float]]:
    """MiB per deployable function: code, dependencies, total (unzipped)."""
    code = mib(FUNCTIONS_DIR / "crimecast") - sum(mib(p) for p in (FUNCTIONS_DIR / "crimecast").rglob("__pycache__"))
    api_deps = mib(deps_dir("api"))
    worker_deps = mib(deps_dir("worker"))
    return {
        "api (zip: code + layer)": {"code": code, "deps": api_deps, "total": code + api_deps, "limit": LIMIT_MIB},
        "classify-upload (image)": {"code": code, "deps": worker_deps, "total": code + worker_deps,
                                    "limit": 10240.0},
        "forecast-job (image)": {"code": code, "deps": worker_deps, "total": code + worker_deps, "limit": 10240.0},
    }


def size_table() -> str:
    lines = ["| function | packaging | code MiB | dependencies MiB | total MiB | limit MiB |",
             "|---|---|---|---|---|---|"]
    for fn, s in sizes().items():
        name, _, kind = fn.partition(" ")
        lines.append(f"| {name} | {kind.strip('()')} | {s['code']:.1f} | {s['deps']:.1f} | {s['total']:.1f} | "
                     f"{s['limit']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundles", nargs="*", metavar="BUNDLE", help=f"one of {sorted(BUNDLES)} (default: all)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the inputs hash is unchanged")
    ap.add_argument("--sizes", action="store_true", help="print the size table (markdown)")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.bundles) - set(BUNDLES))
    if unknown:
        ap.error(f"unknown bundle(s) {unknown}; choose from {sorted(BUNDLES)}")
    for name in args.bundles or list(BUNDLES):
        build(name, force=args.force)
    if args.sizes:
        print(size_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
