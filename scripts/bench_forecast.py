#!/usr/bin/env python
"""Forecasting benchmark: Chicago rolling-origin backtests (the shipped LSTM vs the LightGBM peer and the
baselines), the ablation (base alone / network alone / combination), hotspot hit rate and PAI, a two-year-only
history, the base/oracle ceiling, the synthetic oracle ratio and LiteRT throughput (10,000 series, one core).
Prints markdown and replaces the `## Forecasting` section of docs/benchmarks.md.

Every number comes from `crimecast backtest` / `crimecast train-forecaster` runs (subprocesses, the CLI
users call); results are cached under .cache/bench_forecast/<run>/ and reused with --reuse.

    .venv/bin/python scripts/bench_forecast.py --reuse            # everything (hours of CPU on 2 busy cores)
    .venv/bin/python scripts/bench_forecast.py --reuse --skip-lstm  # baselines + throughput only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench_forecast"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Forecasting"
BASELINES = ["seasonal_naive", "moving_average", "dow_profile", "ets"]
LSTM_EXTRA = ["--finetune-epochs", "2"]
DATA = ROOT / "data" / "chicago"  # the embedded real default (crimecast.chicago.load_embedded)
LABEL = {"seasonal_naive": "seasonal-naive", "moving_average": "28-day mean (MA28)",
         "dow_profile": "MA28 × day-of-week profile (8 weeks)", "ets": "ETS (statsmodels, per series)",
         "lightgbm": "LightGBM global peer (same inputs, direct, Poisson)", "base": "the forecaster's base alone",
         "network": "the network alone (full correction)", "lstm": "**shipped: base × blended network correction**"}
FIRST_ORIGIN, STEP, N_ORIGINS, HORIZON = "2016-03-01", 173, 8, 30
PROTOCOL = ["--origins", str(N_ORIGINS), "--step", str(STEP), "--first-origin", FIRST_ORIGIN, "--horizon", str(HORIZON),
            "--window", "60"]


def cli(*args: str, log: Path) -> float:
    t0 = time.time()
    with open(log, "w") as fh:
        r = subprocess.run(["nice", "-n", "5", sys.executable, "-m", "crimecast.cli", *args], stdout=fh,
                           stderr=subprocess.STDOUT, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"crimecast {' '.join(args)} failed (rc={r.returncode}); see {log}")
    return time.time() - t0


def chicago_files(root: Path | None = None) -> dict[str, Path]:
    """The embedded Chicago tables (data/chicago, the default the shipped model is trained on)."""
    d = Path(root) if root else DATA
    files = {"district": d / "counts_by_district.csv.gz", "category": d / "counts_by_category.csv.gz",
             "events": d / "events.csv.gz", "weather": d / "weather.csv.gz"}
    missing = [str(f) for f in files.values() if not f.exists()]
    if missing:
        raise SystemExit(f"missing embedded data: {', '.join(missing)}")
    return files


def backtest(name: str, counts: Path, model: str, extra: list[str], reuse: bool, exog: dict[str, Path]) -> dict:
    out = CACHE / name
    mfile = out / "metrics.json"
    if not (reuse and mfile.exists()):
        args = ["backtest", "--counts", str(counts), "--model", model, "--out", str(out), "--quiet", *extra]
        for k, v in exog.items():
            args += [f"--{k}", str(v)]
        load0 = os.getloadavg()[0]
        secs = cli(*args, log=CACHE / f"{name}.log")
        m = json.loads(mfile.read_text())
        m["bench"] = {"wall_seconds": round(secs, 1), "load_avg_1m_start": round(load0, 2),
                      "load_avg_1m_end": round(os.getloadavg()[0], 2)}
        mfile.write_text(json.dumps(m, indent=2))
    return json.loads(mfile.read_text())


def _fmt(x: float | None, nd: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def peer(name: str, counts: Path, events: Path | None, origins: list[pd.Timestamp], reuse: bool) -> pd.DataFrame:
    """The LightGBM peer's predictions (+ mase_scale) at `origins`, cached as CACHE/name/predictions.parquet."""
    from crimecast.contract import read_table
    from forecast_peer import lightgbm_backtest

    f = CACHE / name / "predictions.parquet"
    if not (reuse and f.exists()):
        f.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        p = lightgbm_backtest(read_table(counts, "counts"), origins, HORIZON,
                              events=read_table(events, "events") if events else None)
        p.to_parquet(f, index=False)
        (CACHE / name / "wall.json").write_text(json.dumps({"wall_seconds": round(time.time() - t0, 1),
                                                            "load_avg_1m_start": None}))
    return pd.read_parquet(f)


