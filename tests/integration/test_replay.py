"""`crimecast replay`: daily overlapping exports with an incident id, late records and corrections, through the
real feed and forecast-job handlers over moto S3 with real S3 events. The maintained counts must equal the
unique incidents exactly, and the monitoring table must match a recomputation from the forecasts and counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from crimecast.feed.simulate import simulate_exports
from crimecast.replay import replay

pytestmark = pytest.mark.slow  # six simulated days through the real handlers (~1-3 min on 2 shared cores)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, synth_dir, forecaster_model_dir):
    tmp = tmp_path_factory.mktemp("replay")
    counts = pd.read_csv(synth_dir / "crime_rate_dataset.csv", dtype={"district": str})
    sim = simulate_exports(counts, tmp / "exports", days=4, overlap=3, late_share=0.08, correct_share=0.05, seed=3)
    # one export delivered twice under another name (the same rows again must not double-count)
    first_daily = sorted((tmp / "exports").iterdir())[2]
    (tmp / "exports" / (first_daily.name.replace(".csv", "-resent.csv"))).write_bytes(first_daily.read_bytes())
    (tmp / "ingest.json").write_text(json.dumps(sim["config"]))
    out = tmp / "out"
    summary = replay(sorted((tmp / "exports").iterdir()), (tmp / "ingest.json").read_text(), out,
                     forecaster_model_dir, log_fn=lambda *_: None)
    return sim, summary, out


def test_maintained_counts_equal_the_unique_incidents(replayed):
    sim, summary, out = replayed
    assert summary["failed_exports"] == [] and summary["days"] == 6
    got = pd.read_parquet(out / "counts.parquet")
    truth = sim["truth"].assign(date=lambda d: pd.to_datetime(d["date"]))
    assert int(got["count"].sum()) == sim["incidents"] == int(truth["count"].sum())
    merged = got[got["count"] > 0].merge(truth, on=["date", "district", "category"], how="outer",
                                         suffixes=("_got", "_truth"))
    assert merged["count_got"].notna().all() and merged["count_truth"].notna().all()
    assert (merged["count_got"] == merged["count_truth"]).all()
    # the counts contract: zero-filled over every series and day
    n_series = got.groupby(["district", "category"]).ngroups
    assert len(got) == n_series * got["date"].nunique()


def test_monitoring_matches_an_independent_recomputation(replayed):
    sim, summary, out = replayed
    mon = pd.concat([pd.read_parquet(p) for p in (out / "monitoring").rglob("*.parquet")], ignore_index=True)
    assert len(mon) > 0 and summary["monitoring_rows"] == len(mon)
    counts = pd.read_parquet(out / "counts.parquet").set_index(["date", "district", "category"])["count"]
    fc = pd.concat([pd.read_parquet(p) for p in (out / "forecasts").rglob("*.parquet")], ignore_index=True)
    last_complete = pd.Timestamp(summary["last_complete_day"])
    want = fc[fc["date"] <= last_complete]
    want = want[want["run_date"] < want["run_date"].max() + pd.Timedelta(days=1)]
    m = mon.merge(want, on=["run_date", "date", "district", "category", "horizon"], suffixes=("", "_fc"))
    assert len(m) == len(mon) == len(want[want["run_date"] < pd.Timestamp(summary["per_day"][-1]["run_date"])])
    y = counts.reindex(pd.MultiIndex.from_frame(m[["date", "district", "category"]])).to_numpy()
    np.testing.assert_array_equal(m["y_true"].to_numpy(), y)
    np.testing.assert_allclose(m["abs_err"], np.abs(m["y_pred_fc"] - y))
    np.testing.assert_array_equal(m["in80"], (y >= m["lo80_fc"]) & (y <= m["hi80_fc"]))
    s = json.loads(sorted((out / "monitoring" / "summary").glob("*.json"))[-1].read_text())
    assert s["windows"]["28"]["overall"]["mae"] == pytest.approx(m["abs_err"].mean())


def test_report_shows_the_monitoring_section(replayed):
    _, _, out = replayed
    html = (out / "reports" / "latest" / "index.html").read_text()
    assert "How did our forecasts do?" in html and "monitoring-daily" in html
    assert "Nothing to check yet" not in html
