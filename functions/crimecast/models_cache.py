"""Fetch a model directory from the models store into a local cache, once per process (cold start).

Layout in the store: `<key>/<version>/{model.tflite, metadata.json}` (e.g. models/classifier/v3/).
`version="latest"` picks the highest version folder (natural order: v10 > v9). The local copy lives at
`<cache_dir>/<key>/<version>/` and is written via a temporary folder + rename, so a crash never leaves
a half-downloaded model that a later invocation would trust.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from crimecast.storage import NotFound, Storage

MODEL_FILES = ("model.tflite", "metadata.json")
_lock = threading.Lock()
_memo: dict[tuple[str, str, str, str], ModelRef] = {}


class ModelNotFoundError(LookupError):
    """No usable model under the configured key/version."""


@dataclass(frozen=True)
class ModelRef:
    key: str  # e.g. models/classifier
    version: str  # resolved folder name, e.g. v3
    path: Path  # local directory with model.tflite + metadata.json
    uri: str  # where it came from

    def as_dict(self) -> dict[str, str]:
        return {"model_key": f"{self.key}/{self.version}", "model_version": self.version, "model_uri": self.uri}


def _natural(s: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def list_versions(store: Storage, key: str) -> list[str]:
    """Version folders under `key/` that hold a metadata.json, oldest → newest."""
    prefix = key.strip("/") + "/"
    versions = {info.key[len(prefix):].split("/")[0] for info in store.list(prefix)
                if info.key.endswith("/metadata.json") and info.key.count("/") == prefix.count("/") + 1}
    return sorted(versions, key=_natural)


def resolve_version(store: Storage, key: str, version: str) -> str:
    if version and version != "latest":
        return version
    versions = list_versions(store, key)
    if not versions:
        raise ModelNotFoundError(f"no model versions under {store.uri(key.strip('/') + '/')} "
                                 "(expected <version>/model.tflite + metadata.json)")
    return versions[-1]


def fetch_model(store: Storage, key: str, version: str, cache_dir: str | os.PathLike[str]) -> ModelRef:
    """Download `key/version/` into `cache_dir` unless this process already did; return where it is."""
    key = key.strip("/")
    memo_key = (store.uri(""), key, version, str(cache_dir))
    with _lock:
        if memo_key in _memo and (_memo[memo_key].path / "model.tflite").exists():
            return _memo[memo_key]
        resolved = resolve_version(store, key, version)
        dest = Path(cache_dir) / key / resolved
        if not all((dest / f).is_file() for f in MODEL_FILES):
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{resolved}.", dir=dest.parent))
            try:
                prefix = f"{key}/{resolved}/"
                # Everything under the version prefix: metadata.json may name more files (e.g. model variants).
                names = [i.key[len(prefix):] for i in store.list(prefix) if "/" not in i.key[len(prefix):]]
                for f in MODEL_FILES:
                    if f not in names:
                        raise ModelNotFoundError(f"model file missing: {store.uri(prefix + f)}")
                for f in names:
                    try:
                        store.download_file(prefix + f, tmp / f)
                    except NotFound:
                        raise ModelNotFoundError(f"model file vanished while downloading: {store.uri(prefix + f)}") \
                            from None
                json.loads((tmp / "metadata.json").read_text())  # fail here, not at first request
                if dest.exists():
                    shutil.rmtree(dest)
                tmp.rename(dest)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        ref = ModelRef(key, resolved, dest, store.uri(f"{key}/{resolved}/"))
        _memo[memo_key] = ref
        return ref


def upload_model(store: Storage, model_dir: str | os.PathLike[str], key: str, version: str | None = None) -> str:
    """Upload a model directory's files to `key/<version>/`; the version defaults to metadata.json's."""
    model_dir = Path(model_dir)
    if not (model_dir / "metadata.json").is_file():
        raise ModelNotFoundError(f"{model_dir}: no metadata.json (not a model directory)")
    meta = json.loads((model_dir / "metadata.json").read_text())
    version = version or str(meta.get("version") or "v1")
    missing = [f for f in MODEL_FILES if not (model_dir / f).is_file()]
    if missing:
        raise ModelNotFoundError(f"{model_dir}: missing {missing} (a model is model.tflite + metadata.json)")
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and not f.name.startswith("."):
            store.upload_file(f, f"{key.strip('/')}/{version}/{f.name}")
    return version


def clear_memo() -> None:
    """Forget what this process fetched (tests; the files stay in the cache)."""
    with _lock:
        _memo.clear()


_loaded: dict[tuple[str, str, str], tuple[object, ModelRef]] = {}


class Serialized:
    """A loaded classifier whose `classify_*` calls run one at a time.

    A LiteRT interpreter is not thread-safe, and one process may call it from several threads (uvicorn's
    thread pool; the demo's S3-event poller beside the API). Other attributes pass through.
    """

    def __init__(self, model: object) -> None:
        self._model = model
        self._lock = threading.Lock()

    def classify_bytes(self, data: bytes, filename: str | None = None, content_type: str | None = None) -> dict:
        with self._lock:
            return self._model.classify_bytes(data, filename=filename, content_type=content_type)  # type: ignore

    def classify_path(self, path: object) -> dict:
        with self._lock:
            return self._model.classify_path(path)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self._model, name)


LATEST_TTL_S = 60.0  # how often a warm process re-lists the versions behind "latest" (promotions, no redeploy)
_latest: dict[tuple[str, str], tuple[float, str]] = {}


def _resolve_latest(store: Storage, key: str) -> str:
    import time

    k = (store.uri(key), key)
    with _lock:
        hit = _latest.get(k)
    if hit is not None and time.monotonic() - hit[0] < LATEST_TTL_S:
        return hit[1]
    version = resolve_version(store, key.strip("/"), "latest")
    with _lock:
        _latest[k] = (time.monotonic(), version)
    return version


def _load(kind: str, store: Storage, key: str, version: str, cache_dir: str) -> tuple[object, ModelRef]:
    if not version or version == "latest":  # a promoted version is picked up within LATEST_TTL_S
        version = _resolve_latest(store, key)
    memo_key = (kind, store.uri(key), version)
    with _lock:
        hit = _loaded.get(memo_key)
    if hit is not None:
        return hit
    ref = fetch_model(store, key, version, cache_dir)
    if kind == "classifier":
        from crimecast.vision import CrimeImageClassifier

        model: object = CrimeImageClassifier()
    else:
        from crimecast.forecast import CrimeForecaster

        model = CrimeForecaster()
    loaded = model.load_model(ref.path)  # type: ignore[attr-defined]
    model = loaded if loaded is not None else model
    if kind == "classifier":
        model = Serialized(model)
    with _lock:
        _loaded[memo_key] = (model, ref)
    return model, ref


def load_classifier(store: Storage, settings: object) -> tuple[object, ModelRef]:
    """The `CrimeImageClassifier` named by the settings, fetched and loaded once per process; when a clip model
    is deployed (models/clip/<version>/), videos go to it (`crimecast.vision.clip_router`)."""
    from crimecast.vision.clip_router import RoutedClassifier, load_clip

    s = settings
    model, ref = _load("classifier", store, s.classifier_model_key,  # type: ignore[attr-defined]
                       s.classifier_model_version, s.model_cache_dir)  # type: ignore[attr-defined]
    clip, _clip_ref = load_clip(store, s.model_cache_dir)  # type: ignore[attr-defined]
    return (RoutedClassifier(model, Serialized(clip)) if clip is not None else model), ref


def load_forecaster(store: Storage, settings: object) -> tuple[object, ModelRef]:
    """The `CrimeForecaster` named by the settings, fetched and loaded once per process."""
    s = settings
    return _load("forecaster", store, s.forecaster_model_key, s.forecaster_model_version,  # type: ignore[attr-defined]
                 s.model_cache_dir)  # type: ignore[attr-defined]


def clear_loaded() -> None:
    """Forget loaded models (tests)."""
    with _lock:
        _loaded.clear()
        _latest.clear()
        _memo.clear()
