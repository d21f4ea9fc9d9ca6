"""The function code in the Lambda bundles: the `crimecast` package without the desktop client.

`crimecast.gui` (Tkinter) runs on a desktop only; layers/build.py leaves it out of the code it stages for
the API zip and the worker image (CODE_EXCLUDE), so no Lambda function carries it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdk_helpers import ROOT


def _py_files(tree: Path) -> set[str]:
    return {p.relative_to(tree).as_posix() for p in tree.rglob("*.py")}


def _assert_no_gui(code: Path) -> None:
    pkg = code / "crimecast"
    assert (pkg / "handlers").is_dir(), f"{pkg} is not the staged function code"
    assert not (pkg / "gui").exists() and not (pkg / "gui.py").exists(), f"the desktop client is in {pkg}"
    assert not any("tkinter" in p.read_text(errors="replace") for p in pkg.rglob("*.py")), \
        "a bundled module mentions tkinter"


def test_staged_code_is_the_package_without_the_desktop_client(layers_build: Any, tmp_path: Path) -> None:
    layers_build.copy_code(tmp_path / "code")
    _assert_no_gui(tmp_path / "code")
    source = _py_files(ROOT / "functions")
    expected = {p for p in source if not p.startswith("crimecast/gui/") and p != "crimecast/gui.py"}
    assert any(p.startswith("crimecast/gui/") for p in source), "the desktop client moved: update CODE_EXCLUDE"
    assert _py_files(tmp_path / "code") == expected
    assert not list((tmp_path / "code").rglob("__pycache__"))


def test_built_bundles_have_no_gui_module(built_bundles: Any) -> None:
    """What `make layers` leaves for the stack: the API zip's code and the worker image's app/."""
    staged = [built_bundles.image_dir("worker") / "app"]
    if hasattr(built_bundles, "api_code_dir"):
        staged.append(built_bundles.api_code_dir())
    for code in staged:
        _assert_no_gui(code)
