"""Patrol allocation: optimality against brute force, the equity view, dosage, bad input, CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from crimecast.allocation import (
    DEFAULT_COVERAGE,
    VISIT_MAX_MINUTES,
    VISIT_MIN_MINUTES,
    allocate,
    coverage_value,
    greedy_units,
)
from testlib import run_cli  # `crimecast ...` in a subprocess


def _forecasts(demand: dict[str, dict[str, float]], days: int = 2, intervals: bool = True) -> pd.DataFrame:
    rows = []
    for h in range(1, days + 1):
        for d, cats in demand.items():
            for c, y in cats.items():
                row = {"run_date": pd.Timestamp("2026-03-01"),
                       "date": pd.Timestamp("2026-03-01") + pd.Timedelta(days=h),
                       "district": d, "category": c, "horizon": h, "y_pred": y * h, "model_version": "t"}
                if intervals:
                    row.update(lo80=0.5 * y * h, hi80=1.5 * y * h, lo95=0.2 * y * h, hi95=2 * y * h)
                rows.append(row)
    return pd.DataFrame(rows)


def _brute_force(demand, units, lo, hi, coverage):
    best = -1.0
    for combo in itertools.product(*[range(a, b + 1) for a, b in zip(lo, hi, strict=True)]):
        if sum(combo) == units:
            best = max(best, coverage_value(np.array(combo), demand, coverage))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_greedy_matches_brute_force_on_small_cases(seed):
    # Given random demands, bounds and unit counts small enough to enumerate every allocation
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    demand = rng.gamma(1.5, 10.0, size=n) * (rng.random(n) > 0.15)  # some districts with zero demand
    lo = rng.integers(0, 2, size=n)
    hi = lo + rng.integers(0, 5, size=n)
    units = int(rng.integers(max(1, lo.sum()), max(lo.sum(), hi.sum()) + 1))
    coverage = float(rng.choice([0.1, DEFAULT_COVERAGE, 0.7]))
    # When the greedy allocation is computed
    k = greedy_units(demand, units, lo, hi, coverage)
    # Then it is feasible and reaches the brute-force optimum
    assert k.sum() == units and (k >= lo).all() and (k <= hi).all()
    assert coverage_value(k, demand, coverage) == pytest.approx(_brute_force(demand, units, lo, hi, coverage),
                                                                rel=1e-12, abs=1e-12)


def test_diminishing_returns_spread_units_beyond_the_top_district():
    # Marginal gains with p=0.5: A 5, 2.5, 1.25; B 2, 1; C 0.5 → the 3rd unit goes to B, not A
    demand = np.array([10.0, 4.0, 1.0])
    k = greedy_units(demand, 3, np.zeros(3, int), np.full(3, 3), 0.5)
    assert k.tolist() == [2, 1, 0]
    assert coverage_value(k, demand, 0.5) == pytest.approx(10 * 0.75 + 4 * 0.5)
    assert coverage_value(k, demand, 0.5) > coverage_value(np.array([3, 0, 0]), demand, 0.5)


def test_allocation_follows_the_forecast():
    # Given two districts, the busier one gets more units; swapping the forecast swaps the allocation
    base = {"A": {"theft": 20.0, "assault": 4.0}, "B": {"theft": 5.0, "assault": 1.0}}
    first = allocate(_forecasts(base), 10).set_index("district")
    swapped = {"A": base["B"], "B": base["A"]}
    second = allocate(_forecasts(swapped), 10).set_index("district")
    assert first.loc["A", "units"] > first.loc["B", "units"]
    assert second.loc["B", "units"] == first.loc["A", "units"]
    assert second.loc["A", "units"] == first.loc["B", "units"]
    assert first["units"].sum() == 10


def test_severity_weights_change_the_allocation():
    # Given A with many thefts and B with fewer but more severe assaults
    fc = _forecasts({"A": {"theft": 10.0, "assault": 0.0}, "B": {"theft": 0.0, "assault": 3.0}})
    thefts_heavy = allocate(fc, 6, severity={"theft": 1.0, "assault": 1.0}).set_index("district")
    assault_heavy = allocate(fc, 6, severity={"theft": 1.0, "assault": 10.0}).set_index("district")
    assert thefts_heavy.loc["A", "units"] > thefts_heavy.loc["B", "units"]
    assert assault_heavy.loc["B", "units"] > assault_heavy.loc["A", "units"]
    assert assault_heavy.loc["B", "expected_weighted"] == pytest.approx(30.0)  # 10 × 3 assaults on day 1


def test_output_columns_shares_and_dosage():
    fc = _forecasts({f"D{i}": {"theft": float(i + 1), "burglary": 0.5} for i in range(6)})
    out = allocate(fc, 9, severity={"theft": 1, "burglary": 3})
    for col in ("district", "units", "expected_weighted", "forecast_share", "unit_share", "visits_per_shift",
                "visit_minutes"):
        assert col in out.columns
    assert len(out) == 6 and out["units"].sum() == 9
    assert out["forecast_share"].sum() == pytest.approx(1.0)
    assert out["unit_share"].sum() == pytest.approx(1.0)
    assert out.attrs["date"] == "2026-03-02"  # default: first forecast day
    staffed = out[out["units"] > 0]
    assert staffed["visit_minutes"].between(VISIT_MIN_MINUTES, VISIT_MAX_MINUTES).all()
    assert (staffed["visits_per_shift"] > 0).all()
    assert (out.loc[out["units"] == 0, "visits_per_shift"] == 0).all()
    # The interval-based upper view exists when intervals exist
    assert out["expected_weighted_hi80"].notna().all()
    assert (out["expected_weighted_hi80"] >= out["expected_weighted"]).all()


def test_date_selects_the_forecast_day():
    fc = _forecasts({"A": {"theft": 2.0}, "B": {"theft": 1.0}}, days=3)
    d1 = allocate(fc, 3, date="2026-03-02")
    d3 = allocate(fc, 3, date="2026-03-04")
    assert d3["expected_weighted"].sum() == pytest.approx(3 * d1["expected_weighted"].sum())
    with pytest.raises(ValueError, match="no forecasts for date 2027-01-01"):
        allocate(fc, 3, date="2027-01-01")


def test_missing_intervals_are_fine():
    out = allocate(_forecasts({"A": {"theft": 2.0}, "B": {"theft": 1.0}}, intervals=False), 4)
    assert out["units"].sum() == 4
    assert out["expected_weighted_hi80"].isna().all()


def test_min_and_max_bounds_are_respected():
    fc = _forecasts({"A": {"theft": 50.0}, "B": {"theft": 1.0}, "C": {"theft": 1.0}})
    out = allocate(fc, 8, min_units={"C": 2}, max_units={"A": 3}).set_index("district")
    assert out.loc["A", "units"] == 3 and out.loc["C", "units"] >= 2 and out["units"].sum() == 8


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"units": 0}, "units must be ≥ 1"),
    ({"units": -3}, "units must be ≥ 1"),
    ({"units": 2, "min_units": 1}, "minimums add up to 3 units but only 2"),
    ({"units": 10, "max_units": 3}, "maximums allow only 9 units but 10"),
    ({"units": 3, "min_units": {"Z": 1}}, "unknown district"),
    ({"units": 3, "min_units": 2, "max_units": 1}, "min > max"),
    ({"units": 3, "severity": {"theft": -1.0}}, "must be a finite number ≥ 0"),
])
def test_bad_input_raises_clear_errors(kwargs, message):
    fc = _forecasts({"A": {"theft": 2.0}, "B": {"theft": 1.0}, "C": {"theft": 1.0}})
    units = kwargs.pop("units")
    with pytest.raises(ValueError, match=message):
        allocate(fc, units, **kwargs)


def test_table_without_y_pred_is_rejected():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y_pred'\]"):
        allocate(pd.DataFrame({"district": ["A"], "category": ["theft"], "mean": [1.0]}), 2)


def test_cli_allocate_writes_json_and_prints_table(tmp_path):
    fc = _forecasts({"North": {"theft": 8.0, "assault": 1.0}, "South": {"theft": 2.0, "assault": 0.2}})
    src = tmp_path / "fc.csv"
    fc.to_csv(src, index=False)
    sev = tmp_path / "sev.json"
    sev.write_text(json.dumps({"theft": 1, "assault": 4}))
    out = tmp_path / "alloc.json"
    proc = run_cli("allocate", "--forecasts", str(src), "--units", "7", "--severity", str(sev), "--min", "1",
                   "--max", "North=5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "North" in proc.stdout and "7 units over 2 districts" in proc.stdout
    data = json.loads(out.read_text())
    units = {r["district"]: r["units"] for r in data["districts"]}
    assert units == {"North": 5, "South": 2}
    assert data["date"] == "2026-03-02"


@pytest.mark.parametrize(("args", "message"), [
    (["--units", "0"], "units must be ≥ 1"),
    (["--units", "2", "--min", "2"], "infeasible"),
    (["--units", "2", "--date", "1999-01-01"], "no forecasts for date"),
])
def test_cli_bad_input_exits_2_without_output(tmp_path, args, message):
    src = tmp_path / "fc.parquet"
    _forecasts({"A": {"theft": 2.0}, "B": {"theft": 1.0}}).to_parquet(src)
    out = tmp_path / "alloc.csv"
    proc = run_cli("allocate", "--forecasts", str(src), *args, "--out", str(out))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_cli_names_the_bad_file_and_column(tmp_path):
    src = tmp_path / "fc.csv"
    src.write_text("date,district,category,y_pred\n2026-03-02,A,theft,1.5\n2026-03-02,B,theft,lots\n")
    proc = run_cli("allocate", "--forecasts", str(src), "--units", "2")
    assert proc.returncode == 2
    assert str(src) in proc.stderr and "'y_pred'" in proc.stderr and "line(s) 3" in proc.stderr


def test_upper_weight_plans_for_uncertain_districts():
    # Given equal means but B far more uncertain upwards
    fc = _forecasts({"A": {"theft": 5.0}, "B": {"theft": 5.0}}, days=1)
    fc.loc[fc["district"] == "B", "hi80"] = 25.0
    mean_plan = allocate(fc, 6).set_index("district")
    cautious = allocate(fc, 6, upper_weight=1.0).set_index("district")
    assert mean_plan.loc["A", "units"] == mean_plan.loc["B", "units"] == 3
    assert cautious.loc["B", "units"] > cautious.loc["A", "units"]
    with pytest.raises(ValueError, match="needs the hi80 column"):
        allocate(_forecasts({"A": {"theft": 1.0}}, intervals=False), 2, upper_weight=0.5)
    with pytest.raises(ValueError, match=r"upper_weight must be in \[0, 1\]"):
        allocate(fc, 2, upper_weight=2.0)
