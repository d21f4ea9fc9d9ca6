"""The one way crimecast opens a TFLite model: LiteRT's interpreter (ai-edge-litert; tflite-runtime as fallback).

Public so the training package (export checks, fine-tuning caches) runs models exactly as the servers do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def interpreter_class() -> Any:
    """The LiteRT `Interpreter` class (imported on first use: the CLI and the API start without it)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - older environments
        from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
    return Interpreter


def load_interpreter(path: str | Path, num_threads: int = 1) -> Any:
    """A LiteRT interpreter for a .tflite file, tensors allocated."""
    interp = interpreter_class()(model_path=str(path), num_threads=num_threads)
    interp.allocate_tensors()
    return interp
