"""The clip model's frame encoder: the image trainer's frozen ImageNet EfficientNet-Lite features, exported to TFLite.

The same .tflite file computes the frame features for training (cached) and for serving, so there is no
training/serving skew from quantisation: whatever int8 does to the features, the temporal head is trained on it.
Input: float32 RGB 0..255 (N, S, S, 3); ImageNet normalisation is inside the graph. Output: (N, D), D = 1280 per
network (× 2 with avg ‖ max pooling).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:  # the image trainer is being split into modules; either home works
    from crimecast_training.export import export_tflite
except ImportError:  # pragma: no cover
    from crimecast_training.classifier import export_tflite


def build_encoder(size: int, pool: str = "avg", backbones: str = "lite0"):
    """Keras model: image (float 0..255) → the image trainer's frozen pooled ImageNet features (`frozen.build_backbone`:
    ImageNet normalisation inside, every ported tensor but the classifier used; 1280-d per network and pooling)."""
    from crimecast_training.frozen import build_backbone

    model = build_backbone(size, pool, backbones=backbones)
    model.trainable = False
    return model


def export_encoder(path: Path, size: int, representative: np.ndarray, variant: str = "int8", pool: str = "avg",
                   backbones: str = "lite0") -> dict:
    """Write the encoder .tflite (`int8` with float I/O by default). Returns a small info dict."""
    model = build_encoder(size, pool, backbones)
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
