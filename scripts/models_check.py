"""Build, document and check the shipped models (models/forecaster, models/classifier, models/clip).

    python scripts/models_check.py build [NAME ...]   # `make models`: the default commands → models/<name>
    python scripts/models_check.py cards               # MODEL_CARD.md from metadata.json where a trainer wrote none
    python scripts/models_check.py check [NAME ...]   # `make models-check`: rebuild into a temp dir and compare

`check` re-runs the command each committed model records in its metadata.json (`command`, else the default
below) with `--out` pointed at a temporary folder, then compares with the committed metadata.json:
- `trained_on.data_sha256` must be identical (the same data went in);
- every number in `validation` (top level and one level down; lists such as per-series tables are skipped)
  must agree within the tolerance: |Δ| ≤ ABS_TOL for scores in [0, 1] (F1, recall, coverage, accuracy),
  |Δ| ≤ REL_TOL × |committed| for everything else (MAE and other errors). Training on CPU is seeded, but
  TensorFlow does not promise bit-identical results across thread counts, so equality would be too strict.
Exit 0 when every model matches, 1 when one differs (the table says which field), 2 when one cannot be rebuilt.
Not part of `make test`: a full rebuild takes as long as training (minutes for the forecaster, longer for the
classifier) and the classifier needs ../shared/data/real-images.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SHARED = ROOT.parent / "shared" / "data"
ABS_TOL = 0.03
REL_TOL = 0.05
# The default commands (run from the repository root). The forecaster is trained on the embedded real data,
# the classifier on the shared real images, the clip model on the shared real clips.
DEFAULT_COMMANDS = {
    "forecaster": "crimecast train-forecaster --counts data/chicago/counts_by_district.csv.gz "
                  "--events data/chicago/events.csv.gz --weather data/chicago/weather.csv.gz --out models/forecaster",
    "classifier": "crimecast train-classifier --labels ../shared/data/real-images/labels.csv --out models/classifier",
    "clip": "crimecast train-clip-classifier --clips ../shared/data/real-clips/clips.csv --out models/clip",
}
NEEDS = {"classifier": SHARED / "real-images" / "labels.csv", "clip": SHARED / "real-clips" / "clips.csv"}


def _argv(command: str, out: Path) -> list[str]:
    """The recorded command as argv for this interpreter, with --out replaced."""
    args = shlex.split(command)
    if not args or Path(args[0]).name != "crimecast":
        raise ValueError(f"not a crimecast command: {command!r}")
    args = args[1:]
    out = Path(out)
    if out.is_absolute() and out.resolve().is_relative_to(ROOT):  # the shipped folder: record it as the repo path
        out = out.resolve().relative_to(ROOT)
    if "--out" in args:
        args[args.index("--out") + 1] = str(out)
    else:
        args += ["--out", str(out)]
    return [sys.executable, "-m", "crimecast.cli", *args]


def _run(command: str, out: Path) -> None:
    argv = _argv(command, out)
    print("$", " ".join(shlex.quote(a) for a in argv[2:]), flush=True)
    proc = subprocess.run(argv, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if proc.returncode != 0:
        raise RuntimeError(f"exit code {proc.returncode}: {command}")


def _meta(d: Path) -> dict[str, Any] | None:
    try:
        return json.loads((d / "metadata.json").read_text())
    except (OSError, ValueError):
        return None


def numbers(d: object, prefix: str = "", depth: int = 0) -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(d, dict) and depth < 2:
        for k, v in d.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, int | float):
                out[prefix + str(k)] = float(v)
            elif isinstance(v, dict):
                out.update(numbers(v, f"{prefix}{k}.", depth + 1))
    return out


def compare(committed: dict[str, Any], rebuilt: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(field, committed, rebuilt, ok) rows."""
    rows = []
    a = (committed.get("trained_on") or {}).get("data_sha256")
    b = (rebuilt.get("trained_on") or {}).get("data_sha256")
    rows.append(("trained_on.data_sha256", str(a)[:16], str(b)[:16], a is not None and a == b))
    va, vb = numbers(committed.get("validation")), numbers(rebuilt.get("validation"))
    if not va:
        rows.append(("validation", "no numbers recorded", f"{len(vb)} numbers", False))
    for k, x in sorted(va.items()):
        y = vb.get(k)
        if y is None:
            rows.append((f"validation.{k}", f"{x:.4g}", "missing", False))
            continue
        tol = ABS_TOL if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 else REL_TOL * abs(x)
        rows.append((f"validation.{k}", f"{x:.4g}", f"{y:.4g}", abs(x - y) <= tol + 1e-12))
    return rows


