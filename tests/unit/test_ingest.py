"""Ingest: incident exports → counts contract, totals preserved exactly, rejects reported, nothing partial."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from crimecast.cli import main
from crimecast.contract import ContractError, read_table
from crimecast.ingest import ingest
from crimecast.synth_incidents import write_incident_export


def test_chicago_style_export_preserves_total(tmp_path: Path) -> None:
    src = tmp_path / "crimes.csv"
    stats = write_incident_export(src, 20_000, seed=1, days=60, districts=5)
    rep = ingest(src, tmp_path / "counts.csv", date_col="Date", district_col="District", category_col="Primary Type",
                 lat_col="Latitude", lon_col="Longitude", date_format="%m/%d/%Y %I:%M:%S %p",
                 incidents_out=tmp_path / "inc.parquet", progress=False)
    counts = read_table(tmp_path / "counts.csv", "counts")
    assert counts["count"].sum() == stats["expected"] == rep.rows_used
    assert rep.rejected["unparseable date"] == stats["bad_date"]
    assert rep.rejected["missing district"] == stats["no_district"]
    assert set(counts["district"]) == {str(i) for i in range(1, 6)}  # "7.0" style floats folded into "7"
    inc = pd.read_parquet(tmp_path / "inc.parquet")
    assert len(inc) == stats["expected"] and inc["lat"].between(41, 43).all()


def test_utc_offsets_are_converted_to_local_days(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("id,when,what,where\n1,2024-03-01T03:30:00+00:00,theft,A\n2,2024-03-01T07:00:00+00:00,theft,A\n"
                   "3,2024-03-02 12:00,theft,A\n")
    ingest(src, tmp_path / "c.csv", date_col="when", district_col="where", category_col="what",
           timezone="America/Chicago", progress=False)
    c = read_table(tmp_path / "c.csv", "counts").set_index("date")["count"]
    # 03:30 UTC on Mar 1 is the evening of Feb 29 in Chicago; 07:00 UTC is Mar 1 01:00 local.
    assert c[pd.Timestamp("2024-02-29")] == 1 and c[pd.Timestamp("2024-03-01")] == 1
    assert c[pd.Timestamp("2024-03-02")] == 1


def test_category_map_and_unmapped_rows_reported(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("d,dist,type\n2024-01-01,1,Theft\n2024-01-01,1,THEFT\n2024-01-02,2,arson\n2024-01-02,2,Battery\n")
    cmap = tmp_path / "map.csv"
    cmap.write_text("raw,category\ntheft,property\nbattery,violent\n")
    rep = ingest(src, tmp_path / "c.csv", date_col="d", district_col="dist", category_col="type", category_map=cmap,
                 progress=False)
    c = read_table(tmp_path / "c.csv", "counts")
    assert c["count"].sum() == 3 and set(c["category"]) == {"property", "violent"}
    assert rep.rejected["category not in --category-map"] == 1
    assert "arson" in rep.examples["category not in --category-map"][0]


def test_missing_column_names_the_flag(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("d,dist,type\n2024-01-01,1,Theft\n")
    with pytest.raises(ContractError, match=r"missing column\(s\) \['Date \(for date\)'\]"):
        ingest(src, tmp_path / "c.csv", date_col="Date", district_col="dist", category_col="type", progress=False)
    assert not (tmp_path / "c.csv").exists()


def test_all_rows_bad_exit_2_and_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.csv"
    src.write_text("d,dist,type,lat,lon\nyesterday,1,Theft,41,-87\nsoon,1,Theft,41,-87\n")
    rc = main(["ingest", str(src), "--out", str(tmp_path / "c.csv"), "--date-col", "d", "--district-col", "dist",
               "--category-col", "type", "--lat-col", "lat", "--lon-col", "lon", "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no usable incident rows" in err and "'yesterday'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]  # no counts, no side file, no temp files


@pytest.mark.parametrize("content", [b"", "d,dist,type\n2024-01-01,1,Th\xe9ft\n".encode("latin-1")],
                         ids=["empty", "latin-1"])
def test_unreadable_exports(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "x.csv"
    src.write_bytes(content)
    with pytest.raises(ContractError):
        ingest(src, tmp_path / "c.csv", date_col="d", district_col="dist", category_col="type", progress=False)
    assert not (tmp_path / "c.csv").exists()


def test_cli_ingest_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.csv"
    stats = write_incident_export(src, 3000, seed=2, style="utc", days=20, districts=3)
    rc = main(["ingest", str(src), "--out", str(tmp_path / "c.parquet"), "--date-col", "occurred_at",
               "--district-col", "division", "--category-col", "offence", "--timezone", "UTC", "--quiet"])
    assert rc == 0
    assert read_table(tmp_path / "c.parquet", "counts")["count"].sum() == stats["expected"]
