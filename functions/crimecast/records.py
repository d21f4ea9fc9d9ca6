"""Typed records crimecast stores and serves (pydantic): classification results, run manifests, table rows.

One definition each, used on both sides: the jobs validate what they store with them, and the API uses them
(or subclasses them) as response models, so /openapi.json describes exactly what is stored. The flat table
rows (`ForecastRow`, `ClassificationRow`) are generated from the column contracts in `crimecast.tables`, the
same lists that give the Parquet (pyarrow) schemas and the Glue columns.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from crimecast.tables import CLASSIFICATION_ROWS, FORECASTS, Table

_JSON_TYPES: dict[str, Any] = {"string": str, "timestamp": str, "int64": int, "float64": float, "bool": bool}


def row_model(table: Table, name: str, doc: str) -> type[BaseModel]:
    """A pydantic model with one field per column of `table` (timestamps as ISO dates in JSON)."""
    fields: dict[str, Any] = {}
    for c in table.columns:
        typ = _JSON_TYPES[c.type]
        desc = c.description + (" (YYYY-MM-DD)" if c.type == "timestamp" else "")
        fields[c.name] = (typ, Field(description=desc)) if not c.nullable else (typ | None, Field(description=desc))
    model = create_model(name, __doc__=doc, **fields)
    model.__module__ = __name__
    return model


ForecastRow = row_model(FORECASTS, "ForecastRow", "One forecast: a series, a day, the expected count and intervals.")
ClassificationRow = row_model(CLASSIFICATION_ROWS, "ClassificationRow",
                              "One classified object as a row of the classification table.")


class Timings(BaseModel):
    model_config = ConfigDict(extra="allow")
    decode: float | None = Field(None, description="decoding the image or video, ms")
    preprocess: float | None = Field(None, description="resizing/normalising, ms")
    inference: float | None = Field(None, description="the LiteRT model, ms")
    total: float | None = Field(None, description="decode + preprocess + inference, ms")
    request: float | None = Field(None, description="the whole request inside the API, ms")


class ClassificationResult(BaseModel):
    """One image or clip, triaged (what `CrimeImageClassifier.classify_*` returns and the API answers)."""

    model_config = ConfigDict(extra="allow")
    risk_level: str = Field(description="High | Medium | Low")
    confidence: float = Field(description="calibrated probability of the chosen level, 0..1")
    probabilities: dict[str, float] = Field(description="calibrated probability per level (High, Medium, Low)")
    action: str = Field(description="recommended action for the level (immediate response / monitor / routine "
                                    "patrol)")
    uncertain: bool = Field(description="true when the model is not confident enough: a human should review")
    model_version: str | None = Field(description="the classifier version that answered")
    model_key: str | None = Field(None, description="models/<name>/<version> in the models store")
    model_uri: str | None = Field(None, description="where the served model was fetched from")
    frames: list[dict[str, Any]] | None = Field(None, description="videos: per sampled frame {t, risk_level, "
                                                                  "confidence}")
    review_reason: str | None = Field(None, description="why a human should review (low confidence, or the "
                                                        "input looks unlike the training images); null when not "
                                                        "uncertain")
    ood_score: float | None = Field(None, description="distance of the input's features from the training "
                                                      "images (larger = less like them)")
    model_kind: str | None = Field(None, description="\"clip\" when a clip model answered a video (else the image "
                                                     "model)")
    timeline: list[dict[str, Any]] | None = Field(None, description="clip model: per sliding window {start_s, "
                                                                    "end_s, risk_level, confidence, p_high}")
    high_segments: list[dict[str, Any]] | None = Field(None, description="clip model: the stretches rated High "
                                                                         "{start_s, end_s, confidence, windows}")
    decision_span_s: list[float] | None = Field(None, description="clip model: the span [start, end] in seconds "
                                                                  "the clip decision rests on")
    clip: dict[str, Any] | None = Field(None, description="clip model: how the video was sampled (frames, fps, "
                                                          "windows, duration, size, notes)")
    timings_ms: Timings | None = Field(None, description="where the time went, milliseconds")


class StoredResult(BaseModel):
    """What the S3-drop classifier stores per object version (`results/json/<id>/<version>.json`): a result,
    or an error result (status "error") for an object it could not classify."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="the upload id, or a hash of the object key")
    bucket: str | None = Field(None, description="bucket the object was uploaded to")
    key: str = Field(description="the uploaded object's key")
    version: str = Field(description="object version (VersionId, else ETag) the result is for")
    status: str = Field(description="ok | error")
    error: str | None = Field(None, description="why the object could not be classified (status error)")
    error_type: str | None = Field(None, description="kind of error (status error)")
    risk_level: str | None = Field(None, description="High | Medium | Low (status ok)")
    classified_at: str = Field(description="when it was classified (ISO 8601, UTC)")
    latency_ms: float = Field(description="from the event to the stored result, ms")
    row_key: str = Field(description="the result's row in the classification table")


class RunManifest(BaseModel):
    """`runs/<date>/manifest.json`, written last by the forecast job: a run exists once its manifest does."""

    model_config = ConfigDict(extra="allow")
    run_date: str = Field(description="the run's date (YYYY-MM-DD)")
    created_at: str = Field(description="when the run completed (ISO 8601, UTC)")
    complete: bool = Field(description="always true: incomplete runs have no manifest")
    forecasts_key: str = Field(description="the run's forecasts Parquet (forecasts/run_date=…/part.parquet)")
    forecasts_uri: str = Field(description="the same, as a URI")
    rows: int = Field(description="forecast rows (series × horizon days)")
    series: int = Field(description="district × category series forecast")
    districts: list[str] = Field(description="districts in the run")
    categories: list[str] = Field(description="categories in the run")
    forecast_from: str = Field(description="first forecast day")
    forecast_to: str = Field(description="last forecast day")
    history_from: str = Field(description="first day of the counts the run used")
    history_to: str = Field(description="last day of the counts the run used")
    inputs: dict[str, str] = Field(description="input kind → URI of the object read")
    backtest_models: list[str] = Field(description="models whose backtest metrics the report shows")
    model_version: str = Field(description="forecaster version of the run")
    report_keys: list[str] = Field(description="report objects written")
    report_latest: str | None = Field(description="the report's latest/index.html key (null without a report)")
    timings_s: dict[str, float] = Field(description="seconds per step")
