"""House metrics of a source tree (issue 13), with the rules of tests/unit/test_house.py.

Counts storage-key literals outside crimecast.layout, crimecast_training imports under functions/, files over
400 lines under functions/ and training/, and training/ files using the private `_interpreter_class`.

Usage: python scripts/house_metrics.py [TREE]   (TREE: a checkout, e.g. `git archive <sha> | tar -x -C /tmp/t`;
default: this repo). The prefix / fragment lists always come from this repo's crimecast.layout.
"""

from __future__ import annotations

import ast
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "functions"))
from crimecast import layout as L  # noqa: E402

SKIP = {"cdk.out", "__pycache__", "build", "node_modules", ".venv"}


def files(root: pathlib.Path, *dirs: str) -> list[pathlib.Path]:
    return [p for d in dirs for p in sorted((root / d).rglob("*.py")) if not SKIP & set(p.relative_to(root).parts)]


def docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def spells_layout(text: str) -> bool:
    if not text or any(c.isspace() for c in text):
        return False
    return any(text.startswith(p) for p in L.STORAGE_PREFIXES) or any(f in text for f in L.KEY_FRAGMENTS)


def main() -> int:
    root = pathlib.Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO
    literals, training = [], []
    for p in files(root, "functions", "infra", "scripts"):
        rel = p.relative_to(root).as_posix()
        if rel.endswith("crimecast/layout.py"):
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        docs = docstrings(tree)
        for n in ast.walk(tree):
            text = n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs else ""
            if spells_layout(text):
                literals.append(f"{rel}:{n.lineno}: {text}")
            if not rel.startswith("functions/"):
                continue
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module or ""] if isinstance(n, ast.ImportFrom) else []
            training += [f"{rel}:{n.lineno}" for m in names if m.split(".")[0] == "crimecast_training"]
    sizes = {p.relative_to(root).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in files(root, "functions", "training")}
    private = [p.relative_to(root).as_posix() for p in files(root, "training")
               if "_interpreter_class" in p.read_text(encoding="utf-8")]
    print(f"storage-key literals outside crimecast.layout: {len(literals)}")
    for x in literals:
        print("   ", x)
    print(f"crimecast_training imports under functions/: {len(training)} {training}")
    print(f"files over 400 lines: {({k: v for k, v in sizes.items() if v > 400})}")
    print(f"training/ files using _interpreter_class: {private}")
    print(f"largest 5: {sorted(sizes.items(), key=lambda kv: -kv[1])[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
