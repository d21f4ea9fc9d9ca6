"""Issue 13: one home for each piece of knowledge (the house rules the code base checks itself against).

- no storage prefix or key pattern spelt outside `crimecast.layout` (functions/, infra/, scripts/);
- no import of the training package under functions/ (the core; it plugs in through entry points);
- no module over 400 lines under functions/ and training/;
- the training commands are found when the training package is installed and explained when it is not.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crimecast import layout as L

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
# Files allowed over MAX_LINES, each with the reason it must stay (empty when the house is in order).
LONG_FILE_ALLOWED: dict[str, str] = {}
# Literals that look like storage keys but are not (path relative to ROOT → literals, with the reason).
NOT_STORAGE_KEYS: dict[str, set[str]] = {
    # The repo's shipped-model folders (models/<name>/, committed): local CLI defaults, not keys of the models store.
    "functions/crimecast/vision/cli.py": {"models/classifier"},
    "functions/crimecast/replay.py": {"models/forecaster"},
}


def _py_files(*roots: str) -> list[Path]:
    out = []
    for r in roots:
        for p in sorted((ROOT / r).rglob("*.py")):
            if not {"cdk.out", "__pycache__", "build", "node_modules", ".venv"} & set(p.relative_to(ROOT).parts):
                out.append(p)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docs = _docstrings(tree)
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def layout_hits(text: str) -> list[str]:
    """The layout prefixes / key fragments a literal spells. Literals with whitespace are prose (messages,
    help texts), not keys, and are not checked."""
    if not text or any(c.isspace() for c in text):
        return []
    return [p for p in L.STORAGE_PREFIXES if text.startswith(p)] + [f for f in L.KEY_FRAGMENTS if f in text]


def test_the_guard_sees_what_it_guards():
    # The check is only as good as its lists; make sure it would catch the spellings the layout replaced.
    assert layout_hits("runs/") == ["runs/"]
    assert "run_date=" in layout_hits("run_date=")
    assert "rows/" in layout_hits("rows/date=")
    assert layout_hits("no manifest.json yet") == []  # prose
    for prefix in (L.INCOMING, L.UPLOAD_RECORDS, L.DATA, L.MODELS, L.RESULTS, L.FORECASTS, L.RUNS, L.REPORTS):
        assert prefix in L.STORAGE_PREFIXES
    bad = ROOT / "tests" / "unit" / "_layout_probe.py"
    try:
        bad.write_text('KEY = f"{PREFIX}rows/date={DAY}/x.parquet"\nRUNS = "runs/"\n"""runs/ in a docstring"""\n')
        hits = [t for _, t in _string_literals(bad) if layout_hits(t)]
    finally:
        bad.unlink()
    assert sorted(hits) == ["rows/date=", "runs/"]


def test_no_storage_key_is_spelt_outside_the_layout_module():
    found = []
    for path in _py_files("functions", "infra", "scripts"):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "functions/crimecast/layout.py":
            continue
        allowed = NOT_STORAGE_KEYS.get(rel, set())
        for line, text in _string_literals(path):
            hits = layout_hits(text)
            if hits and text not in allowed:
                found.append(f"{rel}:{line}: {text!r} spells {hits}")
    assert not found, "use crimecast.layout (constants / key builders) instead of:\n" + "\n".join(found)


def test_the_core_never_imports_the_training_package():
    found = []
    for path in _py_files("functions"):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                bad = [a.name for a in n.names if a.name.split(".")[0] == "crimecast_training"]
            elif isinstance(n, ast.ImportFrom):
                bad = [n.module] if (n.module or "").split(".")[0] == "crimecast_training" else []
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
                bad = [n.value] if "crimecast_training" in n.value else []  # importlib.import_module by name
            else:
                bad = []
            found += [f"{rel}:{n.lineno}: {x}" for x in bad]
    assert not found, "the core must not name crimecast_training (register through crimecast.plugins):\n" + \
        "\n".join(found)


def test_training_uses_only_public_names_of_the_core():
    found = [f"{p.relative_to(ROOT)}:{i}" for p in _py_files("training")
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "_interpreter_class" in line]
    assert not found, "use crimecast.litert.interpreter_class / load_interpreter:\n" + "\n".join(found)


def test_no_module_is_over_400_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in _py_files("functions", "training")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    unexplained = {f: n for f, n in long.items() if f not in LONG_FILE_ALLOWED}
    assert not unexplained, f"split these along their seams (or justify them in LONG_FILE_ALLOWED): {unexplained}"
    stale = sorted(set(LONG_FILE_ALLOWED) - set(long))
    assert not stale, f"no longer over {MAX_LINES} lines; drop from LONG_FILE_ALLOWED: {stale}"


def _cli(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRIMECAST_")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT)


_WITHOUT_TRAINING = "import sys; sys.modules['crimecast_training'] = None; from crimecast.cli import main; "


def test_training_commands_come_from_the_training_package_entry_point():
    from importlib.metadata import entry_points

    from crimecast import plugins
    from crimecast.cli import build_parser

    eps = {ep.name: ep.value for ep in entry_points(group=plugins.COMMANDS_GROUP)}
    if not eps:
        pytest.fail("no crimecast.commands entry point: reinstall the project (pip install -e '.[training]')")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in plugins.TRAINING_COMMANDS:
        assert sub.choices[name].get_default("func").__module__ == "crimecast_training.cli", name
    fc = {ep.name: ep.value for ep in entry_points(group=plugins.FORECASTERS_GROUP)}
    assert fc.get("lstm", "").startswith("crimecast_training.")


@pytest.mark.parametrize("argv", [["train-forecaster", "--counts", "c.csv", "--out", "m"],
                                  ["train-classifier", "--images", "x", "--out", "m"],
                                  ["train-clip-classifier", "--clips", "c.csv", "--out", "m"]])
def test_without_the_training_package_the_cli_says_how_to_install_it(argv):
    r = _cli(_WITHOUT_TRAINING + f"sys.exit(main({argv!r}))")
    assert r.returncode == 2, r.stderr
    assert "pip install -e '.[training]'" in r.stderr and argv[0] in r.stderr
    assert "Traceback" not in r.stderr


def test_without_the_training_package_the_lstm_backtest_says_how_to_install_it(tmp_path):
    counts = tmp_path / "counts.csv"
    counts.write_text("date,district,category,count\n" + "".join(
        f"2026-01-{d:02d},D1,theft,{d % 4}\n" for d in range(1, 29)))
    r = _cli(_WITHOUT_TRAINING + f"sys.exit(main(['backtest', '--counts', {str(counts)!r}, '--model', 'lstm', "
                                 f"'--out', {str(tmp_path / 'bt')!r}, '--origins', '1', '--quiet']))")
    assert r.returncode == 2, r.stderr
    assert "pip install -e '.[training]'" in r.stderr and "Traceback" not in r.stderr


# What infra/ may import from the core: names it must agree on with the functions, in modules that import nothing
# but the standard library (env var names, storage layout, table columns, CloudWatch metric names).
PURE = ("crimecast.env_names", "crimecast.layout", "crimecast.tables", "crimecast.monitoring.metrics")


def test_infra_imports_only_the_pure_core_modules():
    found = []
    for path in _py_files("infra"):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [f"{n.module}.{a.name}" if n.module == "crimecast" else n.module for a in n.names] \
                if isinstance(n, ast.ImportFrom) and n.module else []
            found += [f"{path.relative_to(ROOT)}:{n.lineno}: {m}" for m in mods
                      if m.split(".")[0] == "crimecast" and m not in PURE]
    assert not found, f"infra/ may import only {PURE} from the core:\n" + "\n".join(found)


def test_the_pure_modules_need_nothing_but_the_standard_library():
    r = _cli("import sys; import " + ", ".join(PURE) + "; print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'numpy', 'pandas', 'pyarrow', 'pydantic', 'botocore', 'pydantic_settings'}))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
