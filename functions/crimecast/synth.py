"""Deterministic synthetic data in the crimecast contract, with a documented, known intensity.

Daily counts for district d, category c, day t are negative-binomial draws around

    λ(d,c,t) = base_d · share_c · trend_c(t) · weekly_c(dow) · annual_c(doy)
               · event_mult(d,c,t) · weather_c(t) · covariate_c(d)

- base_d: crimes/day of district d = population/10 000 · (0.8 + 0.4·density rank) (crimes/day)
- share_c: category share of all crime (sums to 1 over the default categories before renormalising)
- trend_c(t) = exp(g_c · years since start), g_c in [-4 %, +3 %] a year
- weekly_c: Fri/Sat peaks for violent and night categories, weekday peaks for property crime
- annual_c = 1 + a_c · cos(2π(doy − 200)/365.25) (summer peak, amplitude a_c ≈ 0.1–0.3)
- event_mult: the `expected_effect` written in event_holiday_data.csv, applied to the named district
  (or citywide when district is empty) and to the categories the event kind affects
- weather_c = exp(h_c·(tmax − 15 °C)/10) · exp(−r_c·min(precip, 30 mm)/10): heat raises assault and
  battery (h > 0), rain lowers street crime such as theft and robbery (r > 0)
- covariate_c(d) = exp(p_c · (poverty_rate_d − mean)/sd): socio-economic gradient per category

Counts ~ NegBin(mean λ, dispersion k = 8), i.e. Var = λ + λ²/k (over-dispersed vs Poisson).
`truth_intensity.csv` holds λ so the best achievable forecast error is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crimecast.contract import write_table

# name: (share, yearly growth, weekly profile Mon..Sun, summer amplitude, heat, rain, poverty gradient)
CATEGORY_PARAMS: dict[str, tuple[float, float, tuple[float, ...], float, float, float, float]] = {
    "theft": (0.30, -0.02, (1.05, 1.05, 1.05, 1.05, 1.10, 0.90, 0.80), 0.15, 0.05, 0.25, -0.05),
    "battery": (0.22, -0.01, (0.90, 0.88, 0.88, 0.92, 1.05, 1.22, 1.15), 0.25, 0.20, 0.10, 0.30),
    "assault": (0.12, 0.01, (0.92, 0.90, 0.90, 0.93, 1.05, 1.18, 1.12), 0.25, 0.22, 0.08, 0.30),
    "burglary": (0.10, -0.04, (1.08, 1.04, 1.02, 1.02, 1.02, 0.92, 0.90), 0.10, 0.02, 0.05, 0.10),
    "robbery": (0.08, -0.03, (0.95, 0.92, 0.95, 0.98, 1.08, 1.10, 1.02), 0.12, 0.08, 0.20, 0.35),
    "narcotics": (0.10, -0.05, (1.00, 1.08, 1.10, 1.08, 1.02, 0.90, 0.82), 0.10, 0.05, 0.15, 0.45),
    "criminal_damage": (0.10, -0.01, (0.95, 0.92, 0.92, 0.95, 1.02, 1.15, 1.09), 0.18, 0.08, 0.12, 0.15),
    "motor_vehicle_theft": (0.06, 0.03, (1.02, 1.00, 1.00, 1.00, 1.03, 0.98, 0.97), 0.08, 0.02, 0.05, 0.10),
}
DEFAULT_CATEGORIES = ("theft", "battery", "assault", "burglary", "robbery", "narcotics")
DISPERSION_K = 8.0
# Which categories each event kind moves (others get multiplier 1).
EVENT_CATEGORIES = {
    "holiday": None,  # all categories
    "festival": {"theft", "battery", "assault", "criminal_damage", "robbery"},
    "sports": {"theft", "battery", "assault", "motor_vehicle_theft"},
    "other": None,
}


@dataclass(frozen=True)
class SynthConfig:
    years: int = 5
    districts: int = 12
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    seed: int = 0
    start: str = "2021-01-01"
    images_per_class: int = 0
    videos: int = 0


def _category_params(name: str, rng: np.random.Generator) -> tuple[float, float, tuple[float, ...], float, float,
                                                                    float, float]:
    if name in CATEGORY_PARAMS:
        return CATEGORY_PARAMS[name]
    # Unknown category names get plausible parameters drawn from the seed (deterministic).
    weekly = tuple(float(x) for x in 1 + rng.normal(0, 0.06, 7))
    return (0.05, float(rng.uniform(-0.03, 0.02)), weekly, float(rng.uniform(0.05, 0.2)),
            float(rng.uniform(0, 0.15)), float(rng.uniform(0, 0.15)), float(rng.uniform(0, 0.3)))


def make_districts(n: int, rng: np.random.Generator) -> pd.DataFrame:
    names = [f"D{i + 1:02d}" for i in range(n)]
    population = np.round(rng.uniform(40_000, 180_000, n), -2)
    area = np.round(rng.uniform(8, 60, n), 1)
    poverty = np.round(np.clip(rng.normal(0.18, 0.07, n), 0.03, 0.5), 3)
    nightlife = np.round(rng.uniform(0, 1, n), 3)
    return pd.DataFrame({"district": names, "population": population, "area_km2": area,
                         "poverty_rate": poverty, "nightlife_index": nightlife})


def make_weather(dates: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    doy = dates.dayofyear.to_numpy()
    seasonal = 15.0 - 14.0 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    anomaly = np.zeros(len(dates))
    eps = rng.normal(0, 3.0, len(dates))
    for i in range(1, len(dates)):  # AR(1) weather anomalies: warm and cold spells last days
        anomaly[i] = 0.7 * anomaly[i - 1] + eps[i]
    tmax = seasonal + anomaly
    tmin = tmax - rng.uniform(5, 11, len(dates))
    wet = rng.random(len(dates)) < 0.3
    precip = np.where(wet, rng.exponential(6.0, len(dates)), 0.0)
    snow = np.where(tmax < 1.0, precip * 10.0, 0.0)  # 1 mm water ≈ 10 mm snow
    return pd.DataFrame({"date": dates, "tmax_c": tmax.round(1), "tmin_c": tmin.round(1),
                         "precip_mm": precip.round(1), "snow_mm": snow.round(0)})


def make_events(dates: pd.DatetimeIndex, districts: list[str], rng: np.random.Generator) -> pd.DataFrame:
    import holidays

    rows: list[dict[str, object]] = []
    years = sorted(set(dates.year))
    effects = {"New Year's Day": 1.35, "Independence Day": 1.30, "Christmas Day": 0.80, "Thanksgiving Day": 0.85,
               "Memorial Day": 1.10, "Labor Day": 1.10}
    for day, name in sorted(holidays.country_holidays("US", years=years).items()):
        ts = pd.Timestamp(day)
        if dates[0] <= ts <= dates[-1]:
            rows.append({"date": ts, "name": name, "kind": "holiday", "district": "",
                         "expected_effect": effects.get(name.replace(" (observed)", ""), 1.05)})
    # A multi-day summer festival per year in a random district, and a home-game season in one district.
    stadium = districts[int(rng.integers(len(districts)))]
    for year in years:
        fest_d = districts[int(rng.integers(len(districts)))]
        start = pd.Timestamp(year=year, month=7, day=1) + pd.Timedelta(days=int(rng.integers(0, 45)))
        for k in range(3):
            ts = start + pd.Timedelta(days=k)
            if dates[0] <= ts <= dates[-1]:
                rows.append({"date": ts, "name": "Summer Festival", "kind": "festival", "district": fest_d,
                             "expected_effect": 1.40})
        season = pd.date_range(f"{year}-04-01", f"{year}-09-30", freq="D")
        games = season[rng.random(len(season)) < 0.45]
        for ts in games:
            if dates[0] <= ts <= dates[-1]:
                rows.append({"date": ts, "name": "Home game", "kind": "sports", "district": stadium,
                             "expected_effect": 1.25})
    ev = pd.DataFrame(rows, columns=["date", "name", "kind", "district", "expected_effect"])
    return ev.sort_values(["date", "kind", "district", "name"], kind="stable").reset_index(drop=True)


def intensity(dates: pd.DatetimeIndex, districts: pd.DataFrame, categories: tuple[str, ...], weather: pd.DataFrame,
              events: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """λ per day × district × category (crimes/day), following the module docstring."""
    n_t = len(dates)
    params = {c: _category_params(c, rng) for c in categories}
    total_share = sum(p[0] for p in params.values())
    years_since = (dates - dates[0]).days.to_numpy() / 365.25
    dow = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy()
    tmax = weather["tmax_c"].to_numpy()
    precip = np.minimum(weather["precip_mm"].to_numpy(), 30.0)
    density_rank = districts["population"].rank(pct=True).to_numpy()
    base = districts["population"].to_numpy() / 10_000 * (0.8 + 0.4 * density_rank)
    pov = districts["poverty_rate"].to_numpy()
    pov_z = (pov - pov.mean()) / (pov.std() + 1e-9)
    dist_index = {d: i for i, d in enumerate(districts["district"])}
    date_index = pd.Series(np.arange(n_t), index=dates)

    frames = []
    for c in categories:
        share, growth, weekly, amp, heat, rain, grad = params[c]
        time_part = (np.exp(growth * years_since) * np.asarray(weekly)[dow]
                     * (1 + amp * np.cos(2 * np.pi * (doy - 200) / 365.25))
                     * np.exp(heat * (tmax - 15.0) / 10.0) * np.exp(-rain * precip / 10.0))
        lam = np.outer(time_part, base * share / total_share * np.exp(grad * pov_z))  # (T, D)
        for _, ev in events.iterrows():
            affected = EVENT_CATEGORIES.get(str(ev["kind"]))
            if affected is not None and c not in affected:
                continue
            t = date_index.get(ev["date"])
            if t is None:
                continue
            mult = float(ev["expected_effect"]) if not pd.isna(ev["expected_effect"]) else 1.0
            if ev["district"]:
                lam[t, dist_index[ev["district"]]] *= mult
            else:
                lam[t, :] *= mult
        frames.append(pd.DataFrame({
            "date": np.repeat(dates.to_numpy(), len(base)),
            "district": np.tile(districts["district"].to_numpy(), n_t),
            "category": c,
            "intensity": lam.reshape(-1),
        }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["district", "category", "date"], kind="stable").reset_index(drop=True)


def draw_counts(lam: np.ndarray, rng: np.random.Generator, k: float = DISPERSION_K) -> np.ndarray:
    """Negative-binomial counts with mean `lam` and Var = λ + λ²/k (gamma–Poisson mixture)."""
    gamma = rng.gamma(shape=k, scale=np.maximum(lam, 1e-12) / k)
    return rng.poisson(gamma).astype(np.int64)


def generate(out: str | Path, config: SynthConfig = SynthConfig()) -> dict[str, object]:
    """Write the synthetic tables (and images/clips if asked) into `out`. Deterministic by seed."""
    if config.years < 1:
        raise ValueError(f"--years must be ≥ 1 (got {config.years})")
    if config.districts < 1:
        raise ValueError(f"--districts must be ≥ 1 (got {config.districts})")
    if not config.categories:
        raise ValueError("at least one category is needed")
    if len(set(config.categories)) != len(config.categories):
        raise ValueError(f"duplicate categories in {list(config.categories)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    start = pd.Timestamp(config.start)
    end = start + pd.DateOffset(years=config.years) - pd.Timedelta(days=1)
    dates = pd.date_range(start, end, freq="D")
    districts = make_districts(config.districts, rng)
    weather = make_weather(dates, rng)
    events = make_events(dates, list(districts["district"]), rng)
    truth = intensity(dates, districts, tuple(config.categories), weather, events, rng)
    counts = truth[["date", "district", "category"]].copy()
    counts["count"] = draw_counts(truth["intensity"].to_numpy(), rng)
    truth["intensity"] = truth["intensity"].round(6)

    write_table(counts, out / "crime_rate_dataset.csv")
    write_table(events, out / "event_holiday_data.csv")
    write_table(weather, out / "weather.csv")
    write_table(districts, out / "districts.csv")
    write_table(truth, out / "truth_intensity.csv")
    summary: dict[str, object] = {
        "out": str(out), "days": len(dates), "start": str(dates[0].date()), "end": str(dates[-1].date()),
        "districts": config.districts, "categories": list(config.categories), "rows": len(counts),
        "total_count": int(counts["count"].sum()), "total_intensity": float(truth["intensity"].sum()),
        "events": len(events),
    }
    if config.images_per_class > 0 or config.videos > 0:
        from crimecast.synth_images import generate_images

        summary["images"] = generate_images(out, per_class=config.images_per_class, videos=config.videos,
                                            seed=config.seed)
    return summary


def count_to_intensity_ratio(out: str | Path) -> float:
    """mean(count) / mean(intensity) over a generated table (≈ 1 by construction)."""
    counts = pd.read_csv(Path(out) / "crime_rate_dataset.csv")
    truth = pd.read_csv(Path(out) / "truth_intensity.csv")
    return float(counts["count"].mean() / truth["intensity"].mean()) if math.isfinite(truth["intensity"].mean()) \
        else float("nan")
