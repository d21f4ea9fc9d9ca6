"""CCTV-like augmentation of decoded uint8 images (used for the fine-tuned head's cached views)."""

from __future__ import annotations

import numpy as np


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """CCTV-like augmentation of uint8 (N,S,S,3): flip, small crop-zoom, brightness/contrast, blur, noise, grayscale."""
    from PIL import Image, ImageFilter

    out = np.empty_like(x)
    s = x.shape[1]
    for i in range(len(x)):
        im = Image.fromarray(x[i])
        if rng.random() < 0.5:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if rng.random() < 0.6:
            c = rng.uniform(0.8, 1.0)
            w = int(s * c)
            x0, y0 = int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - w + 1))
            im = im.crop((x0, y0, x0 + w, y0 + w)).resize((s, s), Image.Resampling.BILINEAR)
        if rng.random() < 0.25:
            im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.8))))
        a = np.asarray(im, np.float32)
        if rng.random() < 0.2:
            a = np.repeat(a.mean(axis=2, keepdims=True), 3, axis=2)
        a = (a - 128.0) * rng.uniform(0.75, 1.25) + 128.0 + rng.uniform(-35, 35)
        if rng.random() < 0.3:
            a = a + rng.normal(0, rng.uniform(3, 12), a.shape)
        out[i] = np.clip(a, 0, 255).astype(np.uint8)
    return out