def _score(p: pd.DataFrame, col: str = "y_pred") -> dict[str, float]:
    err = (p["y_true"] - p[col]).abs()
    out = {"mae": float(err.mean())}
    for lv in (80, 95):
        if f"lo{lv}" in p.columns and col == "y_pred" and p[f"lo{lv}"].notna().all():
            out[f"cov{lv}"] = float(((p.y_true >= p[f"lo{lv}"]) & (p.y_true <= p[f"hi{lv}"])).mean())
    return out


def level_runs(level: str, counts: Path, files: dict[str, Path], reuse: bool, skip_lstm: bool,
               protocol: list[str], origins: list[pd.Timestamp], tag: str = "") -> dict[str, dict]:
    """Every method at one level: {method: {"pred": DataFrame, "wall": s, "metrics": json or None}}."""
    exog = {"events": files["events"], "weather": files["weather"]}
    res: dict[str, dict] = {}
    for m in BASELINES:
        mt = backtest(f"{level}{tag}_{m}", counts, m, protocol, reuse, {})
        res[m] = {"pred": pd.read_parquet(CACHE / f"{level}{tag}_{m}" / "predictions.parquet"), "metrics": mt,
                  "wall": mt.get("bench", {}).get("wall_seconds", mt["run"]["seconds"])}
    pp = peer(f"{level}{tag}_lightgbm", counts, files["events"], origins, reuse)
    res["lightgbm"] = {"pred": pp, "metrics": None,
                       "wall": json.loads((CACHE / f"{level}{tag}_lightgbm" / "wall.json").read_text())["wall_seconds"]}
    d = CACHE / f"{level}{tag}_lstm"
    if not skip_lstm or (d / "metrics.json").exists():
        mt = backtest(f"{level}{tag}_lstm", counts, "lstm", protocol + LSTM_EXTRA, True if skip_lstm else reuse, exog)
        res["lstm"] = {"pred": pd.read_parquet(d / "predictions.parquet"), "metrics": mt,
                       "wall": mt.get("bench", {}).get("wall_seconds", mt["run"]["seconds"])}
        if (d / "components.parquet").exists():
            comp = pd.read_parquet(d / "components.parquet")
            for part in ("base", "network"):
                res[part] = {"pred": comp.rename(columns={f"y_{part}": "y_pred"}), "metrics": None, "wall": None}
    return res


def chicago_table(level: str, res: dict[str, dict]) -> list[str]:
    sn = _score(res["seasonal_naive"]["pred"])["mae"]
    lgb = _score(res["lightgbm"]["pred"])["mae"]
    lines = ["| method | MAE | MAE / seasonal-naive | MAE / LightGBM | cov80 | cov95 | wall s |", "|---|" + "---|" * 6]
    for m in ["seasonal_naive", "moving_average", "dow_profile", "ets", "lightgbm", "base", "network", "lstm"]:
        if m not in res:
            continue
        sc = _score(res[m]["pred"])
        lines.append(f"| {LABEL[m]} | {sc['mae']:.3f} | {sc['mae'] / sn:.3f} | {sc['mae'] / lgb:.3f} | "
                     f"{_fmt(sc.get('cov80'))} | {_fmt(sc.get('cov95'))} | {_fmt(res[m]['wall'], 0)} |")
    if "lstm" in res:
        r = _score(res["lstm"]["pred"])["mae"] / sn
        best = min(_score(res[m]["pred"])["mae"] for m in ("moving_average", "dow_profile"))
        gain = 1 - _score(res["lstm"]["pred"])["mae"] / best
        sc = _score(res["lstm"]["pred"])
        goal = {"district": 0.700, "category": 0.740}.get(level)
        need = 5 if goal is None else 6
        lines += ["", (f"Shipped forecaster: {r:.3f} × seasonal-naive (goal ≤ {goal}) → "
                       f"{'met' if r <= goal else '**missed**'}" if goal else
                       f"Shipped forecaster: {r:.3f} × seasonal-naive") + "; vs LightGBM in the same run "
                      f"{sc['mae'] / lgb:.3f} → {'below' if sc['mae'] < lgb else '**not below**'}; vs the best of "
                      f"MA28 and the day-of-week profile {gain * 100:+.1f} % better (must show ≥ {need} %: "
                      f"{'yes' if gain * 100 >= need else '**no**'}); coverage "
                      f"80 % {sc.get('cov80', float('nan')):.3f} (goal 0.78–0.82), 95 % "
                      f"{sc.get('cov95', float('nan')):.3f} (goal 0.93–0.97)."]
        if "base" in res:
            b, n = _score(res["base"]["pred"])["mae"], _score(res["network"]["pred"])["mae"]
            lines += ["", f"Ablation (same trained networks): base alone {b / sn:.3f}, network alone {n / sn:.3f}, "
                          f"combination {r:.3f} × seasonal-naive: the network's blended correction changes MAE by "
                          f"{(sc['mae'] / b - 1) * 100:+.1f} % against its base."]
    return lines


