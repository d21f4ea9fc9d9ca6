"""`crimecast replay` refuses bad input before it starts anything: exit 2 and a message naming what and where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crimecast.cli import main

GOOD_CONFIG = {"date_col": "Date", "district_col": "District", "category_col": "Type", "id_col": "ID"}


def _setup(tmp_path: Path, exports: dict[str, bytes], config: str) -> tuple[Path, Path, Path]:
    ex = tmp_path / "exports"
    ex.mkdir()
    for name, data in exports.items():
        (ex / name).write_bytes(data)
    cfg = tmp_path / "ingest.json"
    cfg.write_text(config, encoding="utf-8")
    model = tmp_path / "model"
    model.mkdir()
    (model / "metadata.json").write_text("{}")
    return ex, cfg, model


@pytest.mark.parametrize(("exports", "config", "words"), [
    ({}, json.dumps(GOOD_CONFIG), "no .csv / .csv.gz exports"),                       # empty folder
    ({"notes.txt": b"x"}, json.dumps(GOOD_CONFIG), "no .csv / .csv.gz exports"),      # nothing that is an export
    ({"d1.csv": b"Date\n"}, "{not json", "not valid JSON"),                            # malformed config
    ({"d1.csv": b"Date\n"}, json.dumps(["a"]), "expected a JSON object"),               # config of the wrong shape
    ({"d1.csv": b"Date\n"}, json.dumps({**GOOD_CONFIG, "colour": 1}), "colour"),       # unknown field named
])
def test_bad_exports_or_config_exit_2_naming_the_problem(tmp_path, capsys, exports, config, words):
    ex, cfg, model = _setup(tmp_path, exports, config)
    rc = main(["replay", "--exports", str(ex), "--config", str(cfg), "--out", str(tmp_path / "out"),
               "--forecaster", str(model)])
    assert rc == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing started, nothing written


def test_missing_folder_and_model_exit_2(tmp_path, capsys):
    ex, cfg, _ = _setup(tmp_path, {"d1.csv": b"Date\n"}, json.dumps(GOOD_CONFIG))
    assert main(["replay", "--exports", str(tmp_path / "nope"), "--config", str(cfg), "--out",
                 str(tmp_path / "out"), "--forecaster", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["replay", "--exports", str(ex), "--config", str(cfg), "--out", str(tmp_path / "out"),
                 "--forecaster", str(tmp_path / "no-model")]) == 2
    assert "not a forecaster model directory" in capsys.readouterr().err
