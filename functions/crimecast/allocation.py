"""Patrol allocation: spread N patrol units over districts to cover the most severity-weighted crime.

Model (one shift, one forecast day):
  demand_d = Σ_c severity_c · ŷ_{d,c}            (expected severity-weighted incidents in district d)
  covered_d(k) = demand_d · (1 − (1 − p)^k)      (k units; each extra unit covers a share p of what is
                                                  still uncovered: diminishing returns)
  maximise Σ_d covered_d(k_d)  s.t.  Σ_d k_d = N,  min_d ≤ k_d ≤ max_d,  k_d integer.

Each covered_d is concave in k (its marginal gain demand_d·p·(1−p)^k shrinks with k), and the
objective is separable, so handing units out one at a time to the largest marginal gain (after the
minimums) is optimal (Gross 1956; Ibaraki & Katoh, "Resource Allocation Problems", 1988).
tests/unit/test_allocation.py checks this against brute force.

Dosage follows the Koper curve (Koper 1995; Telep, Mitchell & Weisburd 2014): hot-spot visits of
10–16 minutes, repeated about every 2 hours, at random times.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is read: the API plans from arrays (`plan`) without it
    import pandas as pd

# Share of the still-uncovered demand one extra unit covers. A planning assumption, not a measurement:
# it sets how fast returns diminish (0.35 → the 3rd unit adds 42 % of what the 1st added).
DEFAULT_COVERAGE = 0.35
SHIFT_HOURS = 8.0
# Share of a unit's shift spent on hot-spot visits (the rest answers calls for service).
HOTSPOT_TIME_SHARE = 0.5
TRAVEL_MINUTES = 10.0
VISIT_MIN_MINUTES, VISIT_MAX_MINUTES = 10, 16
REVISIT_MINUTES = 120

# Relative harm weights used when the caller gives none; unknown categories weigh 1.
DEFAULT_SEVERITY: dict[str, float] = {
    "homicide": 10.0, "shooting": 8.0, "sexual_assault": 8.0, "robbery": 5.0, "assault": 4.0,
    "battery": 3.0, "weapons": 4.0, "burglary": 3.0, "motor_vehicle_theft": 2.0, "arson": 4.0,
    "theft": 1.0, "criminal_damage": 1.0, "vandalism": 1.0, "narcotics": 1.0,
}

OUTPUT_COLUMNS = ["district", "units", "expected_weighted", "covered_weighted", "forecast_share", "unit_share",
                  "equity_ratio", "visits_per_shift", "visit_minutes", "revisit_minutes", "expected_weighted_hi80"]


def severity_for(categories: list[str], severity: Mapping[str, float] | None) -> dict[str, float]:
    """Weight per category: the caller's, else DEFAULT_SEVERITY, else 1.0. Raises ValueError on negatives."""
    table = {k.lower(): float(v) for k, v in (severity if severity is not None else DEFAULT_SEVERITY).items()}
    out = {}
    for c in categories:
        w = table.get(str(c).lower(), 1.0)
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"severity weight for category {c!r} must be a finite number ≥ 0, got {w!r}")
        out[c] = w
    return out


def _bounds(value: int | Mapping[str, int] | None, districts: list[str], default: int, name: str) -> np.ndarray:
    if value is None:
        return np.full(len(districts), default, dtype=np.int64)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(districts))
        if unknown:
            raise ValueError(f"{name}: unknown district(s) {unknown}; the forecasts have {districts}")
        arr = np.full(len(districts), default, dtype=np.int64)
        for i, d in enumerate(districts):
            if d in value:
                arr[i] = _as_count(value[d], f"{name}[{d!r}]")
        return arr
    return np.full(len(districts), _as_count(value, name), dtype=np.int64)


