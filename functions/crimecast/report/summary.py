"""The report's first screen: the header facts (data's last day, forecast window) and the action summary.

The action summary answers three questions: which districts / categories need attention in the next 7 days
and why (the one ranking, `crimecast.hotspots.rank_hotspots`), which uploads wait for a human (thumbnails
and links), and how far the forecasts can be trusted (backtest and interval coverage in one line).
"""

from __future__ import annotations

import hashlib
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crimecast.report.base import Section, latest_run
from crimecast.report.cards import model_warnings
from crimecast.report.evaluation import backtest_rows

ATTENTION_DAYS = 7
SCOPE_SHORT = {"out-of-sample": "(scored on days after the model's training data)",
               "other data": "(the model was trained on other data: every scored day is unseen)",
               "calibration block": "(scored on the model's held-out calibration days; coverage there is optimistic)"}
TOP_DISTRICTS = 5
MAX_REVIEW = 8
THUMB_PX = 200
REVIEW_DIR = "review"


@dataclass
class Window:
    """What the header states: the last day of data, the forecast window and the run date."""

    data_last: pd.Timestamp | None
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    run: pd.Timestamp | None

    @property
    def title(self) -> str:
        if self.first is None:
            return "no forecast in this run"
        data = f"data to {self.data_last.date()}" if self.data_last is not None else "data end unknown"
        return f"{data} · forecast {self.first.date()} – {self.last.date()}"  # type: ignore[union-attr]

    @property
    def lag_note(self) -> str:
        """A plain sentence when the run date is far after the data (so the dates never confuse)."""
        if self.run is None or self.data_last is None or self.first is None:
            return ""
        gap = int((self.run - self.data_last).days)
        if gap <= 7:
            return ""
        return (f"Note: this run ({self.run.date()}) is {gap:,} days after the last day of data; the forecast covers "
                f"the {int((self.last - self.first).days) + 1} days after the data, not the days after the run.")  # type: ignore[operator]


def window(forecasts: pd.DataFrame | None, history: pd.DataFrame | None, run_date: object) -> Window:
    fc = latest_run(forecasts) if forecasts is not None else None
    data_last = pd.to_datetime(history["date"]).max() if history is not None else None
    if data_last is None and fc is not None:
        data_last = fc["date"].min() - pd.Timedelta(days=1)
    run = pd.Timestamp(run_date).normalize() if run_date is not None else None
    return Window(data_last, fc["date"].min() if fc is not None else None,
                  fc["date"].max() if fc is not None else None, run)


# ---------------------------------------------------------------- districts and categories
def _recent_daily(history: pd.DataFrame | None, key: str, days: int = 28) -> pd.Series | None:
    """Mean recorded incidents per day over the last `days` days of history, per district (or category)."""
    if history is None:
        return None
    h = history.copy()
    h["date"] = pd.to_datetime(h["date"])
    h = h[h["date"] > h["date"].max() - pd.Timedelta(days=days)]
    out = h.groupby(h[key].astype(str))["count"].sum() / days
    return out


def _why(share: float, change: float | None, rank: int) -> str:
    parts = [f"{'most expected harm, ' if rank == 1 else ''}{share:.1%} of the city"]
    if change is not None and abs(change) >= 0.05:
        parts.append(f"{change:+.0%} vs its last 4 weeks")
    elif change is not None:
        parts.append("as in its last 4 weeks")
    return "; ".join(parts)


def _attention(forecasts: pd.DataFrame, history: pd.DataFrame | None, severity: Mapping[str, float] | None) -> str:
    from crimecast.hotspots import rank_hotspots

    ranked = rank_hotspots(forecasts, days=ATTENTION_DAYS, severity=severity)
    first, last = ranked["first_day"].iloc[0].date(), ranked["last_day"].iloc[0].date()
    recent = _recent_daily(history, "district")
    rows = []
    for r in ranked.head(TOP_DISTRICTS).itertuples():
        days = max(int(r.days), 1)
        base = float(recent.get(r.district, float("nan"))) if recent is not None else float("nan")
        change = (r.y_pred / days) / base - 1 if base == base and base > 0 else None
        band = f" ({r.lo80:,.0f}–{r.hi80:,.0f})" if r.lo80 == r.lo80 and r.hi80 == r.hi80 else ""
        rows.append(f"<tr><td>{r.rank}</td><td><b>{html.escape(r.district)}</b></td>"
                    f"<td>{r.y_pred:,.0f}{band}</td><td>{html.escape(_why(r.share, change, r.rank))}</td></tr>")
    rising = ""
    if recent is not None:
        chg = [(r.district, (r.y_pred / max(int(r.days), 1)) / recent[r.district] - 1) for r in ranked.itertuples()
               if r.district in recent.index and recent[r.district] > 1]
        chg = [c for c in sorted(chg, key=lambda c: -c[1]) if c[1] >= 0.05][:3]
        if chg:
            rising = ("<p>Rising most against their last 4 weeks: "
                      + ", ".join(f"<b>{html.escape(d)}</b> ({c:+.0%})" for d, c in chg) + ".</p>")
    cats = _categories(forecasts, history, first)
    return (f"<h3>Needs attention {first} – {last}</h3>"
            '<table class="data summary"><thead><tr><th>#</th><th>district</th><th>expected, 7 days (80 % band)'
            "</th><th>why</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + rising + cats
            + '<p class="small">Ranked by expected severity-weighted recorded incidents (the same ranking as '
              "the API's /v1/hotspots and the hotspot map). <a href=\"#hotspots\">All districts</a> · "
              '<a href="#allocation">patrol plan</a></p>')


