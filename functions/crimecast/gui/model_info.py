"""Which classifier the client uses, and what the window says about it.

The default local model is looked up in this order (the first that applies wins):

1. `--model DIR` on the command line (or the folder typed into the window);
2. the environment variable `CRIMECAST_CLASSIFIER_DIR`;
3. `<repo>/models/classifier`, where `<repo>` is found from this package's own location
   (`functions/crimecast/gui/` → `../../../models/classifier`), so a source checkout or an editable
   install finds the shipped model whatever the current directory is;
4. `models/classifier` under the current directory.

1 and 2 are explicit: when they name a folder without a model the window says so instead of silently
using another model. The model's metadata.json says what it was trained on (`trained_on.kind`:
"real" or "synthetic", read by `crimecast.provenance` as the API and the report read it); the window
shows the version and warns plainly for a synthetic-only model or one whose training data is not stated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_MODEL_DIR = "CRIMECAST_CLASSIFIER_DIR"
PACKAGE_REPO_ROOT = Path(__file__).resolve().parents[3]
MODEL_SUBDIR = Path("models") / "classifier"


def candidate_model_dirs(flag: str | None = None, env: dict[str, str] | None = None,
                         cwd: Path | None = None) -> list[tuple[str, Path]]:
    """(where it came from, folder) in lookup order; an explicit flag or env var is the only candidate."""
    env = os.environ if env is None else env
    if flag and flag.strip():
        return [("--model", Path(flag.strip()).expanduser())]
    if env.get(ENV_MODEL_DIR, "").strip():
        return [(ENV_MODEL_DIR, Path(env[ENV_MODEL_DIR].strip()).expanduser())]
    found = [("the repository of this package", PACKAGE_REPO_ROOT / MODEL_SUBDIR),
             ("the current directory", (cwd or Path.cwd()) / MODEL_SUBDIR)]
    return [c for i, c in enumerate(found) if c[1].resolve() not in {p.resolve() for _, p in found[:i]}]


def default_model_dir(flag: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The first candidate with a metadata.json, else the first candidate (the load reports what is missing)."""
    cands = candidate_model_dirs(flag, env, cwd)
    for _, d in cands:
        if (d / "metadata.json").is_file():
            return d
    return cands[0][1]


def not_found_message(model_dir: Path, flag: str | None = None, env: dict[str, str] | None = None) -> str:
    """Why no model was found, naming every place that was looked at."""
    cands = candidate_model_dirs(flag, env)
    if any(d.resolve() == model_dir.resolve() for _, d in cands) and len(cands) > 1:
        looked = "; ".join(f"{d} ({why})" for why, d in cands)
        return (f"no classifier model found (looked in: {looked}); give a model folder with --model or "
                f"{ENV_MODEL_DIR}, or use the API back-end")
    return f"no classifier model in {model_dir} (metadata.json missing)"


@dataclass(frozen=True)
class ModelInfo:
    """One line for the model banner: the version, what it was trained on, and whether to warn."""

    version: str
    kind: str  # "real" | "synthetic" | "unknown"
    text: str
    warn: bool


def _first_number(d: Any, keys: tuple[str, ...]) -> tuple[str, float] | None:
    """The first numeric value under one of `keys` anywhere in a nested dict (validation summaries vary)."""
    if isinstance(d, dict):
        for k in keys:
            if isinstance(d.get(k), int | float) and not isinstance(d.get(k), bool):
                return k, float(d[k])
        for v in d.values():
            hit = _first_number(v, keys)
            if hit:
                return hit
    return None


def describe(meta: dict[str, Any] | None, source: str = "local model") -> ModelInfo:
    """What the window says about a model from its metadata (or the API's `model` object)."""
    from crimecast.provenance import model_summary

    meta = meta if isinstance(meta, dict) else {}
    version = str(meta.get("version") or meta.get("model_version") or "?")
    trained = meta.get("trained_on")
    kind = model_summary(meta, name="classifier", version=version)["trained_on_kind"]  # what the API and report say
    if kind == "real" and isinstance(trained, dict):
        n = trained.get("n_items")
        sources = trained.get("sources") or []
        names = ", ".join(str(s.get("name", s)) if isinstance(s, dict) else str(s) for s in sources[:3])
        names += f" + {len(sources) - 3} more" if len(sources) > 3 else ""  # never a silently cut list
        details = [f"{n} images"] if isinstance(n, int) and not isinstance(n, bool) else []
        details += [names] if names else []
        text = f"Model {version} ({source}): trained on real images" + (f" ({'; '.join(details)})" if details else "")
        score = _first_number(meta.get("validation"), ("macro_f1", "macro-F1", "f1_macro", "accuracy"))
        if score:
            name = {"macro_f1": "macro-F1", "f1_macro": "macro-F1"}.get(score[0], score[0])
            text += f"; validated {name} {score[1]:.2f}"
        return ModelInfo(version, "real", text, warn=False)
    if kind == "synthetic":
        return ModelInfo(version, "synthetic",
                         f"⚠ Model {version} ({source}) was trained on SYNTHETIC pictures only: not reliable on real "
                         "cameras; for trying the client, not for decisions.",
                         warn=True)
    return ModelInfo(version, "unknown",
                     f"⚠ Model {version} ({source}): unknown training data (its metadata does not say); treat its "
                     "answers as untested.", warn=True)


def read_metadata(model_dir: Path) -> dict[str, Any] | None:
    """metadata.json of a local model folder, or None when it is missing or unreadable."""
    try:
        meta = json.loads((Path(model_dir) / "metadata.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def from_api_result(result: dict[str, Any]) -> ModelInfo | None:
    """The model banner from an API answer: its `model` object when the API sends one, else the version alone."""
    model = result.get("model")
    if isinstance(model, dict):  # the API's ModelSummary: version, trained_on_kind, trained_on, validation, warning
        trained = model.get("trained_on") if isinstance(model.get("trained_on"), dict) else {}
        kind = model.get("trained_on_kind") or trained.get("kind")
        return describe({"version": model.get("version") or result.get("model_version"),
                         "trained_on": {**trained, "kind": kind} if kind else None,
                         "validation": model.get("validation")}, "API")
    if isinstance(result.get("trained_on"), dict):
        return describe({"version": result.get("model_version"), "trained_on": result["trained_on"]}, "API")
    if result.get("model_version") is not None:
        return describe({"version": result.get("model_version")}, "API")
    return None
