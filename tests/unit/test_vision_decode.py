"""Bad and unusual image inputs: each is decoded to upright 8-bit RGB or refused with a clear InputError."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from crimecast.vision import InputError
from crimecast.vision.decode import decode_image, sniff_kind
from crimecast.vision.preprocess import to_array
from PIL import Image


def _jpeg(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG signature + IHDR claiming w×h 8-bit RGB, followed by a tiny IDAT: a decompression-bomb header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def test_decode_rejects_zero_byte_file():
    with pytest.raises(InputError, match=r"empty\.jpg: empty file \(0 bytes\)"):
        decode_image(b"", "empty.jpg")


def test_decode_rejects_truncated_jpeg():
    data = _jpeg(Image.effect_noise((200, 150), 60).convert("RGB"))
    with pytest.raises(InputError, match=r"cut\.jpg: corrupt or truncated JPEG"):
        decode_image(data[: len(data) // 2], "cut.jpg")


def test_decode_rejects_text_file_named_jpg():
    with pytest.raises(InputError, match=r"notes\.jpg: not a recognised image format"):
        decode_image(b"this is not an image, just some text\n" * 3, "notes.jpg")


def test_decode_flattens_png_alpha_onto_white():
    im = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    im.paste((0, 0, 255, 255), (0, 0, 5, 10))  # opaque blue left half
    out = np.asarray(decode_image(_png(im), "alpha.png"))
    assert out.shape == (10, 10, 3)
    assert tuple(out[5, 2]) == (0, 0, 255)
    assert tuple(out[5, 8]) == (255, 255, 255)


def test_decode_grayscale_becomes_three_equal_channels():
    im = Image.linear_gradient("L").resize((64, 64))
    out = np.asarray(decode_image(_jpeg(im), "gray.jpg"))
    assert out.shape == (64, 64, 3)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_decode_scales_16bit_png_instead_of_clipping():
    arr = np.array([[0, 32896, 65535, 1000]], dtype=np.uint16)
    im = Image.fromarray(arr)
    assert im.mode.startswith("I;16")
    data = _png(im)
    out = np.asarray(decode_image(data, "deep.png"))
    assert out.shape == (1, 4, 3)
    assert out[0, :, 0].tolist() == [0, 128, 255, 4]


def test_decode_converts_cmyk_jpeg_to_rgb():
    im = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in CMYK
    out = np.asarray(decode_image(_jpeg(im), "cmyk.jpg"))
    assert out.shape == (16, 16, 3)
    r, g, b = out[8, 8].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_decode_applies_exif_rotation():
    im = Image.new("RGB", (40, 20), (0, 255, 0))
    im.paste((255, 0, 0), (0, 0, 20, 20))  # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was rotated: display rotated 90° clockwise
    out = decode_image(_jpeg(im, exif=exif.tobytes()), "rotated.jpg")
    assert out.size == (20, 40)
    a = np.asarray(out).astype(int)
    assert a[5, 10, 0] > 200 and a[35, 10, 1] > 200  # red now on top, green at the bottom


def test_decode_refuses_decompression_bomb_from_header():
    data = _png_header_only(20000, 20000)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb\.png: refused.*(400 MP|decompression bomb)"):
        decode_image(data, "bomb.png")
    assert time.perf_counter() - t0 < 1.0  # refused from the header, no 1.2 GB pixel buffer


def test_decode_refuses_large_image_below_pillows_own_limit():
    with pytest.raises(InputError, match=r"big\.png: refused, 8000×8000 = 64 MP exceeds the 40 MP limit"):
        decode_image(_png_header_only(8000, 8000), "big.png")


def test_sniff_kind_tells_images_from_videos():
    assert sniff_kind(b"\xff\xd8\xff\xe0" + b"\x00" * 12) == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 4) == "video"
    assert sniff_kind(b"RIFF\x00\x00\x00\x00AVI LIST") == "video"
    assert sniff_kind(b"hello world, text") is None


def test_preprocess_resizes_whole_frame_to_square():
    im = Image.new("RGB", (480, 270), (10, 20, 30))
    im.paste((200, 0, 0), (470, 0, 480, 270))  # a strip at the right edge survives (no centre crop)
    a = to_array(im, 224)
    assert a.shape == (224, 224, 3) and a.dtype == np.uint8
    assert a[100, 223, 0] > 150
