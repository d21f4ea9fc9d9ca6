"""Safe image decoding with Pillow and content sniffing (image vs video).

Every failure raises `InputError` (a ValueError) naming the input and what is wrong with it.
Decompression bombs are refused from the header (width × height) before any pixel is decoded.
Whatever the file holds (alpha, palette, grayscale, 16-bit, CMYK, EXIF orientation) comes out as an
upright 8-bit RGB `PIL.Image`.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

# 40 MP is far beyond any CCTV frame (4K = 8.3 MP) and keeps the decoded RGB under ~120 MB.
MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated JPEG is an error, not a grey half-image

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


class InputError(ValueError):
    """Bad input to the classifier: the message says what is wrong with which input."""


def sniff_file(p: Path, expected: str = "an image or video") -> str | None:
    """sniff_kind of an existing, non-empty regular file; a missing path, a folder or an empty file is an InputError."""
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not {expected}")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: empty file (0 bytes)")
    with open(p, "rb") as f:
        return sniff_kind(f.read(32))


def sniff_kind(head: bytes) -> str | None:
    """'image', 'video' or None from the first bytes of a file (content, not the file name)."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "image" if brand in (b"heic", b"heix", b"avif", b"mif1") else "video"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):  # MPEG-PS / MPEG-1/2
        return "video"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # QuickTime without ftyp
        return "video"
    return None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit RGB. Transparency is flattened onto white; 16-bit is scaled, not clipped."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(im).astype(np.float64)
        top = 65535.0 if (mode != "I" or arr.max() > 255) else 255.0
        return Image.fromarray(np.clip(arr * (255.0 / top) + 0.5, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.astype(np.uint8), "L").convert("RGB")
    if mode == "P" or mode == "PA":
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return im.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def decode_image(data: bytes, name: str = "<bytes>", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode image bytes to an upright 8-bit RGB image, or raise InputError naming `name`."""
    if len(data) == 0:
        raise InputError(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # lazy: reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{name}: refused, image too large to decode safely ({exc})") from None
    except Image.UnidentifiedImageError:
        kind = sniff_kind(data[:16])
        what = "a video, not an image" if kind == "video" else "not a recognised image format"
        raise InputError(f"{name}: {what} ({len(data)} bytes, starts with {data[:8]!r})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name}: cannot read image header: {exc}") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        raise InputError(f"{name}: image has zero size ({w}×{h})")
    if w * h > max_pixels or max(w, h) > MAX_SIDE:
        raise InputError(f"{name}: refused, {w}×{h} = {w * h / 1e6:.0f} MP exceeds the {max_pixels / 1e6:.0f} MP "
                         f"limit (possible decompression bomb); pixels were not decoded")
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)  # animated GIF / multi-page TIFF: the first frame
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"{name}: corrupt or truncated {im.format or 'image'} data: {exc}") from None
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not reject a readable image
        pass
    return _to_rgb(im)


def read_bytes(path: str | os.PathLike[str], max_bytes: int | None = None) -> bytes:
    """Read a file for classification with clear errors (missing, directory, too large)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not an image or video")
    size = p.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"{p}: {size} bytes exceeds the {max_bytes}-byte limit")
    return p.read_bytes()


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Decode an image file (see `decode_image`)."""
    return decode_image(read_bytes(path), str(path))
