"""Forecast commands: `crimecast backtest`, `crimecast forecast` (`train-forecaster` is in crimecast_training.cli)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("crimecast.forecast")


def _add_tables(p: argparse.ArgumentParser) -> None:
    p.add_argument("--counts", required=True, help="counts table (CSV, CSV.gz or Parquet; data contract)")
    p.add_argument("--events", help="events table (holidays, scheduled events); optional")
    p.add_argument("--weather", help="daily weather table; optional")
    p.add_argument("--districts", help="district table (population, area); optional")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("backtest", help="rolling-origin backtest of the LSTM or a baseline",
                       description="For each origin, fit on data strictly before it and forecast the next "
                                   "--horizon days for every series. Writes DIR/predictions.parquet and "
                                   "DIR/metrics.json.")
    _add_tables(p)
    p.add_argument("--model", required=True,
                   help="lstm (the shipped forecaster, trained at every origin), seasonal_naive, moving_average "
                        "(28-day mean), dow_profile (28-day mean × day-of-week profile of 8 weeks) or ets")
    p.add_argument("--window", type=int, default=60, help="input window (days)")
    p.add_argument("--horizon", type=int, default=30, help="forecast horizon (days, 1..30)")
    p.add_argument("--origins", type=int, default=8, help="number of rolling origins")
    p.add_argument("--step", type=int, default=30, help="days between origins")
    p.add_argument("--first-origin", help="first origin YYYY-MM-DD (default: the last origin ends on the last date)")
    p.add_argument("--out", default="backtest-out", help="output directory")
    p.add_argument("--quick", action="store_true", help="small LSTM, few epochs (tests, smoke runs)")
    p.add_argument("--epochs", type=int, help="LSTM epochs at the first origin")
    p.add_argument("--finetune-epochs", type=int, help="LSTM epochs at later origins (warm-started)")
    p.add_argument("--seeds", type=int, default=None,
                   help="LSTM ensemble members (default: the shipped forecaster's training default)")
    p.add_argument("--learning-rate", type=float, help="LSTM Adam learning rate (default: the training default)")
    p.add_argument("--ema", type=float, help="LSTM weight-average momentum (0 = off; default: the training default)")
    for f in ("calendar", "events", "weather", "district"):
        p.add_argument(f"--no-{f}", action="store_true", help=f"ablation: switch the {f} inputs off")
    p.add_argument("--no-base", action="store_true",
                   help="ablation: the network corrects a flat 28-day mean instead of the structural base "
                        "(28-day mean × day-of-week profile × seasonal shift)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_backtest)

    p = sub.add_parser("forecast", help="forecast the next 30 days for every series with LiteRT")
    _add_tables(p)
    p.add_argument("--model", required=True, help="model directory (model.tflite + metadata.json)")
    p.add_argument("--out", required=True, help="forecasts file (.parquet or .csv)")
    p.add_argument("--as-of", help="forecast origin - 1 day (default: the last date in counts)")
    p.set_defaults(func=_forecast)


def _setup_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _read_tables(args: argparse.Namespace) -> dict[str, Any]:
    from crimecast.contract import read_table

    counts = read_table(args.counts, "counts")
    known = set(counts["district"].unique())
    out: dict[str, Any] = {"counts": counts, "events": None, "weather": None, "districts": None}
    if args.events:
        out["events"] = read_table(args.events, "events", known_districts=known)
    if args.weather:
        out["weather"] = read_table(args.weather, "weather")
        n_nan = int(out["weather"].drop(columns="date").isna().any(axis=1).sum())
        if n_nan:
            log.warning("%s: %d day(s) with missing weather values are imputed (climatology)", args.weather, n_nan)
    if args.districts:
        out["districts"] = read_table(args.districts, "districts")
    for k in ("events", "weather", "districts"):
        if out[k] is None:
            log.info("no --%s file: %s features are off", k, k)
    return out


def _backtest(args: argparse.Namespace) -> int:
    _setup_logging()
    from crimecast.contract import atomic_path
    from crimecast.forecast.backtest import run_backtest
    from crimecast.forecast.hotspot_metrics import hotspot_metrics
    from crimecast.forecast.metrics import compute_metrics

    t = _read_tables(args)
    feats = {f: not getattr(args, f"no_{f}") for f in ("calendar", "events", "weather", "district", "base")}
    res = run_backtest(t["counts"], args.model, t["events"], t["weather"], t["districts"], window=args.window,
                       horizon=args.horizon, n_origins=args.origins, step=args.step, first_origin=args.first_origin,
                       quick=args.quick, epochs=args.epochs, finetune_epochs=args.finetune_epochs, seeds=args.seeds,
                       learning_rate=args.learning_rate, ema=args.ema,
                       features=feats, progress=not args.quiet)
    keys = ["origin", "district", "category"]
    pred = res.predictions.merge(res.mase_scale[[*keys, "mase_scale"]], on=keys, how="left")
    metrics = compute_metrics(pred)
    hot = hotspot_metrics(res.predictions, res.mase_scale)
    if hot is not None:
        metrics["hotspots"] = hot
    metrics["run"] = {**res.info, "features": feats, "counts": str(args.counts), "quick": args.quick}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "predictions.parquet") as tmp:
        res.predictions.to_parquet(tmp, index=False)
    if res.components is not None:
        with atomic_path(out / "components.parquet") as tmp:
            res.components.to_parquet(tmp, index=False)
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, default=str))
    o = metrics["overall"]
    print(f"{args.model}: {metrics['n_series']} series × {metrics['n_origins']} origins, MAE {o['mae']:.3f} "
          f"RMSE {o['rmse']:.3f} MASE {o.get('mase', float('nan')):.3f} coverage80 "
          f"{o.get('coverage80', float('nan')):.3f} coverage95 {o.get('coverage95', float('nan')):.3f} "
          f"({res.info['seconds']} s) → {out}/predictions.parquet, {out}/metrics.json")
    return 0


def _forecast(args: argparse.Namespace) -> int:
    _setup_logging()
    import pandas as pd

    from crimecast.contract import write_table
    from crimecast.forecast import CrimeForecaster

    t = _read_tables(args)
    f = CrimeForecaster().load_model(args.model)
    as_of = pd.Timestamp(args.as_of).date() if args.as_of else None
    fc = f.predict_next_30_days(t["counts"], t["events"], t["weather"], t["districts"], as_of=as_of)
    run_date = pd.Timestamp(as_of) if as_of else pd.to_datetime(t["counts"]["date"]).max()
    fc.insert(0, "run_date", pd.Timestamp(run_date).normalize())
    fc["run_date"] = fc["run_date"].astype("datetime64[ns]")
    fc["model_version"] = f.version
    write_table(fc, args.out)
    print(f"forecast: {fc.groupby(['district', 'category']).ngroups} series × {f.horizon} days → {args.out} "
          f"(model {f.version})")
    return 0
