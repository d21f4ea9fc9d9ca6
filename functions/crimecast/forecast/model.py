"""LiteRT forecaster: loads model.tflite + metadata.json and forecasts the next 30 days per series.

Never imports TensorFlow. The interpreter is resized to a batch and fed every series at once.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crimecast.forecast import conformal
from crimecast.forecast.features import FeatureSpec, FeatureState, build_panel, combine, make_windows
from crimecast.litert import load_interpreter
from crimecast.tables import FORECASTS

log = logging.getLogger(__name__)

# The forecasts contract (crimecast.tables) less what the run adds (run_date, model_version).
OUTPUT_COLUMNS = [c for c in FORECASTS.names if c not in ("run_date", "model_version")]




def _input_index(interp: Any) -> dict[str, int]:
    """Map input names (seq, fut, static) to tensor indices; TFLite names look like serving_default_seq:0."""
    out: dict[str, int] = {}
    for d in interp.get_input_details():
        name = d["name"]
        for key in ("static", "seq", "fut"):
            if key in name and key not in out:
                out[key] = d["index"]
                break
    if set(out) != {"seq", "fut", "static"}:  # fall back to ranks/sizes
        dets = interp.get_input_details()
        three = sorted([d for d in dets if len(d["shape"]) == 3], key=lambda d: -int(d["shape"][1]))
        flat = [d for d in dets if len(d["shape"]) == 2]
        if len(three) != 2 or len(flat) != 1:
            raise ValueError(f"model.tflite inputs {[d['name'] for d in dets]} are not (seq, fut, static)")
        out = {"seq": three[0]["index"], "fut": three[1]["index"], "static": flat[0]["index"]}
    return out


def run_interpreter(interp: Any, seq: np.ndarray, fut: np.ndarray, static: np.ndarray,
                    batch: int = 1024) -> np.ndarray:
    """Run the model on N windows in batches of `batch` (resizing the input tensors once per size)."""
    idx = _input_index(interp)
    out_idx = interp.get_output_details()[0]["index"]
    n = len(seq)
    outs = []
    cur = None
    for i in range(0, n, batch):
        b = min(batch, n - i)
        if cur != b:
            interp.resize_tensor_input(idx["seq"], [b, *seq.shape[1:]])
            interp.resize_tensor_input(idx["fut"], [b, *fut.shape[1:]])
            interp.resize_tensor_input(idx["static"], [b, static.shape[1]])
            interp.allocate_tensors()
            cur = b
        interp.set_tensor(idx["seq"], np.ascontiguousarray(seq[i:i + b], dtype=np.float32))
        interp.set_tensor(idx["fut"], np.ascontiguousarray(fut[i:i + b], dtype=np.float32))
        interp.set_tensor(idx["static"], np.ascontiguousarray(static[i:i + b], dtype=np.float32))
        interp.invoke()
        outs.append(interp.get_tensor(out_idx).copy())
    return np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)


class CrimeForecaster:
    """Global LSTM forecaster served with LiteRT.

    >>> f = CrimeForecaster().load_model("models/forecaster")
    >>> fc = f.predict_next_30_days(counts)      # one row per series × 30 days
    """

    def __init__(self, num_threads: int = 1, batch: int = 1024) -> None:
        self.num_threads = num_threads
        self.batch = batch
        self.metadata: dict[str, Any] = {}
        self.version: str = ""
        self._interp: Any = None

    def load_model(self, path: str | Path) -> CrimeForecaster:
        """Load `path`/model.tflite and `path`/metadata.json. Returns self."""
        p = Path(path)
        tfl, meta = p / "model.tflite", p / "metadata.json"
        for f in (tfl, meta):
            if not f.is_file():
                raise FileNotFoundError(f"forecaster model directory {p}: missing {f.name}")
        try:
            self.metadata = json.loads(meta.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta}: not valid JSON ({exc})") from None
        if self.metadata.get("name") != "forecaster":
            raise ValueError(f"{meta}: name is {self.metadata.get('name')!r}, expected 'forecaster'")
        if "blend_base" not in self.metadata or "base" not in self.metadata.get("feature_spec", {}):
            raise ValueError(f"{meta}: this forecaster was exported by an older crimecast (its output is not a "
                             "correction of the base forecast); retrain it with `crimecast train-forecaster`")
        self.spec = FeatureSpec.from_dict(self.metadata["feature_spec"])
        self.state = FeatureState.from_dict(self.metadata["feature_state"])
        self.quantiles = self.metadata["conformal_quantiles"]
        self.blend = self.metadata["blend_base"]
        self.version = str(self.metadata["version"])
        try:
            self._interp = load_interpreter(tfl, self.num_threads)
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{tfl}: LiteRT cannot load the model: {exc}") from None
        return self

    @property
    def horizon(self) -> int:
        return int(self.spec.horizon)

    def predict_next_30_days(self, counts: pd.DataFrame, events: pd.DataFrame | None = None,
                             weather: pd.DataFrame | None = None, districts: pd.DataFrame | None = None,
                             as_of: date | None = None) -> pd.DataFrame:
        """Forecast every series in `counts` for the `horizon` (30) days after `as_of` (default: the last
        date in counts). Returns columns date, district, category, horizon, y_pred, lo80, hi80, lo95, hi95
        (crimes/day, all ≥ 0). Series with fewer than `window` days before `as_of` raise ValueError."""
        if self._interp is None:
            raise RuntimeError("CrimeForecaster: call load_model(path) first")
        if counts is None or len(counts) == 0:
            raise ValueError("counts: no rows to forecast from")
        c = counts
        if as_of is not None:
            c = c[pd.to_datetime(c["date"]) <= pd.Timestamp(as_of)]
            if len(c) == 0:
                raise ValueError(f"counts: no rows on or before as_of={as_of}")
            last = pd.to_datetime(counts["date"]).max()
            if pd.Timestamp(as_of) > last:
                raise ValueError(f"as_of={as_of} is after the last counts date {last.date()}: counts up to as_of "
                                 "are needed")
        state = self.state
        if districts is not None and self.spec.district:
            # Standardise with the training districts when they are known; new districts get zeros.
            known = set(state.district_values)
            unknown = sorted(set(districts["district"].astype(str)) - known)
            if unknown:
                log.warning("districts %s are not in the model's training data: their static features are 0",
                            unknown[:10])
        if self.spec.events and events is None:
            log.info("no events table: event inputs are 0")
        if self.spec.weather and weather is None:
            log.info("no weather table: weather inputs take the training climatology")
        panel = build_panel(c, self.spec, state, events=events, weather=weather)
        n_t = len(panel.dates)
        if n_t < self.spec.window:
            raise ValueError(f"counts: {n_t} days before the forecast origin; the model needs a window of "
                             f"{self.spec.window} days")
        x = make_windows(panel, self.spec, np.array([n_t]))
        corr = run_interpreter(self._interp, x["seq"], x["fut"], x["static"], self.batch)
        yhat = combine(corr, x, self.blend)
        iv = conformal.apply_quantiles(yhat, self.quantiles)
        s, h = yhat.shape
        fdates = panel.dates[-1] + pd.to_timedelta(np.arange(1, h + 1), unit="D")
        keys = np.array(panel.keys, dtype=object)
        out = pd.DataFrame({
            "date": np.tile(fdates.to_numpy(), s),
            "district": np.repeat(keys[:, 0], h),
            "category": np.repeat(keys[:, 1], h),
            "horizon": np.tile(np.arange(1, h + 1), s).astype(np.int64),
            "y_pred": yhat.ravel(),
            "lo80": iv["lo80"].ravel(), "hi80": iv["hi80"].ravel(),
            "lo95": iv["lo95"].ravel(), "hi95": iv["hi95"].ravel(),
        })
        out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
        return out[OUTPUT_COLUMNS]
