"""The default classifier: frozen ImageNet EfficientNet-Lite features + a logistic-regression head + an OOD score.

Nothing of the backbones is trained. Every image is run once through the ported ImageNet networks (by default
EfficientNet-Lite0 at the input size ‖ EfficientNet-Lite2 on the image resized to 320 px inside the graph;
`--backbones`) and once mirrored; each network's 1280-d head activations are pooled (global average, optionally ‖
global max), the networks' vectors concatenated, and cached. A multinomial logistic regression on the standardised
features is the classifier (its standardisation folded into one dense layer), trained on the original and the
mirrored view of every training image. Out-of-distribution score: the features are square-rooted and L2-normalised
(blank frames, noise and drawings then stand apart; without this a blank frame scores like a photo), standardised,
and scored by the squared Mahalanobis distance to the training images in their top-k principal components plus the
residual outside them (each scaled to mean 1 on the training images), added.

The shipped TFLite graph is backbones → pooled features → {"probs": softmax(dense), "ood": score}: one model, two
outputs, no TensorFlow at serving time. With `mirror` (the default) the backbones run on the image and on its mirror
image and the head sees the mean of the two feature vectors (test-time averaging; the weights are stored once);
validation scores exactly that vector (`served_features`). Why this and not fine-tuning, and why two networks:
docs/benchmarks.md, "Vision: training choices" (repeated group cross-validation and leave-one-source-out).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from crimecast.contract import atomic_path

FEATURE_DIM = 1280
OOD_COMPONENTS = 32


# ---------------------------------------------------------------------------------------------- backbone
DEFAULT_BACKBONES = "lite0"


def parse_backbones(spec: str) -> list[tuple[str, int | None]]:
    """"lite0+lite2@320" → [("lite0", None), ("lite2", 320)]: the frozen networks whose pooled features are
    concatenated, each at its own input size (None: the model's input size; otherwise resized inside the graph)."""
    from crimecast_training import effnet_lite0 as en

    out: list[tuple[str, int | None]] = []
    for part in (spec or "").split("+"):
        name, _, size = part.strip().partition("@")
        if name not in en.VARIANTS:
            raise ValueError(f"backbones {spec!r}: unknown network {name!r}; expected one of {sorted(en.VARIANTS)}, "
                             "joined by '+', each optionally @SIZE (e.g. lite0+lite2@320)")
        if size and not (size.isdigit() and 32 <= int(size) <= 1024):
            raise ValueError(f"backbones {spec!r}: size {size!r} of {name} is not a whole number in 32..1024")
        out.append((name, int(size) if size else None))
    if len({name for name, _ in out}) != len(out):  # one set of layer names per network in the graph
        raise ValueError(f"backbones {spec!r}: a network is listed twice")
    return out


def backbones_tag(spec: str) -> str:
    """A file-name-safe form of a backbones spec: "lite0+lite2@320" → "lite0_lite2at320"."""
    return spec.replace("+", "_").replace("@", "at")


def _pooled(x, pool: str, variant: str = "lite0"):  # noqa: ANN001, ANN202
    """Keras tensor: the pooled features of the ported EfficientNet-Lite `variant` applied to image tensor x."""
    from keras import layers

    from crimecast_training import effnet_lite0 as en
    from crimecast_training.nets import _norm_layer

    if pool not in ("avg", "avgmax"):
        raise ValueError(f"unknown pooling {pool!r}; expected avg or avgmax")
    p = _prefix(variant)
    x = en.apply_blocks(_norm_layer("efficientnet_lite0", p)(x), 0, None, head=False, variant=variant, prefix=p)
    x = layers.Conv2D(FEATURE_DIM, 1, padding="same", use_bias=False, name=p + "head_conv")(x)
    x = layers.ReLU(6.0, name=p + "head_relu")(layers.BatchNormalization(epsilon=en.BN_EPS, name=p + "head_bn")(x))
    f = layers.GlobalAveragePooling2D(name=p + "avg_pool")(x)
    if pool == "avgmax":
        f = layers.Concatenate(name=p + "avg_max")([f, layers.GlobalMaxPooling2D(name=p + "max_pool")(x)])
    return f


def _prefix(variant: str) -> str:
    """Layer-name prefix of a network in the graph (Lite0 keeps the plain names of the ported weights)."""
    return "" if variant == "lite0" else f"{variant}_"


def build_backbone(size: int, pool: str, mirror: bool = False, backbones: str = DEFAULT_BACKBONES):
    """image (float 0..255, size×size) → pooled ImageNet features; every ported tensor but the ImageNet classifier
    is used. Several `backbones`: their features concatenated (in the listed order), a network at another size
    seeing the image resized (bilinear) inside the graph; one flat graph, layer names prefixed per network.
    `mirror`: the mean of the features of the image and of its mirror image (one backbone, run on both)."""
    import keras
    from keras import layers

    from crimecast_training import effnet_lite0 as en

    parts = parse_backbones(backbones)
    tag = "_".join(f"{v}{s or ''}" for v, s in parts)
    inp = keras.Input((size, size, 3), name="image")
    feats = []
    for variant, s in parts:
        s = s or size
        xin = inp if s == size else _resize(s, name=f"resize_{variant}_{s}")(inp)
        feats.append(_pooled(xin, pool, variant))
    f = feats[0] if len(feats) == 1 else layers.Concatenate(name="backbones")(feats)
    model = keras.Model(inp, f, name=f"effnet_{tag}_{pool}")
    for variant, _s in parts:
        weights = en.ported_weights(variant=variant)
        n = en.set_ported_weights(model, weights, _prefix(variant))
        if n != sum(1 for k in weights if k != "fc"):
            raise RuntimeError(f"{variant}: ported {n} layers, expected {len(weights) - 1}")
    if not mirror:
        return model
    inp2 = keras.Input((size, size, 3), name="image")
    return keras.Model(inp2, _mirror_mean(model, inp2), name=f"effnet_{tag}_{pool}_mirror")


def _resize(size: int, name: str):  # noqa: ANN202
    """A layer: bilinear resize to size×size. Not keras.layers.Resizing, a preprocessing layer: with it in the graph,
    Keras' eager call gave every branch different numbers from the converted TFLite model; this plain op does not."""
    from keras import layers, ops

    return layers.Lambda(lambda x: ops.image.resize(x, (size, size), interpolation="bilinear"), name=name)


def _mirror_mean(backbone, inp):  # noqa: ANN001, ANN202
    """Keras tensor: the mean of backbone(image) and backbone(mirrored image), the weights stored once."""
    from keras import layers, ops

    class Mirror(layers.Layer):
        def call(self, x):  # noqa: ANN001, ANN201
            return ops.flip(x, axis=2)

    return layers.Average(name="mirror_mean")([backbone(inp), backbone(Mirror(name="mirror")(inp))])


def served_features(views: list[np.ndarray], mirror: bool) -> np.ndarray:
    """What the shipped graph's head sees for each image: the mean of the original and mirrored view's features
    (`mirror`), or the original view's."""
    return (views[0] + views[1]) / 2 if mirror else views[0]


def feature_dim(pool: str, backbones: str = DEFAULT_BACKBONES) -> int:
    return FEATURE_DIM * (2 if pool == "avgmax" else 1) * len(parse_backbones(backbones))


class _LiteRunner:
    """A Keras model converted once to float32 TFLite and run by LiteRT (several times faster than Keras on CPU)."""

    def __init__(self, model, path: Path, threads: int) -> None:
        from crimecast.litert import interpreter_class

        from crimecast_training.export import export_tflite

        if not path.exists():
            export_tflite(model, "float32", None, path)
        self.interp = interpreter_class()(model_path=str(path), num_threads=threads)
        self.n = None

    def __call__(self, xb: np.ndarray) -> np.ndarray:
        it = self.interp
        if self.n != len(xb):
            it.resize_tensor_input(it.get_input_details()[0]["index"], list(xb.shape))
            it.allocate_tensors()
            self.n = len(xb)
        it.set_tensor(it.get_input_details()[0]["index"], xb.astype(np.float32))
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])


