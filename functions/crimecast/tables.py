"""The output tables' contracts: one list of typed, described columns per table, and what is derived from it.

The input tables (counts, events, weather, districts) are checked by `crimecast.contract`; the tables crimecast
writes are defined here, once:

- `FORECASTS`: `forecasts/run_date=…/part.parquet` (the forecast job, `crimecast forecast`);
- `CLASSIFICATION_ROWS`: `results/rows/date=…/<id>-<version>.parquet` (one row per classified object);
- `BACKTEST_PREDICTIONS`: `crimecast backtest` DIR/predictions.parquet.

From each: the column names (`Table.names`), the pyarrow schema (`Table.arrow_schema()`), the Glue/Athena
column types (`Table.glue_columns()`, used by infra/) and the API's pydantic models (`crimecast.records`).
Pure (standard library only): infra/ imports it, as it imports `crimecast.layout`. Interval columns are named
by level (`lo80`, `hi95`, ...) from `LEVELS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LEVELS = (80, 95)  # prediction-interval levels (%) of the forecasts table

_GLUE = {"string": "string", "timestamp": "timestamp", "int64": "bigint", "float64": "double", "bool": "boolean"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of _GLUE's keys
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    partition: str | None = None  # Hive partition key in the storage layout (not a column of the Glue table)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def glue_columns(self) -> list[tuple[str, str]]:
        """(name, Glue type) of the stored columns, the partition key left out (Athena fills it from the path)."""
        return [(c.name, _GLUE[c.type]) for c in self.columns if c.name != self.partition]

    def arrow_schema(self) -> Any:
        """The pyarrow schema (imported on use)."""
        import pyarrow as pa

        types = {"string": pa.string(), "timestamp": pa.timestamp("ns"), "int64": pa.int64(),
                 "float64": pa.float64(), "bool": pa.bool_()}
        return pa.schema([pa.field(c.name, types[c.type], nullable=c.nullable) for c in self.columns])


def interval_columns(levels: Sequence[int] = LEVELS) -> list[str]:
    """lo80, hi80, lo95, hi95 for levels (80, 95)."""
    return [f"{side}{lv}" for lv in levels for side in ("lo", "hi")]


def _intervals(levels: Sequence[int] = LEVELS) -> tuple[Column, ...]:
    return tuple(Column(f"{side}{lv}", "float64", f"{lv} % prediction interval, {'lower' if side == 'lo' else 'upper'}"
                        " bound") for lv in levels for side in ("lo", "hi"))


_SERIES = (
    Column("date", "timestamp", "the forecast day", nullable=False),
    Column("district", "string", "police district", nullable=False),
    Column("category", "string", "crime category", nullable=False),
)

FORECASTS = Table("forecasts", (
    Column("run_date", "timestamp", "the forecast run's date", nullable=False),
    *_SERIES,
    Column("horizon", "int64", "days ahead of the last observed day (1 = the next day)", nullable=False),
    Column("y_pred", "float64", "expected recorded crimes that day"),
    *_intervals(),
    Column("model_version", "string", "forecaster version of the run"),
), partition="run_date")

BACKTEST_PREDICTIONS = Table("backtest_predictions", (
    Column("origin", "timestamp", "the backtest origin (the model saw only days before it)", nullable=False),
    *_SERIES,
    Column("y_true", "float64", "recorded crimes that day"),
    Column("y_pred", "float64", "expected recorded crimes that day"),
    *_intervals(),
))

CLASSIFICATION_ROWS = Table("classification_rows", (
    Column("id", "string", "upload id (32 hex digits) or a hash of the object key"),
    Column("bucket", "string", "bucket the object was uploaded to"),
    Column("key", "string", "the uploaded object's key"),
    Column("version", "string", "object version (VersionId, else ETag) the result is for"),
    Column("size", "int64", "object size, bytes"),
    Column("status", "string", "ok | error"),
    Column("risk_level", "string", "High | Medium | Low"),
    Column("confidence", "float64", "calibrated probability of the chosen level, 0..1"),
    Column("p_high", "float64", "calibrated probability of High"),
    Column("p_medium", "float64", "calibrated probability of Medium"),
    Column("p_low", "float64", "calibrated probability of Low"),
    Column("action", "string", "recommended action for the level"),
    Column("uncertain", "bool", "true when a human should review"),
    Column("n_frames", "int64", "frames classified (videos only)"),
    Column("high_segments", "string", "videos: the stretches the clip model rated High, as 'start–end s "
                                      "(confidence)' joined by '; ' (empty when none; null for images)"),
    Column("model_key", "string", "models/<name>/<version> in the models store"),
    Column("model_version", "string", "the classifier version that answered"),
    Column("error", "string", "why the object could not be classified (status error)"),
    Column("event_time", "string", "when S3 reported the object (ISO 8601)"),
    Column("classified_at", "string", "when it was classified (ISO 8601, UTC)"),
    Column("latency_ms", "float64", "from the event to the stored result, ms"),
), partition="date")


def format_segments(segments: Any) -> str | None:
    """A clip result's `high_segments` ([{start_s, end_s, confidence}, …]) as one readable string,
    "3.2–6.4 s (0.81); 12.0–14.0 s (0.66)"; "" for a video without any; None when the result has no timeline."""
    if not isinstance(segments, list):
        return None
    parts = []
    for seg in segments:
        try:
            parts.append(f"{float(seg['start_s']):.1f}–{float(seg['end_s']):.1f} s ({float(seg['confidence']):.2f})")
        except (KeyError, TypeError, ValueError):
            continue  # a malformed segment is left out rather than failing the whole row
    return "; ".join(parts)


def classification_row(result: dict[str, Any]) -> dict[str, Any]:
    """One stored classification result (JSON) → its row in CLASSIFICATION_ROWS (typed, every column present)."""
    probs = result.get("probabilities") or {}
    frames = result.get("frames")
    row = {c: result.get(c) for c in CLASSIFICATION_ROWS.names}
    row.update(p_high=probs.get("High"), p_medium=probs.get("Medium"), p_low=probs.get("Low"),
               n_frames=len(frames) if isinstance(frames, list) else None,
               high_segments=format_segments(result.get("high_segments")))
    cast = {"float64": float, "int64": int, "bool": bool}
    for col in CLASSIFICATION_ROWS.columns:
        if col.type in cast and row[col.name] is not None:
            row[col.name] = cast[col.type](row[col.name])
    return row
