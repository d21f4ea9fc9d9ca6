"""The clip model's frame encoder: frozen ImageNet EfficientNet-Lite0 (global pool, 1280-d) exported to TFLite.

The same .tflite file computes the frame features for training (cached) and for serving, so there is no
training/serving skew from quantisation: whatever int8 does to the features, the temporal head is trained on it.
Input: float32 RGB 0..255 (N, S, S, 3); ImageNet normalisation is inside the graph. Output: (N, 1280).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:  # the image trainer is being split into modules; either home works
    from crimecast_training.export import export_tflite
except ImportError:  # pragma: no cover
    from crimecast_training.classifier import export_tflite


def build_encoder(size: int):
    """Keras model: ImageNet-normalise → EfficientNet-Lite0 (ported weights) → global-average-pooled 1280-d."""
    import keras
    from keras import layers

    from crimecast_training import effnet_lite0 as en

    mean = np.asarray(en.PREPROCESSING["mean"]) * 255.0
    std = np.asarray(en.PREPROCESSING["std"]) * 255.0
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Normalization(mean=mean.tolist(), variance=(std ** 2).tolist(), name="imagenet_norm")(inp)
    out = en.apply_blocks(x)
    model = keras.Model(inp, out, name="clip_frame_encoder")
    n = en.set_ported_weights(model, en.ported_weights())
    expected = len([k for k in en.ported_weights() if k != "fc"])
    if n != expected:
        raise RuntimeError(f"ported {n} layers, expected {expected}")
    model.trainable = False
    return model


def export_encoder(path: Path, size: int, representative: np.ndarray, variant: str = "int8") -> dict:
    """Write the encoder .tflite (`int8` with float I/O by default). Returns a small info dict."""
    model = build_encoder(size)
    secs = export_tflite(model, variant, representative.astype(np.float32), path)
    # agreement with Keras on the representative frames (a converted model can fail only at load time)
    from crimecast.vision.clip_features import FrameEncoder

    enc = FrameEncoder(path, num_threads=2)
    sample = representative[:16].astype(np.float32)
    ref = np.asarray(model.predict(sample, verbose=0))
    got = enc.encode(sample.astype(np.uint8))
    cos = float(np.mean(np.sum(ref * got, 1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1) + 1e-9)))
    return {"variant": variant, "size": size, "seconds": round(secs, 1), "bytes": path.stat().st_size,
            "mean_cosine_vs_keras": round(cos, 4)}
