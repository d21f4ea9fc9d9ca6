"""Quiet, readable logs for interactive commands (the demo): warnings and errors only, no native-library banners.

- Python logging: WARNING and above, one line each, on stderr.
- TensorFlow in child processes (training with --train): TF_CPP_MIN_LOG_LEVEL=3 unless the user set it.
- LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++ once per process, straight to
  file descriptor 2: `swallow_litert_banner` loads one interpreter with fd 2 pointed at /dev/null first, so the
  one-time banner is spent there and every later load is silent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path


def quiet_logs(level: int = logging.WARNING) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(name)s] %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("werkzeug", "botocore", "boto3", "urllib3", "s3transfer", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block (native libraries write there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def swallow_litert_banner(tflite: Path) -> None:
    """Load one LiteRT interpreter with stderr silenced, so the once-per-process INFO banner never shows."""
    from crimecast.forecast.model import load_interpreter

    with native_stderr_silenced():
        try:
            load_interpreter(tflite)
        except Exception:  # noqa: BLE001 - the real load later reports any problem with this model
            pass