def _categories(forecasts: pd.DataFrame, history: pd.DataFrame | None, first: object) -> str:
    fc = latest_run(forecasts)
    cats = sorted(fc["category"].astype(str).unique())
    if len(cats) <= 1:
        only = html.escape(cats[0]) if cats else "?"
        return (f"<p>Categories: this run forecasts one category per district (<b>{only}</b>): the data has no "
                "district × crime-type table, so no category needs attention separately.</p>")
    week = fc[(fc["date"] >= pd.Timestamp(first)) & (fc["date"] < pd.Timestamp(first) + pd.Timedelta(days=7))]
    tot = week.groupby(week["category"].astype(str))["y_pred"].sum().sort_values(ascending=False)
    recent = _recent_daily(history, "category")
    items = []
    for c, v in tot.head(4).items():
        base = float(recent.get(c, float("nan"))) * 7 if recent is not None else float("nan")
        delta = f", {v / base - 1:+.0%} vs last 4 weeks" if base == base and base > 0 else ""
        items.append(f"<b>{html.escape(c)}</b> {v:,.0f}{delta}")
    return "<p>Categories with the most expected incidents in these 7 days: " + "; ".join(items) + ".</p>"


# ---------------------------------------------------------------- review queue
def review_queue(classifications: pd.DataFrame | None) -> pd.DataFrame | None:
    """Uploads waiting for a human: rated High or answered "uncertain", newest first (None when none)."""
    if classifications is None or "risk_level" not in classifications.columns:
        return None
    c = classifications.copy()
    risk = c["risk_level"].astype(str).str.capitalize()
    unsure = c["uncertain"].fillna(False).astype(bool) if "uncertain" in c.columns else False
    q = c[(risk == "High") | unsure].copy()
    if q.empty:
        return q
    flags = q["uncertain"].fillna(False).astype(bool) if "uncertain" in q.columns else [False] * len(q)
    q["reason"] = ["uncertain → human review" if u else "look now" for u in flags]
    ts = next((k for k in ("created_at", "classified_at", "time") if k in q.columns), None)
    if ts:
        q = q.sort_values(ts, ascending=False, key=lambda s: pd.to_datetime(s, errors="coerce", utc=True))
    return q


def review_media(queue: pd.DataFrame | None, media: Mapping[str, bytes] | None) -> dict[str, tuple]:
    """{key: (thumbnail path or None, full path, {relative path: bytes})} for the queued uploads whose bytes
    are in `media`; nothing is written here (build_report writes the files with the page)."""
    out: dict[str, tuple] = {}
    if not media or queue is None or queue.empty:
        return out
    key_col = "key" if "key" in queue.columns else "path" if "path" in queue.columns else None
    if key_col is None:
        return out
    for key in queue[key_col].astype(str).head(MAX_REVIEW):
        data = media.get(key)
        if not data:
            continue
        stem = hashlib.sha256(key.encode()).hexdigest()[:12]
        full = f"{REVIEW_DIR}/{stem}{Path(key).suffix.lower() or '.bin'}"
        files = {full: data}
        thumb: str | None = f"{REVIEW_DIR}/{stem}-thumb.jpg"
        try:
            from PIL import Image

            buf = io.BytesIO()
            with Image.open(io.BytesIO(data)) as im:
                im = im.convert("RGB")
                im.thumbnail((THUMB_PX, THUMB_PX))
                im.save(buf, "JPEG", quality=80)
            files[thumb] = buf.getvalue()  # type: ignore[index]
        except Exception:  # noqa: BLE001 - a video or an undecodable upload: a link, no thumbnail
            thumb = None
        out[key] = (thumb, full, files)
    return out


