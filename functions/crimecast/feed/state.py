"""feeds/state.json (what the feed has seen) and the maintained counts read back in the counts contract.

`last_complete_day` = the day before the newest incident day any export held (a day with a later incident
is over), less `reporting_lag_days` (days whose late records are still arriving). The forecast job forecasts
from the day after it and refuses when it is older than the allowed staleness.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pandas as pd

from crimecast import layout as L
from crimecast.storage import Storage


class StaleDataError(RuntimeError):
    """The maintained counts end too long before the run date: the job refuses (and writes nothing)."""


@dataclass
class FeedState:
    history_start: str
    newest_day: str
    last_complete_day: str
    reporting_lag_days: int = 0
    exports: int = 0
    updated_at: str = ""
    last_export: str = ""

    def updated(self, first: pd.Timestamp, last: pd.Timestamp, lag: int, export: str) -> FeedState:
        start = min(pd.Timestamp(self.history_start), first) if self.history_start else first
        newest = max(pd.Timestamp(self.newest_day), last) if self.newest_day else last
        complete = newest - pd.Timedelta(days=1 + lag)
        return FeedState(start.date().isoformat(), newest.date().isoformat(), complete.date().isoformat(), lag,
                         self.exports + 1, datetime.now(UTC).isoformat(timespec="seconds"), export)


EMPTY = FeedState("", "", "")


def read_state(store: Storage) -> FeedState | None:
    if not store.exists(L.FEED_STATE):
        return None
    return FeedState(**json.loads(store.get_bytes(L.FEED_STATE)))


def write_state(store: Storage, state: FeedState) -> None:
    store.put_bytes(L.FEED_STATE, json.dumps(asdict(state), indent=1).encode(), "application/json")


def read_counts(store: Storage, state: FeedState | None = None, *, through: str | None = None) -> pd.DataFrame:
    """The maintained counts (counts contract, zero-filled) from the history start to `through`
    (default: the state's last complete day)."""
    state = state or read_state(store)
    if state is None:
        raise FileNotFoundError(f"no feed state at {store.uri(L.FEED_STATE)}: no export has been ingested")
    end = pd.Timestamp(through or state.last_complete_day)
    start = pd.Timestamp(state.history_start)
    frames = []
    for info in store.list(L.COUNTS):
        if not info.key.endswith(".parquet"):
            continue
        month = info.key[len(L.COUNTS):].split("/")[0].removeprefix(L.MONTH_PARTITION)
        if month > end.strftime("%Y-%m"):
            continue
        frames.append(pd.read_parquet(io.BytesIO(store.get_bytes(info.key))))
    if not frames or end < start:
        raise FileNotFoundError(f"no maintained counts up to {end.date()} under {store.uri(L.COUNTS)}")
    c = pd.concat(frames, ignore_index=True)
    series = c[["district", "category"]].drop_duplicates()  # every series seen, also those that start later
    c = c[(c["date"] >= start) & (c["date"] <= end)]
    return zero_fill(c, start, end, series)


def zero_fill(c: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
              series: pd.DataFrame | None = None) -> pd.DataFrame:
    dates = pd.date_range(start, end, freq="D")
    series = (c if series is None else series)[["district", "category"]].drop_duplicates()
    series = series.sort_values(["district", "category"])
    full = pd.MultiIndex.from_arrays([
        series["district"].repeat(len(dates)).to_numpy(), series["category"].repeat(len(dates)).to_numpy(),
        pd.DatetimeIndex(list(dates) * len(series))], names=["district", "category", "date"])
    s = c.groupby(["district", "category", "date"])["count"].sum()
    out = s.reindex(full, fill_value=0).reset_index()
    out["count"] = out["count"].astype("int64")
    out["date"] = out["date"].astype("datetime64[ns]")
    return out[["date", "district", "category", "count"]]


def maintained_counts(store: Storage, run_day: pd.Timestamp, max_stale_days: int) -> tuple[pd.DataFrame, dict]:
    """The forecast job's counts when a feed maintains them: through the last complete day, refused when
    that day is more than `max_stale_days` days before the day before the run. Returns (counts, info)."""
    state = read_state(store)
    if state is None:
        raise FileNotFoundError(f"no feed state at {store.uri(L.FEED_STATE)}")
    last = pd.Timestamp(state.last_complete_day)
    stale = (pd.Timestamp(run_day).normalize() - last).days - 1
    if stale > max_stale_days:
        raise StaleDataError(
            f"the maintained counts end on {last.date()} (last complete day; newest incident {state.newest_day}, "
            f"last export {state.last_export!r}), {stale} days before {pd.Timestamp(run_day).date()} - more than "
            f"the {max_stale_days} allowed (CRIMECAST_MAX_STALE_DAYS). Is the feed still arriving under "
            f"{store.uri(L.FEED_INCOMING)}? Nothing was written")
    info = {"source": store.uri(L.COUNTS), "last_complete_day": state.last_complete_day,
            "history_start": state.history_start, "stale_days": max(stale, 0), "last_export": state.last_export}
    return read_counts(store, state), info
