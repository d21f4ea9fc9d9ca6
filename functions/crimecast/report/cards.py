"""Model card / data card: what the numbers rest on and where they stop being valid."""

from __future__ import annotations

import html

import pandas as pd

from crimecast.report.base import Section, has_intervals, latest_run, table_html
from crimecast.report.evaluation import backtest_rows

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


MODEL_NAMES = ("forecaster", "classifier", "clip")
WHAT = {"forecaster": "daily counts per district × category, next 30 days",
        "classifier": "risk of one image (High / Medium / Low)", "clip": "risk of a video clip"}


def _num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _kind(meta: dict) -> str:
    t = meta.get("trained_on")
    return str(t.get("kind", "")).lower() if isinstance(t, dict) else ""


def model_warnings(model_info: object) -> list[str]:
    """Plain warnings for models that are synthetic-only or do not say what they were trained on."""
    out = []
    for name, meta in (model_info.items() if isinstance(model_info, dict) else []):
        if not isinstance(meta, dict) or not meta:
            continue
        v = meta.get("version", "?")
        if _kind(meta) == "synthetic":
            out.append(f"⚠ The {name} ({v}) was trained on SYNTHETIC data only: its output says nothing reliable "
                       "about real cameras or real crime. Do not act on it.")
        elif _kind(meta) != "real":
            out.append(f"⚠ The {name} ({v}) does not say what it was trained on (no trained_on in its metadata): "
                       "treat its output as unvalidated.")
    return out


def _trained_on(meta: dict) -> str:
    t = meta.get("trained_on")
    training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    if not isinstance(t, dict):
        rng = training.get("data_range")
        return "not recorded" + (f" (data {rng[0]} – {rng[1]})" if isinstance(rng, list) and len(rng) == 2 else "")
    kind = str(t.get("kind", "?"))
    srcs = t.get("sources") or []
    names = ", ".join(str(x.get("name", x)) if isinstance(x, dict) else str(x) for x in srcs[:4])
    bits = [f"<b>{html.escape(kind.upper() if kind == 'synthetic' else kind)}</b>"]
    if names:
        bits.append(html.escape(names))
    if _num(t.get("n_items")):
        bits.append(f"{t['n_items']:,} items")
    rng = t.get("date_range") or training.get("data_range")
    if isinstance(rng, list) and len(rng) == 2:
        bits.append(f"{html.escape(str(rng[0]))} – {html.escape(str(rng[1]))}")
    sha = t.get("data_sha256") or training.get("data_hash_sha256")
    if isinstance(sha, str):
        bits.append(f"data sha256 <code>{html.escape(sha[:12])}</code>")
    return "; ".join(bits)


def _flat_numbers(d: object, prefix: str = "", depth: int = 0) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    if isinstance(d, dict) and depth < 3:
        for k, v in d.items():
            name = f"{prefix}{k}".replace("_", " ")
            if _num(v):
                out.append((name, float(v)))
            elif isinstance(v, dict):
                out += _flat_numbers(v, f"{name} · " if depth < 1 else "", depth + 1)
    return out


PREFERRED = ("macro_f1", "macro-F1", "f1_macro", "high_recall", "accuracy", "mae", "mae_vs", "coverage80",
             "coverage95", "mase")


def _validation(meta: dict) -> str:
    v = meta.get("validation")
    if not isinstance(v, dict) or not v:
        cal = (meta.get("training") or {}).get("calibration") if isinstance(meta.get("training"), dict) else None
        if isinstance(cal, dict) and _num(cal.get("mae_blended")):
            return (f"not recorded; held-out calibration block MAE {cal['mae_blended']:.2f} "
                    f"(structural base {cal.get('mae_base', float('nan')):.2f})")
        return '<span class="warn-text">not recorded: accuracy unknown</span>'
    what = next((str(v[k]) for k in ("what", "measured", "protocol", "method", "description") if isinstance(
        v.get(k), str)), "")
    nums = _flat_numbers(v)
    nums.sort(key=lambda kv: next((i for i, p in enumerate(PREFERRED) if p.replace("_", " ") in kv[0]), 99))
    leaf: dict[str, float] = {}
    for k, x in nums:  # the leaf name is enough for a reader; the first of a name wins (preferred order)
        leaf.setdefault(k.rsplit(" · ", 1)[-1], x)
    shown = ", ".join(f"{html.escape(k)} {x:.3g}" for k, x in list(leaf.items())[:5])
    return (html.escape(what) + (": " if what and shown else "")) + shown or "recorded, no numbers"


def _made_by(meta: dict) -> str:
    cmd = meta.get("command")
    code = meta.get("code_version")
    bits = []
    if isinstance(cmd, str | list):
        text = cmd if isinstance(cmd, str) else " ".join(map(str, cmd))
        bits.append(f"<code>{html.escape(text)}</code>")
    if isinstance(code, str):
        bits.append(f"code {html.escape(code[:12])}")
    created = meta.get("created_utc") or meta.get("created_at")
    if created:
        bits.append(f"made {html.escape(str(created)[:10])}")
    return "<br>".join(bits) or "not recorded"


def model_table(model_info: object) -> str:
    """One row per model: version, what it was trained on, validated accuracy, how it was made, status."""
    rows = []
    info = model_info if isinstance(model_info, dict) else {}
    names = [n for n in MODEL_NAMES if n in info] + [n for n in info if n not in MODEL_NAMES]
    for name in names or ["forecaster", "classifier"]:
        meta = info.get(name)
        if not isinstance(meta, dict) or not meta:
            rows.append(f"<tr><td><b>{html.escape(name)}</b></td><td colspan=5 class=\"missing\">no metadata reached "
                        "this report</td></tr>")
            continue
        kind = _kind(meta)
        status = ('<span class="warn-text">⚠ synthetic only: do not act on it</span>' if kind == "synthetic"
                  else "real data" if kind == "real" else '<span class="warn-text">⚠ training data unknown</span>')
        rows.append(f"<tr><td><b>{html.escape(name)}</b><br><small>{html.escape(WHAT.get(name, ''))}</small></td>"
                    f"<td><code>{html.escape(str(meta.get('version', '?')))}</code></td><td>{_trained_on(meta)}</td>"
                    f"<td>{_validation(meta)}</td><td>{_made_by(meta)}</td><td>{status}</td></tr>")
    return ('<table class="data card"><thead><tr><th>model</th><th>version</th><th>trained on</th>'
            "<th>validated accuracy</th><th>made by</th><th>status</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def model_and_data_card(forecasts, history, backtest, model_info: dict,  # type: ignore[no-untyped-def]
                        monitoring: dict | None = None) -> Section:
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
    s.add("<h3>Models</h3>" + model_table(model_info))
    s.add('<div class="cards"><div><h3>Data</h3>' + _items(data) + "</div>")
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
    from crimecast.report.monitoring import live_accuracy_html, train_end_of

    # next to the backtest: how the served model does on new days (flagged when the days were in training)
    perf += live_accuracy_html(monitoring, train_end_of(model_info))
    s.add(f"<div>{perf}</div></div>")
    s.add('<div class="cards"><div><h3>Known limits</h3>' + _items(KNOWN_LIMITS) + "</div>"
          "<div><h3>Intended uses</h3>" + _items(INTENDED) + "<h3>Out of scope</h3>" + _items(OUT_OF_SCOPE)
          + "</div></div>")
    return s