def _as_count(v: object, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or int(v) < 0:
        raise ValueError(f"{name} must be a whole number ≥ 0, got {v!r}")
    return int(v)


def coverage_value(units: np.ndarray, demand: np.ndarray, coverage: float = DEFAULT_COVERAGE) -> float:
    """The objective: expected severity-weighted incidents covered by `units` per district."""
    units = np.asarray(units, dtype=float)
    return float(np.sum(np.asarray(demand, dtype=float) * (1.0 - (1.0 - coverage) ** units)))


def greedy_units(demand: np.ndarray, units: int, lo: np.ndarray, hi: np.ndarray,
                 coverage: float = DEFAULT_COVERAGE) -> np.ndarray:
    """Integer allocation maximising `coverage_value` with Σ = units and lo ≤ k ≤ hi (greedy on marginals).

    Ties go to the earlier district, so the result is deterministic.
    """
    demand = np.asarray(demand, dtype=float)
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if units <= 0:
        raise ValueError(f"units must be ≥ 1 (patrol units per shift), got {units}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        raise ValueError(f"min > max for district index {int(bad[0])}: {int(lo[bad[0]])} > {int(hi[bad[0]])}")
    if lo.sum() > units:
        raise ValueError(f"infeasible: the per-district minimums add up to {int(lo.sum())} units but only "
                         f"{units} are available; lower --min or raise --units")
    if hi.sum() < units:
        raise ValueError(f"infeasible: the per-district maximums allow only {int(hi.sum())} units but {units} "
                         f"must be placed; raise --max or lower --units")
    k = lo.copy()
    q = 1.0 - coverage
    # Max-heap of marginal gains demand·p·q^k; index breaks ties deterministically.
    heap = [(-demand[i] * coverage * q ** k[i], i) for i in range(len(demand)) if k[i] < hi[i]]
    heapq.heapify(heap)
    for _ in range(units - int(lo.sum())):
        _, i = heapq.heappop(heap)
        k[i] += 1
        if k[i] < hi[i]:
            heapq.heappush(heap, (-demand[i] * coverage * q ** k[i], i))
    return k


def _forecast_day(forecasts: pd.DataFrame, date: object) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    import pandas as pd

    missing = [c for c in ("district", "category", "y_pred") if c not in forecasts.columns]
    if missing:
        raise ValueError(f"forecasts table is missing column(s) {missing}; found {list(forecasts.columns)}")
    df = forecasts.copy()
    df["y_pred"] = pd.to_numeric(df["y_pred"], errors="coerce")
    if df["y_pred"].isna().any():
        row = int(np.flatnonzero(df["y_pred"].isna().to_numpy())[0])
        raise ValueError(f"forecasts column 'y_pred' has a missing or non-numeric value (row {row})")
    if (df["y_pred"] < 0).any():
        raise ValueError("forecasts column 'y_pred' has negative values (expected crimes/day ≥ 0)")
    day = None
    if "date" in df.columns:
        df["date"] = pd.to_datetime(df["date"]).dt.normalize()
        if date is None:
            day = df["date"].min()
        else:
            day = pd.Timestamp(date).normalize()
            if not (df["date"] == day).any():
                raise ValueError(f"no forecasts for date {day.date()}; the table covers "
                                 f"{df['date'].min().date()} … {df['date'].max().date()}")
        df = df[df["date"] == day]
        if "run_date" in df.columns:  # several runs for one day: the latest run wins
            df = df[pd.to_datetime(df["run_date"]) == pd.to_datetime(df["run_date"]).max()]
    elif date is not None:
        raise ValueError("date was given but the forecasts table has no 'date' column")
    df = df.groupby(["district", "category"], as_index=False, sort=True).agg(
        {c: "mean" for c in ("y_pred", "hi80") if c in df.columns})
    return df, day


def allocate(forecasts: pd.DataFrame, units: int, *, date: object = None,
             severity: dict[str, float] | None = None, min_units: int | dict[str, int] | None = None,
             max_units: int | dict[str, int] | None = None, coverage: float = DEFAULT_COVERAGE,
             upper_weight: float = 0.0) -> pd.DataFrame:
    """Allocate `units` patrol units (per shift) over the districts of one forecast day.

    forecasts: long table `date, district, category, y_pred[, lo80, hi80, ...]` (crimes/day).
    date: the day to plan for (default: the first forecast day). severity: weight per category.
    min_units / max_units: one bound for all districts or a {district: units} mapping.
    upper_weight: 0 plans for the mean forecast; w in (0, 1] plans for y_pred + w·(hi80 − y_pred), i.e.
    leans towards districts whose forecast is uncertain upwards (needs hi80; ignored rows have none).
    Returns one row per district (sorted by expected_weighted, largest first) with units,
    expected_weighted (severity-weighted incidents/day), covered_weighted (of those, expected covered),
    forecast_share vs unit_share (equity view), and a Koper-curve dosage: visits_per_shift,
    visit_minutes (10–16) and revisit_minutes.
    Raises ValueError for units ≤ 0, infeasible bounds, or a malformed table.
    """
    import pandas as pd

    units = _units(units)
    day, districts, demand, hi80, w = allocation_inputs(forecasts, date=date, severity=severity,
                                                        upper_weight=upper_weight)
    cols = plan(districts, demand, hi80, units, min_units=min_units, max_units=max_units, coverage=coverage)
    out = pd.DataFrame(cols)
    out = out.sort_values(["expected_weighted", "district"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)[OUTPUT_COLUMNS]
    out.attrs["date"] = None if day is None else day.date().isoformat()
    out.attrs["units"] = units
    out.attrs["coverage"] = coverage
    out.attrs["upper_weight"] = upper_weight
    out.attrs["severity"] = w
    return out


def _units(units: object) -> int:
    if isinstance(units, bool) or not isinstance(units, int | np.integer):
        raise ValueError(f"units must be a whole number ≥ 1, got {units!r}")
    if int(units) <= 0:
        raise ValueError(f"units must be ≥ 1 (patrol units per shift), got {units}")
    return int(units)


def allocation_inputs(forecasts: pd.DataFrame, *, date: object = None, severity: dict[str, float] | None = None,
                      upper_weight: float = 0.0
                      ) -> tuple[pd.Timestamp | None, list[str], np.ndarray, np.ndarray | None, dict[str, float]]:
    """(day, districts, demand, demand_hi80 or None, severity weights) of one forecast day: what `plan` needs.

    demand_d = Σ_c severity_c · planned_{d,c} (planned = y_pred, or leaning towards hi80 by `upper_weight`);
    demand_hi80_d = Σ_c severity_c · hi80_{d,c} when every row has hi80. Districts sorted by name.
    """
    if forecasts is None or len(forecasts) == 0:
        raise ValueError("forecasts table is empty: nothing to allocate")
    day_df, day = _forecast_day(forecasts, date)
    districts = sorted(day_df["district"].astype(str).unique().tolist())
    cats = sorted(day_df["category"].astype(str).unique().tolist())
    w = severity_for(cats, severity)
    day_df["w"] = day_df["category"].astype(str).map(w)
    if not 0.0 <= upper_weight <= 1.0:
        raise ValueError(f"upper_weight must be in [0, 1], got {upper_weight}")
    planned = day_df["y_pred"]
    if upper_weight > 0:
        if "hi80" not in day_df.columns or day_df["hi80"].isna().all():
            raise ValueError("upper_weight > 0 needs the hi80 column (80 % upper bound) in the forecasts")
        planned = planned + upper_weight * (day_df["hi80"].fillna(day_df["y_pred"]) - planned).clip(lower=0)
    day_df["weighted"] = day_df["w"] * planned
    demand = day_df.groupby("district")["weighted"].sum().reindex(districts).to_numpy(dtype=float)
    hi80 = None
    if "hi80" in day_df.columns and day_df["hi80"].notna().all():
        hi80 = (day_df["w"] * day_df["hi80"]).groupby(day_df["district"]).sum().reindex(districts).to_numpy()
    return day, districts, demand, hi80, w


def plan(districts: list[str], demand: np.ndarray, demand_hi80: np.ndarray | None, units: int, *,
         min_units: int | Mapping[str, int] | None = None, max_units: int | Mapping[str, int] | None = None,
         coverage: float = DEFAULT_COVERAGE) -> dict[str, Any]:
    """The allocation of `units` over `districts` from their demand (numpy only; `allocate` and the API use it).

    Returns the OUTPUT_COLUMNS as arrays in `districts` order (not sorted). Raises ValueError like `allocate`.
    """
    units = _units(units)
    demand = np.asarray(demand, dtype=float)
    lo = _bounds(min_units, districts, 0, "min_units")
    hi = _bounds(max_units, districts, units, "max_units")
    k = greedy_units(demand, units, lo, hi, coverage)

    total = demand.sum()
    forecast_share = demand / total if total > 0 else np.full(len(districts), 1.0 / len(districts))
    unit_share = k / units
    # Dosage: busier districts (per unit) get longer visits within the Koper range.
    per_unit = np.divide(demand, k, out=np.zeros_like(demand), where=k > 0)
    top = per_unit.max() if per_unit.max() > 0 else 1.0
    visit = np.where(k > 0, np.rint(VISIT_MIN_MINUTES + (VISIT_MAX_MINUTES - VISIT_MIN_MINUTES) * per_unit / top), 0)
    visits = np.floor(k * SHIFT_HOURS * 60 * HOTSPOT_TIME_SHARE / (visit + TRAVEL_MINUTES + 1e-9)).astype(int)
    return {
        "district": list(districts),
        "units": k.astype(int),
        "expected_weighted": demand,
        "covered_weighted": demand * (1.0 - (1.0 - coverage) ** k),
        "forecast_share": forecast_share,
        "unit_share": unit_share,
        "equity_ratio": np.divide(unit_share, forecast_share, out=np.full(len(districts), np.nan),
                                  where=forecast_share > 0),
        "visits_per_shift": visits,
        "visit_minutes": visit.astype(int),
        "revisit_minutes": np.where(k > 0, REVISIT_MINUTES, 0),
        "expected_weighted_hi80": (np.asarray(demand_hi80, dtype=float) if demand_hi80 is not None
                                   else np.full(len(districts), np.nan)),
    }
