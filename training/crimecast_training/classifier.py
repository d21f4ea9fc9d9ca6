"""Train the risk classifier (seed CNN or EfficientNet-Lite0 transfer), export TFLite, calibrate, write metadata.

Data: `images/{high_risk,medium_risk,low_risk}/*.jpg` or a labels CSV (`path, risk[, group_id, source]`).
Images are decoded and resized by the *serving* code (`crimecast.vision.decode` + `preprocess`), once,
and cached.

EfficientNet-Lite0 (default): ImageNet weights ported from PyTorch (see effnet_lite0.py). Blocks
[0, SPLIT_BLOCK) stay frozen; their activations are computed once per augmented view and cached; the
remaining block(s) + head + a new 3-way classifier are fine-tuned on them (BatchNorm statistics frozen).
Choice of split, epochs and learning rate: see docs/benchmarks.md (Vision, split ablation).

Validation (default for EfficientNet-Lite0): k-fold *group* cross-validation (`--folds`, default 5; frames of
one video never straddle folds) with a fixed epoch count, giving an honest out-of-fold prediction for every
image. Temperature and the High bias are fitted on those, and the shipped model is then trained on all
images with the same settings. `--folds 0` (and the seed CNN, and `--quick`) use one group hold-out instead,
which also picks the best epoch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from crimecast.contract import atomic_path, read_table
from crimecast.vision import preprocess
from crimecast.vision.calibration import apply_temperature, ece, fit_temperature
from crimecast.vision.decode import InputError, load_image
from crimecast.vision.metrics import classification_report, decide, fit_high_bias

LABELS = ["High", "Medium", "Low"]
RISK_TO_INDEX = {"high": 0, "medium": 1, "low": 2}
DIR_TO_RISK = {"high_risk": "high", "medium_risk": "medium", "low_risk": "low", "high": "high", "medium": "medium",
               "low": "low"}
SPLIT_BLOCK = 11  # EfficientNet blocks [0, SPLIT_BLOCK) frozen + cached; the rest (stages 6-7 + head) fine-tuned
VARIANT_FILES = {"float32": "model_float32.tflite", "dynamic": "model_dynamic.tflite", "int8": "model_int8.tflite"}


def log(msg: str) -> None:
    print(f"[train-classifier] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- data
def load_labels(images: str | Path | None = None, labels: str | Path | None = None) -> pd.DataFrame:
    """Rows with absolute `file`, `risk`, `y` (0=High,1=Medium,2=Low), `group_id`, `source`."""
    if (images is None) == (labels is None):
        raise ValueError("give exactly one of --images DIR or --labels CSV")
    if labels is not None:
        lp = Path(labels)
        df = read_table(lp, "labels")
        base = lp.resolve().parent
        df["file"] = [str(base / p) for p in df["path"]]
    else:
        d = Path(images)
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: not a directory")
        if (d / "labels.csv").exists():
            return load_labels(labels=d / "labels.csv")
        rows = []
        for sub in sorted(d.iterdir()):
            if sub.is_dir() and sub.name in DIR_TO_RISK:
                for f in sorted(sub.rglob("*")):
                    if f.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}:
                        rows.append({"path": str(f.relative_to(d)), "file": str(f.resolve()),
                                     "risk": DIR_TO_RISK[sub.name], "group_id": str(f.relative_to(d)),
                                     "source": "folder"})
        if not rows:
            raise ValueError(f"{d}: no images under {sorted(DIR_TO_RISK)[:3]}… subfolders")
        df = pd.DataFrame(rows)
    if "group_id" not in df.columns:
        df["group_id"] = df["path"]
    df["group_id"] = df["group_id"].fillna("").astype(str)
    empty = df["group_id"].isin(["", "nan"])
    df.loc[empty, "group_id"] = df.loc[empty, "path"]
    if "source" not in df.columns:
        df["source"] = "unknown"
    df["source"] = df["source"].fillna("unknown").astype(str)
    df["y"] = df["risk"].map(RISK_TO_INDEX).astype(int)
    missing = [f for f in df["file"] if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} labelled image(s) do not exist, first: {missing[0]}")
    return df.reset_index(drop=True)


def _files_key(files: list[str], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{f}|{st.st_size}|{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:16]


def decode_all(df: pd.DataFrame, size: int, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, size, size, 3) uint8 via the serving decoder + preprocessing; mask of decodable rows."""
    from tqdm import tqdm

    files = list(df["file"])
    key = _files_key(files, f"decode-v1-{size}")
    cache = cache_dir / f"images-{key}.npz" if cache_dir else None
    if cache is not None and cache.exists():
        z = np.load(cache)
        log(f"decoded images from cache {cache}")
        return z["x"], z["ok"]
    x = np.zeros((len(files), size, size, 3), np.uint8)
    ok = np.ones(len(files), bool)
    for i, f in enumerate(tqdm(files, desc="decode", unit="img", file=sys.stderr, mininterval=2)):
        try:
            x[i] = preprocess.to_array(load_image(f), size)
        except InputError as exc:
            ok[i] = False
            log(f"skipping undecodable image: {exc}")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, ok=ok)
    return x, ok


def _shuffled_strata(df: pd.DataFrame, rng: np.random.Generator):
    """Yield the group names of each (source, majority class) stratum, shuffled; lazily, so a caller's own draws
    from `rng` between strata stay in the same order."""
    g = df.groupby("group_id").agg(source=("source", "first"), y=("y", lambda s: int(s.mode().iloc[0])))
    for _, sub in g.groupby(["source", "y"]):
        names = sub.index.to_numpy().copy()
        rng.shuffle(names)
        yield names


def group_split(df: pd.DataFrame, val_frac: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Group hold-out: about `val_frac` of the groups of every (source, majority class) stratum go to validation."""
    val_groups: list[str] = []
    for names in _shuffled_strata(df, np.random.default_rng(seed)):
        n_val = int(round(len(names) * val_frac))
        if len(names) >= 2:
            n_val = min(max(n_val, 1), len(names) - 1)
        else:
            n_val = 0
        val_groups.extend(names[:n_val].tolist())
    is_val = df["group_id"].isin(set(val_groups)).to_numpy()
    return np.nonzero(~is_val)[0], np.nonzero(is_val)[0]


def group_folds(df: pd.DataFrame, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) per row: groups of every (source, majority class) stratum dealt round-robin over
    the folds, so each fold holds about 1/k of every stratum and a group never straddles two folds."""
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for names in _shuffled_strata(df, rng):
        off = int(rng.integers(0, k))
        for i, name in enumerate(names):
            fold_of[name] = (i + off) % k
    return df["group_id"].map(fold_of).to_numpy().astype(int)


def class_weights(y: np.ndarray) -> dict[int, float]:
    counts = np.bincount(y, minlength=3).astype(float)
    w = counts.sum() / (3 * np.maximum(counts, 1))
    return {i: float(w[i]) for i in range(3)}


# ---------------------------------------------------------------------------------------------- augmentation
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


# ---------------------------------------------------------------------------------------------- models
def _norm_layer(arch: str):
    from keras import layers

    from crimecast_training import effnet_lite0 as en

    if arch == "seed":
        return layers.Rescaling(1.0 / 255.0, name="scale")
    mean = np.asarray(en.PREPROCESSING["mean"]) * 255.0
    std = np.asarray(en.PREPROCESSING["std"]) * 255.0
    return layers.Normalization(mean=mean.tolist(), variance=(std ** 2).tolist(), name="imagenet_norm")


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


# ---------------------------------------------------------------------------------------------- tflite
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
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(sys.stderr):  # Keras prints the traced signature; keep stdout for results
        data = conv.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; models are shared read-only artefacts
    return time.perf_counter() - t0


def tflite_predict(path: Path, x: np.ndarray, batch: int = 32) -> np.ndarray:
    """Probabilities from a .tflite with the pinned LiteRT interpreter (what serving uses)."""
    from crimecast.vision.model import _interpreter_class

    interp = _interpreter_class()(model_path=str(path), num_threads=2)
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


# ---------------------------------------------------------------------------------------------- training
@dataclass
class TrainConfig:
    arch: str | None = None  # None: efficientnet_lite0
    epochs: int | None = None
    quick: bool = False
    size: int | None = None  # None: 224, or 96 for the quick seed profile
    batch: int = 32
    lr: float | None = None
    views: int | None = None  # augmented views per training image (cached features; effnet only)
    val_frac: float = 0.2
    folds: int | None = None  # None: 5 for efficientnet_lite0 (0 with --quick); 0 = one group hold-out
    seed: int = 0
    high_recall_target: float = 0.9
    abstain_threshold: float = 0.5
    variants: list[str] = field(default_factory=lambda: ["float32", "dynamic", "int8"])
    cache_dir: Path | None = None
    threads: int | None = None


def _set_threads(n: int | None) -> None:
    import tensorflow as tf

    n = n or min(2, os.cpu_count() or 1)
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _compile(model, n_train: int, epochs: int, batch: int, lr: float, seed: int) -> None:
    """Seed, then Adam with a cosine-decayed learning rate over the whole run, label-smoothed cross-entropy."""
    import keras

    keras.utils.set_random_seed(seed)
    steps = max(1, int(np.ceil(n_train / batch))) * epochs
    sched = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(sched),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])


def _fit_loop(model, x_train_fn, y_tr: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, epochs: int, batch: int,
              lr: float, cw: dict[int, float], seed: int) -> tuple[list[dict], list[np.ndarray]]:
    """Epoch loop with per-epoch validation macro-F1 and best-weights restore. x_train_fn(epoch) → inputs."""
    _compile(model, len(y_tr), epochs, batch, lr, seed)
    history, best, best_w = [], -1.0, None
    eye = np.eye(3, dtype=np.float32)
    for ep in range(epochs):
        t0 = time.perf_counter()
        xt = x_train_fn(ep)
        h = model.fit(xt, eye[y_tr], batch_size=batch, epochs=1, class_weight=cw, verbose=0, shuffle=True)
        pv = model.predict(x_val, batch_size=64, verbose=0) if len(y_val) else np.zeros((0, 3))
        rep = classification_report(y_val, pv.argmax(1), LABELS) if len(y_val) else {"macro_f1": float("nan"),
                                                                                       "accuracy": float("nan")}
        row = {"epoch": ep + 1, "loss": round(float(h.history["loss"][-1]), 4),
               "acc": round(float(h.history["accuracy"][-1]), 4), "val_acc": rep["accuracy"],
               "val_macro_f1": rep["macro_f1"], "seconds": round(time.perf_counter() - t0, 1)}
        history.append(row)
        log(f"epoch {ep + 1}/{epochs} loss {row['loss']} acc {row['acc']} val_acc {row['val_acc']} "
            f"val_macro_f1 {row['val_macro_f1']} ({row['seconds']} s)")
        score = rep["macro_f1"] if len(y_val) else ep
        if score > best:
            best, best_w = score, [w.copy() for w in model.get_weights()]
    if best_w is not None:
        model.set_weights(best_w)
    return history, best_w


class _TrunkRunner:
    """The frozen trunk converted once to float32 TFLite and run by LiteRT: ~5-10× faster than Keras predict on
    CPU, outputs equal to Keras within float rounding (checked on the first batch)."""

    def __init__(self, trunk, tmp_dir: Path) -> None:
        self.trunk = trunk
        self.path = tmp_dir / "trunk_float32.tflite"
        export_tflite(trunk, "float32", None, self.path)
        from crimecast.vision.model import _interpreter_class

        self.interp = _interpreter_class()(model_path=str(self.path), num_threads=min(2, os.cpu_count() or 1))
        self.batch = None
        self.checked = False

    def __call__(self, xb: np.ndarray) -> np.ndarray:
        interp = self.interp
        if self.batch != len(xb):
            interp.resize_tensor_input(interp.get_input_details()[0]["index"], list(xb.shape))
            interp.allocate_tensors()
            self.batch = len(xb)
        interp.set_tensor(interp.get_input_details()[0]["index"], xb.astype(np.float32))
        interp.invoke()
        out = interp.get_tensor(interp.get_output_details()[0]["index"])
        if not self.checked:
            ref = self.trunk.predict(xb[:4].astype(np.float32), verbose=0)
            diff = float(np.abs(ref - out[:4]).max())
            if diff > 1e-2 * max(1.0, float(np.abs(ref).max())):
                raise RuntimeError(f"TFLite trunk differs from Keras by {diff}")
            self.checked = True
        return out


def _features(run, x: np.ndarray, desc: str) -> np.ndarray:
    from tqdm import tqdm

    out = []
    for i in tqdm(range(0, len(x), 32), desc=desc, unit="batch", file=sys.stderr, mininterval=5):
        out.append(run(x[i:i + 32].astype(np.float32)).astype(np.float16))
    return np.concatenate(out)


def fit(x: np.ndarray, y: np.ndarray, tr: np.ndarray, va: np.ndarray, cfg: TrainConfig,
        folds: np.ndarray | None = None) -> dict:
    """Train `cfg.arch` on x[tr], validate on x[va]; or, with `folds` (efficientnet_lite0 only), cross-validate
    over them and train the final model on all of x. Returns {"model": full keras model, "history", ...}."""
    import keras

    keras.utils.set_random_seed(cfg.seed)  # the new layers' initial weights: same seed, same model
    rng = np.random.default_rng(cfg.seed)
    cw = class_weights(y[tr])
    if cfg.arch == "seed":
        epochs = cfg.epochs or (8 if cfg.quick else 12)
        model = build_seed(cfg.size)
        xtr = x[tr]
        hist, _ = _fit_loop(model, lambda ep: augment(xtr, rng).astype(np.float32), y[tr], x[va].astype(np.float32),
                            y[va], epochs, 16 if cfg.quick else cfg.batch, cfg.lr or 1e-3, cw, cfg.seed)
        return {"model": model, "history": hist, "epochs": epochs}
    if cfg.arch != "efficientnet_lite0":
        raise ValueError(f"unknown --arch {cfg.arch!r}; expected seed or efficientnet_lite0")
    from crimecast_training import effnet_lite0 as en

    trunk, top, full = build_effnet_parts(cfg.size, en.ported_weights())
    views = cfg.views or (1 if cfg.quick else 4)
    epochs = cfg.epochs or (10 if cfg.quick else 12)
    feats = _trunk_features(trunk, x, views, cfg)
    lr = cfg.lr or (1e-3 if cfg.quick else 3e-4)
    if folds is not None:
        return _fit_top_cv(top, full, feats, y, folds, epochs, lr, cfg) | {"views": views}
    hist, _ = _fit_loop(top, _view_sampler(feats, tr, epochs, cfg.seed), y[tr], feats[0][va].astype(np.float32),
                        y[va], epochs, cfg.batch, lr, cw, cfg.seed)
    return {"model": full, "history": hist, "epochs": epochs, "views": views}


def _trunk_features(trunk, x: np.ndarray, views: int, cfg: TrainConfig) -> list[np.ndarray]:
    """Frozen-trunk activations of every image: view 0 un-augmented, views 1.. CCTV-augmented. Cached on disk by
    the image content, view number, seed and split block (the trunk is frozen, so every fold can share them)."""
    import tempfile

    cache = cfg.cache_dir
    feats: list[np.ndarray] = []
    tmpd = tempfile.TemporaryDirectory(prefix="crimecast-trunk-")
    runner = None
    try:
        for v in range(views):
            key = hashlib.sha256(x[:: max(1, len(x) // 64)].tobytes()
                                 + f"all-{len(x)}-{v}-{cfg.seed}-{SPLIT_BLOCK}-{cfg.size}".encode())
            cpath = cache / f"effnet-feat-{key.hexdigest()[:16]}.npy" if cache else None
            if cpath is not None and cpath.exists():
                feats.append(np.load(cpath))
                continue
            xv = x if v == 0 else augment(x, np.random.default_rng([cfg.seed, v]))
            if runner is None:
                # quick: Keras predict on a few images beats a TFLite conversion of the trunk
                runner = (lambda xb: trunk.predict(xb, verbose=0)) if cfg.quick else _TrunkRunner(trunk,
                                                                                                  Path(tmpd.name))
            f = _features(runner, xv, f"backbone view {v + 1}/{views}")
            if cpath is not None:
                cpath.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(cpath) as tmp:
                    with open(tmp, "wb") as fh:
                        np.save(fh, f)
            feats.append(f)
    finally:
        tmpd.cleanup()
    return feats


def _view_sampler(feats: list[np.ndarray], idx: np.ndarray, epochs: int, seed: int):
    """x_train_fn(epoch): each epoch sees one randomly chosen (augmented) view of every image in `idx`."""
    vsel = np.random.default_rng([seed, 1]).integers(0, len(feats), size=(epochs, len(idx)))

    def train_input(ep: int) -> np.ndarray:
        out = np.empty((len(idx), *feats[0].shape[1:]), np.float32)
        for v in range(len(feats)):
            m = vsel[ep] == v
            out[m] = feats[v][idx[m]]
        return out

    return train_input


def _fit_fixed(top, train_input, y_tr: np.ndarray, epochs: int, batch: int, lr: float, cw: dict[int, float],
               seed: int, eval_x: np.ndarray | None = None, eval_y: np.ndarray | None = None,
               average_last: int = 0) -> list[dict]:
    """`epochs` epochs, no early stopping (the epoch count is fixed in advance, so held-out folds stay held out).
    `average_last` K > 1: the model ends with the mean of its weights after each of the last K epochs (SWA)."""
    _compile(top, len(y_tr), epochs, batch, lr, seed)
    eye = np.eye(3, dtype=np.float32)
    hist = []
    acc: list[np.ndarray] | None = None
    n_avg = 0
    for ep in range(epochs):
        t0 = time.perf_counter()
        h = top.fit(train_input(ep), eye[y_tr], batch_size=batch, epochs=1, class_weight=cw, verbose=0, shuffle=True)
        row = {"epoch": ep + 1, "loss": round(float(h.history["loss"][-1]), 4),
               "acc": round(float(h.history["accuracy"][-1]), 4)}
        if eval_x is not None and len(eval_y):
            pv = top.predict(eval_x, batch_size=64, verbose=0)
            rep = classification_report(eval_y, pv.argmax(1), LABELS)
            row |= {"val_acc": rep["accuracy"], "val_macro_f1": rep["macro_f1"]}
        row["seconds"] = round(time.perf_counter() - t0, 1)
        hist.append(row)
        if average_last > 1 and ep >= epochs - average_last:
            w = top.get_weights()
            acc = w if acc is None else [a + b for a, b in zip(acc, w, strict=True)]
            n_avg += 1
    if acc is not None and n_avg > 1:
        top.set_weights([a / n_avg for a in acc])
    return hist


def _fit_top_cv(top, full, feats: list[np.ndarray], y: np.ndarray, folds: np.ndarray, epochs: int, lr: float,
                cfg: TrainConfig, final: bool = True, average_last: int = 0) -> dict:
    """k-fold group cross-validation of the fine-tuned top (out-of-fold probabilities for every image), then (with
    `final`) the model trained on all images with the same epochs. The OOF probabilities are honest held-out
    predictions: no fold's model saw its fold, and nothing (epoch, weights) was chosen on it."""
    k = int(folds.max()) + 1
    init = [w.copy() for w in top.get_weights()]
    oof = np.zeros((len(y), 3))
    curves, per_fold = [], []
    for f in range(k):
        tr, va = np.nonzero(folds != f)[0], np.nonzero(folds == f)[0]
        if len(set(y[tr])) < 3:
            raise ValueError(f"fold {f + 1}/{k}: the training part lacks a class "
                             f"(counts {np.bincount(y[tr], minlength=3).tolist()}); use fewer --folds")
        top.set_weights(init)
        fva = feats[0][va].astype(np.float32)
        hist = _fit_fixed(top, _view_sampler(feats, tr, epochs, cfg.seed + f), y[tr], epochs, cfg.batch, lr,
                          class_weights(y[tr]), cfg.seed + f, fva, y[va], average_last)
        oof[va] = top.predict(fva, batch_size=64, verbose=0)
        curves.append([h.get("val_macro_f1") for h in hist])
        per_fold.append(classification_report(y[va], oof[va].argmax(1), LABELS)["macro_f1"])
        log(f"fold {f + 1}/{k}: {len(tr)} train / {len(va)} held out, macro-F1 by epoch {curves[-1]}")
    hist: list[dict] = []
    if final:
        top.set_weights(init)
        hist = _fit_fixed(top, _view_sampler(feats, np.arange(len(y)), epochs, cfg.seed), y, epochs, cfg.batch, lr,
                          class_weights(y), cfg.seed, average_last=average_last)
        for h in hist:
            log(f"final model on all {len(y)} images: epoch {h['epoch']}/{epochs} loss {h['loss']} acc {h['acc']}")
    curve = [round(float(np.mean([c[e] for c in curves])), 4) for e in range(epochs)]
    return {"model": full, "history": hist, "epochs": epochs, "oof": oof,
            "cv": {"folds": k, "per_fold_macro_f1": per_fold, "mean_fold_macro_f1_by_epoch": curve}}


def evaluate_probs(p: np.ndarray, y: np.ndarray, bias: np.ndarray | None = None) -> dict:
    return classification_report(y, decide(p, bias), LABELS, probs=p)


def per_source(df: pd.DataFrame, p: np.ndarray, bias: np.ndarray | None) -> dict:
    out = {}
    for src, idx in df.groupby("source").indices.items():
        rep = evaluate_probs(p[idx], df["y"].to_numpy()[idx], bias)
        out[str(src)] = {k: rep[k] for k in ("n", "accuracy", "macro_f1")} | {
            "high_recall": rep["per_class"]["High"]["recall"]}
    return out


def train(out: str | Path, images: str | Path | None = None, labels: str | Path | None = None,
          cfg: TrainConfig | None = None) -> dict:
    """Full pipeline: data → fit → export variants → LiteRT check → calibration → metadata.json. Returns metadata."""
    cfg = cfg or TrainConfig()
    if cfg.arch is None:
        cfg.arch = "efficientnet_lite0"
    if cfg.size is None:
        cfg.size = 96 if (cfg.quick and cfg.arch == "seed") else 224
    if cfg.quick:
        cfg.variants = ["int8"]
    t_start = time.perf_counter()
    out = Path(out)
    df = load_labels(images, labels)
    cache = cfg.cache_dir or Path(os.environ.get("CRIMECAST_CACHE_DIR", ".cache")) / "classifier"
    cfg.cache_dir = cache
    log(f"{len(df)} labelled images, classes {df['risk'].value_counts().to_dict()}, "
        f"{df['group_id'].nunique()} groups, sources {sorted(df['source'].unique())}")
    n_folds = cfg.folds if cfg.folds is not None else (0 if cfg.quick or cfg.arch == "seed" else 5)
    if n_folds:  # checked before the (slow) decoding
        if cfg.arch == "seed":
            raise ValueError("--folds needs --arch efficientnet_lite0 (the seed CNN trains on pixels: too slow to "
                             "cross-validate on CPU); use --folds 0 for a group hold-out")
        n_groups = df["group_id"].nunique()
        if n_folds < 2 or n_folds > n_groups:
            raise ValueError(f"--folds {n_folds}: need 2 <= folds <= number of groups ({n_groups}); "
                             "0 = one group hold-out")
    x, ok = decode_all(df, cfg.size, cache)
    df, x = df[ok].reset_index(drop=True), x[ok]
    y = df["y"].to_numpy()
    folds = None
    if n_folds:
        folds = group_folds(df, n_folds, cfg.seed)
        tr, va = np.arange(len(df)), np.zeros(0, int)
        log(f"{n_folds}-fold group cross-validation (fold sizes {np.bincount(folds).tolist()}), "
            f"then the final model on all {len(df)} images")
    else:
        tr, va = group_split(df, cfg.val_frac, cfg.seed)
        log(f"group hold-out split: {len(tr)} train / {len(va)} validation images")
    if len(set(y[tr])) < 3:
        raise ValueError(f"training split lacks a class (counts {np.bincount(y[tr], minlength=3).tolist()}); "
                         "need images of all three risk levels")
    _set_threads(cfg.threads)
    t_fit = time.perf_counter()
    res = fit(x, y, tr, va, cfg, folds)
    fit_s = time.perf_counter() - t_fit
    model = res["model"]
    cv = res.get("oof") is not None
    # Quantisation check set: the hold-out, or (CV) every image — the final model trained on them all, so there
    # the variants' scores measure only what quantisation changes, not accuracy.
    ev = np.arange(len(y)) if cv else va
    xev = x[ev].astype(np.float32)
    keras_p = model.predict(xev, batch_size=32, verbose=0).astype(np.float64) if len(ev) else np.zeros((0, 3))
    keras_rep = evaluate_probs(keras_p, y[ev])
    rep_idx = np.random.default_rng(cfg.seed).choice(tr, size=min(len(tr), 64 if cfg.quick else 200), replace=False)
    representative = x[rep_idx].astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        variants: dict[str, dict] = {}
        probs: dict[str, np.ndarray] = {}
        for v in cfg.variants:
            path = staging / VARIANT_FILES[v]
            secs = export_tflite(model, v, representative, path)
            pv = tflite_predict(path, xev) if len(ev) else np.zeros((0, 3))
            probs[v] = pv
            rep = evaluate_probs(pv, y[ev])
            variants[v] = {"file": VARIANT_FILES[v], "bytes": path.stat().st_size, "convert_s": round(secs, 1),
                           "val_accuracy": rep["accuracy"], "val_macro_f1": rep["macro_f1"],
                           "max_abs_diff_vs_keras": round(float(np.abs(pv - keras_p).max()) if len(ev) else 0.0, 4),
                           "macro_f1_change_vs_keras": round(rep["macro_f1"] - keras_rep["macro_f1"], 4),
                           "agreement_with_keras": round(float((pv.argmax(1) == keras_p.argmax(1)).mean()), 4)
                           if len(ev) else None,
                           "measured_on": "all labelled images (in-sample: quantisation change only)" if cv
                           else "group hold-out"}
            log(f"exported {v}: {variants[v]}")
        default = next((v for v in ("int8", "dynamic", "float32") if v in variants
                        and (variants[v]["macro_f1_change_vs_keras"] >= -0.01 or not len(ev))), cfg.variants[-1])
        shutil.copyfile(staging / VARIANT_FILES[default], staging / "model.tflite")
        # Calibration and the High bias are fitted on held-out probabilities: the out-of-fold Keras predictions
        # (CV), or the default variant on the hold-out.
        p_raw, y_cal = (res["oof"], y) if cv else (probs[default], y[va])
        temperature = fit_temperature(p_raw, y_cal) if len(y_cal) else 1.0
        p_cal = apply_temperature(p_raw, temperature)
        high_bias, bias_info = fit_high_bias(p_cal, y_cal, 0, cfg.high_recall_target) if len(y_cal) else (0.0, {})
        bias = np.array([high_bias, 0.0, 0.0])
        final = evaluate_probs(p_cal, y_cal, bias)
        heldout_keras = evaluate_probs(res["oof"], y) if cv else keras_rep
        df_cal = df if cv else df.iloc[va].reset_index(drop=True)
        digest = hashlib.sha256((staging / "model.tflite").read_bytes()).hexdigest()[:8]
        version = time.strftime("clf-%Y%m%d-%H%M%S-") + digest
        labels_hash = hashlib.sha256(
            "\n".join(f"{p}|{r}" for p, r in zip(df["path"], df["risk"], strict=True)).encode()).hexdigest()[:16]
        meta = {
            "name": "classifier", "version": version, "arch": cfg.arch, "labels": LABELS,
            "actions": {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"},
            "input": {"size": cfg.size, "shape": [None, cfg.size, cfg.size, 3], "dtype": "float32", "layout": "NHWC"},
            "preprocessing": preprocess.SPEC | {"size": cfg.size,
                                                "in_model": "x/255" if cfg.arch == "seed"
                                                else "(x/255 - ImageNet mean) / ImageNet std"},
            "files": {v: VARIANT_FILES[v] for v in variants} | {"default": "model.tflite"},
            "default_variant": default,
            "variants": variants,
            "calibration": {"method": "temperature scaling on " + ("out-of-fold predictions of the group CV"
                                                                   if cv else "the group hold-out"),
                            "temperature": round(temperature, 4),
                            "ece_before": round(ece(p_raw, y_cal), 4) if len(y_cal) else None,
                            "ece_after": round(ece(p_cal, y_cal), 4) if len(y_cal) else None,
                            "abstain_threshold": cfg.abstain_threshold, "decision_bias": bias.round(4).tolist(),
                            "decision_bias_note": f"log-odds added to High, smallest reaching held-out High recall "
                                                  f">= {cfg.high_recall_target} (if it costs <= 3 points macro-F1)",
                            "bias_fit": bias_info},
            "video": {"sample_fps": 2.0, "k": 3, "n": 5},
            "metrics": {"split": (f"{res['cv']['folds']}-fold group cross-validation by group_id: out-of-fold "
                                  "predictions of every image by a model that never saw its group; the temperature "
                                  "and the High bias were fitted on the same predictions. The shipped model is "
                                  "trained on all images with the same settings") if cv else
                                 ("group hold-out by group_id (validation, also used for early stopping, "
                                  "calibration and the High bias, so these numbers are optimistic)"),
                        "validation_keras": heldout_keras, "validation_default_calibrated": final,
                        "validation_per_source": per_source(df_cal, p_cal, bias) if len(y_cal) else {}}
                       | ({"cv": res["cv"]} if cv else {}),
            "training": {"images": len(df), "train": len(tr), "validation": len(y_cal), "folds": n_folds,
                         "classes": {k: int(v) for k, v in df["risk"].value_counts().items()},
                         "sources": sorted(df["source"].unique().tolist()), "labels_sha256_16": labels_hash,
                         "data": str(labels or images), "epochs": res["epochs"], "views": res.get("views"),
                         "history": res["history"], "quick": cfg.quick, "seed": cfg.seed,
                         "fit_seconds": round(fit_s, 1), "total_seconds": round(time.perf_counter() - t_start, 1)},
        }
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"wrote {out} (default {default}, val macro-F1 {final['macro_f1']}, High recall "
        f"{final['per_class']['High']['recall']}, {meta['training']['total_seconds']} s)")
    return meta
