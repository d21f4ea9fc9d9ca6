"""Images to the image model, videos to the clip model (when one is deployed): one classifier for the S3-drop
job, the API and the CLI.

`load_routed(store, settings)` is what `models_cache.load_classifier` hands out: the image classifier named
by the settings, wrapped with the clip model under `models/clip/` (latest version) when that prefix holds one.
Without a deployed clip model everything behaves as before (videos get the image model's k-of-n vote).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from crimecast.vision.decode import sniff_kind

CLIP_MODEL_NAME = "clip"
_NEGATIVE_TTL_S = 60.0  # how long "no clip model deployed" is believed before the store is listed again
_lock = threading.Lock()
_absent: dict[str, float] = {}


class RoutedClassifier:
    """`classify_bytes` / `classify_path` like the image classifier; videos go to `clip` when it is set."""

    def __init__(self, image: object, clip: object | None) -> None:
        self.image = image
        self.clip = clip

    @property
    def version(self) -> str | None:
        return getattr(self.image, "version", None)

    def _is_video(self, head: bytes, content_type: str | None) -> bool:
        kind = sniff_kind(head[:32])
        return kind == "video" or (kind is None and bool(content_type and content_type.startswith("video/")))

    def classify_bytes(self, data: bytes, filename: str | None = None, content_type: str | None = None) -> dict:
        if self.clip is not None and data and self._is_video(data, content_type):
            return self.clip.classify_bytes(data, filename=filename, content_type=content_type)  # type: ignore
        return self.image.classify_bytes(data, filename=filename, content_type=content_type)  # type: ignore

    def classify_path(self, path: object) -> dict:
        p = Path(str(path))
        if self.clip is not None and p.is_file() and p.stat().st_size:
            with open(p, "rb") as f:
                if self._is_video(f.read(32), None):
                    return self.clip.classify_path(p)  # type: ignore[attr-defined, no-any-return]
        return self.image.classify_path(path)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.image, name)


def clip_model_key() -> str:
    """Where clip model versions live in the models store (`layout.model_key`)."""
    from crimecast import layout as L

    return L.model_key(CLIP_MODEL_NAME)


def load_clip(store: object, cache_dir: str, key: str | None = None) -> tuple[object | None, object | None]:
    """(ClipClassifier, ModelRef) for the latest clip model under `key`, or (None, None) when none is deployed."""
    from crimecast import models_cache as mc
    from crimecast.vision.clip_model import ClipClassifier

    key = key or clip_model_key()
    uri = store.uri(key)  # type: ignore[attr-defined]
    with _lock:
        since = _absent.get(uri)
    if since is not None and time.monotonic() - since < _NEGATIVE_TTL_S:
        return None, None
    try:
        version = mc._resolve_latest(store, key)  # type: ignore[arg-type]  (TTL-cached listing)
    except mc.ModelNotFoundError:
        with _lock:
            _absent[uri] = time.monotonic()
        return None, None
    memo = ("clip", uri, version)
    with _lock:
        hit = mc._loaded.get(memo)
    if hit is not None:
        return hit
    ref = mc.fetch_model(store, key, version, cache_dir)  # type: ignore[arg-type]
    model = ClipClassifier().load_model(ref.path)
    with _lock:
        mc._loaded[memo] = (model, ref)
    return model, ref


def clear() -> None:
    with _lock:
        _absent.clear()