def hotspot_table(res: dict[str, dict], counts: Path) -> list[str]:
    """Hit rate and PAI of the top districts covering 5/10/20 % of the city (equal areas), 7 and 30 days."""
    from crimecast.contract import read_table
    from crimecast.forecast.features import counts_to_matrix
    from crimecast.forecast.hotspot_metrics import hotspot_metrics, naive_rankings

    dates, keys, y = counts_to_matrix(read_table(counts, "counts"))
    kk = np.array(keys, dtype=object)
    origins = sorted(pd.to_datetime(res["seasonal_naive"]["pred"]["origin"].unique()))
    ref = pd.concat([pd.DataFrame({"origin": o, "district": kk[:, 0], "category": kk[:, 1],
                                   **naive_rankings(y, int((o - dates[0]).days))}) for o in origins])
    rows = {}
    for m in ("lstm", "lightgbm"):
        if m in res:
            h = hotspot_metrics(res[m]["pred"], ref)
            for r in (h or {}).get("table", []):
                name = {"model": LABEL[m]}.get(r["method"], r["method"])
                rows[(r["window_days"], name, r["area_share"])] = (r["hit_rate"], r["pai"])
    lines = ["| window | ranking by | top 5 % hit / PAI | top 10 % hit / PAI | top 20 % hit / PAI |",
             "|---|---|---|---|---|"]
    for w in (7, 30):
        for name in sorted({k[1] for k in rows if k[0] == w}):
            cells = [f"{rows[(w, name, p)][0]:.3f} / {rows[(w, name, p)][1]:.2f}" if (w, name, p) in rows else "–"
                     for p in (0.05, 0.10, 0.20)]
            lines.append(f"| {w} days | {name} | " + " | ".join(cells) + " |")
    lines += ["", "22 districts of unknown area, each counted as one unit of area (top 5 % = 2 districts, 10 % = 3, "
              "20 % = 5); hit rate = share of the window's recorded crimes in the top districts; PAI = hit rate / "
              "area share (Chainey 2008). Mean over the 8 origins."]
    return lines


