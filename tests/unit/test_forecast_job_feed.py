"""The forecast job on counts maintained by the feed: forecasts start the day after the last complete day,
stale data is refused with nothing written, and the second run's monitoring checks the first run."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from crimecast import layout as L
from crimecast.feed.state import StaleDataError
from crimecast.jobs.feed_ingest import ingest_export
from crimecast.jobs.forecast_job import run_forecast_job
from crimecast.storage import Stores


class MeanForecaster:
    """A stand-in with the forecaster interface (the job is model-agnostic): the 28-day mean, ±2/±3."""

    version = "stand-in"
    metadata: dict = {}

    def predict_next_30_days(self, counts, events=None, weather=None, districts=None):
        last = counts["date"].max()
        rows = []
        for (d, c), g in counts.groupby(["district", "category"]):
            m = float(g.sort_values("date")["count"].tail(28).mean())
            rows += [(last + pd.Timedelta(days=h), d, c, h, m, m - 2, m + 2, m - 3, m + 3) for h in range(1, 31)]
        return pd.DataFrame(rows, columns=["date", "district", "category", "horizon", "y_pred", "lo80", "hi80",
                                           "lo95", "hi95"])


def _export(days):
    lines = ["ID,Date,District,Primary Type"]
    for day in days:
        for d in ("1", "2"):
            for k in range(3 if d == "1" else 1):
                lines.append(f"{day.date()}-{d}-{k},{day.date()} 12:00,{d},THEFT")  # the same id in every export
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def stores(tmp_path):
    s = Stores.local(tmp_path)
    s.data.put_bytes(L.INGEST_CONFIG, json.dumps({"date_col": "Date", "district_col": "District",
                                                  "category_col": "Primary Type", "id_col": "ID"}).encode())
    return s


def _drop(s, name, days, arrival):
    s.data.put_bytes(L.FEED_INCOMING + name, _export(days))
    return ingest_export(s.data, L.FEED_INCOMING + name, version_id="1", event_time=f"{arrival}T06:00:00Z")


def test_job_forecasts_from_the_last_complete_day_and_monitors(stores):
    _drop(stores, "a.csv", pd.date_range("2024-01-01", "2024-03-31"), "2024-04-01")
    m1 = run_forecast_job(stores.data, stores.results, stores.reports, MeanForecaster(), run_date="2024-03-31",
                          with_report=False)
    assert m1["counts_through"] == "2024-03-30" and m1["forecast_from"] == "2024-03-31"
    assert m1["feed"]["last_complete_day"] == "2024-03-30" and m1["monitoring"]["28"]["n"] == 0
    _drop(stores, "b.csv", pd.date_range("2024-03-29", "2024-04-03"), "2024-04-04")
    m2 = run_forecast_job(stores.data, stores.results, stores.reports, MeanForecaster(), run_date="2024-04-03",
                          with_report=False)
    # the first run's forecasts for 03-31 .. 04-02 (the new last complete day) are checked: 3 days × 2 series
    assert m2["monitoring"]["28"]["n"] == 6
    mon = pd.read_parquet(io.BytesIO(stores.results.get_bytes(L.monitoring_rows_key("2024-03-31"))))
    assert sorted(mon["y_true"].unique()) == [1.0, 3.0] and (mon["abs_err"] == 0).all()


def test_stale_maintained_counts_are_refused_and_nothing_is_written(stores):
    _drop(stores, "a.csv", pd.date_range("2024-01-01", "2024-03-31"), "2024-04-01")
    with pytest.raises(StaleDataError, match="2024-03-30.*more than the 3 allowed"):
        run_forecast_job(stores.data, stores.results, stores.reports, MeanForecaster(), run_date="2024-04-10",
                         max_stale_days=3)
    assert list(stores.results.list("")) == [] and list(stores.reports.list("")) == []


def test_backfilled_runs_fill_the_first_runs_monitoring(tmp_path):
    from crimecast.monitoring.backfill import backfill_runs

    s = Stores.local(tmp_path)
    days = pd.date_range("2024-01-01", "2024-04-30")
    counts = pd.DataFrame({"date": days.repeat(2), "district": ["1", "2"] * len(days), "category": "THEFT",
                           "count": [3, 1] * len(days)})
    s.data.put_bytes("data/counts/counts.csv", counts.to_csv(index=False).encode())

    class AsOf(MeanForecaster):
        def predict_next_30_days(self, counts, events=None, weather=None, districts=None, as_of=None):
            c = counts if as_of is None else counts[counts["date"] <= pd.Timestamp(as_of)]
            return super().predict_next_30_days(c)

    assert backfill_runs(s.results, AsOf(), counts, runs=3, step=7) == ["2024-04-10", "2024-04-17", "2024-04-24"]
    m = run_forecast_job(s.data, s.results, s.reports, AsOf(), run_date="2024-05-01", with_report=False)
    assert m["monitoring"]["28"]["n"] == 2 * (21 + 14 + 7) and m["monitoring"]["28"]["mae"] == 0
    assert L.list_runs(s.results) == ["2024-05-01"]  # backfilled runs have no manifest: never served as latest


def test_unchanged_runs_are_not_rewritten_and_corrections_are(stores):
    from crimecast.feed.state import read_counts
    from crimecast.monitoring.backfill import backfill_runs
    from crimecast.monitoring.store import plan_monitoring, write_monitoring

    class AsOf(MeanForecaster):
        def predict_next_30_days(self, counts, events=None, weather=None, districts=None, as_of=None):
            return super().predict_next_30_days(counts[counts["date"] <= pd.Timestamp(as_of)])

    _drop(stores, "a.csv", pd.date_range("2024-01-01", "2024-03-31"), "2024-04-01")
    counts = read_counts(stores.data)
    backfill_runs(stores.results, AsOf(), counts, runs=2, step=7)

    def write(run_date, c):
        return write_monitoring(stores.results, plan_monitoring(stores.results, c, c["date"].max(), run_date))

    first, again = write("2024-04-01", counts), write("2024-04-02", counts)
    assert first["partitions_written"] == len(first["fingerprints"]) == 2
    assert again["partitions_written"] == 0 and again["rows"] == first["rows"]  # nothing changed: nothing rewritten
    fixed = counts.copy()
    fixed.loc[fixed["date"] == fixed["date"].max(), "count"] += 1  # a late record on the last complete day
    third = write("2024-04-03", fixed)
    assert third["partitions_written"] == 2 and third["rows"] == first["rows"]
