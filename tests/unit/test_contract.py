"""Contract validation: every kind of bad input gets an error naming file, column and rows; exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from crimecast.cli import main
from crimecast.contract import ContractError, read_table, write_table

GOOD = "date,district,category,count\n2024-01-01,A,theft,3\n2024-01-02,A,theft,0\n2024-01-01,B,theft,1\n" \
       "2024-01-02,B,theft,2\n"


def write(tmp_path: Path, text: str | bytes, name: str = "counts.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_good_counts_read_typed(tmp_path: Path) -> None:
    df = read_table(write(tmp_path, GOOD), "counts")
    assert list(df.columns) == ["date", "district", "category", "count"]
    assert df["count"].dtype == "int64" and df["count"].sum() == 6
    assert pd.api.types.is_datetime64_any_dtype(df["date"])


def test_counts_round_trip_parquet(tmp_path: Path) -> None:
    df = read_table(write(tmp_path, GOOD), "counts")
    write_table(df, tmp_path / "c.parquet")
    back = read_table(tmp_path / "c.parquet", "counts")
    pd.testing.assert_frame_equal(df, back)


@pytest.mark.parametrize(
    ("text", "column", "fragment", "line"),
    [
        ("date,district,kategory,count\n2024-01-01,A,theft,3\n", "category", "missing required column", None),
        (GOOD.replace("2024-01-02,A", "2024-13-45,A"), "date", "unparseable date '2024-13-45'", 3),
        (GOOD.replace("theft,0", "theft,-1"), "count", "negative value", 3),
        (GOOD.replace("theft,0", "theft,1.5"), "count", "non-integer count", 3),
        (GOOD.replace("theft,0", "theft,abc"), "count", "not a number: 'abc'", 3),
        (GOOD + "2024-01-01,A,theft,9\n", "category", "duplicate", 6),
        (GOOD.replace("2024-01-02,B,theft,2\n", ""), "date", "gap in dates", None),
    ],
    ids=["renamed-column", "bad-date", "negative", "non-integer", "not-a-number", "duplicate", "gap"],
)
def test_counts_bad_input_names_file_column_rows(tmp_path: Path, text: str, column: str, fragment: str,
                                                 line: int | None) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ContractError) as err:
        read_table(p, "counts")
    msg = str(err.value)
    assert str(p) in msg and f"column '{column}'" in msg and fragment in msg
    if line is not None:
        assert err.value.rows[0] == line


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="empty"):
        read_table(write(tmp_path, ""), "counts")


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no rows"):
        read_table(write(tmp_path, "date,district,category,count\n"), "counts")


def test_wrong_delimiter_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="wrong delimiter"):
        read_table(write(tmp_path, GOOD.replace(",", ";")), "counts")


def test_non_utf8_bytes(tmp_path: Path) -> None:
    raw = GOOD.replace("theft", "th\xe9ft").encode("latin-1")
    with pytest.raises(ContractError, match="not UTF-8"):
        read_table(write(tmp_path, raw), "counts")


def test_event_with_unknown_district(tmp_path: Path) -> None:
    ev = write(tmp_path, "date,name,kind,district\n2024-01-01,Parade,festival,Z\n", "events.csv")
    with pytest.raises(ContractError, match="unknown district 'Z'") as err:
        read_table(ev, "events", known_districts={"A", "B"})
    assert err.value.column == "district" and err.value.rows == [2]


def test_event_kind_must_be_known(tmp_path: Path) -> None:
    ev = write(tmp_path, "date,name,kind\n2024-01-01,Parade,carnival\n", "events.csv")
    with pytest.raises(ContractError, match="unknown kind 'carnival'"):
        read_table(ev, "events")


def test_weather_nan_allowed_but_text_is_not(tmp_path: Path) -> None:
    ok = write(tmp_path, "date,tmax_c,tmin_c,precip_mm\n2024-01-01,,1,0\n2024-01-02,3,1,0\n", "w.csv")
    assert read_table(ok, "weather")["tmax_c"].isna().sum() == 1
    bad = write(tmp_path, "date,tmax_c,tmin_c,precip_mm\n2024-01-01,hot,1,0\n", "w2.csv")
    with pytest.raises(ContractError, match="not a number: 'hot'"):
        read_table(bad, "weather")


def test_labels_risk_case_insensitive(tmp_path: Path) -> None:
    p = write(tmp_path, "path,risk\na.jpg,HIGH\nb.jpg,Low\n", "labels.csv")
    assert list(read_table(p, "labels")["risk"]) == ["high", "low"]


def test_validate_cli_exit_code_2_and_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path, GOOD.replace("theft,0", "theft,-1"))
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert "negative value" in err and str(p) in err and "line(s) 3" in err


def test_validate_cli_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, GOOD))]) == 0
    assert '"series": 2' in capsys.readouterr().out


def test_write_table_leaves_nothing_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []
