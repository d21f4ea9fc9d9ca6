"""Fine-tuning EfficientNet-Lite0 (and the seed CNN): cached frozen-trunk activations per augmented view, training
loops with a fixed epoch count, k-fold group cross-validation of the fine-tuned top.

Blocks [0, SPLIT_BLOCK) stay frozen; their activations are computed once per augmented view and cached; the
remaining blocks + head + a new 3-way classifier are fine-tuned on them (BatchNorm statistics frozen).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
from crimecast.contract import atomic_path
from crimecast.vision.metrics import classification_report

from crimecast_training import nets
from crimecast_training.augment import augment
from crimecast_training.config import TrainConfig
from crimecast_training.data import LABELS, class_weights, log
from crimecast_training.export import export_tflite
from crimecast_training.nets import build_effnet_parts, build_seed


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
        from crimecast.litert import interpreter_class

        self.interp = interpreter_class()(model_path=str(self.path), num_threads=min(2, os.cpu_count() or 1))
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
                                 + f"all-{len(x)}-{v}-{cfg.seed}-{nets.SPLIT_BLOCK}-{cfg.size}".encode())
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