def ceiling(files: dict[str, Path], levels: tuple[str, ...]) -> list[str]:
    """How low MAE can go on these origins: the LSTM's structural base (28-day mean × day-of-week profile,
    no training) next to two oracles that are told the future (the true mean of the 30 target days, or of
    each target week, times the same day-of-week profile). Pure numpy on the counts; the same origins and
    seasonal-naive denominator as the backtests."""
    from crimecast.contract import read_table
    from crimecast.forecast.features import FeatureSpec, base_forecast, counts_to_matrix, dow_profile, scaled_window

    h, o0, step, k = HORIZON, pd.Timestamp(FIRST_ORIGIN), STEP, N_ORIGINS
    spec = FeatureSpec()
    lines = ["| series | MA28 × day-of-week | the LSTM's base (two level estimates × day-of-week × "
             "1st-of-month) | oracle: true 30-day mean × day-of-week | oracle: true weekly means × day-of-week | "
             "LightGBM peer | goal |", "|---|---|---|---|---|---|---|"]
    for level in levels:
        dates, _, y = counts_to_matrix(read_table(files[level], "counts"))
        dom = np.asarray(pd.date_range(dates[0], periods=len(dates) + h, freq="D").day)
        err = {n: [] for n in ("sn", "dow", "base", "o30", "o7")}
        for i in range(k):
            oi = dates.get_loc(o0 + pd.Timedelta(days=i * step))
            tr, hist = y[:, oi:oi + h], y[:, :oi]
            prof = dow_profile(y, np.array([oi]), h)[:, 0]
            wk = np.concatenate([np.repeat(tr[:, j:j + 7].mean(1, keepdims=True), min(7, h - j), 1)
                                 for j in range(0, h, 7)], axis=1)
            err["sn"].append(np.abs(np.tile(hist[:, -7:], (1, 5))[:, :h] - tr))
            err["dow"].append(np.abs(hist[:, -28:].mean(1, keepdims=True) * prof - tr))
            sc, ratio = scaled_window(hist[:, None, -spec.window:], spec.scale_days)  # (S, 1), (S, 1, W)
            err["base"].append(np.abs(sc * base_forecast(y, ratio, np.array([oi]), spec, dom)[:, 0] - tr))
            err["o30"].append(np.abs(tr.mean(1, keepdims=True) * prof - tr))
            err["o7"].append(np.abs(wk * prof - tr))
        sn = np.mean(err["sn"])
        goal = {"district": "0.700", "category": "0.740"}.get(level, "–")
        lf = CACHE / f"{level}_lightgbm" / "predictions.parquet"
        lgb = f"{_score(pd.read_parquet(lf))['mae'] / sn:.3f}" if lf.exists() else "–"
        lines.append(f"| {level} ({y.shape[0]}) | {np.mean(err['dow']) / sn:.3f} | {np.mean(err['base']) / sn:.3f} | "
                     f"{np.mean(err['o30']) / sn:.3f} | "
                     f"{np.mean(err['o7']) / sn:.3f} | {lgb} | {goal} |")
    lines += ["", "MAE / seasonal-naive MAE. The 30-day oracle knows each series' exact mean over the forecast month "
              "(no forecaster does); if the goal is at or below it, meeting the goal needs more than a perfect "
              "forecast of the month's level: it needs the within-month swings (weather on the day, one-off "
              "events), which only the weekly oracle has."]
    return lines


def synthetic_oracle(reuse: bool, skip_lstm: bool) -> list[str]:
    from crimecast.contract import read_table

    d = CACHE / "synth"
    if not (d / "truth_intensity.csv").exists():
        cli("synth", "--out", str(d), "--years", "4", "--districts", "6", "--categories", "theft", "assault",
            "burglary", "--seed", "5", log=CACHE / "synth.log")
    counts = d / "crime_rate_dataset.csv"
    exog = {"events": d / "event_holiday_data.csv", "weather": d / "weather.csv", "districts": d / "districts.csv"}
    proto = ["--origins", "6", "--step", "60"]
    runs = {m: backtest(f"synth_{m}", counts, m, proto, reuse, {}) for m in ("moving_average", "ets")}
    if not skip_lstm or (CACHE / "synth_lstm" / "metrics.json").exists():
        runs["lstm"] = backtest("synth_lstm", counts, "lstm", proto + LSTM_EXTRA, True if skip_lstm else reuse, exog)
    truth = read_table(d / "truth_intensity.csv", "truth")
    lines = ["| method | RMSE | oracle RMSE (true intensity) | ratio | MAE | cov80 |", "|---|---|---|---|---|---|"]
    for m, res in runs.items():
        pred = pd.read_parquet(CACHE / f"synth_{m}" / "predictions.parquet")
        j = pred.merge(truth, on=["date", "district", "category"], how="left")
        assert j["intensity"].notna().all()
        rmse = float(np.sqrt(((j.y_true - j.y_pred) ** 2).mean()))
        orc = float(np.sqrt(((j.y_true - j.intensity) ** 2).mean()))
        lines.append(f"| {m} | {rmse:.3f} | {orc:.3f} | **{rmse / orc:.3f}** | {res['overall']['mae']:.3f} | "
                     f"{_fmt(res['overall'].get('coverage80'))} |")
    return lines


def two_year(files: dict[str, Path], reuse: bool, skip_lstm: bool) -> list[str]:
    """Chicago districts cut to a two-year-only history: counts from 2014-03-01, 4 origins from 2016-03-01 every
    91 days (2.0–2.75 years of history): where a global model has few training windows and must lean on its base."""
    from crimecast.contract import read_table, write_table

    f = CACHE / "data" / "district_2y.csv.gz"
    if not f.exists():
        f.parent.mkdir(parents=True, exist_ok=True)
        c = read_table(files["district"], "counts")
        write_table(c[pd.to_datetime(c["date"]) >= pd.Timestamp("2014-03-01")], f)
    origins = [pd.Timestamp("2016-03-01") + pd.Timedelta(days=91 * i) for i in range(4)]
    proto = ["--origins", "4", "--step", "91", "--first-origin", "2016-03-01", "--horizon", str(HORIZON),
             "--window", "60"]
    res = level_runs("district", f, files, reuse, skip_lstm, proto, origins, tag="_2y")
    return chicago_table("two-year", res)


