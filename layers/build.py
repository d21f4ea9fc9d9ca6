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
API_GOAL_MIB = 100.0  # issue 16: the API function, code + layer, unzipped

BUNDLES = {
    # The API installs exactly its pinned list (--no-deps): it leaves out what its packages declare but the
    # serving path never imports (see API_TRIM_PATHS and API_LEFT_OUT); bundle_smoke.py proves the rest works.
    "api": {"requirements": HERE / "requirements-api.txt", "kind": "layer", "no_deps": True, "compile": True},
    "worker": {"requirements": HERE / "requirements-worker.txt", "kind": "image"},
}

# Declared dependencies the API bundle does not install (pip --no-deps), and why nothing it runs needs them.
API_LEFT_OUT = {
    "protobuf, ml_dtypes, flatbuffers, tqdm, backports.strenum": "ai-edge-litert's CompiledModel/tensor-buffer "
    "and converter modules import them; the Interpreter (ai_edge_litert.interpreter) imports only numpy",
    "aws-lambda-powertools, jmespath": "the API handler writes its JSON log line and EMF metrics itself "
    "(crimecast.handlers.api); crimecast.handlers falls back to stdlib logging without Powertools",
    "boto3, botocore, s3transfer, python-dateutil": "the Lambda python3.12 runtime provides them",
}
# API-only trims (relative to site-packages), on top of TRIM_PATHS. Each was checked: no kept extension
# module lists these libraries as NEEDED (`readelf -d`), and no module the API imports imports them.
API_TRIM_PATHS = [
    # LiteRT's CompiledModel runtime: ai_edge_litert/__init__ loads it with ctypes only `if isfile`; the
    # Interpreter's extension (_pywrap_litert_interpreter_wrapper -> libpywrap_litert_common) does not link it.
    "ai_edge_litert/libLiteRt.so",
    # LiteRT modules that need the packages left out above (protobuf, flatbuffers): unimportable here anyway.
    "ai_edge_litert/*_pb2.py", "ai_edge_litert/schema_py_generated.py",
    # Pillow's font rendering (ImageFont) and Tk bridge: decoding never draws text. freetype is the only user of
    # harfbuzz, brotli and libpng (PNG decoding is Pillow's own, over zlib).
    "PIL/_imagingft.*.so", "PIL/_imagingtk.*.so", "pillow.libs/libfreetype-*", "pillow.libs/libharfbuzz-*",
    "pillow.libs/libbrotlicommon-*", "pillow.libs/libbrotlidec-*", "pillow.libs/libpng16-*",
    # numpy's Fortran wrapper generator (imported only by `numpy.f2py`, lazily).
    "numpy/f2py",
    # pydantic's v1 compatibility copy: FastAPI only probes it (`from pydantic import v1` under ImportError ->
    # "no v1 models"), costing ~0.1 s per cold start; the API has no pydantic v1 models.
    "pydantic/v1",
    # /docs serves Swagger UI only (redoc_url=None); FastAPI's bundled agent notes.
    "fastapi_offline/static/redoc.standalone.js", "fastapi/.agents",
]

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


def _extra_trims(name: str | None) -> list[str]:
    return API_TRIM_PATHS if name == "api" else []


