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


def counts_matrix(counts: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex, pd.DatetimeIndex]:
    """(S, T) float matrix of a zero-filled counts table, its (district, category) index and its dates."""
    c = counts[["date", "district", "category", "count"]]
    dates = pd.date_range(pd.Timestamp(c["date"].min()), pd.Timestamp(c["date"].max()), freq="D")
    keys = pd.MultiIndex.from_frame(c[["district", "category"]].astype(str).drop_duplicates()
                                    .sort_values(["district", "category"]))
    si = keys.get_indexer(pd.MultiIndex.from_frame(c[["district", "category"]].astype(str)))
    ti = ((pd.to_datetime(c["date"]) - dates[0]) // pd.Timedelta(days=1)).to_numpy()
    y = np.zeros((len(keys), len(dates)))
    np.add.at(y, (si, ti), c["count"].to_numpy(dtype=np.float64))
    return y, keys, dates


class Actuals:
    """The counts up to the last complete day as a series × day matrix (+ running sums for the 28-day mean),
    built once and joined with one run's forecasts at a time (bounded memory, 10 k series × 90 runs)."""

    def __init__(self, counts: pd.DataFrame, through: pd.Timestamp | str) -> None:
        self.through = pd.Timestamp(through)
        self.y, self.keys, self.dates = counts_matrix(counts[pd.to_datetime(counts["date"]) <= self.through])
        self.cs = np.concatenate([np.zeros((self.y.shape[0], 1)), np.cumsum(self.y, axis=1)], axis=1)

    def join(self, f: pd.DataFrame) -> pd.DataFrame:
        """Monitoring rows of forecast rows `f` (any runs); rows the counts do not cover are left out."""
        d = pd.to_datetime(f["date"])
        f = f[((d <= self.through) & (d >= self.dates[0])).to_numpy()]
        si = self.keys.get_indexer(pd.MultiIndex.from_arrays([f["district"].astype(str), f["category"].astype(str)]))
        f, si = f[si >= 0], si[si >= 0]
        ti = ((pd.to_datetime(f["date"]) - self.dates[0]) // pd.Timedelta(days=1)).to_numpy()
        h = f["horizon"].to_numpy(dtype=np.int64)
        y, cs = self.y, self.cs
        y_true = y[si, ti]
        # Baselines from the origin o = t - h: 28-day mean of days o-27..o; seasonal-naive = the same weekday of
        # the last week before the origin (t - 7*ceil(h/7)).
        o = ti - h
        ok28 = o - 27 >= 0
        ma = np.full(len(f), np.nan)
        ma[ok28] = (cs[si[ok28], o[ok28] + 1] - cs[si[ok28], o[ok28] - 27]) / 28.0
        back = ti - 7 * ((h + 6) // 7)
        okn = back >= 0
        sn = np.full(len(f), np.nan)
        sn[okn] = y[si[okn], back[okn]]
        yp = f["y_pred"].to_numpy(dtype=np.float64)
        out = pd.DataFrame({
            "run_date": pd.to_datetime(f["run_date"]).to_numpy(), "date": pd.to_datetime(f["date"]).to_numpy(),
            "district": f["district"].astype(str).to_numpy(), "category": f["category"].astype(str).to_numpy(),
            "horizon": h, "y_pred": yp, "y_true": y_true})
        for col in ("lo80", "hi80", "lo95", "hi95"):
            out[col] = f[col].to_numpy(dtype=np.float64) if col in f else np.nan
        out["in80"] = (y_true >= out["lo80"].to_numpy()) & (y_true <= out["hi80"].to_numpy())
        out["in95"] = (y_true >= out["lo95"].to_numpy()) & (y_true <= out["hi95"].to_numpy())
        out["abs_err"] = np.abs(yp - y_true)
        out["y_ma28"] = ma
        out["y_snaive"] = sn
        out["model_version"] = f["model_version"].astype(str).to_numpy() if "model_version" in f else ""
        return out[MONITORING_COLUMNS]


def build_table(forecasts: pd.DataFrame, counts: pd.DataFrame, through: pd.Timestamp | str) -> pd.DataFrame:
    """Join forecast rows (forecasts contract, any number of runs) with `counts` (counts contract) up to
    `through` (the last complete day). Rows of series or dates the counts do not cover are left out."""
    return Actuals(counts, through).join(forecasts)
