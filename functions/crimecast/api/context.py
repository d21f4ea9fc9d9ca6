"""What the routes share: settings, the stores, the lazily loaded models (once per process)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from crimecast.settings import Settings, get_settings
from crimecast.storage import Stores


@dataclass
class ApiContext:
    settings: Settings
    stores: Stores
    _forecast_cache: dict[str, Any] = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def classifier(self) -> tuple[Any, Any]:
        from crimecast.models_cache import load_classifier

        return load_classifier(self.stores.models, self.settings)

    def latest_forecasts(self) -> tuple[dict[str, Any], Any] | None:
        """(manifest, ServingForecasts) of the newest complete forecast run; re-read only when the run changes.

        Reads the run's numpy serving artifact (`crimecast.serving`), never the Parquet: no pandas here."""
        from crimecast.layout import latest_manifest
        from crimecast.serving import ArtifactError, ServingForecasts

        manifest = latest_manifest(self.stores.results, self.prefixes())
        if manifest is None:
            return None
        stamp = f"{manifest['run_date']}|{manifest['created_at']}"
        with self._cache_lock:
            if self._forecast_cache.get("stamp") == stamp:
                return manifest, self._forecast_cache["run"]
        key = manifest.get("serving_key")
        if not key:
            raise ArtifactError(f"the latest forecast run ({manifest['run_date']}) was written by an older forecast "
                                "job without the API's serving artifact; run the forecast job again")
        run = ServingForecasts.from_bytes(self.stores.results.get_bytes(key))
        with self._cache_lock:
            self._forecast_cache.update(stamp=stamp, run=run)
        return manifest, run

    def model_summary(self, name: str, key: str, version: str | None) -> dict[str, Any]:
        """Version, training data kind and warning of one model version (its metadata.json, read once)."""
        from crimecast.provenance import model_summary

        if version is None:
            return model_summary(None, name=name, version=None)
        cache_key = f"model|{key}|{version}"
        with self._cache_lock:
            meta = self._forecast_cache.get(cache_key)
        if meta is None:
            import json

            from crimecast.storage import NotFound

            try:
                meta = json.loads(self.stores.models.get_bytes(f"{key.strip('/')}/{version}/metadata.json"))
            except (NotFound, ValueError):
                meta = {}
            with self._cache_lock:
                self._forecast_cache[cache_key] = meta
        return model_summary(meta, name=name, version=version)

    def prefixes(self) -> Any:
        from crimecast.layout import Prefixes

        return Prefixes.from_settings(self.settings)


async def get_context(request: Request) -> ApiContext:  # async: no thread-pool hop per request
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        s = get_settings()
        ctx = request.app.state.ctx = ApiContext(s, Stores.from_settings(s))
    return ctx


Ctx = Annotated[ApiContext, Depends(get_context)]
