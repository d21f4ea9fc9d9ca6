"""The clip model's head (Keras): a window of frame features → High / Medium / Low probabilities.

Per sampled frame the frozen encoder's appearance vector, then the optical-flow features. Two kinds
(`HeadConfig.kind`), builtin TFLite ops only:

- "pooled" (default): a two- or three-stream, late-fusion head on each window's statistics (`window_stats`,
  computed by the serving code, so a window may hold any number of frames). Appearance stream: the mean, max and
  mean absolute frame-to-frame change of the appearance vectors → logistic regression. Dynamic-image stream (where
  the frames have them): the same statistics of the encoder's vectors of the dynamic images → logistic regression.
  Motion stream: the mean, max, standard
  deviation and mean absolute change of the optical-flow features, each expanded into a piecewise-linear basis
  (`hat_basis`: a flow statistic's effect need not be monotone, e.g. a little motion is normal, a lot or none is
  not) → logistic regression. The clip probabilities are the weighted mean of the streams' (`dyn_weight` for the
  dynamic images, the rest split `app_weight` : 1 - `app_weight` between appearance and motion).
  Each stream is fitted on its own (scikit-learn, as the image model's head), so neither leans on the other: their
  errors stay independent, and the average buys High recall at far less precision than either stream, or one
  joint model, does (docs/benchmarks.md, Video).
- "temporal": fixed standardisation, a small per-frame projection of each stream, the frame-to-frame change of the
  appearance projection, two 1-D convolutions over time, mean + max pooling over time (trained end to end by
  TensorFlow; the earlier default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HeadConfig:
    kind: str = "pooled"  # "pooled" (two-stream late fusion of logistic regressions) | "temporal" (1-D conv)
    app_c: float = 0.01  # pooled: inverse L2 strength of the appearance stream (per clip, as the image head's)
    mot_c: float = 0.2  # pooled: the same for the motion stream
    app_weight: float = 0.5  # pooled: appearance's share of what the dynamic-image stream leaves (motion: the rest)
    dyn_c: float = 0.01  # pooled: inverse L2 strength of the dynamic-image stream
    dyn_weight: float = 0.4  # pooled: weight of the dynamic-image stream's probabilities (when the frames have them)
    mot_knots: int = 5  # pooled: piecewise-linear (hat) basis per motion statistic, knots over its training range
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


KINDS = ("pooled", "temporal")


def stats_split(d_app: int, d_dyn: int = 0) -> tuple[int, int]:
    """Where the appearance and the dynamic-image statistics end in a `window_stats` vector (3 per feature)."""
    return 3 * d_app, 3 * (d_app + d_dyn)


def stream_weights(cfg: HeadConfig, streams: set[str] | dict) -> dict[str, float]:
    """Each fitted stream's weight in the late fusion (they sum to 1)."""
    raw = {"dyn": cfg.dyn_weight, "app": (1 - cfg.dyn_weight) * cfg.app_weight,
           "mot": (1 - cfg.dyn_weight) * (1 - cfg.app_weight)}
    raw = {k: v for k, v in raw.items() if k in streams}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError(f"stream weights {raw} sum to {total}: nothing to fuse")
    return {k: v / total for k, v in raw.items()}


def fit_knots(x: np.ndarray, k: int) -> dict:
    """The hat basis of every column of x: k evenly spaced knots from its training minimum to maximum."""
    lo, hi = x.min(0).astype(np.float64), x.max(0).astype(np.float64)
    hi = np.where(hi - lo < 1e-6, lo + 1.0, hi)  # a constant column: one flat basis
    step = (hi - lo) / (k - 1)
    return {"lo": lo, "hi": hi, "k": int(k), "step": step, "centres": lo[:, None] + step[:, None] * np.arange(k)}


def hat_basis(x: np.ndarray, knots: dict) -> np.ndarray:
    """Piecewise-linear basis of every column of x (N, F) → (N, F·K): K hat functions on the column's knots
    (`fit_knots`); values outside the training range are clipped to it (held constant)."""
    xc = np.clip(x, knots["lo"], knots["hi"])
    h = np.maximum(0.0, 1.0 - np.abs(xc[:, :, None] - knots["centres"][None]) / knots["step"][None, :, None])
    return h.reshape(len(x), -1)


def build_pooled(dim: int, d_app: int, streams: dict, weights: dict[str, float], mot_knots: dict | None = None,
                 d_dyn: int = 0):
    """Keras model of the pooled head on `window_stats` vectors (N, dim); `streams` maps "app"/"dyn"/"mot" to
    (W, b) acting on that stream's part of the vector (the motion part through `hat_basis` with `mot_knots`, if
    given); `weights` (stream → weight, `stream_weights`) mixes their probabilities."""
    import keras
    from keras import layers

    inp = keras.Input((dim,), name="window_stats")
    cut_app, cut_dyn = stats_split(d_app, d_dyn)
    parts = {"app": (0, cut_app), "dyn": (cut_app, cut_dyn), "mot": (cut_dyn, dim)}
    outs = []
    for name in ("app", "dyn", "mot"):
        if name not in streams:
            continue
        lo, hi = parts[name]
        f = layers.Lambda(lambda t, lo=lo, hi=hi: t[:, lo:hi], name=f"{name}_stats")(inp)
        if name == "mot" and mot_knots:
            f = _hat_layer(mot_knots)(f)
        o = _lr_layer(streams[name], f"{name}_lr")(f)
        outs.append(o if len(streams) == 1 else layers.Rescaling(float(weights[name]), name=f"{name}_weight")(o))
    if len(outs) == 1:
        return keras.Model(inp, outs[0], name="clip_head_pooled")
    return keras.Model(inp, layers.Add(name="late_fusion")(outs), name="clip_head_pooled")


