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
        """(manifest, DataFrame) of the newest complete forecast run; re-read only when the run changes."""
        from crimecast.jobs.forecast_job import latest_manifest

        manifest = latest_manifest(self.stores.results, self.prefixes())
        if manifest is None:
            return None
        stamp = f"{manifest['run_date']}|{manifest['created_at']}"
        with self._cache_lock:
            if self._forecast_cache.get("stamp") == stamp:
                return manifest, self._forecast_cache["df"]
        import io

        import pandas as pd

        df = pd.read_parquet(io.BytesIO(self.stores.results.get_bytes(manifest["forecasts_key"])))
        with self._cache_lock:
            self._forecast_cache.update(stamp=stamp, df=df)
        return manifest, df

    def prefixes(self) -> Any:
        from crimecast.jobs.forecast_job import Prefixes

        return Prefixes.from_settings(self.settings)


def get_context(request: Request) -> ApiContext:
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        s = get_settings()
        ctx = request.app.state.ctx = ApiContext(s, Stores.from_settings(s))
    return ctx


Ctx = Annotated[ApiContext, Depends(get_context)]
