"""The incident feed: config validation, dedup (id: last version wins; no id: identical rows once),
month partitions, rejected rows, idempotency per object version, last complete day, bad input."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
from crimecast import layout as L
from crimecast.feed.config import IngestConfigError, parse_config
from crimecast.feed.parse import FeedError
from crimecast.feed.state import read_counts, read_state
from crimecast.jobs.feed_ingest import ingest_export
from crimecast.storage import LocalStorage

CFG = {"date_col": "Date", "district_col": "District", "category_col": "Primary Type", "id_col": "ID"}
HEADER = "ID,Date,District,Primary Type,Extra\n"


def _store(tmp_path, cfg=CFG):
    s = LocalStorage(tmp_path / "data")
    s.put_bytes(L.INGEST_CONFIG, json.dumps(cfg).encode())
    return s


def _drop(s, name, text, version="v1", day="2024-03-10"):
    key = L.FEED_INCOMING + name
    s.put_bytes(key, text if isinstance(text, bytes) else text.encode())
    return ingest_export(s, key, version_id=version, event_time=f"{day}T06:00:00Z")


def _total(s):
    return int(read_counts(s)["count"].sum()) if read_state(s) else 0


def test_config_validation_names_the_field():
    assert parse_config(CFG).id_col == "ID"
    for bad, word in [({**CFG, "date_column": "x"}, "date_column"), ({"district_col": "D", "category_col": "C"},
                      "date_col"), ({**CFG, "timezone": "Mars/Base"}, "timezone"),
                      ({**CFG, "reporting_lag_days": -1}, "reporting_lag_days"), ({**CFG, "lat_col": "Lat"}, "lat_col"),
                      ({**CFG, "category_map": {"THEFT": ""}}, "category_map"), ("{not json", "JSON")]:
        with pytest.raises(IngestConfigError, match=word):
            parse_config(bad)


def test_overlapping_exports_with_corrections_count_each_incident_once(tmp_path):
    # Given two daily exports that overlap by two days, the second correcting incident 2's district
    s = _store(tmp_path)
    d1 = HEADER + "1,2024-03-07 10:00,1,THEFT,a\n2,2024-03-08 11:00,1,THEFT,b\n3,2024-03-09 12:00,2,BATTERY,c\n"
    d2 = HEADER + "2,2024-03-08 11:00,3,THEFT,b\n3,2024-03-09 12:00,2,BATTERY,c\n4,2024-03-10 01:00,2,THEFT,d\n"
    r1 = _drop(s, "2024-03-10.csv", d1)
    r2 = _drop(s, "2024-03-11.csv", d2, day="2024-03-11")
    # Then the counts hold each of the 4 incidents once, incident 2 in its corrected district
    assert (r1["added"], r2["added"], r2["updated"], r2["unchanged"]) == (3, 1, 1, 1)
    state = read_state(s)
    assert state.last_complete_day == "2024-03-09" and state.history_start == "2024-03-07"
    c = read_counts(s, through="2024-03-10")
    assert int(c["count"].sum()) == 4
    got = c[c["count"] > 0].set_index(["date", "district", "category"])["count"].to_dict()
    assert got[(pd.Timestamp("2024-03-08"), "3", "THEFT")] == 1
    assert (pd.Timestamp("2024-03-08"), "1", "THEFT") not in got
    # And the counts are zero-filled over every series and day up to the last complete day
    assert len(read_counts(s)) == c[["district", "category"]].drop_duplicates().shape[0] * 3


def test_without_id_identical_rows_count_once(tmp_path):
    s = _store(tmp_path, {k: v for k, v in CFG.items() if k != "id_col"})
    d1 = HEADER + "1,2024-03-07,1,THEFT,a\n2,2024-03-08,1,THEFT,b\n2,2024-03-08,1,THEFT,b\n"
    d2 = HEADER + "2,2024-03-08,1,THEFT,b\n5,2024-03-09,1,THEFT,b\n"
    _drop(s, "a.csv", d1)
    _drop(s, "b.csv", d2)
    assert int(read_counts(s, through="2024-03-09")["count"].sum()) == 3


def test_redelivered_event_and_same_export_twice_change_nothing(tmp_path):
    s = _store(tmp_path)
    d1 = HEADER + "1,2024-03-07,1,THEFT,a\n2,2024-03-08,1,THEFT,b\n3,2024-03-09,1,THEFT,b\n"
    _drop(s, "x.csv", d1)
    before = {i.key: s.get_bytes(i.key) for i in s.list(L.COUNTS)}
    again = ingest_export(s, L.FEED_INCOMING + "x.csv", version_id="v1", event_time="2024-03-10T00:00:00Z")
    assert again["status"] == "duplicate"
    other = _drop(s, "x-copy.csv", d1, version="v9")  # the same rows under another name / version
    assert other["added"] == 0 and other["unchanged"] == 3
    assert {i.key: s.get_bytes(i.key) for i in s.list(L.COUNTS)}.keys() == before.keys()
    assert _total(s) == 2  # through the last complete day 2024-03-08


def test_rejected_rows_future_and_before_history(tmp_path):
    s = _store(tmp_path)
    _drop(s, "first.csv", HEADER + "1,2024-03-01,1,THEFT,a\n2,2024-03-05,1,THEFT,a\n")
    r = _drop(s, "second.csv", HEADER + "3,2024-03-06,1,THEFT,a\n4,2030-01-01,1,THEFT,a\n5,2023-12-31,1,THEFT,a\n"
                                        "6,not a date,1,THEFT,a\n7,2024-03-06,,THEFT,a\n,2024-03-06,1,THEFT,a\n")
    assert r["incidents"] == 1 and r["rejected"] == 5
    rej = pd.read_csv(s.uri(L.feed_rejected_key("second.csv")))
    assert list(rej["line"]) == [3, 4, 5, 6, 7]
    assert rej["reason"].str.contains("future date").iloc[0] and "before the history start" in rej["reason"].iloc[1]
    summary = json.loads(s.get_bytes(L.feed_rejected_key("second.csv", ".summary.json")))
    assert summary["rejected"] == 5 and sum(summary["rejected_reasons"].values()) == 5


@pytest.mark.parametrize("content,word", [
    (b"", "empty"),
    (b"ID,When,District,Primary Type\n1,2024-03-07,1,THEFT\n", "column layout changed"),
    (HEADER.encode() + b"1,2024-03-07,1,TH\xe9FT,a\n", "UTF-8"),
])
def test_unusable_export_gets_an_error_record_and_changes_nothing(tmp_path, content, word):
    s = _store(tmp_path)
    _drop(s, "good.csv", HEADER + "1,2024-03-07,1,THEFT,a\n2,2024-03-08,1,THEFT,a\n")
    before = (_total(s), read_state(s))
    with pytest.raises(FeedError, match=word):
        _drop(s, "bad.csv", content)
    rec = json.loads(s.get_bytes(L.feed_rejected_key("bad.csv", ".error.json")))
    assert rec["status"] == "error" and word.split()[0].lower() in rec["error"].lower()
    assert (_total(s), read_state(s)) == before
    assert not s.exists(L.feed_processed_key("bad.csv", "v1"))


def test_wrong_config_and_oversized_export_are_refused(tmp_path):
    s = _store(tmp_path, {**CFG, "date_col": ""})
    with pytest.raises(IngestConfigError, match="date_col"):
        _drop(s, "a.csv", HEADER + "1,2024-03-07,1,THEFT,a\n")
    s = _store(tmp_path / "b", {**CFG, "max_export_bytes": 10})
    with pytest.raises(FeedError, match="max_export_bytes"):
        _drop(s, "big.csv", HEADER + "1,2024-03-07,1,THEFT,a\n")


def test_gzip_export_and_window_replaces_deletes_absent_ids(tmp_path):
    s = _store(tmp_path, {**CFG, "window_replaces": True, "reporting_lag_days": 1})
    _drop(s, "a.csv.gz", gzip.compress((HEADER + "1,2024-03-07,1,THEFT,a\n2,2024-03-08,1,THEFT,a\n"
                                                 "3,2024-03-09,1,THEFT,a\n").encode()))
    r = _drop(s, "b.csv.gz", gzip.compress((HEADER + "1,2024-03-07,1,THEFT,a\n3,2024-03-09,1,THEFT,a\n"
                                                     "4,2024-03-10,1,THEFT,a\n").encode()))
    assert r["deleted"] == 1
    assert read_state(s).last_complete_day == "2024-03-08"  # newest day 03-10, less one, less lag 1
    assert int(read_counts(s, through="2024-03-10")["count"].sum()) == 3


def test_only_touched_months_are_rewritten(tmp_path):
    s = _store(tmp_path)
    _drop(s, "jan.csv", HEADER + "1,2024-01-05,1,THEFT,a\n2,2024-02-05,1,THEFT,a\n")
    r = _drop(s, "feb.csv", HEADER + "3,2024-02-06,1,THEFT,a\n")
    assert r["months_rewritten"] == ["2024-02"]
    assert sorted(i.key for i in s.list(L.INCIDENTS)) == [L.month_key(L.INCIDENTS, "2024-01"),
                                                          L.month_key(L.INCIDENTS, "2024-02")]


def test_ingest_save_config_and_id_col(tmp_path):
    from testlib import run_cli  # `crimecast ...` in a subprocess

    cfg = tmp_path / "ingest.json"
    p = run_cli("ingest", "--date-col", "Date", "--district-col", "District", "--category-col", "Primary Type",
                "--id-col", "ID", "--timezone", "America/Chicago", "--save-config", str(cfg))
    assert p.returncode == 0, p.stderr
    assert parse_config(cfg.read_text()).id_col == "ID"
    src = tmp_path / "x.csv"
    src.write_text(HEADER + "1,2024-03-07,1,THEFT,a\n1,2024-03-08,2,THEFT,a\n2,2024-03-08,2,THEFT,a\n")
    p = run_cli("ingest", str(src), "--out", str(tmp_path / "c.csv"), "--date-col", "Date", "--district-col",
                "District", "--category-col", "Primary Type", "--id-col", "ID")
    assert p.returncode == 0, p.stderr
    assert int(pd.read_csv(tmp_path / "c.csv")["count"].sum()) == 2
    p = run_cli("ingest", "--date-col", "Date", "--district-col", "District", "--category-col", "Primary Type",
                "--timezone", "Nowhere/City", "--save-config", str(tmp_path / "bad.json"))
    assert p.returncode == 2 and "timezone" in p.stderr and not (tmp_path / "bad.json").exists()