DEV_FIRST, DEV_ORIGINS = "2013-03-01", 6  # development origins: every forecast ends before 2016-03-01
DEV_CONFIGS = {  # how the training defaults were chosen (on these origins, never on the benchmark's)
    "shipped defaults (3 seeds, lr 1e-3, EMA 0.99)": [],
    "previous defaults (1 seed, lr 2e-3, no EMA)": ["--seeds", "1", "--learning-rate", "0.002", "--ema", "0"],
    "3 seeds, lr 2e-3, no EMA": ["--seeds", "3", "--learning-rate", "0.002", "--ema", "0"],
    "3 seeds, lr 2e-3, EMA 0.99": ["--seeds", "3", "--learning-rate", "0.002"],
}


def development(files: dict[str, Path], reuse: bool) -> list[str]:
    """The LSTM's training options on development origins before the benchmark's (2013-03-01 + k·173 d, 6
    origins): MAE / seasonal-naive of the combination, the network alone and the base alone."""
    proto = ["--origins", str(DEV_ORIGINS), "--step", str(STEP), "--first-origin", DEV_FIRST, "--horizon",
             str(HORIZON), "--window", "60"]
    exog = {"events": files["events"], "weather": files["weather"]}
    counts = files["district"]
    base = {m: pd.read_parquet(CACHE / f"dev_{m}" / "predictions.parquet") if (reuse and (
        CACHE / f"dev_{m}" / "predictions.parquet").exists()) else None for m in ("seasonal_naive", "moving_average",
                                                                                 "dow_profile")}
    for m in base:
        backtest(f"dev_{m}", counts, m, proto, reuse and base[m] is not None, {})
        base[m] = pd.read_parquet(CACHE / f"dev_{m}" / "predictions.parquet")
    sn = _score(base["seasonal_naive"])["mae"]
    lines = ["| LSTM training options | shipped (combination) | network alone | base alone | MA28 | day-of-week | "
             "wall s |", "|---|---|---|---|---|---|---|"]
    for i, (label, extra) in enumerate(DEV_CONFIGS.items()):
        name = f"dev_lstm_{i}"
        mt = backtest(name, counts, "lstm", proto + LSTM_EXTRA + extra, reuse, exog)
        pred = pd.read_parquet(CACHE / name / "predictions.parquet")
        comp = pd.read_parquet(CACHE / name / "components.parquet")
        r = [_score(pred)["mae"] / sn, _score(comp, "y_network")["mae"] / sn, _score(comp, "y_base")["mae"] / sn,
             _score(base["moving_average"])["mae"] / sn, _score(base["dow_profile"])["mae"] / sn]
        wall = mt.get("bench", {}).get("wall_seconds", mt["run"]["seconds"])
        lines.append(f"| {label} | " + " | ".join(_fmt(x) for x in r) + f" | {wall:.0f} |")
    return lines


def recent(files: dict[str, Path], reuse: bool) -> list[str]:
    """`crimecast backtest` with its default protocol (the last 8 origins, 30 days apart, ending on the data's
    last day) on the districts: the LSTM against seasonal-naive, MA28 and the day-of-week profile."""
    exog = {"events": files["events"], "weather": files["weather"]}
    p = {}
    for m in ("seasonal_naive", "moving_average", "dow_profile", "lstm"):
        mt = backtest(f"recent_{m}", files["district"], m, [], reuse, exog if m == "lstm" else {})
        p[m] = (pd.read_parquet(CACHE / f"recent_{m}" / "predictions.parquet"), mt)
    comp = pd.read_parquet(CACHE / "recent_lstm" / "components.parquet")
    sn = _score(p["seasonal_naive"][0])["mae"]
    best = min(_score(p[m][0])["mae"] for m in ("moving_average", "dow_profile"))
    lstm = _score(p["lstm"][0])
    origins = sorted(p["lstm"][0]["origin"].dt.date.unique())
    lines = [f"Origins {origins[0]} … {origins[-1]} (Chicago's 2021, after the 2020 disruption).", "",
             "| method | MAE | MAE / seasonal-naive |", "|---|---|---|"]
    for m, label in (("seasonal_naive", "seasonal-naive"), ("moving_average", "28-day mean (MA28)"),
                     ("dow_profile", "MA28 × day-of-week profile")):
        mae = _score(p[m][0])["mae"]
        lines.append(f"| {label} | {mae:.3f} | {mae / sn:.3f} |")
    lines += [f"| the forecaster's base alone | {_score(comp, 'y_base')['mae']:.3f} | "
              f"{_score(comp, 'y_base')['mae'] / sn:.3f} |",
              f"| the network alone | {_score(comp, 'y_network')['mae']:.3f} | "
              f"{_score(comp, 'y_network')['mae'] / sn:.3f} |",
              f"| **shipped** | {lstm['mae']:.3f} | {lstm['mae'] / sn:.3f} |", "",
              f"Shipped vs the best of MA28 and the day-of-week profile: {100 * (1 - lstm['mae'] / best):+.1f} % "
              f"better (the must-show asks ≥ 6 %); coverage 80 % {lstm.get('cov80', float('nan')):.3f}, 95 % "
              f"{lstm.get('cov95', float('nan')):.3f}."]
    return lines


