"""Frame sources: an image file, a video file (paced like a camera) or a live camera / stream.

`parse_source` decides what a source is from its content (not its name), so a text file or anything
else that is neither an image nor a video is refused with a sentence, before any decoding. The
sources yield `Frame`s (time, RGB pixels for the window, JPEG bytes for the back-end).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crimecast.gui.common import ClientError

SNIFF_BYTES = 4096
# Video containers that the vision module's sniffer does not list but OpenCV plays.
_MORE_VIDEO_MAGIC = (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"FLV", b"OggS")


@dataclass
class Frame:
    t: float  # seconds since the start of the source
    rgb: Any  # numpy (H, W, 3) uint8
    jpeg: bytes  # b"" for a frame that is not due for classification
    due: bool = True  # due for the image model (one every `sample_s`); the others only feed a clip model


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut at the end of the sample
    return True


def sniff_file(path: Path) -> str:
    """'image' or 'video' from the first bytes of the file; ClientError when it is neither."""
    from crimecast.vision.decode import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, sniff_kind

    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise ClientError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise ClientError(f"{path}: is empty (0 bytes), not an image or video")
    kind = sniff_kind(head[:32])
    if kind:
        return kind
    if head.startswith(_MORE_VIDEO_MAGIC) or (len(head) > 188 and head[0] == head[188] == 0x47):  # MPEG-TS
        return "video"
    if _looks_like_text(head):
        raise ClientError(f"{path}: not an image or video (it is a text file); choose a picture (JPEG, PNG, …) "
                          "or a video (MP4, AVI, …)")
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"  # an image format without a magic number the sniffer knows: the decoder decides
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    raise ClientError(f"{path}: not an image or video (unrecognised content, starts with {head[:8]!r})")


def parse_source(spec: str) -> tuple[str, Any]:
    """('image', path) | ('video', path) | ('camera', index or URL). Raises ClientError."""
    spec = spec.strip()
    if not spec:
        raise ClientError("choose an image or video file, or enter a camera index or stream URL")
    if spec.isdigit():
        return "camera", int(spec)
    if "://" in spec:
        return "camera", spec
    p = Path(spec).expanduser()
    if not p.exists():
        raise ClientError(f"{p}: no such file")
    if p.is_dir():
        raise ClientError(f"{p}: is a folder, not an image or video file")
    return sniff_file(p), str(p)


def _encode(rgb: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ClientError("could not encode the frame as JPEG")
    return buf.tobytes()


def read_image(path: str) -> Frame:
    """One frame from an image file, decoded the way the API decodes uploads (any mode → upright RGB)."""
    import numpy as np

    from crimecast.vision.decode import InputError, decode_image

    try:
        rgb = np.asarray(decode_image(Path(path).read_bytes(), path))
    except InputError as exc:
        raise ClientError(f"not an image or video this client can read: {exc}") from None
    except OSError as exc:
        raise ClientError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return Frame(0.0, rgb, _encode(rgb))


def iter_frames(kind: str, target: Any, sample_s: float, stop: threading.Event,
                realtime: bool = True, every_frame: bool = False) -> Iterator[Frame]:
    """Yield one Frame every `sample_s` seconds of video (files paced in real time, like a camera); with
    `every_frame`, every frame, those in between with `due` False (for a clip model, which samples on its own grid
    and builds its dynamic images from the source frames)."""
    import cv2

    cap = cv2.VideoCapture(target)
    try:
        if not cap.isOpened():
            if kind == "camera":
                raise ClientError(f"cannot open camera {target} (OpenCV could not read it)")
            raise ClientError(f"{target}: not an image or video this client can read (OpenCV could not open it "
                              "as a video)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        file_like = kind == "video" or (fps > 0 and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 0)
        start = time.monotonic()
        next_t, i, got_any = 0.0, 0, False
        while not stop.is_set():
            ok, bgr = cap.read()
            if not ok:
                if not got_any:
                    raise ClientError(f"{'camera' if kind == 'camera' else 'video'} {target}: no frames could be read")
                return
            got_any = True
            t = i / fps if (file_like and fps > 0) else time.monotonic() - start
            i += 1
            due = t + 1e-9 >= next_t
            if not (due or every_frame):
                continue
            if due:
                next_t = t + sample_s
            if realtime and file_like:
                wait = t - (time.monotonic() - start)
                if wait > 0 and stop.wait(wait):
                    return
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(round(t, 3), rgb, _encode(rgb) if due else b"", due)
    finally:
        cap.release()


def frames_of(kind: str, target: Any, sample_s: float, stop: threading.Event, realtime: bool = True,
              every_frame: bool = False) -> Iterator[Frame]:
    """Every frame a source gives: one for an image, a paced stream for a video or camera."""
    if kind == "image":
        yield read_image(target)
        return
    yield from iter_frames(kind, target, sample_s, stop, realtime, every_frame)
