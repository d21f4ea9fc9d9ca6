"""The clip model's temporal head (Keras): a window of frame features → High / Medium / Low probabilities.

Input (1, T, 1280 + MOTION_DIM) float32: per sampled frame the frozen encoder's appearance vector, then the
optical-flow features. Inside the graph: fixed standardisation (training statistics), a small per-frame
projection of each stream, the frame-to-frame change of the appearance projection (what moves in feature
space), two 1-D convolutions over time, and mean + max pooling over time. Builtin TFLite ops only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HeadConfig:
    app_units: int = 48
    mot_units: int = 24
    conv_units: int = 64
    dropout: float = 0.4
    l2: float = 1e-3
    epochs: int = 30
    batch: int = 64
    lr: float = 3e-3
    use_app: bool = True
    use_motion: bool = True
    motion_skip: bool = False  # window statistics of the motion features straight into the classifier


def build_head(frames: int, d_app: int, d_mot: int, stats: dict, cfg: HeadConfig, seed: int = 0):
    import keras
    from keras import layers, regularizers

    keras.utils.set_random_seed(seed)
    reg = regularizers.l2(cfg.l2)
    inp = keras.Input((frames, d_app + d_mot), name="frames")
    parts = []
    if cfg.use_app:
        a = layers.Normalization(mean=stats["app_mean"].tolist(), variance=(stats["app_std"] ** 2).tolist(),
                                 name="app_norm")(inp[:, :, :d_app])
        a = layers.Dropout(cfg.dropout, name="app_drop")(a)
        a = layers.Dense(cfg.app_units, activation="relu", kernel_regularizer=reg, name="app_proj")(a)
        # change over time of the projected appearance (last step repeats the previous change)
        d = a[:, 1:, :] - a[:, :-1, :]
        d = layers.Concatenate(axis=1, name="app_delta_pad")([d, d[:, -1:, :]])
        parts += [a, d]
    if cfg.use_motion:
        m = layers.Normalization(mean=stats["mot_mean"].tolist(), variance=(stats["mot_std"] ** 2).tolist(),
                                 name="mot_norm")(inp[:, :, d_app:])
        if cfg.motion_skip:
            mstd = layers.Lambda(lambda t: keras.ops.std(t, axis=1), name="mot_std_t")(m)
            mdel = layers.Lambda(lambda t: keras.ops.mean(keras.ops.abs(t[:, 1:, :] - t[:, :-1, :]), axis=1),
                                 name="mot_delta_t")(m)
            skip = layers.Concatenate(name="mot_stats")([layers.GlobalAveragePooling1D(name="mot_mean_t")(m),
                                                         layers.GlobalMaxPooling1D(name="mot_max_t")(m), mstd, mdel])
        m = layers.Dense(cfg.mot_units, activation="relu", kernel_regularizer=reg, name="mot_proj")(m)
        parts.append(m)
    h = parts[0] if len(parts) == 1 else layers.Concatenate(axis=-1, name="streams")(parts)
    h = layers.Conv1D(cfg.conv_units, 3, padding="same", activation="relu", kernel_regularizer=reg, name="tconv1")(h)
    h = layers.Dropout(cfg.dropout / 2, name="tdrop")(h)
    h = layers.Conv1D(cfg.conv_units, 3, padding="same", activation="relu", kernel_regularizer=reg, name="tconv2")(h)
    pooled = layers.Concatenate(name="pool")([layers.GlobalAveragePooling1D(name="tavg")(h),
                                              layers.GlobalMaxPooling1D(name="tmax")(h)])
    if cfg.use_motion and cfg.motion_skip:
        skip = layers.Dense(cfg.mot_units, activation="relu", kernel_regularizer=reg, name="mot_stats_proj")(skip)
        pooled = layers.Concatenate(name="pool_and_motion")([pooled, skip])
    pooled = layers.Dropout(cfg.dropout / 2, name="pdrop")(pooled)
    out = layers.Dense(3, activation="softmax", kernel_regularizer=reg, name="probs")(pooled)
    return keras.Model(inp, out, name="clip_head")


def feature_stats(windows: np.ndarray, d_app: int) -> dict:
    flat = windows.reshape(-1, windows.shape[-1]).astype(np.float64)
    mean, std = flat.mean(0), flat.std(0)
    std = np.where(std < 1e-6, 1.0, std)
    return {"app_mean": mean[:d_app], "app_std": std[:d_app], "mot_mean": mean[d_app:], "mot_std": std[d_app:]}


def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, d_app: int, cfg: HeadConfig, seed: int = 0):
    """Train a head on windows x (N, T, D) with labels y and sample weights w; fixed epochs (no peeking)."""
    import keras

    model = build_head(x.shape[1], d_app, x.shape[2] - d_app, feature_stats(x, d_app), cfg, seed)
    steps = max(1, int(np.ceil(len(x) / cfg.batch))) * cfg.epochs
    sched = keras.optimizers.schedules.CosineDecay(cfg.lr, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="sparse_categorical_crossentropy")
    model.fit(x, y, sample_weight=w, epochs=cfg.epochs, batch_size=cfg.batch, shuffle=True, verbose=0)
    return model


def export_head(model, path, frames: int, dim: int) -> None:
    """Float32 TFLite with a fixed (1, T, D) input, builtin ops only; checked against Keras under LiteRT."""
    import contextlib
    import os
    import sys

    import keras
    import tensorflow as tf
    from crimecast.contract import atomic_path

    fixed_in = keras.Input((frames, dim), batch_size=1, name="frames")
    fixed = keras.Model(fixed_in, model(fixed_in))
    conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with contextlib.redirect_stdout(sys.stderr):
        data = conv.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