def _cache_path(cache_dir: Path | None, x: np.ndarray, size: int, pool: str, backbones: str, flip: bool) -> Path | None:
    if cache_dir is None:
        return None
    digest = hashlib.sha256(np.ascontiguousarray(x[:: max(1, len(x) // 256)]).tobytes()).hexdigest()[:16]
    tag = "" if backbones == "lite0" else "-" + backbones_tag(backbones)
    return cache_dir / f"frozen{tag}-{pool}-{size}-{len(x)}-{digest}-{'flip' if flip else 'orig'}.npy"


def cached_seconds(x: np.ndarray, size: int, pool: str, cache_dir: Path | None, flips: tuple[bool, ...] = (False, True),
                   backbones: str = DEFAULT_BACKBONES) -> float | None:
    """How long the cached features of `x` took to compute when they were made (None if any view's time is unknown)."""
    total = 0.0
    for flip in flips:
        p = _cache_path(cache_dir, x, size, pool, backbones, flip)
        if p is None:
            return None
        try:  # a missing or unreadable record only loses this number, never the training run
            total += float(json.loads(p.with_suffix(".json").read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return round(total, 1)


def features(x: np.ndarray, size: int, pool: str, cache_dir: Path | None, threads: int | None = None,
             flips: tuple[bool, ...] = (False, True), backbones: str = DEFAULT_BACKBONES) -> list[np.ndarray]:
    """Pooled frozen features of uint8 images (N, S, S, 3), one array per view (original, mirrored). Cached on disk
    by the image content, size, pooling, backbones and view."""
    from tqdm import tqdm

    threads = threads or min(2, os.cpu_count() or 1)
    runner = None
    tag = "" if backbones == "lite0" else "-" + backbones_tag(backbones)
    tpath = (cache_dir or Path(os.environ.get("TMPDIR", "/tmp"))) / f"backbone{tag}-{pool}-{size}-{os.getpid()}.tflite"
    out = []
    for flip in flips:
        cpath = _cache_path(cache_dir, x, size, pool, backbones, flip)
        if cpath is not None and cpath.exists():
            out.append(np.load(cpath))
            continue
        t0 = time.perf_counter()
        if runner is None:
            tpath.parent.mkdir(parents=True, exist_ok=True)
            runner = _LiteRunner(build_backbone(size, pool, backbones=backbones), tpath, threads)
        f = np.zeros((len(x), feature_dim(pool, backbones)), np.float32)
        for i in tqdm(range(0, len(x), 16), desc=f"frozen features ({'mirrored' if flip else 'original'})",
                      unit="batch", file=sys.stderr, mininterval=5):
            xb = x[i:i + 16]
            f[i:i + 16] = runner(xb[:, :, ::-1] if flip else xb)
        if cpath is not None:
            with atomic_path(cpath) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, f)
            with atomic_path(cpath.with_suffix(".json")) as tmp:
                tmp.write_text(json.dumps({"seconds": round(time.perf_counter() - t0, 1)}))
        out.append(f)
    tpath.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------------------------------------- head
WEIGHTINGS = ("group", "class")


def group_balanced_weights(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-row training weights: every group (a source video or scene) weighs the same within its class, whatever
    its number of frames (1 / its row count), and the classes are balanced (each totals len(y) / 3). Without this a
    60-frame video counts 60 times as much as a one-photo scene, and the head learns most from the videos it has most
    frames of, not from the variety of cameras."""
    _, inv, cnt = np.unique(np.asarray(groups).astype(str), return_inverse=True, return_counts=True)
    w = 1.0 / cnt[inv]
    for k in np.unique(y):
        m = y == k
        w[m] *= len(y) / (3 * w[m].sum())
    return w


def fit_head(x: np.ndarray, y: np.ndarray, c: float, seed: int = 0, sample_weight: np.ndarray | None = None,
             groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (L2 strength 1/c) on standardised features: class-balanced; with `groups`
    (one id per row) group- and class-balanced (`group_balanced_weights`); or weighted by `sample_weight` (the
    caller balances). Returns (W, b) acting on the *raw* features: logits = x @ W + b (the standardisation is
    folded in)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    if groups is not None:
        if sample_weight is not None:
            raise ValueError("fit_head: give sample_weight or groups, not both")
        sample_weight = group_balanced_weights(groups, y)
    mu = x.mean(0)
    sd = x.std(0) + 1e-3
    m = LogisticRegression(C=c, class_weight=None if sample_weight is not None else "balanced", max_iter=500,
                           random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit((x - mu) / sd, y, sample_weight=sample_weight)
    if list(m.classes_) != [0, 1, 2]:
        raise ValueError(f"training labels lack a class (have {list(m.classes_)})")
    w = (m.coef_ / sd).T.astype(np.float32)
    b = (m.intercept_ - (m.coef_ * (mu / sd)).sum(1)).astype(np.float32)
    return w, b


def head_probs(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    from crimecast.vision.calibration import softmax

    return softmax(x.astype(np.float64) @ w + b)


def fit_train_predict(views: list[np.ndarray], y: np.ndarray, tr: np.ndarray, te: np.ndarray, c: float,
                      seed: int = 0, mirror: bool = False, groups: np.ndarray | None = None,
                      heads: list | None = None) -> np.ndarray:
    """Head trained on every view of the images `tr` (group-balanced where `groups`, one id per image, is given),
    probabilities of `te` as the shipped graph sees them (served_features). `heads`: a list the fitted (W, b) is
    appended to."""
    g = None if groups is None else np.concatenate([np.asarray(groups)[tr]] * len(views))
    w, b = fit_head(np.concatenate([v[tr] for v in views]), np.concatenate([y[tr]] * len(views)), c, seed, groups=g)
    if heads is not None:
        heads.append((w, b))
    return head_probs(served_features(views, mirror)[te], w, b)


def cross_val_probs(views: list[np.ndarray], y: np.ndarray, folds: np.ndarray, c: float, seed: int = 0,
                    mirror: bool = False, groups: np.ndarray | None = None, heads: list | None = None) -> np.ndarray:
    """Out-of-fold probabilities: each fold predicted by a head that never saw its groups (each fold's (W, b)
    appended to `heads` where given)."""
    oof = np.zeros((len(y), 3))
    for f in range(int(folds.max()) + 1):
        tr, te = np.nonzero(folds != f)[0], np.nonzero(folds == f)[0]
        oof[te] = fit_train_predict(views, y, tr, te, c, seed, mirror, groups, heads)
    return oof


def mean_head(heads: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One linear head whose logits are the mean of `heads`' logits (their weights and biases averaged)."""
    return (np.mean([w for w, _ in heads], 0).astype(np.float32), np.mean([b for _, b in heads], 0).astype(np.float32))


# ---------------------------------------------------------------------------------------------- OOD
def ood_transform(x: np.ndarray) -> np.ndarray:
    """sqrt, then L2 normalisation of each row (what the graph does before the OOD score)."""
    a = np.sqrt(np.maximum(x.astype(np.float64), 0.0))
    return a / np.sqrt((a ** 2).sum(1, keepdims=True) + 1e-6)


def fit_ood(x: np.ndarray, k: int = OOD_COMPONENTS) -> dict:
    """Parameters of the OOD score on training features x: standardisation, top-k principal axes, scales."""
    x = ood_transform(x)
    mu = x.mean(0)
    sd = x.std(0) + 1e-3
    z = (x - mu) / sd
    _u, s, vt = np.linalg.svd(z, full_matrices=False)
    k = min(k, len(s) - 1)
    lam = (s[:k] ** 2) / len(z) + 1e-6
    proj = vt[:k].T / np.sqrt(lam)  # whitened projection
    p = z @ proj
    maha = (p ** 2).sum(1)
    res = (z ** 2).sum(1) - ((z @ vt[:k].T) ** 2).sum(1)
    return {"mu": mu.astype(np.float32), "sd": sd.astype(np.float32), "proj": proj.astype(np.float32),
            "basis": vt[:k].T.astype(np.float32), "maha_scale": float(maha.mean()), "res_scale": float(res.mean())}


def ood_score(x: np.ndarray, ood: dict) -> np.ndarray:
    """The score the shipped graph computes (numpy twin, for validation and tests)."""
    z = (ood_transform(x) - ood["mu"]) / ood["sd"]
    maha = ((z @ ood["proj"]) ** 2).sum(1)
    res = (z ** 2).sum(1) - ((z @ ood["basis"]) ** 2).sum(1)
    return maha / ood["maha_scale"] + np.maximum(res, 0) / ood["res_scale"]


# ---------------------------------------------------------------------------------------------- shipped graph
def build_shipped(size: int, pool: str, w: np.ndarray, b: np.ndarray, ood: dict, mirror: bool = False,
                  backbones: str = DEFAULT_BACKBONES):
    """One Keras model: image → {"probs": (N, 3) softmax of the LR head, "ood": (N, 1) OOD score}, both on the
    pooled features (with `mirror`, their mean over the image and its mirror image)."""
    import keras
    from keras import layers, ops

    backbone = build_backbone(size, pool, backbones=backbones)
    inp = keras.Input((size, size, 3), name="image")
    f = _mirror_mean(backbone, inp) if mirror else backbone(inp)
    logits = layers.Dense(3, name="lr_head")(f)
    probs = layers.Softmax(name="probs")(logits)
    d = f.shape[-1]

    mu, inv_sd = ood["mu"].astype(np.float32), (1.0 / ood["sd"]).astype(np.float32)

    class OODStandardise(layers.Layer):
        """sqrt, L2 normalisation, then (t - mu) / sd with constant vectors (a few KB, not a d×d layer)."""

        def call(self, f):  # noqa: ANN001, ANN201
            a = ops.sqrt(ops.maximum(f, 0.0))
            t = a / ops.sqrt(ops.sum(ops.square(a), axis=-1, keepdims=True) + 1e-6)
            return (t - ops.convert_to_tensor(mu)) * ops.convert_to_tensor(inv_sd)

    assert d == len(mu)
    z = OODStandardise(name="ood_standardise")(f)
    pz = layers.Dense(ood["proj"].shape[1], use_bias=False, name="ood_whiten")(z)
    bz = layers.Dense(ood["basis"].shape[1], use_bias=False, name="ood_basis")(z)

    class OODScore(layers.Layer):
        def call(self, z, pz, bz):  # noqa: ANN001, ANN201
            maha = ops.sum(ops.square(pz), axis=-1, keepdims=True)
            res = ops.sum(ops.square(z), axis=-1, keepdims=True) - ops.sum(ops.square(bz), axis=-1, keepdims=True)
            return maha / ood["maha_scale"] + ops.maximum(res, 0.0) / ood["res_scale"]

    score = OODScore(name="ood")(z, pz, bz)
    model = keras.Model(inp, {"probs": probs, "ood": score}, name="frozen_lr")
    model.get_layer("lr_head").set_weights([w, b])
    model.get_layer("ood_whiten").set_weights([ood["proj"]])
    model.get_layer("ood_basis").set_weights([ood["basis"]])
    return model
