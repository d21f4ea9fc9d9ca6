"""Turn one-row-per-incident exports (Chicago, Toronto, NYC open-data style) into the counts contract.

Streams the file in chunks, so memory stays bounded by the number of (day, district, category) cells,
not by the number of incidents. Rows whose date, district or category cannot be used are counted by
reason and reported, never silently dropped.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crimecast.contract import ContractError, atomic_path, read_raw, write_table

CHUNK_ROWS = 250_000


@dataclass
class IngestReport:
    rows_read: int = 0
    rows_used: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    out_rows: int = 0
    start: str = ""
    end: str = ""
    districts: int = 0
    categories: int = 0
    incidents_file: str | None = None

    def reject(self, reason: str, mask: np.ndarray, values: pd.Series, lines: np.ndarray) -> None:
        n = int(mask.sum())
        if not n:
            return
        self.rejected[reason] += n
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 3:
            for line, v in zip(lines[mask][: 3 - len(ex)], values[mask].iloc[: 3 - len(ex)], strict=False):
                ex.append(f"line {int(line)}: {v!r}")

    def as_dict(self) -> dict[str, object]:
        return {"rows_read": self.rows_read, "rows_used": self.rows_used, "rejected": dict(self.rejected),
                "examples": self.examples, "out_rows": self.out_rows, "start": self.start, "end": self.end,
                "districts": self.districts, "categories": self.categories, "incidents_file": self.incidents_file}


def _read_category_map(path: str | os.PathLike[str]) -> dict[str, str]:
    df = read_raw(path)
    cols = [c.lower() for c in df.columns]
    if len(cols) < 2:
        raise ContractError(path, f"a category map needs two columns (raw, category); found {list(df.columns)}")
    src = df.columns[cols.index("raw")] if "raw" in cols else df.columns[0]
    dst = df.columns[cols.index("category")] if "category" in cols else df.columns[1]
    return {str(k).strip().upper(): str(v).strip() for k, v in zip(df[src], df[dst], strict=True)}


def _parse_dates(raw: pd.Series, date_format: str | None, timezone: str | None) -> pd.Series:
    """Local calendar dates (datetime64[ns], midnight) or NaT. Aware timestamps convert to `timezone`."""
    s = raw.astype("string").str.strip()
    # Incidents repeat timestamps a lot; parse each distinct string once.
    uniq = pd.Series(s.dropna().unique())
    try:
        parsed = pd.to_datetime(uniq, format=date_format or "ISO8601", errors="coerce")
        local = _local_days(pd.DatetimeIndex(parsed), timezone)
        if not date_format and local.isna().any():
            # Layouts ISO 8601 does not cover (slashes, month names): per-element parse for the rest only.
            rest = np.flatnonzero(local.isna())
            fixed = [_to_local_day(_parse_one(x), timezone) for x in uniq.iloc[rest]]
            local = local.to_series(index=range(len(local)))
            local.iloc[rest] = pd.to_datetime(fixed)
    except (ValueError, TypeError):
        # Mixed UTC offsets / naive and aware values in one column: element by element.
        local = pd.to_datetime([_to_local_day(_parse_one(x), timezone) for x in uniq])
    lookup = pd.Series(np.asarray(local, dtype="datetime64[ns]"), index=uniq.to_numpy())
    return pd.to_datetime(s.map(lookup), errors="coerce")


def _local_days(idx: pd.DatetimeIndex, timezone: str | None) -> pd.DatetimeIndex:
    if idx.tz is not None:
        idx = idx.tz_convert(timezone or "UTC").tz_localize(None)
    return idx.normalize()


def _parse_one(x: str) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(pd.to_datetime(x, format="mixed"))
    except (ValueError, TypeError, OverflowError):
        return None


def _to_local_day(ts: object, timezone: str | None) -> pd.Timestamp | None:
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and np.isnan(ts)):
        return None
    t = pd.Timestamp(ts)  # type: ignore[arg-type]
    if t is pd.NaT:
        return None
    if t.tzinfo is not None:
        t = t.tz_convert(timezone or "UTC").tz_localize(None)
    return t.normalize()


def ingest(src: str | os.PathLike[str], out: str | os.PathLike[str], *, date_col: str, district_col: str,
           category_col: str, lat_col: str | None = None, lon_col: str | None = None, timezone: str | None = None,
           category_map: str | os.PathLike[str] | None = None, date_format: str | None = None,
           incidents_out: str | os.PathLike[str] | None = None, delimiter: str = ",",
           progress: bool = True) -> IngestReport:
    """Aggregate an incident export to daily counts per district × category (zero-filled)."""
    src_p = Path(src)
    if not src_p.exists():
        raise ContractError(src_p, "file not found")
    if src_p.stat().st_size == 0:
        raise ContractError(src_p, "file is empty (0 bytes)")
    try:
        header = pd.read_csv(src_p, nrows=0, sep=delimiter, encoding="utf-8").columns
    except UnicodeDecodeError:
        raise ContractError(src_p, "not UTF-8 text; re-save the export as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise ContractError(src_p, "file has no header row") from None
    header = [c.strip().lstrip("\ufeff") for c in header]
    wanted = {"date": date_col, "district": district_col, "category": category_col}
    if lat_col or lon_col:
        if not (lat_col and lon_col):
            raise ValueError("--lat-col and --lon-col go together")
        wanted |= {"lat": lat_col, "lon": lon_col}
    missing = [f"{v} (for {k})" for k, v in wanted.items() if v not in header]
    if missing:
        raise ContractError(src_p, f"missing column(s) {missing}; the file has {header}", column=missing[0].split()[0])
    cmap = _read_category_map(category_map) if category_map else None

    report = IngestReport()
    totals: Counter[tuple[pd.Timestamp, str, str]] = Counter()
    rename = {v: k for k, v in wanted.items()}
    size = src_p.stat().st_size
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"ingest {src_p.name}", mininterval=1.0)
    writer = None
    inc_path = Path(incidents_out) if incidents_out else None
    tmp_ctx = atomic_path(inc_path) if inc_path else None
    tmp_inc = tmp_ctx.__enter__() if tmp_ctx else None
    try:
        with open(src_p, "rb") as fh:
            reader = pd.read_csv(fh, usecols=list(wanted.values()), dtype=str, keep_default_na=False, sep=delimiter,
                                 chunksize=CHUNK_ROWS, encoding="utf-8")
            line0 = 2
            try:
                for chunk in reader:
                    chunk.columns = [c.strip().lstrip("\ufeff") for c in chunk.columns]
                    chunk = chunk.rename(columns=rename)
                    n = len(chunk)
                    lines = np.arange(line0, line0 + n)
                    line0 += n
                    report.rows_read += n
                    dates = _parse_dates(chunk["date"], date_format, timezone)
                    district = chunk["district"].str.strip()
                    district = district.str.replace(r"\.0+$", "", regex=True)  # "7.0" exported by spreadsheets
                    category = chunk["category"].str.strip()
                    bad_date = dates.isna().to_numpy()
                    report.reject("unparseable date", bad_date, chunk["date"], lines)
                    bad_d = ~bad_date & (district == "").to_numpy()
                    report.reject("missing district", bad_d, chunk["district"], lines)
                    bad_c = ~bad_date & ~bad_d & (category == "").to_numpy()
                    report.reject("missing category", bad_c, chunk["category"], lines)
                    ok = ~(bad_date | bad_d | bad_c)
                    if cmap is not None:
                        mapped = category.str.upper().map(cmap)
                        unmapped = ok & mapped.isna().to_numpy()
                        report.reject("category not in --category-map", unmapped, chunk["category"], lines)
                        ok &= ~unmapped
                        category = mapped
                    report.rows_used += int(ok.sum())
                    grp = pd.DataFrame({"date": dates[ok], "district": district[ok], "category": category[ok]})
                    for key, cnt in grp.value_counts(sort=False).items():
                        totals[key] += int(cnt)
                    if tmp_inc is not None:
                        import pyarrow as pa
                        import pyarrow.parquet as pq

                        lat = pd.to_numeric(chunk["lat"][ok], errors="coerce")
                        lon = pd.to_numeric(chunk["lon"][ok], errors="coerce")
                        side = pd.DataFrame({"date": grp["date"].to_numpy(), "district": grp["district"].to_numpy(),
                                             "category": grp["category"].to_numpy(),
                                             "lat": lat.to_numpy(), "lon": lon.to_numpy()})
                        table = pa.Table.from_pandas(side, preserve_index=False)
                        if writer is None:
                            writer = pq.ParquetWriter(tmp_inc, table.schema)
                        writer.write_table(table)
                    if bar is not None:
                        bar.update(max(0, min(size, fh.tell()) - bar.n))
            except pd.errors.ParserError as exc:
                raise ContractError(src_p, f"not a well-formed CSV near line {line0}: {exc}") from None
            except UnicodeDecodeError:
                raise ContractError(src_p, f"not UTF-8 text near line {line0}; re-save the export as UTF-8") from None
        if writer is not None:
            writer.close()
            writer = None
        if not totals:
            raise ContractError(src_p, f"no usable incident rows ({report.rows_read} read; rejected: "
                                       f"{dict(report.rejected)}; examples: {report.examples})")
        counts = _zero_filled(totals)
        write_table(counts, out)
        if tmp_ctx is not None:
            tmp_ctx.__exit__(None, None, None)
            report.incidents_file = str(inc_path)
    except BaseException as exc:
        if writer is not None:
            writer.close()
        if tmp_ctx is not None:
            tmp_ctx.__exit__(type(exc), exc, exc.__traceback__)
        raise
    finally:
        if bar is not None:
            bar.close()
    report.out_rows = len(counts)
    report.start, report.end = str(counts["date"].min().date()), str(counts["date"].max().date())
    report.districts, report.categories = counts["district"].nunique(), counts["category"].nunique()
    return report


def _zero_filled(totals: Counter[tuple[pd.Timestamp, str, str]]) -> pd.DataFrame:
    s = pd.Series(totals)
    s.index = s.index.set_names(["date", "district", "category"])
    df = s.rename("count").reset_index()
    dates = pd.date_range(df["date"].min(), df["date"].max(), freq="D")
    full = pd.MultiIndex.from_product([sorted(df["district"].unique()), sorted(df["category"].unique()), dates],
                                      names=["district", "category", "date"])
    out = df.set_index(["district", "category", "date"])["count"].reindex(full, fill_value=0).reset_index()
    out["count"] = out["count"].astype("int64")
    return out[["date", "district", "category", "count"]]
