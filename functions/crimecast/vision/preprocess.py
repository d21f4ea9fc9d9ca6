"""The one preprocessing used by training and serving (no training/serving skew).

An upright RGB image is resized, whole (no crop: CCTV action is often at the frame edge), to the
model's square input with bilinear filtering and handed over as float32 in 0..255. Normalisation
(per-channel mean/std for the EfficientNet backbone, /255 for the seed CNN) lives inside the model
graph, so the serving side only needs the size from metadata.json.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

DEFAULT_SIZE = 224
SPEC = {"resize": "stretch", "filter": "bilinear", "channels": "RGB", "dtype": "float32", "range": [0, 255],
        "normalisation": "inside the model"}


def to_array(im: Image.Image, size: int = DEFAULT_SIZE) -> np.ndarray:
    """RGB PIL image → (size, size, 3) uint8 array."""
    if im.mode != "RGB":
        im = im.convert("RGB")
    if im.size != (size, size):
        # reducing_gap pre-shrinks big frames with a box filter: faster, and antialiased like a real downscale
        im = im.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(im, dtype=np.uint8)


def rgb_array_to_array(rgb: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB array (e.g. a video frame after BGR→RGB) → (size, size, 3) uint8."""
    return to_array(Image.fromarray(np.ascontiguousarray(rgb)), size)


def batch(arrays: list[np.ndarray]) -> np.ndarray:
    """Stack uint8 (size, size, 3) arrays into the model's float32 (N, size, size, 3) input."""
    return np.stack(arrays).astype(np.float32)
