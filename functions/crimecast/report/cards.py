"""Model card / data card: what the numbers rest on and where they stop being valid."""

from __future__ import annotations

import html

import pandas as pd

from crimecast.report.sections import Section, backtest_rows, has_intervals, latest_run, table_html

KNOWN_LIMITS = [
    "Recorded crime is not all crime: the model learns what was reported and recorded, which depends on "
    "victims' willingness to report, recording practice and where police already look.",
    "Forecasts describe areas and days, never people. Nothing here may be used to single out individuals.",
    "Feedback loops: if patrols follow forecasts, more crime is recorded where patrols go, which raises the "
    "next forecast there. Compare allocations with the equity view and keep some patrols independent of "
    "the model.",
    "Rare, severe categories have few examples; their forecasts are noisy and intervals wide.",
    "Events the model has not seen (new policies, large disruptions) break the patterns it relies on.",
]
INTENDED = [
    "Planning patrol presence and hot-spot visits per district and day, together with local knowledge.",
    "Spotting changes in trends and checking them against other sources.",
    "Triage of surveillance images for a human to review (risk ratings are prompts, not findings).",
]
OUT_OF_SCOPE = [
    "Any decision about a person: stops, searches, arrests, sentencing, bail, benefits.",
    "Automatic enforcement or dispatch without human review.",
    "Comparing areas to rank their residents, or using forecasts as evidence.",
]


def _items(values: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in values) + "</ul>"


def _fmt(v: object) -> str:
    if isinstance(v, str) and len(v) > 24 and " " not in v:
        return v[:16] + "…"  # hashes: the prefix identifies them
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list | tuple) and len(v) <= 4:
        return " – ".join(map(str, v)) if len(v) == 2 and all(isinstance(x, str) for x in v) else str(list(v))
    return str(v)


def _meta_lines(meta: dict) -> list[str]:
    """The few metadata.json fields an analyst needs: version, when, profile, training data, metrics."""
    lines = [f"{k} {_fmt(meta[k])}" for k in ("version", "created_utc", "created_at", "profile", "arch")
             if k in meta]
    training = meta.get("training") or meta.get("training_data") or {}
    if isinstance(training, dict):
        keep = [f"{k} {_fmt(v)}" for k, v in training.items()
                if any(w in k for w in ("range", "source", "hash", "sha", "images", "n_train", "classes"))]
        if keep:
            lines.append("training: " + ", ".join(keep[:6]))
    metrics = meta.get("metrics")
    if isinstance(metrics, dict):
        nums = [f"{k} {_fmt(v)}" for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        if nums:
            lines.append("metrics: " + ", ".join(nums[:6]))
    return lines


def model_and_data_card(forecasts, history, backtest, model_info: dict) -> Section:  # type: ignore[no-untyped-def]
    s = Section("card", "Model card and data card",
                "What the forecasts and ratings are built on, how good they were in the backtest, and what they "
                "must not be used for.")
    data = []
    if history is not None:
        h = history
        data.append(f"Counts: {pd.to_datetime(h['date']).min().date()} – {pd.to_datetime(h['date']).max().date()}, "
                    f"{h['district'].nunique()} districts × {h['category'].nunique()} categories "
                    f"({', '.join(sorted(map(str, h['category'].unique()))[:12])}).")
    else:
        data.append("Counts history: not given to this report.")
    if forecasts is not None:
        fc = latest_run(forecasts)
        data.append(f"Forecasts: {fc.groupby(['district', 'category']).ngroups} series, "
                    f"{fc['date'].min().date()} – {fc['date'].max().date()}"
                    + ("" if has_intervals(fc) else " (no prediction intervals in the file)") + ".")
        if "model_version" in fc.columns:
            data.append(f"Forecast model version(s): {', '.join(sorted(map(str, fc['model_version'].unique())))}.")
    else:
        data.append("Forecasts: none in this run.")
    for name in ("forecaster", "classifier"):
        meta = model_info.get(name) if isinstance(model_info, dict) else None
        if isinstance(meta, dict) and meta:
            data.append(f"{name}: " + "; ".join(_meta_lines(meta) or ["metadata present, no summary fields"]))
        else:
            data.append(f"{name}: no metadata given.")
    s.add('<div class="cards"><div><h3>Data and models</h3>' + _items(data) + "</div>")
    metrics = backtest_rows(backtest)
    perf = "<h3>Metrics with baselines</h3>"
    if metrics.empty:
        perf += '<p class="missing">No backtest metrics given: accuracy unknown for this run.</p>'
    else:
        cols = [c for c in ("model", "mae", "mae_vs_seasonal_naive", "mase", "coverage80", "coverage95")
                if c in metrics.columns]
        perf += table_html(metrics[cols], floats="{:.3f}")
        cov = [c for c in ("coverage80", "coverage95") if c in metrics.columns]
        if cov:
            best = metrics.iloc[0]
            perf += ("<p>Interval coverage of the best model (" + html.escape(str(best["model"])) + "): "
                     + ", ".join(f"{c[-2:]} % interval → {best[c]:.0%}" for c in cov if pd.notna(best[c]))
                     + " of true counts inside.</p>")
        else:
            perf += '<p class="missing">The backtest has no interval coverage.</p>'
    s.add(f"<div>{perf}</div></div>")
    s.add('<div class="cards"><div><h3>Known limits</h3>' + _items(KNOWN_LIMITS) + "</div>"
          "<div><h3>Intended uses</h3>" + _items(INTENDED) + "<h3>Out of scope</h3>" + _items(OUT_OF_SCOPE)
          + "</div></div>")
    return s
