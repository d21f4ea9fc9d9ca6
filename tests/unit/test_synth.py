"""Synthetic data: deterministic, in the contract, and consistent with its written intensity."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from crimecast.cli import main
from crimecast.contract import read_table
from crimecast.synth import SynthConfig, draw_counts, generate

TABLES = ["crime_rate_dataset.csv", "event_holiday_data.csv", "weather.csv", "districts.csv", "truth_intensity.csv"]


def digest(d: Path) -> dict[str, str]:
    return {t: hashlib.sha256((d / t).read_bytes()).hexdigest() for t in TABLES}


def test_same_seed_byte_identical_other_seed_differs(tmp_path: Path) -> None:
    cfg = SynthConfig(years=1, districts=3, categories=("theft", "assault"), seed=7)
    generate(tmp_path / "a", cfg)
    generate(tmp_path / "b", cfg)
    generate(tmp_path / "c", SynthConfig(years=1, districts=3, categories=("theft", "assault"), seed=8))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["crime_rate_dataset.csv"] != digest(tmp_path / "c")["crime_rate_dataset.csv"]


def test_tables_follow_contract_and_grid_is_complete(tmp_path: Path) -> None:
    generate(tmp_path, SynthConfig(years=2, districts=4, categories=("theft", "battery", "robbery"), seed=1))
    counts = read_table(tmp_path / "crime_rate_dataset.csv", "counts")
    assert len(counts) == 730 * 4 * 3
    ev = read_table(tmp_path / "event_holiday_data.csv", "events", known_districts=set(counts["district"]))
    assert {"holiday", "festival", "sports"} <= set(ev["kind"])
    read_table(tmp_path / "weather.csv", "weather")
    read_table(tmp_path / "districts.csv", "districts")
    read_table(tmp_path / "truth_intensity.csv", "truth")


def test_default_size_counts_match_intensity_within_3_percent(tmp_path: Path) -> None:
    assert main(["synth", "--out", str(tmp_path), "--seed", "7"]) == 0
    counts = pd.read_csv(tmp_path / "crime_rate_dataset.csv")
    truth = pd.read_csv(tmp_path / "truth_intensity.csv")
    assert counts["district"].nunique() == 12 and counts["category"].nunique() == 6
    assert counts["date"].nunique() == 1826  # 5 years
    ratio = counts["count"].mean() / truth["intensity"].mean()
    assert abs(ratio - 1) < 0.03, ratio


def test_intensity_has_the_documented_structure(tmp_path: Path) -> None:
    generate(tmp_path, SynthConfig(years=3, districts=6, categories=("theft", "assault"), seed=3))
    t = pd.read_csv(tmp_path / "truth_intensity.csv", parse_dates=["date"])
    w = pd.read_csv(tmp_path / "weather.csv", parse_dates=["date"])
    a = t[t["category"] == "assault"].groupby("date")["intensity"].sum()
    # weekly: Saturday above Tuesday for assault; annual: July above January
    assert a[a.index.dayofweek == 5].mean() > a[a.index.dayofweek == 1].mean() * 1.15
    assert a[a.index.month == 7].mean() > a[a.index.month == 1].mean() * 1.2
    # rain lowers theft: wet days below dry days in summer
    th = t[t["category"] == "theft"].groupby("date")["intensity"].sum()
    summer = w[(w["date"].dt.month.isin([6, 7, 8]))].set_index("date")
    wet = summer.index[summer["precip_mm"] > 10]
    dry = summer.index[summer["precip_mm"] == 0]
    assert th[wet].mean() < th[dry].mean()


def test_negative_binomial_is_overdispersed() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    x = draw_counts(np.full(200_000, 20.0), rng, k=8.0)
    assert abs(x.mean() - 20) < 0.1
    assert abs(x.var() - (20 + 400 / 8)) < 2.0  # Var = λ + λ²/k


@pytest.mark.parametrize("args", [["--years", "0"], ["--districts", "0"], ["--categories", "a", "a"]])
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert main(["synth", "--out", str(tmp_path / "x"), *args]) == 2
