"""EfficientNet-Lite0 weight port: legacy PyTorch file read with numpy + a restricted unpickler (no torch)."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

en = pytest.importorskip("crimecast_training.effnet_lite0")


def test_legacy_weights_load_without_torch():
    sd = en.load_torch_legacy(en.weights_path())
    assert len(sd) == 296
    assert sum(v.size for k, v in sd.items() if not k.endswith("num_batches_tracked")) == 4_694_024
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3) and sd["_fc.weight"].shape == (1000, 1280)
    assert sd["_conv_stem.weight"].dtype == np.float32 and np.isfinite(sd["_conv_stem.weight"]).all()


def test_restricted_unpickler_refuses_code_in_weights_file(tmp_path: Path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "evil.pth"
    with open(bad, "wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(obj, f)
        pickle.dump({"w": Evil()}, f)
        pickle.dump([], f)
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle"):
        en.load_torch_legacy(bad)


def test_rejects_non_legacy_file(tmp_path: Path):
    f = tmp_path / "zip.pth"
    f.write_bytes(b"PK\x03\x04" + struct.pack("<I", 0) * 8)
    with pytest.raises(Exception):  # noqa: B017 - any parse error, but never a silent load
        en.load_torch_legacy(f)


def test_keras_port_uses_every_tensor_and_gives_a_distribution():
    model = en.pretrained(include_top=True)  # raises if any tensor of the file is left unmapped
    x = en.normalise(np.full((1, 224, 224, 3), 128, np.uint8))
    logits = model.predict(x, verbose=0)[0]
    assert logits.shape == (1000,) and np.isfinite(logits).all() and logits.std() > 0.1


def test_lite2_port_uses_every_tensor_of_its_file_and_gives_a_distribution():
    """Lite2 (the classifier's second frozen network): 21 blocks, head on 352 channels; every tensor mapped."""
    sd = en.load_torch_legacy(en.weights_path("lite2"))
    assert sd["_conv_head.weight"].shape == (1280, 352, 1, 1) and len(en.blocks("lite2")) == 21
    model = en.pretrained((260, 260, 3), include_top=True, variant="lite2")
    logits = model.predict(en.normalise(np.full((1, 260, 260, 3), 128, np.uint8)), verbose=0)[0]
    assert logits.shape == (1000,) and np.isfinite(logits).all() and logits.std() > 0.1
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite variant 'lite9'"):
        en.weights_path("lite9")


@pytest.mark.real
@pytest.mark.skipif(os.environ.get("CRIMECAST_REAL_TESTS") != "1", reason="set CRIMECAST_REAL_TESTS=1")
def test_port_recognises_a_known_photo(shared_dir: Path):
    """A photo of a closed shop front with a roll-down grille: ImageNet 'chain-link fence' (489) is top-1."""
    from crimecast.vision.decode import load_image

    im = load_image(shared_dir / "data/real-images/graffiti/low/nograffiti__closed-112_jpg.jpg")
    w, h = im.size
    s = min(w, h)
    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((224, 224))
    logits = en.pretrained(include_top=True).predict(en.normalise(np.asarray(im)[None]), verbose=0)[0]
    assert int(np.argmax(logits)) == 489