def _review(queue: pd.DataFrame | None, links: Mapping[str, tuple]) -> str:
    head = "<h3>Waiting for review</h3>"
    if queue is None:
        return head + '<p class="missing">No classification results reached this report.</p>'
    if queue.empty:
        return head + "<p>Nothing waiting: no upload of the last 7 days was rated High or uncertain.</p>"
    key_col = "key" if "key" in queue.columns else "path"
    cards = []
    for r in queue.head(MAX_REVIEW).to_dict("records"):
        key = str(r.get(key_col, "?"))
        thumb, full, _ = links.get(key, (None, None, None))
        img = (f'<a href="{html.escape(full)}"><img src="{html.escape(thumb)}" alt="{html.escape(key)}"></a>'
               if thumb else f'<a class="novid" href="{html.escape(full)}">▶ open the clip</a>' if full else "")
        conf = r.get("confidence")
        conf_s = f" {float(conf):.0%}" if isinstance(conf, int | float) and conf == conf else ""
        level = html.escape(str(r.get("risk_level", "?")).capitalize())
        cards.append(f'<figure class="thumb">{img}<figcaption><span class="risk-{level}">{level}{conf_s}</span> · '
                     f"{html.escape(str(r['reason']))}<br><code>{html.escape(key.rsplit('/', 1)[-1])}</code>"
                     "</figcaption></figure>")
    more = f"<p>… and {len(queue) - MAX_REVIEW} more.</p>" if len(queue) > MAX_REVIEW else ""
    return (head + f"<p>{len(queue)} upload(s) rated High or uncertain. "
            '<a href="#classifications">All classifications</a></p><div class="thumbs">' + "".join(cards)
            + "</div>" + more)


# ---------------------------------------------------------------- trust
def trust_line(backtest: dict | None) -> str:
    """One sentence: the model's backtest error against the baselines and its interval coverage."""
    t = backtest_rows(backtest)
    if t.empty or "mae" not in t.columns:
        return ("Not validated in this run: no backtest was given, so nobody knows how far these forecasts "
                "can be trusted.")
    names = t["model"].astype(str)
    is_base = names.str.contains("naive|mean|moving|ets", case=False)
    model = t[~is_base].head(1)
    base = t[is_base]
    if model.empty:
        return "The backtest holds only baselines: the model itself was not validated in this run."
    m = model.iloc[0]
    extra = dict(backtest) if isinstance(backtest, dict) else {}
    own = (extra.get("models") or {}).get(m["model"]) if isinstance(extra.get("models"), dict) else None
    if isinstance(own, dict):  # one metrics.json per model (what the forecast job reads): its own run facts
        run = own.get("run") if isinstance(own.get("run"), dict) else {}
        extra.setdefault("n_origins", own.get("n_origins"))
        extra.setdefault("scope_short", SCOPE_SHORT.get(str(run.get("scope", "")), ""))
    n_o = extra.get("n_origins")
    label = str(m["model"]).split(" (")[0]
    span = f" ({n_o} origin{'' if n_o == 1 else 's'} × 30 days)" if n_o else ""
    parts = [f"in the backtest{span} the {html.escape(label)} forecast was off "
             f"by {m['mae']:.1f} incidents/day on average"]
    if not base.empty:
        b = base.iloc[0]
        parts.append(f"{m['mae'] / b['mae']:.2f}× the error of the best baseline ({html.escape(str(b['model']))})")
    cov = [f"{lvl} % band held the true count {m[f'coverage{lvl}']:.0%} of the time"
           for lvl in ("80", "95") if f"coverage{lvl}" in m and pd.notna(m[f"coverage{lvl}"])]
    line = ", ".join(parts) + ("; its " + ", its ".join(cov) if cov else "; interval coverage not measured") + "."
    line = line[0].upper() + line[1:]
    if extra.get("scope_short"):
        line += f" {html.escape(str(extra['scope_short']))}"
    return line


def action_summary(forecasts: pd.DataFrame | None, history: pd.DataFrame | None, backtest: dict | None,
                   classifications: pd.DataFrame | None, model_info: Mapping, review_links: Mapping[str, tuple],
                   severity: Mapping[str, float] | None, win: Window) -> Section:
    s = Section("summary", "Action summary",
                "What needs attention in the next 7 days, what waits for a human, and how far to trust it.")
    warns = model_warnings(model_info)
    if warns:
        s.add('<p class="warn">' + "<br>".join(html.escape(w) for w in warns) + "</p>")
    s.add(f'<p class="trust"><b>Trust:</b> {trust_line(backtest)} <a href="#backtest">Details</a></p>')
    left = (_attention(forecasts, history, severity) if forecasts is not None
            else '<h3>Needs attention</h3><p class="missing">No forecast in this run.</p>')
    s.add(f'<div class="cards"><div>{left}</div><div>{_review(review_queue(classifications), review_links)}</div>'
          "</div>")
    return s