def python312() -> str | None:
    """A CPython 3.12 (Lambda's python3.12) to byte-compile with: .pyc files are per interpreter version."""
    cands = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob("3.12*/bin/python3.12"))
    cands += [c for c in (shutil.which("python3.12"), "/usr/bin/python3.12") if c]
    for cand in cands:
        try:
            ok = subprocess.run([cand, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            continue
        if ok:
            return cand
    return None


PYC_TAG = ".cpython-312.pyc"


# What the API's cold path imports (the handler, then the first request of every route): these modules ship
# as bytecode. Compiling the whole bundle would add ~9.5 MiB (over the 100 MiB goal) for modules that a cold start
# never imports; those still work, compiled in memory if a request ever needs them.
API_COLD_IMPORTS = ["crimecast.handlers.api", "crimecast.serving", "crimecast.allocation", "crimecast.provenance",
                    "crimecast.models_cache", "crimecast.vision", "crimecast.vision.model", "crimecast.layout",
                    "crimecast.storage", "ai_edge_litert.interpreter", "PIL.Image", "PIL.JpegImagePlugin",
                    "PIL.PngImagePlugin", "PIL.ImageOps", "python_multipart", "starlette.formparsers",
                    "fastapi.openapi.utils", "fastapi.openapi.docs", "numpy.lib.format", "zipfile"]
_TRACE = """
import os, sys
sys.path[:0] = sys.argv[1:3]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for b in ("UPLOADS", "DATA", "RESULTS", "REPORTS", "MODELS"):  # local stores: botocore is the runtime's, not ours
    os.environ["CRIMECAST_%s_BUCKET" % b] = "file:///tmp/crimecast-bytecode-trace/" + b.lower()
for m in sys.argv[3:]:
    __import__(m)
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None)
    if f and f.endswith(".py"):
        print(f)
"""


def compile_bytecode(tree: Path, roots: list[Path] | None = None, modules: list[str] | None = None) -> int:
    """Byte-compile for python3.12 as Lambda will import it: `unchecked-hash` .pyc files, which the interpreter
    uses without comparing source timestamps (a zip does not keep them exactly, and /var/task and /opt are
    read-only, so a stale check would recompile in memory on every cold start). With `modules`, only the files
    under `tree` that importing them loads (from sys.path `roots`). Returns files compiled (0 without 3.12)."""
    py = python312()
    if py is None:
        print(f"warning: no python3.12 here; {tree} ships without bytecode (slower cold start)", flush=True)
        return 0
    if modules is None:
        files = [str(f) for f in tree.rglob("*.py")]
    else:
        out = subprocess.run([py, "-I", "-B", "-c", _TRACE, *[str(r) for r in roots or [tree]], *modules],
                             check=True, capture_output=True, text=True, cwd="/tmp")
        files = sorted({f for f in out.stdout.split() if Path(f).resolve().is_relative_to(tree.resolve())})
    code = ("import py_compile, sys\nfor f in sys.argv[1:]:\n    py_compile.compile(f, doraise=True, "
            "invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)")
    for i in range(0, len(files), 500):
        subprocess.run([py, "-c", code, *files[i:i + 500]], check=True, capture_output=True)
    return len(files)


def drop_stray_bytecode(tree: Path, keep_312: bool) -> None:
    """Remove bytecode that imports from the bundle left behind (tests); keep the built python3.12 .pyc files."""
    for cache in list(tree.rglob("__pycache__")):
        if not keep_312:
            shutil.rmtree(cache, ignore_errors=True)
            continue
        for f in cache.iterdir():
            if not f.name.endswith(PYC_TAG):
                f.unlink()


def inputs_hash(requirements: Path, name: str | None = None) -> str:
    h = hashlib.sha256()
    h.update(requirements.read_bytes())
    h.update(json.dumps([PIP_FLAGS, sorted(TRIM_DIR_NAMES), TRIM_PATHS, TRIM_SUFFIXES]).encode())
    if name is not None and (BUNDLES[name].get("no_deps") or _extra_trims(name)):
        h.update(json.dumps([bool(BUNDLES[name].get("no_deps")), _extra_trims(name),
                             bool(BUNDLES[name].get("compile")) and python312() is not None]).encode())
    return h.hexdigest()


def trim(site: Path, extra: list[str] | None = None) -> float:
    """Delete files nothing at run time needs; returns MiB removed."""
    before = mib(site)
    for rel in TRIM_PATHS + list(extra or []):
        for p in (sorted(site.glob(rel)) if "*" in rel else [site / rel]):
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


def pip_install(requirements: Path, target: Path, no_deps: bool = False) -> None:
    cmd = [sys.executable, "-m", "pip", "install", *PIP_FLAGS, *(["--no-deps"] if no_deps else []),
           "--cache-dir", str(PIP_CACHE), "--target", str(target), "-r", str(requirements)]
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


def api_code_dir() -> Path:
    """The API zip's code as deployed: `crimecast` staged with python3.12 bytecode (refreshed by every build)."""
    return BUILD / "api" / "code"


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
    digest = inputs_hash(spec["requirements"], name)
    deps = deps_dir(name)
    if force or not (stamp.exists() and stamp.read_text().strip() == digest and deps.is_dir()):
        tmp = BUILD / f".{name}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        pip_install(spec["requirements"], tmp, no_deps=bool(spec.get("no_deps")))
        removed = trim(tmp, _extra_trims(name))
        print(f"{name}: trimmed {removed:.1f} MiB", flush=True)
        if root.exists():
            shutil.rmtree(root)
        deps.parent.mkdir(parents=True)
        tmp.rename(deps)
        stamp.write_text(digest + "\n")
    # Anything that imported from the bundle here (tests) may have left bytecode: Lambda never sees it.
    if spec.get("compile"):  # the function code, staged; it and its layer byte-compiled along the cold path
        drop_stray_bytecode(deps, keep_312=False)
        code = api_code_dir()
        copy_code(code)
        compile_bytecode(deps, [code, deps], API_COLD_IMPORTS)
        compile_bytecode(code, [code, deps], API_COLD_IMPORTS)
    else:
        drop_stray_bytecode(deps, keep_312=False)
    if spec["kind"] == "image":
        ctx = image_dir(name)
        shutil.copy2(HERE / "Dockerfile", ctx / "Dockerfile")
        (ctx / ".dockerignore").write_text("**/__pycache__\n")
        copy_code(ctx / "app")
    return deps


def sizes() -> dict[str, dict[str, float]]:
    """MiB per deployable function: code, dependencies, total (unzipped)."""
    code = mib(FUNCTIONS_DIR / "crimecast") - sum(mib(p) for p in (FUNCTIONS_DIR / "crimecast").rglob("__pycache__"))
    api_code = mib(api_code_dir()) if api_code_dir().is_dir() else code
    api_deps = mib(deps_dir("api"))
    worker_deps = mib(deps_dir("worker"))
    return {
        "api (zip: code + layer)": {"code": api_code, "deps": api_deps, "total": api_code + api_deps,
                                    "limit": LIMIT_MIB},
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