def throughput(model_dir: Path, n_series: int = 10_000) -> list[str]:
    """LiteRT forecast for n_series synthetic series (90 days each) pinned to one core, 1 thread."""
    code = f"""
import os, time, json, numpy as np, pandas as pd
os.sched_setaffinity(0, {{0}})
from crimecast.forecast import CrimeForecaster
rng = np.random.default_rng(0)
dates = pd.date_range('2019-01-01', periods=90, freq='D')
lam = rng.gamma(2.0, 5.0, size={n_series})
c = pd.DataFrame({{'date': np.tile(dates.to_numpy(), {n_series}),
    'district': np.repeat([f'd{{i // 10}}' for i in range({n_series})], 90),
    'category': np.repeat([f'c{{i % 10}}' for i in range({n_series})], 90),
    'count': rng.poisson(np.repeat(lam, 90))}})
f = CrimeForecaster(num_threads=1).load_model({str(model_dir)!r})
f.predict_next_30_days(c.iloc[:90 * 50])
ts = []
for _ in range(3):
    t0 = time.perf_counter(); fc = f.predict_next_30_days(c); ts.append(time.perf_counter() - t0)
print(json.dumps({{'rows': len(fc), 'seconds': ts}}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=900)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-3000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    meta = json.loads((model_dir / "metadata.json").read_text())
    return ["| series | forecast rows | seconds (median of 3, one core, 1 thread, incl. features) | model |",
            "|---|---|---|---|",
            f"| {n_series:,} | {res['rows']:,} | {float(np.median(res['seconds'])):.2f} "
            f"(runs: {', '.join(f'{s:.2f}' for s in res['seconds'])}) | seq {meta['inputs']['seq']}, fut "
            f"{meta['inputs']['fut']}, static {meta['inputs']['static']}, LSTM "
            f"{meta['training']['config']['hidden']}, {meta['tflite_bytes'] / 1e6:.2f} MB, load avg "
            f"{os.getloadavg()[0]:.1f} |", "",
            "The process is pinned to core 0, which the other jobs on this 2-core machine share: at a load average "
            "near 10 the wall time measures the contention as much as the forecaster (features: pandas pivot of "
            "the 900 k input rows, the per-day history inputs; LiteRT invoke ≈ 1.3 s of it in a profile)."]


def write_section(body: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1:] if nxt >= 0 else "")
    DOC.write_text(text if text.endswith("\n") else text + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reuse", action="store_true", help="reuse cached runs under .cache/bench_forecast")
    ap.add_argument("--skip-lstm", action="store_true", help="no new LSTM training (cached LSTM runs still shown)")
    ap.add_argument("--skip-two-year", action="store_true")
    ap.add_argument("--skip-category", action="store_true")
    ap.add_argument("--model-dir", default=str(ROOT / "models" / "forecaster"),
                    help="model for the throughput test (the shipped one; trained on Chicago districts if missing)")
    ap.add_argument("--chicago-root", default=None)
    ap.add_argument("--no-doc", action="store_true", help="print only; do not touch docs/benchmarks.md")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    files = chicago_files(Path(args.chicago_root) if args.chicago_root else None)
    out = [SECTION, "",
           f"Generated by `scripts/bench_forecast.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
           f"machine: {os.cpu_count()} cores shared with other jobs (load averages in the tables). "
           "Protocol as ../shared/ANCHORS.md: 8 rolling origins from 2016-03-01 every 173 days, 30-day horizon, "
           "every model fitted only on data before each origin; data: the embedded `data/chicago` tables. The shipped "
           "forecaster (`crimecast backtest --model lstm --finetune-epochs 2`): an LSTM encoder of the last 60 days + "
           "a direct per-day head over each forecast day's calendar (weekday, day of month, holidays), events and "
           "history features (7/14/91/364-day levels, same-weekday means, last year's same days ±3), pooled over all "
           "series, scaled by each series' 28-day level, Poisson loss; it outputs a multiplicative correction of a "
           "structural base (level: 28-day mean × shrunk seasonal shift, averaged with the 91-day mean × its seasonal "
           "change; × day-of-week profile × first-of-month profile); the "
           "correction's weight per horizon day and the conformal intervals are fitted on a held-out block before "
           "the origin; trained at the first origin and warm-started at the later ones. The LightGBM peer "
           "(`scripts/forecast_peer.py`) gets the same inputs and the same held-out block protocol. ETS intervals "
           "are model-based; the other baselines' intervals are conformal on their own past errors. The LSTM is an "
           "ensemble of 3 seeds trained with Adam (lr 1e-3) keeping an exponential moving average of the weights "
           "(the training defaults; see the development-origins table for how they were chosen). Wall times are "
           "on the shared machine (load averages in the tables), not CPU times.", ""]
    origins = [pd.Timestamp(FIRST_ORIGIN) + pd.Timedelta(days=STEP * i) for i in range(N_ORIGINS)]
    res = {}
    for level in ("district",) if args.skip_category else ("district", "category"):
        n = {"district": 22, "category": 15}[level]
        res[level] = level_runs(level, files[level], files, args.reuse, args.skip_lstm, PROTOCOL, origins)
        out += [f"### Chicago, {n} {level} series (counts + events + weather)", ""]
        out += chicago_table(level, res[level])
        out += [""]
    out += ["The base alone and the network alone come from the shipped forecaster's own backtest run (the same "
            "trained networks at every origin; `components.parquet`): the ablation of what each part adds.", ""]
    out += ["### Hotspots: how often the top districts held the crime (Chicago districts)", ""]
    out += hotspot_table(res["district"], files["district"])
    if not args.skip_two_year:
        out += ["", "### Two-year-only history (Chicago districts from 2014-03-01; 4 origins 2016-03-01 + k·91 d)", ""]
        out += two_year(files, args.reuse, args.skip_lstm)
    if not args.skip_lstm:
        out += ["", f"### How the LSTM's training options were chosen (development origins {DEV_FIRST} + k·{STEP} d, "
                f"{DEV_ORIGINS} origins, districts; MAE / seasonal-naive)", ""]
        out += development(files, args.reuse)
        out += ["", "Chosen on these origins, before the benchmark's: one seed at lr 2e-3 swung by up to 15 % in "
                "calibration MAE from one epoch to the next; averaging the weights (EMA), a lower rate and three "
                "seeds steady it. On these origins the base alone stays ahead (the 2014-02-10 origin, after the "
                "January 2014 polar vortex, costs the network most): the network's gain is not uniform."]
    if not args.skip_lstm:
        out += ["", "### The default `crimecast backtest` protocol (districts, last 8 origins 30 days apart)", ""]
        out += recent(files, args.reuse)
    out += ["", "### How far down can MAE go? (no training: base and oracles on the same origins)", ""]
    out += ceiling(files, ("district",) if args.skip_category else ("district", "category"))
    out += ["", "### Synthetic (4 years × 6 districts × 3 categories, 6 origins every 60 days)", ""]
    out += synthetic_oracle(args.reuse, args.skip_lstm)
    mdir = Path(args.model_dir)
    if not (mdir / "metadata.json").exists() and not args.skip_lstm:
        cli("train-forecaster", "--counts", str(files["district"]), "--events", str(files["events"]), "--weather",
            str(files["weather"]), "--out", str(mdir), log=CACHE / "train_chicago.log")
    if (mdir / "metadata.json").exists():
        out += ["", "### LiteRT forecast throughput", ""]
        out += throughput(mdir)
    body = "\n".join(out) + "\n"
    print(body)
    if not args.no_doc:
        write_section(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
