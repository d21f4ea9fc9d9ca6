"""TFLite export of a Keras model (float32, dynamic range, full int8) and LiteRT prediction (what serving runs)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from crimecast.contract import atomic_path

VARIANT_FILES = {"float32": "model_float32.tflite", "dynamic": "model_dynamic.tflite", "int8": "model_int8.tflite"}


def export_tflite(model, variant: str, representative: np.ndarray | None, path: Path) -> float:
    """Convert `model` to TFLite (`float32`, `dynamic` range, or full `int8` with float I/O). Returns seconds."""
    import contextlib

    import tensorflow as tf

    t0 = time.perf_counter()
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant in ("dynamic", "int8"):
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "int8":
        rep = representative

        def gen():
            for i in range(len(rep)):
                yield [rep[i:i + 1].astype(np.float32)]

        conv.representative_dataset = gen
        # int8 kernels everywhere they exist; an op without one (e.g. the OOD score's sqrt) stays float
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    with contextlib.redirect_stdout(sys.stderr):  # Keras prints the traced signature; keep stdout for results
        data = conv.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; models are shared read-only artefacts
    return time.perf_counter() - t0


def tflite_predict(path: Path, x: np.ndarray, batch: int = 32) -> np.ndarray:
    """Probabilities from a .tflite with the pinned LiteRT interpreter (what serving uses)."""
    from crimecast.litert import interpreter_class

    interp = interpreter_class()(model_path=str(path), num_threads=2)
    inp = interp.get_input_details()[0]
    outs = []
    cur = None
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].astype(np.float32)
        if cur != len(xb):
            interp.resize_tensor_input(inp["index"], list(xb.shape))
            interp.allocate_tensors()
            cur = len(xb)
        interp.set_tensor(interp.get_input_details()[0]["index"], xb)
        interp.invoke()
        outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]).astype(np.float64))
    return np.concatenate(outs) if outs else np.zeros((0, 3))
