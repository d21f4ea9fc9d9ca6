"""The monitoring table: every evaluable forecast row of earlier runs with the actual count now known.

A row is evaluable when its date is on or before the data's last complete day. Baselines are computed from
the same counts for the same origin (the day before the run's first forecast date = date - horizon): the
28-day mean and seasonal-naive (last week repeated), exactly as `crimecast.forecast.baselines` defines them.
Vectorised on a series × day matrix, so 10 k series × 90 runs × 30 horizons is a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONITORING_COLUMNS = ["run_date", "date", "district", "category", "horizon", "y_pred", "y_true", "lo80", "hi80",
                      "lo95", "hi95", "in80", "in95", "abs_err", "y_ma28", "y_snaive", "model_version"]


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniq = pd.factorize(values.astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(uniq)


def counts_matrix(counts: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex, pd.DatetimeIndex]:
    """(S, T) float matrix of a zero-filled counts table, its (district, category) index and its dates."""
    y, (dist, cat, pairs), dates = _matrix(counts)
    keys = pd.MultiIndex.from_arrays([dist[pairs // len(cat)], cat[pairs % len(cat)]], names=["district", "category"])
    return y, keys, dates


def _matrix(counts: pd.DataFrame) -> tuple[np.ndarray, tuple[pd.Index, pd.Index, np.ndarray], pd.DatetimeIndex]:
    day = pd.to_datetime(counts["date"])
    dates = pd.date_range(day.min(), day.max(), freq="D")
    dc, dist = _codes(counts["district"])
    cc, cat = _codes(counts["category"])
    pairs, si = np.unique(dc * len(cat) + cc, return_inverse=True)  # series sorted by (district, category)
    ti = ((day - dates[0]) // pd.Timedelta(days=1)).to_numpy()
    y = np.zeros((len(pairs), len(dates)))
    np.add.at(y, (si, ti), counts["count"].to_numpy(dtype=np.float64))
    return y, (dist, cat, pairs), dates


class Actuals:
    """The counts up to the last complete day as a series × day matrix (+ running sums for the 28-day mean),
    built once and joined with one run's forecasts at a time (bounded memory, 10 k series × 90 runs)."""

    def __init__(self, counts: pd.DataFrame, through: pd.Timestamp | str) -> None:
        self.through = pd.Timestamp(through)
        self.y, (self.dist, self.cat, self.pairs), self.dates = _matrix(
            counts[pd.to_datetime(counts["date"]) <= self.through])
        self.cs = np.concatenate([np.zeros((self.y.shape[0], 1)), np.cumsum(self.y, axis=1)], axis=1)

    @staticmethod
    def _lookup(col: pd.Series, index: pd.Index) -> np.ndarray:
        """Position in `index` of each value of `col` (-1: absent), factorizing first (few distinct values)."""
        codes, uniq = pd.factorize(col)
        pos = index.get_indexer(pd.Index(uniq).astype(str))
        return np.where(codes >= 0, pos[np.maximum(codes, 0)], -1)

    def _series_index(self, f: pd.DataFrame) -> np.ndarray:
        """Row of the matrix for each forecast row's (district, category); -1 where the counts lack it."""
        dc = self._lookup(f["district"], self.dist)
        cc = self._lookup(f["category"], self.cat)
        pair = np.where((dc >= 0) & (cc >= 0), dc.astype(np.int64) * len(self.cat) + cc, -1)
        pos = np.minimum(np.searchsorted(self.pairs, pair), len(self.pairs) - 1)
        return np.where((pair >= 0) & (self.pairs[pos] == pair), pos, -1)

    def join(self, f: pd.DataFrame) -> pd.DataFrame:
        """Monitoring rows of forecast rows `f` (any runs); rows the counts do not cover are left out."""
        day = pd.to_datetime(f["date"]).to_numpy()
        si = self._series_index(f)
        keep = (day <= self.through.to_datetime64()) & (day >= self.dates[0].to_datetime64()) & (si >= 0)
        si = si[keep]
        day = day[keep]
        ti = ((day - self.dates[0].to_datetime64()) // np.timedelta64(1, "D")).astype(np.int64)
        h = f["horizon"].to_numpy(dtype=np.int64)[keep]
        y, cs = self.y, self.cs
        y_true = y[si, ti]
        # Baselines from the origin o = t - h: 28-day mean of days o-27..o; seasonal-naive = the same weekday of
        # the last week before the origin (t - 7*ceil(h/7)).
        o = ti - h
        ok28 = o - 27 >= 0
        ma = np.full(len(si), np.nan)
        ma[ok28] = (cs[si[ok28], o[ok28] + 1] - cs[si[ok28], o[ok28] - 27]) / 28.0
        back = ti - 7 * ((h + 6) // 7)
        okn = back >= 0
        sn = np.full(len(si), np.nan)
        sn[okn] = y[si[okn], back[okn]]
        yp = f["y_pred"].to_numpy(dtype=np.float64)[keep]
        pair = self.pairs[si]  # district / category as categoricals of the counts' values (cheap to build/write)
        out = pd.DataFrame({
            "run_date": pd.to_datetime(f["run_date"]).to_numpy()[keep], "date": day,
            "district": pd.Categorical.from_codes(pair // len(self.cat), self.dist),
            "category": pd.Categorical.from_codes(pair % len(self.cat), self.cat),
            "horizon": h, "y_pred": yp, "y_true": y_true})
        for col in ("lo80", "hi80", "lo95", "hi95"):
            out[col] = f[col].to_numpy(dtype=np.float64)[keep] if col in f else np.nan
        out["in80"] = (y_true >= out["lo80"].to_numpy()) & (y_true <= out["hi80"].to_numpy())
        out["in95"] = (y_true >= out["lo95"].to_numpy()) & (y_true <= out["hi95"].to_numpy())
        out["abs_err"] = np.abs(yp - y_true)
        out["y_ma28"] = ma
        out["y_snaive"] = sn
        if "model_version" in f:
            mc, mu = pd.factorize(f["model_version"])
            out["model_version"] = pd.Categorical.from_codes(mc[keep], pd.Index(mu).astype(str))
        else:
            out["model_version"] = pd.Categorical([""] * len(out))
        return out[MONITORING_COLUMNS]


def build_table(forecasts: pd.DataFrame, counts: pd.DataFrame, through: pd.Timestamp | str) -> pd.DataFrame:
    """Join forecast rows (forecasts contract, any number of runs) with `counts` (counts contract) up to
    `through` (the last complete day). Rows of series or dates the counts do not cover are left out."""
    return Actuals(counts, through).join(forecasts)
