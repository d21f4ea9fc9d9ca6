"""Table contracts: schemas, reading with validation, and atomic writes.

Every table is long format with fixed column names (documented with units in data/README.md).
Readers raise `ContractError` naming the file, the column and the first bad rows; writers write a
temporary file beside the target and rename it, so a failure never leaves a partial output.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crimecast.atomic import atomic_path  # re-exported: callers use crimecast.contract.atomic_path

EVENT_KINDS = ("holiday", "festival", "sports", "other")
RISK_LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class TableSpec:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: tuple[str, ...] = ()


SPECS: dict[str, TableSpec] = {
    "counts": TableSpec("counts", ("date", "district", "category", "count"), (), ("date", "district", "category")),
    "events": TableSpec(
        "events", ("date", "name", "kind"), ("district", "expected_effect"), ()
    ),
    "weather": TableSpec("weather", ("date", "tmax_c", "tmin_c", "precip_mm"), ("snow_mm",), ("date",)),
    "districts": TableSpec("districts", ("district", "population", "area_km2"), (), ("district",)),
    "truth": TableSpec(
        "truth", ("date", "district", "category", "intensity"), (), ("date", "district", "category")
    ),
    "labels": TableSpec("labels", ("path", "risk"), ("group_id", "source"), ()),
}


class ContractError(ValueError):
    """A table broke its contract. The message names file, column and the first bad rows."""

    def __init__(self, source: str | os.PathLike[str], message: str, column: str | None = None,
                 rows: list[int] | None = None) -> None:
        self.source = str(source)
        self.column = column
        self.rows = rows or []
        where = self.source
        if column:
            where += f", column '{column}'"
        if self.rows:
            # Rows are reported as 1-based line numbers of the file (header = line 1).
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" (+{len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            where += f", line(s) {shown}{more}"
        super().__init__(f"{where}: {message}")


def guess_kind(path: str | os.PathLike[str]) -> str:
    """Guess a table kind from its columns (for `crimecast validate FILE`)."""
    cols = set(_peek_columns(Path(path)))
    if {"path", "risk"} <= cols:
        return "labels"
    if "intensity" in cols:
        return "truth"
    if "count" in cols:
        return "counts"
    if "kind" in cols and "name" in cols:
        return "events"
    if "tmax_c" in cols:
        return "weather"
    if "population" in cols:
        return "districts"
    raise ContractError(path, f"cannot tell which table this is from its columns {sorted(cols)}; "
                              f"expected one of the contracts: {', '.join(SPECS)}")


def _peek_columns(path: Path) -> list[str]:
    if _is_parquet(path):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    df = _read_csv(path, nrows=0)
    return list(df.columns)


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in {".parquet", ".pq"}:
        return True
    if path.is_dir():
        return True
    return False


def _read_csv(path: Path, nrows: int | None = None) -> pd.DataFrame:
    if not path.exists():
        raise ContractError(path, "file not found")
    if path.is_file() and path.stat().st_size == 0:
        raise ContractError(path, "file is empty (0 bytes); expected a CSV header and rows")
    try:
        df = pd.read_csv(path, nrows=nrows, dtype=str, keep_default_na=False, encoding="utf-8",
                         compression="infer")
    except UnicodeDecodeError as exc:
        raise ContractError(path, f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                                  "re-save the file as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise ContractError(path, "file has no header row") from None
    except pd.errors.ParserError as exc:
        raise ContractError(path, f"not a well-formed CSV: {exc}") from None
    df.columns = [c.strip().lstrip("\ufeff") for c in df.columns]
    return df


def read_raw(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV (optionally .gz) as strings, or a Parquet file/dataset as-is."""
    p = Path(path)
    if _is_parquet(p):
        if not p.exists():
            raise ContractError(p, "file not found")
        try:
            return pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise ContractError(p, f"not a readable Parquet file: {exc}") from None
    return _read_csv(p)


def _bad_rows(mask: np.ndarray | pd.Series) -> list[int]:
    idx = np.flatnonzero(np.asarray(mask))
    return [int(i) + 2 for i in idx[:20]]  # +1 header, +1 for 1-based lines


