"""The forecast run's serving artifact: everything the API serves from a run, readable with numpy alone.

The forecast job writes one `runs/YYYY-MM-DD/serving.npz` per run (`crimecast.layout.serving_key`), before the
manifest, so it is part of the complete run; Parquet stays the analytics format (Athena). The API reads this file
instead of the Parquet: no pandas or pyarrow in the API function (issue 16).

What it holds (a NumPy .npz: only numeric and fixed-width string arrays, loaded with `allow_pickle=False`):
* `meta`: one JSON string (format, run_date, model_version, forecast range, severity weights used);
* `districts`, `categories`, `dates` (ISO days, sorted); the forecast rows as index arrays `d`, `c`, `t` and
  `horizon`, `y_pred`, `lo80`, `hi80`, `lo95`, `hi95` (float64, the Parquet's values), sorted by district,
  category, date;
* per forecast day `t`, the hotspot ranking made by `crimecast.hotspots.rank_hotspots` (the report's ranking):
  `hs_district[t, rank]` (district index, -1 = padding), `hs_weighted`, `hs_y_pred`, `hs_lo80`, `hs_hi80`,
  `hs_share`, `hs_top_category`, `hs_by_category[t, rank, category]` (NaN = none);
* per forecast day, the allocation inputs of `crimecast.allocation.allocation_inputs` (default severity):
  `al_district[t, i]` (district index, sorted by name, -1 = padding), `al_demand`, `al_hi80` (NaN = no hi80).

Writing needs pandas (the job has it); reading needs only numpy and the standard library.
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "crimecast-serving/1"
VALUE_COLUMNS = ("y_pred", "lo80", "hi80", "lo95", "hi95")


class ArtifactError(ValueError):
    """The serving artifact is missing, unreadable or of another format."""


# --------------------------------------------------------------------------------------------- writing
def build_artifact(fc: pd.DataFrame, *, run_date: str, model_version: str) -> bytes:
    """The .npz bytes for one run's forecasts table (the forecasts contract: date, district, category,
    horizon, y_pred, lo80, hi80, lo95, hi95)."""
    import pandas as pd

    from crimecast.allocation import allocation_inputs

    df = fc.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    df["district"] = df["district"].astype(str)
    df["category"] = df["category"].astype(str)
    df = df.sort_values(["district", "category", "date"], kind="stable").reset_index(drop=True)
    districts = sorted(df["district"].unique().tolist())
    categories = sorted(df["category"].unique().tolist())
    days = sorted(df["date"].unique())
    dates = [pd.Timestamp(x).date().isoformat() for x in days]
    d_of = {v: i for i, v in enumerate(districts)}
    c_of = {v: i for i, v in enumerate(categories)}
    t_of = {pd.Timestamp(x): i for i, x in enumerate(days)}
    n_t, n_d = len(dates), len(districts)
    arrays: dict[str, np.ndarray] = {
        "districts": np.array(districts, dtype=str), "categories": np.array(categories, dtype=str),
        "dates": np.array(dates, dtype=str),
        "d": df["district"].map(d_of).to_numpy(np.int32), "c": df["category"].map(c_of).to_numpy(np.int32),
        "t": df["date"].map(t_of).to_numpy(np.int32), "horizon": df["horizon"].to_numpy(np.int32),
    }
    for col in VALUE_COLUMNS:
        arrays[col] = pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64)

    hs, hs_district, hs_top, hs_by_cat = _day_rankings(df, n_t, d_of, c_of, t_of)
    al_district = np.full((n_t, n_d), -1, np.int32)
    al_demand = np.full((n_t, n_d), np.nan)
    al_hi80 = np.full((n_t, n_d), np.nan)
    severity: dict[str, float] = {}
    for ti, (day, day_df) in enumerate(df.groupby("date", sort=True)):
        _, al_names, demand, hi80, w = allocation_inputs(day_df, date=day)
        severity.update(w)
        m = len(al_names)
        al_district[ti, :m] = [d_of[x] for x in al_names]
        al_demand[ti, :m] = demand
        if hi80 is not None:
            al_hi80[ti, :m] = hi80
    arrays.update(hs, hs_district=hs_district, hs_top_category=hs_top, hs_by_category=hs_by_cat,
                  al_district=al_district, al_demand=al_demand, al_hi80=al_hi80)
    meta = {"format": FORMAT, "run_date": run_date, "model_version": model_version, "units": "crimes/day",
            "forecast_from": dates[0] if dates else None, "forecast_to": dates[-1] if dates else None,
            "rows": int(len(df)), "series": int(df[["district", "category"]].drop_duplicates().shape[0]),
            "severity": severity, "hotspots": "crimecast.hotspots.rank_hotspots(days=1, default severity)",
            "allocation": "crimecast.allocation.allocation_inputs(default severity, upper_weight=0)"}
    arrays["meta"] = np.array(json.dumps(meta), dtype=str)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _day_rankings(df: pd.DataFrame, n_t: int, d_of: dict[str, int], c_of: dict[str, int],
                  t_of: dict[Any, int]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """`crimecast.hotspots.rank_hotspots(df, start=day, days=1)` for every forecast day at once.

    rank_hotspots (pandas, per call) is the definition: districts by Σ_c severity_c · ŷ descending, ties by name,
    severity from `crimecast.allocation.severity_for`; share of the day's weighted total; y_pred/lo80/hi80 summed
    over categories; by_category y_pred per category, top_category its largest. Calling it once per day costs
    seconds per run (and minutes at 10,000 series), so this computes the same for all days in one pass;
    tests/integration/test_api.py checks the API's ranking equals rank_hotspots day by day.
    """
    from crimecast.allocation import severity_for

    n_d, n_c = len(d_of), len(c_of)
    w = severity_for(sorted(c_of), None)
    t = df["date"].map(t_of).to_numpy(np.int64)
    d = df["district"].map(d_of).to_numpy(np.int64)
    c = df["category"].map(c_of).to_numpy(np.int64)
    y = df["y_pred"].to_numpy(np.float64)
    wy = y * df["category"].map(w).to_numpy(np.float64)

    def grid(values: np.ndarray) -> np.ndarray:  # Σ per (day, district); NaN values count as 0, like pandas' sum
        out = np.zeros(n_t * n_d)
        np.add.at(out, t * n_d + d, np.nan_to_num(values, nan=0.0))
        return out.reshape(n_t, n_d)

    present = np.zeros((n_t, n_d), bool)
    present[t, d] = True
    weighted, ysum = grid(wy), grid(y)
    lo80 = grid(df["lo80"].to_numpy(np.float64)) if "lo80" in df else np.full((n_t, n_d), np.nan)
    hi80 = grid(df["hi80"].to_numpy(np.float64)) if "hi80" in df else np.full((n_t, n_d), np.nan)
    by_cat = np.full((n_t, n_d, n_c), np.nan)
    cell = np.zeros(n_t * n_d * n_c)
    np.add.at(cell, (t * n_d + d) * n_c + c, np.nan_to_num(y, nan=0.0))
    seen = np.zeros(n_t * n_d * n_c, bool)
    seen[(t * n_d + d) * n_c + c] = True
    by_cat.reshape(-1)[seen] = cell[seen]
    names = np.array(sorted(d_of, key=d_of.get), dtype=object)
    name_rank = np.argsort(np.argsort(names))  # district order by name (ties)
    keys = ("weighted", "y_pred", "lo80", "hi80", "share")
    hs = {f"hs_{k}": np.full((n_t, n_d), np.nan) for k in keys}
    hs_district = np.full((n_t, n_d), -1, np.int32)
    hs_top = np.full((n_t, n_d), -1, np.int32)
    hs_by_cat = np.full((n_t, n_d, n_c), np.nan)
    for ti in range(n_t):
        idx = np.flatnonzero(present[ti])
        order = idx[np.lexsort((name_rank[idx], -weighted[ti, idx]))]
        n = len(order)
        total = weighted[ti, idx].sum()
        hs_district[ti, :n] = order
        hs["hs_weighted"][ti, :n] = weighted[ti, order]
        hs["hs_y_pred"][ti, :n] = ysum[ti, order]
        hs["hs_lo80"][ti, :n] = lo80[ti, order]
        hs["hs_hi80"][ti, :n] = hi80[ti, order]
        hs["hs_share"][ti, :n] = weighted[ti, order] / total if total > 0 else 0.0
        hs_by_cat[ti, :n] = by_cat[ti, order]
        hs_top[ti, :n] = np.nanargmax(np.where(np.isnan(by_cat[ti, order]), -np.inf, by_cat[ti, order]), axis=1)
    return hs, hs_district, hs_top, hs_by_cat


# --------------------------------------------------------------------------------------------- reading
def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


class ServingForecasts:
    """One run's serving artifact in memory (numpy arrays); the API's read model of a forecast run."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        try:
            self.meta: dict[str, Any] = json.loads(str(arrays["meta"]))
        except (KeyError, ValueError) as exc:
            raise ArtifactError(f"serving artifact has no readable meta: {exc}") from None
        if self.meta.get("format") != FORMAT:
            raise ArtifactError(f"serving artifact format {self.meta.get('format')!r}; this code reads {FORMAT!r}")
        self.a = arrays
        self.districts: list[str] = arrays["districts"].tolist()
        self.categories: list[str] = arrays["categories"].tolist()
        self.dates: list[str] = arrays["dates"].tolist()
        self._d_of = {v: i for i, v in enumerate(self.districts)}
        self._c_of = {v: i for i, v in enumerate(self.categories)}

    @classmethod
    def from_bytes(cls, data: bytes) -> ServingForecasts:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError) as exc:
            raise ArtifactError(f"serving artifact is not a readable .npz: {exc}") from None
        return cls(arrays)

    # -- lookups -----------------------------------------------------------------------------------
    def district_index(self, name: str) -> int | None:
        return self._d_of.get(name)

    def category_index(self, name: str) -> int | None:
        return self._c_of.get(name)

    def day_index(self, day: date) -> int | None:
        iso = day.isoformat()
        i = int(np.searchsorted(self.a["dates"], iso))
        return i if i < len(self.dates) and self.dates[i] == iso else None

    # -- forecasts ---------------------------------------------------------------------------------
    def select(self, district: int | None, category: int | None, start: date | None, end: date | None) -> np.ndarray:
        """Row indices (artifact order: district, category, date) matching the filters."""
        a = self.a
        mask = np.ones(len(a["d"]), dtype=bool)
        if district is not None:
            mask &= a["d"] == district
        if category is not None:
            mask &= a["c"] == category
        if start is not None:
            mask &= a["t"] >= int(np.searchsorted(a["dates"], start.isoformat(), side="left"))
        if end is not None:
            mask &= a["t"] < int(np.searchsorted(a["dates"], end.isoformat(), side="right"))
        return np.flatnonzero(mask)

    def records(self, rows: np.ndarray) -> list[dict[str, Any]]:
        a, run_date, version = self.a, self.meta["run_date"], self.meta.get("model_version")
        cols = {k: a[k][rows].tolist() for k in ("d", "c", "t", "horizon", *VALUE_COLUMNS)}
        out = []
        for i in range(len(rows)):
            rec: dict[str, Any] = {"run_date": run_date, "date": self.dates[cols["t"][i]],
                                   "district": self.districts[cols["d"][i]],
                                   "category": self.categories[cols["c"][i]], "horizon": cols["horizon"][i]}
            for k in VALUE_COLUMNS:
                v = cols[k][i]
                rec[k] = v if v == v and v not in (float("inf"), float("-inf")) else None
            rec["model_version"] = version
            out.append(rec)
        return out

    # -- hotspots ----------------------------------------------------------------------------------
    def hotspots(self, t: int, top: int) -> list[dict[str, Any]]:
        """The day's ranking as `crimecast.hotspots.rank_hotspots` made it (first `top` districts)."""
        a = self.a
        order = a["hs_district"][t]
        n = min(int((order >= 0).sum()), top)
        rows = []
        for r in range(n):
            by_cat = a["hs_by_category"][t, r]
            cats = sorted(((self.categories[c], float(by_cat[c])) for c in np.flatnonzero(np.isfinite(by_cat))),
                          key=lambda kv: -kv[1])
            rows.append({"rank": r + 1, "district": self.districts[int(order[r])],
                         "weighted": float(a["hs_weighted"][t, r]), "y_pred": float(a["hs_y_pred"][t, r]),
                         "lo80_sum": _num(a["hs_lo80"][t, r]), "hi80_sum": _num(a["hs_hi80"][t, r]),
                         "share": float(a["hs_share"][t, r]),
                         "top_category": self.categories[int(a["hs_top_category"][t, r])],
                         "by_category": dict(cats)})
        return rows

    # -- allocation --------------------------------------------------------------------------------
    def allocation(self, t: int, units: int) -> list[dict[str, Any]]:
        """`crimecast.allocation.allocate(forecasts, units, date=day)` for this run, from the stored inputs."""
        from crimecast.allocation import plan

        a = self.a
        idx = a["al_district"][t]
        idx = idx[idx >= 0]
        names = [self.districts[int(i)] for i in idx]
        demand = a["al_demand"][t, :len(idx)]
        hi80 = a["al_hi80"][t, :len(idx)]
        cols = plan(names, demand, hi80 if np.isfinite(hi80).all() else None, units)
        order = sorted(range(len(names)), key=lambda i: (-cols["expected_weighted"][i], names[i]))
        out = []
        for i in order:
            rec: dict[str, Any] = {}
            for k, v in cols.items():
                x = v[i]
                if isinstance(x, np.integer):
                    x = int(x)
                elif isinstance(x, np.floating | float):
                    x = _num(float(x))
                rec[k] = x
            out.append(rec)
        return out
