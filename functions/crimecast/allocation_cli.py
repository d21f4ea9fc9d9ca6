"""`crimecast allocate`: patrol units per district from a forecasts table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _bound(text: str) -> int | dict[str, int]:
    """`3` (every district) or `D1=2,D2=0` (per district)."""
    text = text.strip()
    if "=" not in text:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number or DISTRICT=N[,…], got {text!r}") from None
    out: dict[str, int] = {}
    for part in text.split(","):
        name, _, num = part.partition("=")
        try:
            out[name.strip()] = int(num)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad DISTRICT=N pair {part!r} in {text!r}") from None
    return out


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("allocate", help="allocate patrol units over districts from a forecasts table",
                       description="Greedy marginal allocation of patrol units (optimal for the concave "
                                   "coverage objective) with a Koper-curve dosage per district.")
    p.add_argument("--forecasts", required=True, type=Path, help="forecasts table (Parquet or CSV)")
    p.add_argument("--units", required=True, type=int, help="patrol units per shift (≥ 1)")
    p.add_argument("--date", default=None, help="forecast day to plan for, YYYY-MM-DD (default: first day)")
    p.add_argument("--severity", type=Path, default=None,
                   help="category weights: JSON {category: weight} or CSV with columns category,weight")
    p.add_argument("--min", dest="min_units", type=_bound, default=None, help="N or DISTRICT=N,… (minimum units)")
    p.add_argument("--max", dest="max_units", type=_bound, default=None, help="N or DISTRICT=N,… (maximum units)")
    p.add_argument("--upper-weight", type=float, default=0.0,
                   help="0 (default): plan for the mean forecast; up to 1: lean towards the 80 %% upper bound")
    p.add_argument("--out", type=Path, default=None, help="write the table (.csv, .parquet or .json)")
    p.set_defaults(func=_run)


def read_severity(path: Path) -> dict[str, float]:
    """Read category weights from JSON or CSV. Raises ContractError naming the file."""
    from crimecast.contract import ContractError, read_raw

    if not path.exists():
        raise ContractError(path, "file not found")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ContractError(path, f"not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ContractError(path, "expected a JSON object {category: weight}")
        items = data.items()
    else:
        df = read_raw(path)
        missing = [c for c in ("category", "weight") if c not in df.columns]
        if missing:
            raise ContractError(path, f"missing column(s) {missing}; found {list(df.columns)}", column=missing[0])
        items = zip(df["category"], df["weight"], strict=True)
    out = {}
    for k, v in items:
        try:
            out[str(k).strip()] = float(v)
        except (TypeError, ValueError):
            raise ContractError(path, f"weight for {k!r} is not a number: {v!r}", column="weight") from None
    return out


def read_forecasts(path: Path):  # type: ignore[no-untyped-def]
    """Read a forecasts table; numeric columns converted, errors name the file and column."""
    import pandas as pd

    from crimecast.contract import ContractError, read_raw

    df = read_raw(path)
    missing = [c for c in ("district", "category", "y_pred") if c not in df.columns]
    if missing:
        raise ContractError(path, f"missing required column(s) {missing}; found {list(df.columns)}",
                            column=missing[0])
    if len(df) == 0:
        raise ContractError(path, "no rows: the forecasts table is empty")
    for col in ("y_pred", "lo80", "hi80", "lo95", "hi95"):
        if col in df.columns:
            vals = pd.to_numeric(df[col].replace("", float("nan")) if df[col].dtype == object else df[col],
                                 errors="coerce")
            bad = vals.isna() & (df[col].astype(str).str.strip() != "") if col != "y_pred" else vals.isna()
            if bad.any():
                rows = [int(i) + 2 for i in bad.to_numpy().nonzero()[0][:5]]
                raise ContractError(path, f"not a number: {df[col][bad].iloc[0]!r}", column=col, rows=rows)
            df[col] = vals
    for col in ("date", "run_date"):
        if col in df.columns:
            parsed = pd.to_datetime(df[col], errors="coerce")
            if parsed.isna().any():
                rows = [int(i) + 2 for i in parsed.isna().to_numpy().nonzero()[0][:5]]
                raise ContractError(path, f"unparseable date {df[col][parsed.isna()].iloc[0]!r}", column=col,
                                    rows=rows)
            df[col] = parsed
    return df


def _run(args: argparse.Namespace) -> int:
    from crimecast.allocation import allocate
    from crimecast.contract import atomic_path

    forecasts = read_forecasts(args.forecasts)
    severity = read_severity(args.severity) if args.severity else None
    table = allocate(forecasts, args.units, date=args.date, severity=severity, min_units=args.min_units,
                     max_units=args.max_units, upper_weight=args.upper_weight)
    day = table.attrs.get("date")
    if args.out:
        suffix = args.out.suffix.lower()
        if suffix not in {".csv", ".parquet", ".json"}:
            raise ValueError(f"--out {args.out}: use a .csv, .parquet or .json file name")
        with atomic_path(args.out) as tmp:
            if suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            elif suffix == ".json":
                tmp.write_text(json.dumps({"date": day, "units": args.units,
                                           "districts": json.loads(table.to_json(orient="records"))}, indent=1))
            else:
                table.to_csv(tmp, index=False, float_format="%.4g")
    shown = table[["district", "units", "expected_weighted", "covered_weighted", "forecast_share", "unit_share",
                   "visits_per_shift", "visit_minutes"]]
    print(f"# patrol allocation for {day or 'all rows'}: {args.units} units over {len(table)} districts")
    sys.stdout.write(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}") + "\n")
    return 0