def _hat_layer(knots: dict):  # noqa: ANN202
    """`hat_basis` as a Keras layer (constants from training; builtin TFLite ops: min, max, sub, abs, mul, relu)."""
    from keras import layers, ops

    k = knots["k"]
    lo, hi = knots["lo"].astype(np.float32), knots["hi"].astype(np.float32)
    centres = knots["centres"].astype(np.float32)
    inv = (1.0 / knots["step"]).astype(np.float32)

    def f(t):  # noqa: ANN001, ANN202
        tc = ops.minimum(ops.maximum(t, lo), hi)
        h = ops.relu(1.0 - ops.abs(ops.expand_dims(tc, -1) - centres) * ops.expand_dims(inv, -1))
        return ops.reshape(h, (-1, lo.shape[0] * k))

    return layers.Lambda(f, name="mot_hat_basis")


def _lr_layer(wb: tuple[np.ndarray, np.ndarray], name: str):  # noqa: ANN202
    from keras import layers

    w, b = wb
    dense = layers.Dense(w.shape[1], activation="softmax", name=name)
    dense.build((None, w.shape[0]))
    dense.set_weights([w.astype(np.float32), b.astype(np.float32)])
    return dense


def fit_pooled(x: np.ndarray, y: np.ndarray, w: np.ndarray, d_app: int, cfg: HeadConfig, seed: int = 0,
               n_clips: int | None = None, d_dyn: int = 0):
    """Fit each stream's logistic regression on the windows' `window_stats` x (N, F). Weights w (each clip weighs 1,
    classes balanced) are rescaled to sum to `n_clips`, so the L2 strength means per clip what the image head's
    means per image."""
    from crimecast_training.frozen import fit_head as fit_lr

    sw = w * ((n_clips or len(x)) / w.sum())
    cut_app, cut_dyn = stats_split(d_app, d_dyn)
    streams, knots = {}, None
    if cfg.use_app:
        streams["app"] = fit_lr(x[:, :cut_app], y, cfg.app_c, seed, sample_weight=sw)
    if d_dyn and cfg.dyn_weight > 0:
        streams["dyn"] = fit_lr(x[:, cut_app:cut_dyn], y, cfg.dyn_c, seed, sample_weight=sw)
    if cfg.use_motion and x.shape[1] > cut_dyn:
        xm = x[:, cut_dyn:]
        knots = fit_knots(xm, cfg.mot_knots) if cfg.mot_knots >= 2 else None
        streams["mot"] = fit_lr(hat_basis(xm, knots) if knots else xm, y, cfg.mot_c, seed, sample_weight=sw)
    if not streams:
        raise ValueError("the pooled head needs at least one stream (use_app, dyn_weight > 0 or use_motion)")
    return build_pooled(x.shape[1], d_app, streams, stream_weights(cfg, streams),
                        knots if "mot" in streams else None, d_dyn)


def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, d_app: int, cfg: HeadConfig, seed: int = 0,
             n_clips: int | None = None, d_dyn: int = 0):
    """Train a head on windows x with labels y and sample weights w (fixed settings, no peeking): x is (N, F)
    `window_stats` for the pooled head, (N, T, D) frames for the temporal one. `n_clips`: how many clips the windows
    come from (the pooled head's L2 strength is per clip)."""
    if cfg.kind not in KINDS:
        raise ValueError(f"unknown clip head kind {cfg.kind!r}; expected one of {KINDS}")
    if cfg.kind == "pooled":
        return fit_pooled(x, y, w, d_app, cfg, seed, n_clips, d_dyn)
    if d_dyn:
        raise ValueError("the temporal head takes no dynamic images: use --dynamic-every 0 with --head temporal")
    import keras

    model = build_head(x.shape[1], d_app, x.shape[2] - d_app, feature_stats(x, d_app), cfg, seed)
    steps = max(1, int(np.ceil(len(x) / cfg.batch))) * cfg.epochs
    sched = keras.optimizers.schedules.CosineDecay(cfg.lr, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="sparse_categorical_crossentropy")
    model.fit(x, y, sample_weight=w, epochs=cfg.epochs, batch_size=cfg.batch, shuffle=True, verbose=0)
    return model


def export_head(model, path, shape: tuple[int, ...]) -> None:
    """Float32 TFLite with a fixed (1, *shape) input ((T, D) frames or (F,) window statistics), builtin ops only;
    checked against Keras under LiteRT by the trainer."""
    import contextlib
    import os
    import sys

    import keras
    import tensorflow as tf
    from crimecast.contract import atomic_path

    fixed_in = keras.Input(tuple(shape), batch_size=1, name="head_input")
    fixed = keras.Model(fixed_in, model(fixed_in))
    conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with contextlib.redirect_stdout(sys.stderr):
        data = conv.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
