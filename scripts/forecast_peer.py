"""The benchmark's peer: a global LightGBM model over all series (what a data scientist would run instead of
crimecast; mlforecast / skforecast / Darts make it one call). Bench-only (lightgbm is in the dev extra).

Direct multi-horizon, one model for all 30 days (the horizon day is a feature): the same per-horizon history
inputs as the network (`crimecast.forecast.horizon`: 7/14/91/364-day levels, same-weekday means, the
seasonal-naive value, last year's same days ±3, last year's seasonal change), the forecast day's calendar
(weekday, day of year, day of month incl. the 1st, holidays) and events, the series id (categorical) and
log of the 28-day level. Target: count / 28-day level, Poisson objective weighted by the level (= loss on
counts). Trained on every `stride`-th origin of the `history_days` before each backtest origin whose targets
end before it; conformal 80/95 % intervals (`crimecast.forecast.conformal`) from a second model fitted before
a held-out block of `cal_days` origins, exactly as the LSTM's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from crimecast.forecast import conformal
from crimecast.forecast.base import SCALE_EPS
from crimecast.forecast.features import FeatureSpec, FeatureState, build_panel
from crimecast.forecast.horizon import horizon_features
from crimecast.forecast.metrics import mase_scale

PARAMS = {"objective": "poisson", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 200,
          "feature_fraction": 0.8, "bagging_fraction": 0.7, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
          "num_threads": 1, "seed": 0}
ROUNDS = 400


def _rows(panel, origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N·H, F) features, scale (N·H,), target counts (N·H,) (NaN beyond the data); rows series-major."""
    y = panel.y
    s = y.shape[0]
    hz = horizon_features(y, origins, horizon)  # (S, O, H, F)
    fut = origins[:, None] + np.arange(horizon)[None, :]
    cal = panel.cal[fut]  # (O, H, C)
    ev = panel.ev[:, fut]  # (S, O, H, E)
    n_o = len(origins)
    scale = np.stack([y[:, max(o - 28, 0):o].mean(1) for o in origins], 1) + SCALE_EPS  # (S, O)
    sid = np.broadcast_to(np.arange(s)[:, None, None, None], (s, n_o, horizon, 1)).astype(np.float32)
    lscale = np.broadcast_to(np.log1p(scale)[..., None, None], (s, n_o, horizon, 1))
    x = np.concatenate([hz, np.broadcast_to(cal[None], (s,) + cal.shape), ev, lscale, sid], axis=-1)
    t = y.shape[1]
    tgt = np.where(fut[None] < t, y[:, np.minimum(fut, t - 1)], np.nan)
    sc = np.broadcast_to(scale[..., None], (s, n_o, horizon))
    return x.reshape(-1, x.shape[-1]), sc.reshape(-1), tgt.reshape(-1)


def _fit(panel, origins: np.ndarray, horizon: int, rounds: int = ROUNDS):
    import lightgbm as lgb

    x, sc, tgt = _rows(panel, origins, horizon)
    ok = np.isfinite(tgt)
    cat = [x.shape[1] - 1]
    ds = lgb.Dataset(x[ok], tgt[ok] / sc[ok], weight=sc[ok], categorical_feature=cat, free_raw_data=True)
    return lgb.train(PARAMS, ds, num_boost_round=rounds)


def _predict(model, panel, origins: np.ndarray, horizon: int) -> np.ndarray:
    x, sc, _ = _rows(panel, origins, horizon)
    s = panel.y.shape[0]
    return (model.predict(x) * sc).reshape(s, len(origins), horizon)


def lightgbm_backtest(counts: pd.DataFrame, origins: list[pd.Timestamp], horizon: int = 30,
                      events: pd.DataFrame | None = None, history_days: int = 1460, stride: int = 3,
                      cal_days: int = 90) -> pd.DataFrame:
    """Predictions (the backtest's columns + mase_scale) of the LightGBM peer at each origin."""
    spec = FeatureSpec(horizon=horizon, weather=False, district=False)
    panel = build_panel(counts, spec, FeatureState(), events=events)
    dates = panel.dates
    rows = []
    for o in origins:
        oi = int((o - dates[0]).days)
        last = oi - horizon  # last training origin: its targets end before the forecast origin
        cal_o = np.arange(last - cal_days + 1, last + 1)
        tr = np.arange(max(400, cal_o[0] - horizon - history_days), cal_o[0] - horizon + 1, stride)
        model = _fit(panel, tr, horizon)
        cal_pred = _predict(model, panel, cal_o[::3], horizon)
        cal_true = np.stack([panel.y[:, c:c + horizon] for c in cal_o[::3]], 1)
        q = conformal.fit_quantiles(cal_true.reshape(-1, horizon), cal_pred.reshape(-1, horizon))
        yhat = np.maximum(_predict(model, panel, np.array([oi]), horizon)[:, 0], 0.0)
        iv = conformal.apply_quantiles(yhat, q)
        s, h = yhat.shape
        keys = np.array(panel.keys, dtype=object)
        rows.append(pd.DataFrame({
            "origin": np.full(s * h, o, dtype="datetime64[ns]"),
            "date": np.tile(pd.date_range(o, periods=h).to_numpy(), s),
            "district": np.repeat(keys[:, 0], h), "category": np.repeat(keys[:, 1], h),
            "y_true": panel.y[:, oi:oi + h].ravel().astype(np.int64), "y_pred": yhat.ravel(),
            **{k: v.ravel() for k, v in iv.items()},
            "mase_scale": np.repeat(mase_scale(panel.y[:, :oi]), h),
        }))
    out = pd.concat(rows, ignore_index=True)
    out["date"] = out["date"].astype("datetime64[ns]")
    return out
