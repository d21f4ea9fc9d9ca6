"""Typed configuration for the Lambda functions, the local API and the demo.

One pydantic-settings model reads the environment variables named in `crimecast.env_names` (the
module `infra/` imports too), so what the CDK stack sets and what the code reads cannot drift.
Validated once per process (`get_settings()` is cached); tests call `get_settings.cache_clear()`.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crimecast import env_names as E
from crimecast import layout as L


def _env(name: str, default: object, description: str, **kw: object) -> object:
    return Field(default, validation_alias=AliasChoices(name), description=f"{name}: {description}", **kw)


def _prefix(value: str) -> str:
    """Normalise an S3 key prefix to 'a/b/' (no leading slash, one trailing slash)."""
    return L.norm_prefix(value)


class Settings(BaseSettings):
    """Everything a crimecast function reads from its environment (names: `crimecast.env_names`)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False, frozen=True)

    uploads_bucket: str = _env(E.UPLOADS_BUCKET, "crimecast-uploads", "bucket with incoming/ uploads")
    data_bucket: str = _env(E.DATA_BUCKET, "crimecast-data", "bucket with data/ counts, events, weather")
    results_bucket: str = _env(E.RESULTS_BUCKET, "crimecast-results", "bucket for results/ and forecasts/")
    reports_bucket: str = _env(E.REPORTS_BUCKET, "crimecast-reports", "bucket for reports/")
    models_bucket: str = _env(E.MODELS_BUCKET, "crimecast-models", "bucket with models/<name>/<version>/")

    # Prefix defaults: the storage layout (crimecast.layout), which infra/ deploys as well.
    incoming_prefix: str = _env(E.INCOMING_PREFIX, L.INCOMING, "trigger prefix of the classifier")
    results_prefix: str = _env(E.RESULTS_PREFIX, L.RESULTS, "classification results prefix")
    forecasts_prefix: str = _env(E.FORECASTS_PREFIX, L.FORECASTS, "forecast Parquet dataset prefix")
    reports_prefix: str = _env(E.REPORTS_PREFIX, L.REPORTS, "HTML report prefix")
    data_prefix: str = _env(E.DATA_PREFIX, L.DATA, "input tables prefix")
    uploads_prefix: str = _env(E.UPLOADS_PREFIX, L.UPLOAD_RECORDS, "presigned-upload records in the uploads bucket")

    classifier_model_key: str = _env(E.CLASSIFIER_MODEL_KEY, L.model_key(L.CLASSIFIER), "S3 prefix of the classifier")
    classifier_model_version: str = _env(E.CLASSIFIER_MODEL_VERSION, "latest",
                                         "classifier version (a folder name, or 'latest')")
    forecaster_model_key: str = _env(E.FORECASTER_MODEL_KEY, L.model_key(L.FORECASTER), "S3 prefix of the forecaster")
    forecaster_model_version: str = _env(E.FORECASTER_MODEL_VERSION, "latest",
                                         "forecaster version (a folder name, or 'latest')")

    model_cache_dir: str = _env(E.MODEL_CACHE_DIR, "/tmp/crimecast-models", "local model cache (Lambda: /tmp)")
    max_inline_bytes: Annotated[int, Field(gt=0)] = _env(
        E.MAX_INLINE_BYTES, 6_000_000, "largest request body /v1/classify accepts (Lambda payload limit ≈ 6 MB)")
    presign_expires_s: Annotated[int, Field(gt=0, le=7 * 24 * 3600)] = _env(
        E.PRESIGN_EXPIRES_S, 900, "lifetime of presigned upload URLs, seconds")
    max_object_bytes: Annotated[int, Field(gt=0)] = _env(
        E.MAX_OBJECT_BYTES, 200_000_000, "largest uploaded object the S3-drop classifier reads, bytes")
    video_sample_fps: float | None = _env(E.VIDEO_SAMPLE_FPS, None, "frames per second sampled from videos")
    video_max_frames: int | None = _env(E.VIDEO_MAX_FRAMES, None, "most frames classified per video")
    video_max_seconds: float | None = _env(E.VIDEO_MAX_SECONDS, None, "longest video accepted, seconds")
    max_stale_days: Annotated[int, Field(ge=0, le=365)] = _env(
        E.MAX_STALE_DAYS, 3, "forecast job: refuse when the feed's last complete day is older than this (days)")
    report_allocation_units: Annotated[int, Field(ge=1)] | None = _env(
        E.REPORT_ALLOCATION_UNITS, None, "forecast job: patrol units the report's allocation plans (unset: no plan)")
    s3_endpoint_url: str | None = _env(E.S3_ENDPOINT_URL, None, "S3 endpoint (moto server locally; unset on AWS)")

    @field_validator("incoming_prefix", "results_prefix", "forecasts_prefix", "reports_prefix", "data_prefix",
                     "uploads_prefix")
    @classmethod
    def _norm_prefix(cls, v: str) -> str:
        return _prefix(v)

    @field_validator("uploads_prefix")
    @classmethod
    def _not_under_incoming(cls, v: str, info: object) -> str:
        incoming = getattr(info, "data", {}).get("incoming_prefix", "")
        if incoming and v.startswith(incoming):
            raise ValueError(f"uploads prefix {v!r} must not lie under the trigger prefix {incoming!r}")
        return v

    @field_validator("classifier_model_key", "forecaster_model_key")
    @classmethod
    def _norm_key(cls, v: str) -> str:
        v = v.strip().strip("/")
        if not v:
            raise ValueError("model key must not be empty (e.g. models/classifier)")
        return v

    @field_validator("s3_endpoint_url")
    @classmethod
    def _empty_is_none(cls, v: str | None) -> str | None:
        return v or None

    @model_validator(mode="after")
    def _no_recursion(self) -> Settings:
        # The classifier writes results/; if that lay under its own trigger prefix it would re-trigger itself.
        if self.uploads_bucket == self.results_bucket and self.results_prefix.startswith(self.incoming_prefix):
            raise ValueError(f"results prefix {self.results_prefix!r} lies under the trigger prefix "
                             f"{self.incoming_prefix!r} of the same bucket: results would re-trigger the classifier")
        return self

    def env(self) -> dict[str, str]:
        """The environment that reproduces these settings (for subprocesses and the demo)."""
        out: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            value = getattr(self, name)
            if value is None or not isinstance(alias, AliasChoices):
                continue
            out[str(alias.choices[0])] = str(value)
        return out


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, validated once (cold start)."""
    return Settings()
