"""One forecaster interface for the LSTM and every baseline (statsforecast's shape).

Every model is an object with `forecast(y, h, X=None, level=(80, 95))`:
- `y` (S, T) counts of S series up to the day before the origin (crimes/day),
- `h` the horizon (days), `X` the `Context` (dates, series keys, the history and exogenous tables; models
  that only need `y` ignore it), `level` the interval levels in %,
- returns {"mean": (S, h), "lo80": …, "hi80": …, "lo95": …, "hi95": …} (crimes/day, ≥ 0; intervals named by
  level, NaN where a model has none).
`min_history(window, horizon)` says how many days a model needs before an origin. The backtest runs any
registered model through this one interface; `get(name)` builds one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from crimecast.forecast import baselines, conformal
from crimecast.forecast.conformal import LEVELS

BASELINE_CAL_ORIGINS = 90  # past origins used to calibrate baseline intervals


@dataclass
class Context:
    """What a model may use besides the counts matrix (X in the interface)."""

    origin: pd.Timestamp  # first forecast day
    dates: pd.DatetimeIndex  # the T days of y
    keys: list[tuple[str, str]]  # (district, category) of the S rows of y
    counts: pd.DataFrame | None = None  # the history as a counts table (rows before the origin)
    events: pd.DataFrame | None = None
    weather: pd.DataFrame | None = None  # only days before the origin
    districts: pd.DataFrame | None = None
    state: dict[str, Any] = field(default_factory=dict)  # carried from one origin to the next (warm starts)


class Forecaster(Protocol):
    name: str

    def min_history(self, window: int, horizon: int) -> int: ...

    def forecast(self, y: np.ndarray, h: int, X: Context | None = None,
                 level: Sequence[int] = LEVELS) -> dict[str, np.ndarray]: ...


class _ConformalBaseline:
    """A point baseline with split-conformal intervals from its own errors at the last
    BASELINE_CAL_ORIGINS past origins (targets before the forecast origin)."""

    name = ""

    def __init__(self, **_options: Any) -> None:  # training options (epochs, …) do not apply to a baseline
        pass

    def point(self, y: np.ndarray, h: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def min_history(self, window: int, horizon: int) -> int:
        return max(window, 28)

    def forecast(self, y: np.ndarray, h: int, X: Context | None = None,
                 level: Sequence[int] = LEVELS) -> dict[str, np.ndarray]:
        y = np.atleast_2d(y)
        mean = np.maximum(self.point(y, h), 0.0)
        t = y.shape[1]
        first, last = max(28, t - h - BASELINE_CAL_ORIGINS + 1), t - h
        if last < first:
            return {"mean": mean, **conformal.empty_intervals(mean, level)}
        ys = [y[:, o:o + h] for o in range(first, last + 1)]
        ps = [self.point(y[:, :o], h) for o in range(first, last + 1)]
        q = conformal.fit_quantiles(np.concatenate(ys), np.concatenate(ps), level)
        return {"mean": mean, **conformal.apply_quantiles(mean, q, level)}


class SeasonalNaive(_ConformalBaseline):
    name = "seasonal_naive"

    def point(self, y: np.ndarray, h: int) -> np.ndarray:
        return baselines.seasonal_naive(y, h)


class MovingAverage(_ConformalBaseline):
    name = "moving_average"

    def point(self, y: np.ndarray, h: int) -> np.ndarray:
        return baselines.moving_average(y, h)


class DayOfWeekProfile(_ConformalBaseline):
    """28-day mean × each series' day-of-week profile of the last 8 weeks (what an analyst does by hand)."""

    name = "dow_profile"

    def point(self, y: np.ndarray, h: int) -> np.ndarray:
        return baselines.dow_profile(y, h)


class ETS:
    """ETS(A, Ad, A), weekly season, per series (statsmodels), with its model-based intervals."""

    name = "ets"

    def __init__(self, **_options: Any) -> None:
        pass

    def min_history(self, window: int, horizon: int) -> int:
        return max(window, 28)

    def forecast(self, y: np.ndarray, h: int, X: Context | None = None,
                 level: Sequence[int] = LEVELS) -> dict[str, np.ndarray]:
        alphas = {lv: round(1 - lv / 100, 6) for lv in level}
        mean, ints = baselines.ets(y, h, alphas=tuple(alphas.values()))
        out = {"mean": mean}
        for lv, a in alphas.items():
            out[f"lo{lv}"], out[f"hi{lv}"] = ints[a]
        return out


# The network lives in the training package (TensorFlow); it implements the same interface and registers
# through the `crimecast.forecasters` entry point (crimecast.plugins), so the core never names that package.
FORECASTERS: dict[str, Callable[..., Any]] = {
    "seasonal_naive": SeasonalNaive, "moving_average": MovingAverage, "dow_profile": DayOfWeekProfile, "ets": ETS,
}
NAMES = ("lstm", *FORECASTERS)


def register(name: str, factory: Callable[..., Any]) -> None:
    """Add a forecaster (a class or factory taking keyword options) under `name`."""
    FORECASTERS[name] = factory


def get(name: str, **options: Any) -> Forecaster:
    """A forecaster by name, built with `options` (training options; the baselines ignore them)."""
    if name not in FORECASTERS:
        from crimecast import plugins

        factory = plugins.load_forecaster(name)  # TrainingNotInstalled (a ValueError) names the install command
        if factory is not None:
            register(name, factory)
    if name not in FORECASTERS:
        raise ValueError(f"--model {name!r}: expected one of {', '.join(NAMES)}")
    return FORECASTERS[name](**options)
