"""Hotspot accuracy the way crime analysts measure it: how often the top areas held the crime.

For each backtest origin and window (the next 7 and 30 days), areas (districts) are ranked by the forecast
summed over the window and categories; the top areas covering 5 %, 10 % and 20 % of the city are scored by
- hit rate: the share of the window's recorded crimes that fell in those areas, and
- PAI (Predictive Accuracy Index, Chainey et al. 2008): hit rate / share of the city's area they cover.
District areas are unknown for most data (Chicago's embedded data has none), so each district counts as one
unit of area: the top ceil(p · n_districts) districts cover a share p of the city (PAI = hit rate / (k / n)).
The same scores are given for the rankings an analyst makes by hand: the last 28 days' counts and last year's
same period (364 days earlier), so the table says whether the forecast ranks better than those.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SHARES = (0.05, 0.10, 0.20)
WINDOWS = (7, 30)
MIN_AREAS = 5  # fewer districts than this: no hotspot scores (a city-wide table has one "district")


def naive_rankings(y: np.ndarray, oi: int, windows: tuple[int, ...] = WINDOWS) -> dict[str, np.ndarray]:
    """Per series (S,), the scores of the hand-made rankings at origin index `oi` (days before it only):
    `last28` (last 28 days' counts) and `last_year_<w>` (the w days from 364 days before the origin; NaN
    without a year of history)."""
    out = {"last28": y[:, max(oi - 28, 0):oi].sum(axis=1).astype(float)}
    for w in windows:
        a = oi - 364
        out[f"last_year_{w}"] = (y[:, a:a + w].sum(axis=1).astype(float) if a >= 0
                                 else np.full(y.shape[0], np.nan))
    return out


def _top_hits(score: pd.Series, actual: pd.Series, share: float) -> tuple[float, float] | None:
    n = len(score)
    if score.isna().any() or n == 0:
        return None
    k = max(1, int(np.ceil(share * n)))
    top = score.sort_values(ascending=False, kind="mergesort").index[:k]
    total = float(actual.sum())
    if total <= 0:
        return None
    hit = float(actual.loc[top].sum()) / total
    return hit, hit / (k / n)


def hotspot_metrics(pred: pd.DataFrame, ref: pd.DataFrame | None = None, shares: tuple[float, ...] = SHARES,
                    windows: tuple[int, ...] = WINDOWS) -> dict[str, object] | None:
    """Mean hit rate and PAI over origins for each window × area share, for the forecast ("model") and, given
    `ref` (origin, district, category, last28, last_year_<w>), the hand-made rankings. None with fewer than
    MIN_AREAS districts."""
    n_d = pred["district"].nunique()
    if n_d < MIN_AREAS:
        return None
    df = pred.copy()
    df["h"] = (pd.to_datetime(df["date"]) - pd.to_datetime(df["origin"])).dt.days + 1
    rows = []
    for w in windows:
        sub = df[df["h"] <= w]
        if sub["h"].max() < w:
            continue
        agg = sub.groupby(["origin", "district"])[["y_pred", "y_true"]].sum()
        if ref is not None:
            r = ref.groupby(["origin", "district"])[["last28", f"last_year_{w}"]].sum(min_count=1)
            agg = agg.join(r)
        for origin, g in agg.groupby(level="origin"):
            g = g.droplevel("origin")
            for method, col in (("model", "y_pred"), ("last 28 days", "last28"), ("last year", f"last_year_{w}")):
                if col not in g.columns:
                    continue
                for p in shares:
                    res = _top_hits(g[col], g["y_true"], p)
                    if res is not None:
                        rows.append({"window": w, "share": p, "method": method, "origin": origin, "hit": res[0],
                                     "pai": res[1]})
    if not rows:
        return None
    t = pd.DataFrame(rows).groupby(["window", "method", "share"])[["hit", "pai"]].mean()
    out: dict[str, object] = {"areas": int(n_d), "area_unit": "district (equal areas assumed)", "table": []}
    for (w, m, p), r in t.iterrows():
        out["table"].append({"window_days": int(w), "method": m, "area_share": float(p),
                             "hit_rate": round(float(r["hit"]), 4), "pai": round(float(r["pai"]), 3)})
    return out
