"""What the forecast job adds to its report besides the forecast: the other models' metadata (for the model
card) and the pictures of the uploads waiting for review (for the action summary's thumbnails)."""

from __future__ import annotations

import json
import logging
from typing import Any

from crimecast.storage import Storage

log = logging.getLogger(__name__)

MAX_REVIEW_BYTES = 5_000_000  # a picture larger than this gets a link-less entry, not a thumbnail


def model_cards(models: Storage, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{name: metadata.json} of the latest version under each model key (e.g. {"classifier": "models/classifier"});
    a model that is missing or unreadable is left out with a warning (the card then says "no metadata")."""
    from crimecast.models_cache import ModelNotFoundError, resolve_version

    out: dict[str, dict[str, Any]] = {}
    for name, key in keys.items():
        try:
            version = resolve_version(models, key.strip("/"), "latest")
            meta = json.loads(models.get_bytes(f"{key.strip('/')}/{version}/metadata.json"))
        except ModelNotFoundError:  # not deployed (e.g. no clip model): nothing to show, nothing to warn about
            continue
        except Exception as exc:  # noqa: BLE001 - the card says what is missing; the forecast run goes on
            log.warning("model card without the %s: %s", name, exc)
            continue
        if isinstance(meta, dict):
            out[name] = meta
    return out


def review_images(uploads: Storage | None, classifications: Any, limit: int = 8) -> dict[str, bytes]:
    """{key: bytes} of the newest uploads waiting for review (rated High or uncertain), at most `limit`."""
    from crimecast.report.summary import review_queue

    queue = review_queue(classifications)
    if uploads is None or queue is None or queue.empty or "key" not in queue.columns:
        return {}
    out: dict[str, bytes] = {}
    for key in queue["key"].astype(str).head(limit):
        try:
            head = uploads.head(key)
            if head.size > MAX_REVIEW_BYTES:
                continue
            out[key] = uploads.get_bytes(key)
        except Exception as exc:  # noqa: BLE001 - deleted or unreadable upload: listed without a picture
            log.warning("review thumbnail skipped for %s: %s", uploads.uri(key), exc)
    return out
