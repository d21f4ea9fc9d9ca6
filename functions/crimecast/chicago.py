"""Loaders for the real Chicago data: the embedded default in data/chicago (`load_embedded`, what the demo
uses) and the full upstream copy in ../shared/data/real/chicago (benchmarks and opt-in tests only).

There is no district × category cross table upstream, so there are two views:
- level="district": 22 series, category "ALL" (all primary types summed)
- level="category": 15 series, district "CITY" (city-wide counts per primary type)
Weather (NOAA, Chicago Midway) and sports home-game days cover 2010–2018 only; public holidays come
from the `holidays` package. No per-district population/area table ships with the data, so
`districts` is None (district features are off for Chicago, and callers say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crimecast.contract import validate

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "chicago"
# The embedded real default, committed in the repository (data/chicago/README.md: provenance and terms).
EMBEDDED_ROOT = Path(__file__).resolve().parents[2] / "data" / "chicago"
EMBEDDED_FILES = {"district": "counts_by_district.csv.gz", "category": "counts_by_category.csv.gz",
                  "events": "events.csv.gz", "weather": "weather.csv.gz"}
SPORTS = ("mlb", "nfl", "fbs", "nba", "nhl", "mls", "auto")


@dataclass
class ChicagoData:
    counts: pd.DataFrame
    events: pd.DataFrame
    weather: pd.DataFrame
    districts: pd.DataFrame | None
    level: str


def _root(root: str | Path | None) -> Path:
    p = Path(root) if root else DEFAULT_ROOT
    if not (p / "api_district_history.csv.gz").exists():
        raise FileNotFoundError(f"Chicago data not found under {p} (expected api_district_history.csv.gz); "
                                "it lives in ../shared/data/real/chicago beside the checkout")
    return p


def load_counts(root: str | Path | None = None, level: str = "district") -> pd.DataFrame:
    p = _root(root)
    if level == "district":
        raw = pd.read_csv(p / "api_district_history.csv.gz", dtype={"district": str})
        df = pd.DataFrame({"date": raw["date"], "district": raw["district"].str.zfill(2), "category": "ALL",
                           "count": raw["crime_count"]})
    elif level == "category":
        raw = pd.read_csv(p / "api_crime_type_history.csv.gz")
        df = pd.DataFrame({"date": raw["date"], "district": "CITY", "category": raw["primary_type"],
                           "count": raw["crime_count"]})
    else:
        raise ValueError(f"level must be 'district' or 'category', not {level!r}")
    return validate(df.astype({"count": "int64"}), "counts", str(p))


def load_weather(root: str | Path | None = None) -> pd.DataFrame:
    p = _root(root)
    raw = pd.read_csv(p / "weather_data.csv.gz")
    raw = raw[raw["city"].str.lower() == "chicago"]
    df = pd.DataFrame({"date": raw["date"], "tmax_c": raw["tmax"], "tmin_c": raw["tmin"], "precip_mm": raw["prcp"],
                       "snow_mm": raw["snow"]})
    return validate(df, "weather", str(p / "weather_data.csv.gz"))


def load_events(root: str | Path | None = None, years: range | None = None) -> pd.DataFrame:
    """Sports home-game days (citywide, one row per sport) + US/IL public holidays."""
    import holidays

    p = _root(root)
    raw = pd.read_csv(p / "event_data.csv.gz")
    raw = raw[raw["city_name"].str.lower() == "chicago"]
    rows = []
    for sport in SPORTS:
        if sport in raw.columns:
            on = raw[raw[sport].astype(str).str.upper() == "TRUE"]
            rows.append(pd.DataFrame({"date": on["date"], "name": f"{sport.upper()} home game", "kind": "sports",
                                      "district": ""}))
    years = years or range(2001, 2023)
    hol = holidays.country_holidays("US", subdiv="IL", years=list(years))
    rows.append(pd.DataFrame({"date": [d.isoformat() for d in hol], "name": list(hol.values()), "kind": "holiday",
                              "district": ""}))
    df = pd.concat(rows, ignore_index=True)
    return validate(df, "events", str(p / "event_data.csv.gz")).sort_values(["date", "name"]).reset_index(drop=True)


def load_chicago(root: str | Path | None = None, level: str = "district") -> ChicagoData:
    """All Chicago tables in the contract for one level ("district" or "category")."""
    return ChicagoData(counts=load_counts(root, level), events=load_events(root), weather=load_weather(root),
                       districts=None, level=level)


def embedded_paths(root: str | Path | None = None) -> dict[str, Path]:
    """The embedded tables' files ({"district", "category", "events", "weather"}); FileNotFoundError names what
    is missing. The two counts files describe the same incidents: never concatenate them."""
    p = Path(root) if root else EMBEDDED_ROOT
    paths = {k: p / v for k, v in EMBEDDED_FILES.items()}
    missing = [str(v) for v in paths.values() if not v.is_file()]
    if missing:
        raise FileNotFoundError(f"embedded Chicago data incomplete: missing {', '.join(missing)} "
                                "(rebuild with scripts/build_embedded_data.py)")
    return paths


def load_embedded(level: str = "district", root: str | Path | None = None) -> ChicagoData:
    """The embedded real default (data/chicago) in the contract: level "district" (22 series, category ALL)
    or "category" (15 city-wide series, district CITY)."""
    from crimecast.contract import read_table

    if level not in ("district", "category"):
        raise ValueError(f"level must be 'district' or 'category', not {level!r}")
    paths = embedded_paths(root)
    counts = read_table(paths[level], "counts")
    known = set(counts["district"].unique())
    return ChicagoData(counts=counts, events=read_table(paths["events"], "events", known_districts=known),
                       weather=read_table(paths["weather"], "weather"), districts=None, level=level)
