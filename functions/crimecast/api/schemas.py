"""The API's typed contract: response models (every field described) and the problem document.

These models are what /openapi.json and /docs show; FastAPI validates every response against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The stored records (one definition, shared with the jobs that write them): crimecast.records.
from crimecast.records import ClassificationResult, ForecastRow, Timings  # noqa: F401 (Timings re-exported)


class ProblemDetails(BaseModel):
    """An error (RFC 9457 problem details, media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="URI naming the kind of problem (its last segment is a short slug)")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request and how to fix it")
    instance: str = Field(description="the request path")


class ModelSummary(BaseModel):
    name: str = Field(description="classifier or forecaster")
    version: str | None = Field(description="the model version folder that is served (e.g. v3)")
    trained_on_kind: str = Field(description="real | synthetic | unknown (from the model's metadata.json)")
    trained_on: dict[str, Any] | None = Field(None, description="what the model was trained on: kind, sources, "
                                                                "n_items (from metadata.json)")
    validation: dict[str, Any] | None = Field(None, description="the validated accuracy recorded with the model")
    warning: str | None = Field(description="a plain warning when the model is synthetic-only or its training "
                                            "data is not stated; null for a model trained on real data")


class Classification(ClassificationResult):
    """One image or clip, triaged (the stored/served record is crimecast.records.ClassificationResult)."""

    model: ModelSummary | None = Field(None, description="what the model was trained on, and a warning when it is "
                                                         "synthetic-only or unstated")


class StoredClassification(Classification):
    """The S3-drop classifier's stored result for an upload."""

    id: str | None = Field(None, description="the upload id")


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field("upload.bin", min_length=1, max_length=200,
                          description="original file name (its extension matters: .jpg, .mp4, ...)")
    content_type: str | None = Field(None, max_length=100,
                                     description="image/* or video/*; the PUT must send this Content-Type")
    size: int | None = Field(None, ge=1, le=10**13, description="bytes, if known (refused early when over the "
                                                                "limit)")


class UploadTicket(BaseModel):
    id: str = Field(description="upload id (32 hex digits)")
    method: str = Field("PUT", description="HTTP method to upload with")
    url: str = Field(description="presigned S3 URL; valid until expires_at")
    key: str = Field(description="the object key the upload will have (incoming/<id>/<name>)")
    headers: dict[str, str] = Field(description="headers the PUT must send (the signed Content-Type)")
    expires_at: str = Field(description="when the URL stops working (ISO 8601, UTC)")
    expires_in_s: int = Field(description="seconds the URL is valid")
    max_bytes: int = Field(description="largest object the classifier reads; larger uploads are refused")
    result_url: str = Field(description="poll this (GET) for the classification; 404 until it is ready")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a model or the forecasts are missing")
    version: str = Field(description="crimecast code version")
    models: dict[str, Any] = Field(description="per model (classifier, forecaster): key, configured_version, "
                                               "version (resolved), available versions")
    model_summaries: list[ModelSummary] = Field(description="served models: version, what they were trained on, "
                                                            "warnings")
    warnings: list[str] = Field(description="plain warnings (e.g. a synthetic-only model is in use)")
    latest_run: str | None = Field(description="run date of the newest complete forecast run")
    runs: int = Field(description="number of complete forecast runs")
    problems: list[str] = Field(description="what is missing, when status is degraded")


class ForecastPage(BaseModel):
    run_date: str = Field(description="the forecast run's date")
    model_version: str | None = Field(description="forecaster version of the run")
    forecast_from: str = Field(description="first forecast day of the run")
    forecast_to: str = Field(description="last forecast day of the run")
    total: int = Field(description="rows matching the filters (all pages)")
    offset: int = Field(description="index of this page's first row among the matches")
    count: int = Field(description="rows on this page")
    next_offset: int | None = Field(description="offset of the next page, null on the last page")
    units: str = Field(description="unit of y_pred and the bounds (crimes/day)")
    rows: list[ForecastRow] = Field(description="the forecast rows, by district, category and date")


class HotspotRow(BaseModel):
    rank: int = Field(description="1 = most expected severity-weighted crime")
    district: str = Field(description="police district")
    weighted: float = Field(description="expected severity-weighted incidents that day (the ranking key; "
                                        "weights per category as in the report)")
    y_pred: float = Field(description="expected incidents that day, all categories")
    lo80_sum: float | None = Field(description="sum of the categories' 80 % lower bounds (a rough band)")
    hi80_sum: float | None = Field(description="sum of the categories' 80 % upper bounds (a rough band)")
    share: float = Field(description="the district's share of the day's weighted total, 0..1")
    top_category: str = Field(description="category with the most expected incidents in the district")
    by_category: dict[str, float] = Field(description="expected incidents per category, largest first")


class Hotspots(BaseModel):
    run_date: str = Field(description="the forecast run's date")
    date: str = Field(description="the ranked day")
    units: str = Field(description="unit of y_pred (crimes/day)")
    model_version: str | None = Field(description="forecaster version of the run")
    ranking: str = Field(description="how districts are ranked (the same function ranks them in the report)")
    hotspots: list[HotspotRow] = Field(description="districts, highest expected weighted crime first")


class AllocationRow(BaseModel):
    district: str = Field(description="police district")
    units: int = Field(description="patrol units assigned for the shift")
    expected_weighted: float = Field(description="expected severity-weighted incidents that day")
    covered_weighted: float = Field(description="of those, the expected share covered by the assigned units "
                                                "(diminishing returns per extra unit)")
    forecast_share: float = Field(description="the district's share of all expected weighted incidents, 0..1")
    unit_share: float = Field(description="the district's share of the patrol units, 0..1")
    equity_ratio: float | None = Field(description="unit_share / forecast_share: 1 = units in proportion to "
                                                   "expected harm, < 1 = fewer units than its share of harm, "
                                                   "> 1 = more; null when the district expects nothing")
    visits_per_shift: int = Field(description="hot-spot visits per shift (Koper curve dosage)")
    visit_minutes: int = Field(description="minutes per visit (10-16, longer in busier districts)")
    revisit_minutes: int = Field(description="minutes between visits to the same hot spot")
    expected_weighted_hi80: float | None = Field(description="severity-weighted 80 % upper bound of the day's "
                                                             "incidents")


class Allocation(BaseModel):
    run_date: str = Field(description="the forecast run's date")
    date: str = Field(description="the planned day")
    units: int = Field(description="patrol units placed (per shift)")
    model_version: str | None = Field(description="forecaster version of the run")
    districts: list[AllocationRow] = Field(description="one row per district, most expected harm first")
