"""config/ingest.json: the feed's column mapping, the same fields as `crimecast ingest`'s flags in snake_case.

Validated field by field with a message that names the field (`IngestConfigError`); unknown keys are an
error too (a typo such as `date_column` must not silently fall back to a default).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from crimecast import layout as L


class IngestConfigError(ValueError):
    """config/ingest.json cannot be used; the message names the field."""


@dataclass(frozen=True)
class IngestConfig:
    date_col: str
    district_col: str
    category_col: str
    id_col: str | None = None  # with it: the last version of each incident wins; without: identical rows once
    date_format: str | None = None
    timezone: str | None = None
    lat_col: str | None = None
    lon_col: str | None = None
    category_map: dict[str, str] | None = None  # raw value (case-insensitive) → category; unmapped rows rejected
    delimiter: str = ","
    reporting_lag_days: int = 0  # days before the newest complete day that are still filling in
    max_future_days: int = 1  # rows dated later than the export's arrival + this are rejected
    min_date: str | None = None  # rows before it are rejected (default: the stored history's first day)
    max_export_bytes: int = 1_000_000_000  # larger exports are refused whole (split them)
    window_replaces: bool = False  # with id_col: an export is complete for its days (absent ids are deleted)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> str:
        d = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        return json.dumps(d, indent=2, sort_keys=False) + "\n"

    @property
    def usecols(self) -> dict[str, str]:
        cols = {"date": self.date_col, "district": self.district_col, "category": self.category_col}
        if self.id_col:
            cols["id"] = self.id_col
        if self.lat_col:
            cols["lat"] = self.lat_col
            cols["lon"] = self.lon_col  # type: ignore[assignment]
        return cols


_STR_REQUIRED = ("date_col", "district_col", "category_col")
_STR_OPTIONAL = ("id_col", "date_format", "timezone", "lat_col", "lon_col", "min_date")


def parse_config(obj: Any, where: str = L.INGEST_CONFIG) -> IngestConfig:
    """An `IngestConfig` from a JSON object (dict) or JSON text; IngestConfigError naming the field."""
    if isinstance(obj, bytes | str):
        try:
            obj = json.loads(obj)
        except (ValueError, UnicodeDecodeError) as exc:
            raise IngestConfigError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise IngestConfigError(f"{where}: expected a JSON object with date_col, district_col, category_col, ...; "
                                f"got {type(obj).__name__}")
    known = {f.name for f in fields(IngestConfig)} - {"extra"}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise IngestConfigError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(known)}")
    kw: dict[str, Any] = {}
    for name in _STR_REQUIRED:
        v = obj.get(name)
        if not isinstance(v, str) or not v.strip():
            raise IngestConfigError(f"{where}: field {name!r} is required (the export's column name), got {v!r}")
        kw[name] = v.strip()
    for name in _STR_OPTIONAL:
        v = obj.get(name)
        if v is None or v == "":
            continue
        if not isinstance(v, str):
            raise IngestConfigError(f"{where}: field {name!r} must be a string or null, got {v!r}")
        kw[name] = v.strip()
    if bool(kw.get("lat_col")) != bool(kw.get("lon_col")):
        raise IngestConfigError(f"{where}: lat_col and lon_col go together")
    if kw.get("timezone"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(kw["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise IngestConfigError(f"{where}: field 'timezone': unknown IANA zone {kw['timezone']!r} "
                                    "(e.g. America/Chicago)") from None
    if kw.get("min_date"):
        import pandas as pd

        try:
            kw["min_date"] = pd.Timestamp(kw["min_date"]).date().isoformat()
        except ValueError:
            raise IngestConfigError(f"{where}: field 'min_date': not a date: {kw['min_date']!r}") from None
    cmap = obj.get("category_map")
    if cmap is not None:
        if not isinstance(cmap, dict) or not cmap or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                             for k, v in cmap.items()):
            raise IngestConfigError(f"{where}: field 'category_map' must be a non-empty object of raw value → "
                                    "category strings")
        kw["category_map"] = {k.strip().upper(): v.strip() for k, v in cmap.items()}
    d = obj.get("delimiter", ",")
    if not isinstance(d, str) or len(d) != 1:
        raise IngestConfigError(f"{where}: field 'delimiter' must be one character, got {d!r}")
    kw["delimiter"] = d
    for name, lo, hi in (("reporting_lag_days", 0, 60), ("max_future_days", 0, 365),
                         ("max_export_bytes", 1, 10 * 2**30)):
        if name in obj:
            v = obj[name]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise IngestConfigError(f"{where}: field {name!r} must be an integer in {lo}..{hi}, got {v!r}")
            kw[name] = v
    if "window_replaces" in obj:
        if not isinstance(obj["window_replaces"], bool):
            raise IngestConfigError(f"{where}: field 'window_replaces' must be true or false")
        if obj["window_replaces"] and not kw.get("id_col"):
            raise IngestConfigError(f"{where}: window_replaces needs id_col (deletions are found by incident id)")
        kw["window_replaces"] = obj["window_replaces"]
    return IngestConfig(**kw)


def config_from_flags(args: Any) -> IngestConfig:
    """The config `crimecast ingest` flags describe (the category map CSV is read and inlined)."""
    cmap = None
    if getattr(args, "category_map", None):
        from crimecast.ingest import _read_category_map

        cmap = _read_category_map(args.category_map)
    obj = {"date_col": args.date_col, "district_col": args.district_col, "category_col": args.category_col,
           "id_col": getattr(args, "id_col", None), "date_format": args.date_format, "timezone": args.timezone,
           "lat_col": args.lat_col, "lon_col": args.lon_col, "category_map": cmap, "delimiter": args.delimiter}
    return parse_config({k: v for k, v in obj.items() if v is not None}, where="crimecast ingest flags")