def _check_columns(df: pd.DataFrame, spec: TableSpec, source: str) -> None:
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        hint = ""
        if len(df.columns) == 1 and any(sep in df.columns[0] for sep in (";", "\t", "|")):
            hint = " (the header looks like one column: wrong delimiter? crimecast expects commas)"
        raise ContractError(source, f"missing required column(s) {missing}; found {list(df.columns)}{hint}",
                            column=missing[0])


def _parse_dates(df: pd.DataFrame, source: str, column: str = "date") -> pd.Series:
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = pd.to_datetime(raw)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
    else:
        out = pd.to_datetime(raw.astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
        if out.isna().any():
            # Accept ISO timestamps too, but only if every value parses.
            alt = pd.to_datetime(raw.astype(str).str.strip(), format="ISO8601", errors="coerce")
            out = out.fillna(alt)
    bad = out.isna().to_numpy()
    if bad.any():
        first = raw[bad].iloc[0]
        raise ContractError(source, f"unparseable date {first!r} (expected YYYY-MM-DD)", column=column,
                            rows=_bad_rows(bad))
    return out.dt.normalize().astype("datetime64[ns]")


def _parse_number(df: pd.DataFrame, column: str, source: str, *, integer: bool = False, nonneg: bool = False,
                  allow_nan: bool = False) -> pd.Series:
    raw = df[column]
    vals = pd.to_numeric(raw.replace("", np.nan) if raw.dtype == object else raw, errors="coerce")
    nan = vals.isna().to_numpy()
    if not allow_nan:
        if nan.any():
            first = raw[nan].iloc[0]
            raise ContractError(source, f"not a number: {first!r}", column=column, rows=_bad_rows(nan))
    else:
        bad_text = nan & (raw.astype(str).str.strip().replace({"nan": "", "NaN": "", "NA": ""}) != "").to_numpy()
        if bad_text.any():
            first = raw[bad_text].iloc[0]
            raise ContractError(source, f"not a number: {first!r}", column=column, rows=_bad_rows(bad_text))
    if nonneg:
        neg = (vals < 0).to_numpy()
        if neg.any():
            raise ContractError(source, f"negative value {vals[neg].iloc[0]!r} (must be ≥ 0)", column=column,
                                rows=_bad_rows(neg))
    if integer:
        frac = (vals.notna() & (vals != np.floor(vals))).to_numpy()
        if frac.any():
            raise ContractError(source, f"non-integer count {vals[frac].iloc[0]!r}", column=column,
                                rows=_bad_rows(frac))
        return vals.astype("int64")
    return vals.astype("float64")


def _check_duplicates(df: pd.DataFrame, key: tuple[str, ...], source: str) -> None:
    if not key:
        return
    dup = df.duplicated(list(key), keep="first").to_numpy()
    if dup.any():
        first = df.loc[dup, list(key)].iloc[0].to_dict()
        first = {k: (v.date().isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in first.items()}
        raise ContractError(source, f"duplicate {key} row {first}", column=key[-1], rows=_bad_rows(dup))


def validate(df: pd.DataFrame, kind: str, source: str = "<table>", *, known_districts: set[str] | None = None,
             require_complete: bool = True) -> pd.DataFrame:
    """Validate and normalise a raw table of `kind`. Returns typed columns; raises ContractError."""
    spec = SPECS[kind]
    if len(df) == 0:
        raise ContractError(source, f"no rows: a {kind} table needs at least one row")
    _check_columns(df, spec, source)
    out = df[[c for c in df.columns if c in spec.required + spec.optional]].copy()
    extra_cols = [c for c in df.columns if c not in spec.required + spec.optional]
    if kind == "districts":
        for c in extra_cols:  # optional socio-economic columns are kept as numbers when they are numbers
            num = pd.to_numeric(df[c], errors="coerce")
            out[c] = num if num.notna().all() else df[c]
    if "date" in spec.required:
        out["date"] = _parse_dates(out, source)
    for col in ("district", "category", "name", "path", "group_id", "source"):
        if col in out.columns:
            out[col] = out[col].astype(str).str.strip()
            if col in spec.required:
                empty = (out[col] == "") | (out[col].str.lower() == "nan")
                if empty.to_numpy().any():
                    raise ContractError(source, "empty value", column=col, rows=_bad_rows(empty))
    if kind == "counts":
        out["count"] = _parse_number(out, "count", source, integer=True, nonneg=True)
        _check_duplicates(out, spec.key, source)
        if require_complete:
            _check_complete_grid(out, source)
        out = out.sort_values(["district", "category", "date"], kind="stable").reset_index(drop=True)
    elif kind == "truth":
        out["intensity"] = _parse_number(out, "intensity", source, nonneg=True)
        _check_duplicates(out, spec.key, source)
    elif kind == "weather":
        for c in ("tmax_c", "tmin_c", "precip_mm", "snow_mm"):
            if c in out.columns:
                out[c] = _parse_number(out, c, source, nonneg=c in ("precip_mm", "snow_mm"), allow_nan=True)
        _check_duplicates(out, spec.key, source)
        out = out.sort_values("date").reset_index(drop=True)
    elif kind == "districts":
        out["population"] = _parse_number(out, "population", source, nonneg=True)
        out["area_km2"] = _parse_number(out, "area_km2", source, nonneg=True)
        _check_duplicates(out, spec.key, source)
    elif kind == "events":
        out["kind"] = out["kind"].astype(str).str.strip().str.lower()
        bad = ~out["kind"].isin(EVENT_KINDS)
        if bad.to_numpy().any():
            raise ContractError(source, f"unknown kind {out.loc[bad, 'kind'].iloc[0]!r}; expected one of "
                                        f"{EVENT_KINDS}", column="kind", rows=_bad_rows(bad))
        if "district" not in out.columns:
            out["district"] = ""
        out["district"] = out["district"].fillna("").astype(str).str.strip().replace({"nan": ""})
        if known_districts is not None:
            unknown = (out["district"] != "") & ~out["district"].isin(known_districts)
            if unknown.to_numpy().any():
                raise ContractError(source, f"unknown district {out.loc[unknown, 'district'].iloc[0]!r} "
                                            f"(not in the counts table; empty means citywide)",
                                    column="district", rows=_bad_rows(unknown))
        if "expected_effect" in out.columns:
            out["expected_effect"] = _parse_number(out, "expected_effect", source, nonneg=True, allow_nan=True)
        else:
            out["expected_effect"] = np.nan
    elif kind == "labels":
        out["risk"] = out["risk"].astype(str).str.strip().str.lower()
        bad = ~out["risk"].isin(RISK_LEVELS)
        if bad.to_numpy().any():
            raise ContractError(source, f"unknown risk {df.loc[bad, 'risk'].iloc[0]!r}; expected high|medium|low",
                                column="risk", rows=_bad_rows(bad))
    return out


def _check_complete_grid(df: pd.DataFrame, source: str) -> None:
    """Counts must be zero-filled: every series covers every day from the first to the last date."""
    start, end = df["date"].min(), df["date"].max()
    n_days = (end - start).days + 1
    sizes = df.groupby(["district", "category"], sort=True).size()
    short = sizes[sizes != n_days]
    if len(short):
        (d, c), n = short.index[0], int(short.iloc[0])
        sub = df[(df["district"] == d) & (df["category"] == c)]
        have = set(sub["date"])
        missing = [x for x in pd.date_range(start, end, freq="D") if x not in have][:3]
        raise ContractError(source, f"gap in dates: series ({d!r}, {c!r}) has {n} of {n_days} days between "
                                    f"{start.date()} and {end.date()}; first missing "
                                    f"{[m.date().isoformat() for m in missing]}. Counts must be zero-filled "
                                    "(one row per day × district × category)", column="date")


def read_table(path: str | os.PathLike[str], kind: str | None = None, **kwargs: object) -> pd.DataFrame:
    """Read and validate a contract table (CSV, CSV.gz or Parquet)."""
    kind = kind or guess_kind(path)
    if kind not in SPECS:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {list(SPECS)}")
    return validate(read_raw(path), kind, str(path), **kwargs)  # type: ignore[arg-type]


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write CSV or Parquet (by extension) atomically, with dates as YYYY-MM-DD."""
    target = Path(path)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in {".parquet", ".pq"}:
            df.to_parquet(tmp, index=False)
        else:
            out = df.copy()
            for c in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[c]):
                    out[c] = out[c].dt.strftime("%Y-%m-%d")
            buf = io.StringIO()
            out.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
            data = buf.getvalue().encode("utf-8")
            if target.suffix == ".gz":
                import gzip

                data = gzip.compress(data, mtime=0)
            tmp.write_bytes(data)
    return target
