"""Forecasting: shared features, LiteRT forecaster, baselines, backtest, metrics, STL/trends.

Light at import: `CrimeForecaster` pulls in only numpy/pandas until a model is loaded.
"""

from crimecast.forecast.model import CrimeForecaster

__all__ = ["CrimeForecaster"]