def model_card_md(name: str, meta: dict[str, Any]) -> str:
    """A plain MODEL_CARD.md from metadata.json (for models whose trainer writes none)."""
    t = meta.get("trained_on") if isinstance(meta.get("trained_on"), dict) else {}
    kind = str(t.get("kind") or "not recorded")
    lines = [f"# Model card: {name} {meta.get('version', '?')}", "",
             "Generated from metadata.json by scripts/models_check.py (`make models` / `python scripts/models_check.py "
             "cards`).", ""]
    if kind == "synthetic":
        lines += ["> **Warning: trained on SYNTHETIC data only.** Its output says nothing reliable about real "
                  "cameras or real crime.", ""]
    elif kind != "real":
        lines += ["> **Warning: the metadata does not say what this model was trained on.** Treat it as "
                  "unvalidated.", ""]
    lines += ["| field | value |", "|---|---|",
              f"| version | `{meta.get('version', '?')}` |",
              f"| trained on | {kind}; sources: {', '.join(map(str, t.get('sources') or [])) or 'not recorded'}; "
              f"items: {t.get('n_items', 'not recorded')} |",
              f"| data sha256 | `{t.get('data_sha256', 'not recorded')}` |",
              f"| command | `{meta.get('command', 'not recorded')}` |",
              f"| code version | `{meta.get('code_version', 'not recorded')}` |"]
    v = meta.get("validation") if isinstance(meta.get("validation"), dict) else {}
    lines += ["", "## Validation", "", str(v.get("what", "")) if v else "Not recorded: accuracy unknown.", ""]
    for k, x in numbers(v).items():
        lines.append(f"- {k}: {x:.4g}")
    return "\n".join(lines) + "\n"


def cmd_build(names: list[str]) -> int:
    for n in names:
        if n in NEEDS and not NEEDS[n].exists():
            print(f"{n}: skipped, {NEEDS[n]} not found (the shared real data lives beside the checkout)")
            continue
        _run(DEFAULT_COMMANDS[n], MODELS / n)
    return cmd_cards()


def cmd_cards() -> int:
    for d in sorted(p for p in MODELS.iterdir() if p.is_dir()) if MODELS.is_dir() else []:
        meta = _meta(d)
        if meta and not (d / "MODEL_CARD.md").exists():
            (d / "MODEL_CARD.md").write_text(model_card_md(d.name, meta))
            print(f"wrote {d / 'MODEL_CARD.md'}")
    return 0


def cmd_check(names: list[str]) -> int:
    status = 0
    for n in names:
        committed = _meta(MODELS / n)
        if committed is None:
            print(f"{n}: no committed model (models/{n}/metadata.json); nothing to check")
            continue
        command = str(committed.get("command") or DEFAULT_COMMANDS[n])
        with tempfile.TemporaryDirectory(prefix=f"models-check-{n}-") as td:
            try:
                _run(command, Path(td) / n)
            except (RuntimeError, ValueError) as exc:
                print(f"{n}: cannot rebuild: {exc}")
                status = max(status, 2)
                continue
            rebuilt = _meta(Path(td) / n) or {}
        rows = compare(committed, rebuilt)
        print(f"\n{n}: committed {committed.get('version')} vs rebuilt {rebuilt.get('version')}")
        print(f"  {'field':48} {'committed':>18} {'rebuilt':>18}  ok")
        for f, a, b, ok in rows:
            print(f"  {f:48} {a:>18} {b:>18}  {'yes' if ok else 'NO'}")
        if not all(r[3] for r in rows):
            status = max(status, 1)
    print(f"\ntolerance: |Δ| ≤ {ABS_TOL} for scores in [0, 1], ≤ {REL_TOL:.0%} relative otherwise; data hash exact")
    return status


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for c in ("build", "check"):
        s = sub.add_parser(c)
        s.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(DEFAULT_COMMANDS)} (default: all)")
    sub.add_parser("cards")
    a = p.parse_args()
    if a.cmd == "cards":
        return cmd_cards()
    names = a.names or list(DEFAULT_COMMANDS)
    unknown = [n for n in names if n not in DEFAULT_COMMANDS]
    if unknown:
        p.error(f"unknown model(s) {unknown}; expected {list(DEFAULT_COMMANDS)}")
    return cmd_build(names) if a.cmd == "build" else cmd_check(names)


if __name__ == "__main__":
    raise SystemExit(main())
