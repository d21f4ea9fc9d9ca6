"""Keras networks of the classifier: the seed CNN and EfficientNet-Lite0 split into a frozen trunk and a top."""

from __future__ import annotations

import numpy as np

SPLIT_BLOCK = 11  # EfficientNet blocks [0, SPLIT_BLOCK) frozen + cached; the rest (stages 6-7 + head) fine-tuned


def _norm_layer(arch: str, prefix: str = ""):
    from keras import layers

    from crimecast_training import effnet_lite0 as en

    if arch == "seed":
        return layers.Rescaling(1.0 / 255.0, name="scale")
    mean = np.asarray(en.PREPROCESSING["mean"]) * 255.0
    std = np.asarray(en.PREPROCESSING["std"]) * 255.0
    return layers.Normalization(mean=mean.tolist(), variance=(std ** 2).tolist(), name=prefix + "imagenet_norm")


def build_seed(size: int):
    """The seed CNN as specified in issue #4 (input float 0..255; /255 inside the model)."""
    import keras
    from keras import layers

    inp = keras.Input((size, size, 3), name="image")
    x = _norm_layer("seed")(inp)
    for f in (32, 64, 128):
        x = layers.Conv2D(f, 3, activation="relu", padding="valid")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name="seed_cnn")


def build_effnet_parts(size: int, weights: dict):
    """(trunk, top, full): trunk = norm + blocks[:SPLIT_BLOCK] (frozen); top = rest + classifier; full = both."""
    import keras
    from keras import layers

    from crimecast_training import effnet_lite0 as en

    inp = keras.Input((size, size, 3), name="image")
    t = en.apply_blocks(_norm_layer("efficientnet_lite0")(inp), 0, SPLIT_BLOCK, head=False)
    trunk = keras.Model(inp, t, name="trunk")
    fin = keras.Input(en.feature_shape(SPLIT_BLOCK, size), name="features")
    h = en.apply_blocks(fin, SPLIT_BLOCK, len(en.BLOCKS), head=True)
    h = layers.Dropout(0.3, name="head_dropout")(h)
    out = layers.Dense(3, activation="softmax", name="probs")(h)
    top = keras.Model(fin, out, name="top")
    n = en.set_ported_weights(trunk, weights) + en.set_ported_weights(top, weights)
    if n != sum(1 for k in weights if k != "fc"):
        raise RuntimeError(f"ported {n} layers, expected {len(weights) - 1}")
    trunk.trainable = False
    for layer in top.layers:  # frozen BatchNorm statistics: small data, small batches
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    full_in = keras.Input((size, size, 3), name="image")
    full = keras.Model(full_in, top(trunk(full_in)), name="effnet_lite0_risk")
    return trunk, top, full
