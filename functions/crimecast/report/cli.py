"""`crimecast report`: build the static report from files (what the forecast job does, from the shell)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="build the offline HTML report of a forecast run",
                       description="Writes OUT/index.html and OUT/plotly.min.js. Every input but --out is "
                                   "optional; the report says what is missing.")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--forecasts", type=Path, help="forecasts table (Parquet/CSV)")
    p.add_argument("--history", type=Path, help="counts table (Parquet/CSV)")
    p.add_argument("--backtest", type=Path, nargs="+",
                   help="metrics.json file(s) written by `crimecast backtest` (one per model: LSTM and baselines)")
    p.add_argument("--units", type=int, help="add a patrol allocation for this many units per shift")
    p.add_argument("--severity", type=Path, help="category weights (JSON or CSV category,weight)")
    p.add_argument("--classifications", type=Path,
                   help="classification results: a Parquet/CSV table, a JSON-lines file, or a folder of JSON files")
    p.add_argument("--incidents", type=Path, help="incident rows with lat/lon (Parquet/CSV) for the point map")
    p.add_argument("--forecaster-dir", type=Path, help="forecaster model dir (its metadata.json goes on the card)")
    p.add_argument("--classifier-dir", type=Path, help="classifier model dir (its metadata.json goes on the card)")
    p.add_argument("--run-date", help="run date shown in the title (default: from the forecasts)")
    p.set_defaults(func=_run)


def _json_file(path: Path) -> dict:
    from crimecast.contract import ContractError

    if not path.exists():
        raise ContractError(path, "file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContractError(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError(path, "expected a JSON object")
    return data


def read_classifications(path: Path):  # type: ignore[no-untyped-def]
    """Classification results as a table, from a table file, JSON lines, or a folder of result JSONs."""
    import pandas as pd

    from crimecast.contract import ContractError, read_raw

    if not path.exists():
        raise ContractError(path, "file not found")
    if path.is_dir():
        rows = [_json_file(p) for p in sorted(path.rglob("*.json"))]
        return pd.DataFrame(rows)
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        rows = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ContractError(path, f"line {i} is not JSON: {exc}") from None
        return pd.DataFrame(rows)
    return read_raw(path)


def _run(args: argparse.Namespace) -> int:
    from crimecast.allocation import allocate
    from crimecast.allocation_cli import read_forecasts, read_severity
    from crimecast.contract import ContractError, read_raw, read_table
    from crimecast.report import build_report

    forecasts = read_forecasts(args.forecasts) if args.forecasts else None
    history = read_table(args.history, "counts") if args.history else None
    backtest = None
    if args.backtest:
        backtest = {"models": {}}
        for i, path in enumerate(args.backtest):
            m = _json_file(path)
            run = m.get("run") if isinstance(m.get("run"), dict) else {}
            backtest["models"][str(run.get("model") or f"{path.parent.name or 'model'}-{i}")] = m
    incidents = read_raw(args.incidents) if args.incidents else None
    classifications = read_classifications(args.classifications) if args.classifications else None
    model_info = {}
    for name, d in (("forecaster", args.forecaster_dir), ("classifier", args.classifier_dir)):
        if d is not None:
            model_info[name] = _json_file(Path(d) / "metadata.json")
    allocation = None
    if args.units is not None:
        if forecasts is None:
            raise ContractError("--units", "a patrol allocation needs --forecasts")
        severity = read_severity(args.severity) if args.severity else None
        allocation = allocate(forecasts, args.units, severity=severity)
    index = build_report(args.out, forecasts=forecasts, history=history, backtest=backtest, allocation=allocation,
                         classifications=classifications, run_date=args.run_date, model_info=model_info,
                         incidents=incidents)
    print(index)
    return 0
