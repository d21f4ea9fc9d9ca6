"""MODEL_CARD.md for an exported forecaster, written from its metadata.json (nothing else)."""

from __future__ import annotations

from typing import Any


def _f(x: Any, nd: int = 3) -> str:
    return f"{x:.{nd}f}" if isinstance(x, int | float) else "–"


def model_card(meta: dict[str, Any]) -> str:
    t = meta.get("trained_on", {})
    v = meta.get("validation", {})
    cfg = meta.get("training", {}).get("config", {})
    lines = [
        f"# Forecaster {meta.get('version', '')}", "",
        "Global LSTM over every district × category series: an LSTM encoder of the last "
        f"{meta.get('feature_spec', {}).get('window')} days plus a direct per-day head over the forecast day's "
        "calendar, events and history features (recent levels, same-weekday means, last year's same days). It "
        "outputs a multiplicative correction of a structural base (level: the 28-day mean × the shrunk seasonal "
        "shift of earlier years, averaged with the 91-day mean × its seasonal change; × day-of-week profile × "
        "first-of-month profile); the correction's weight per horizon day and split-conformal "
        "80/95 % intervals are fitted on a held-out block. Served by LiteRT (no TensorFlow).", "",
        "## Trained on", "",
        f"- kind: **{t.get('kind')}**; sources: {', '.join(map(str, t.get('sources', []))) or '–'}",
        f"- {t.get('n_series')} series, {t.get('n_items', 0):,} recorded crimes, "
        f"{' – '.join(t.get('date_range', []))} (train_end {meta.get('train_end')})",
        f"- data sha256 `{t.get('data_sha256', '')}`",
        f"- command: `{meta.get('command')}`; code version `{meta.get('code_version')}`",
        f"- network: LSTM {cfg.get('hidden')}, dense {cfg.get('dense')}, {cfg.get('epochs')} epochs × "
        f"{cfg.get('samples_per_epoch')} windows, Adam lr {cfg.get('learning_rate')}"
        f"{', weights averaged (EMA ' + str(cfg.get('ema')) + ')' if cfg.get('ema') else ''}, {cfg.get('seeds')} "
        f"seed(s) averaged; TFLite "
        f"{meta.get('tflite_bytes', 0) / 1e6:.2f} MB, max |TFLite − Keras| "
        f"{_f(meta.get('metrics', {}).get('tflite_vs_keras_max_abs_diff'), 5)}", "",
        "## Validation", "",
        f"{v.get('what', '')}; origins {' – '.join(v.get('origins') or [])}.", "",
        "| forecast | MAE (crimes/day) |", "|---|---|",
        f"| shipped (base × blended correction) | {_f(v.get('mae'))} |",
        f"| network alone (full correction) | {_f(v.get('mae_network_alone'))} |",
        f"| structural base alone | {_f(v.get('mae_base_alone'))} |",
        f"| 28-day mean | {_f(v.get('mae_ma28'))} |", "",
        f"80 % interval coverage on the block: {_f(v.get('coverage80'))} (in-sample for the interval widths).", "",
    ]
    bt = meta.get("backtest")
    if isinstance(bt, dict) and bt:
        lines += ["## Rolling-origin backtest (retrained at every origin)", "", str(bt.get("what", "")), "",
                  "| method | MAE / seasonal-naive |", "|---|---|"]
        lines += [f"| {k} | {_f(x)} |" for k, x in bt.get("mae_over_seasonal_naive", {}).items()]
        lines.append("")
    per = v.get("per_series", [])
    if per:
        wins = v.get("series_where_a_baseline_wins", [])
        lines += ["## Which forecast to trust, per series", "",
                  f"A simple baseline beat the shipped forecast on the held-out block for {len(wins)} of {len(per)} "
                  "series (⚠ below): for those, prefer the baseline's number or read the forecast with its "
                  "interval.", "",
                  "| series | shipped MAE | base alone | best baseline | its MAE | trust |",
                  "|---|---|---|---|---|---|"]
        for r in per:
            flag = "⚠ baseline wins" if r.get("baseline_wins") else "shipped"
            lines.append(f"| {r['district']}/{r['category']} | {_f(r['mae_model'])} | {_f(r['mae_base'])} | "
                         f"{r['best_baseline']} | {_f(r['mae_best_baseline'])} | {flag} |")
        lines.append("")
    lines += ["## Limits", "",
              "- Forecasts recorded crime (what is reported and recorded), not crime; Chicago's 1st-of-month "
              "spike is a recording artefact the model reproduces.",
              "- Series with under a year of history: the seasonal inputs (last year's days, seasonal shift) are "
              "treated as unknown and the forecast leans on the recent level and weekday profile; with under "
              "`window` days of counts no forecast is made.",
              "- Weather enters only through the past window (no weather forecast is used).", ""]
    return "\n".join(lines)
