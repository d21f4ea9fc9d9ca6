"""What a served model was trained on, and the plain warning to show when that is not real data.

A model's metadata.json says `trained_on.kind`: "real" or "synthetic" (anything else, or nothing, is "unknown").
The API (every classification, `/v1/health`) shows the version and this warning; a synthetic-only or unstated
model is never served silently (issue 12, item 3). Standard library only.
"""

from __future__ import annotations

from typing import Any


def model_summary(meta: dict[str, Any] | None, *, name: str, version: str | None) -> dict[str, Any]:
    """{name, version, trained_on_kind, trained_on, validation, warning} for one model's metadata."""
    meta = meta if isinstance(meta, dict) else {}
    trained = meta.get("trained_on") if isinstance(meta.get("trained_on"), dict) else None
    kind = str((trained or {}).get("kind", "")).lower()
    kind = kind if kind in ("real", "synthetic") else "unknown"
    what = "images" if name == "classifier" else "data"
    if version is None:  # no model deployed: nothing is served, so nothing to warn about (health lists it)
        warning = None
    elif kind == "synthetic":
        warning = (f"The {name} model {version} was trained on synthetic {what} only: its answers on real "
                   f"{'camera footage' if name == 'classifier' else 'crime data'} are not reliable. "
                   "Do not act on them without a human check.")
    elif kind == "unknown":
        warning = (f"The {name} model {version} does not say what it was trained on (no trained_on.kind in its "
                   "metadata): treat its answers as untested.")
    else:
        warning = None
    validation = meta.get("validation") if isinstance(meta.get("validation"), dict) else None
    return {"name": name, "version": version, "trained_on_kind": kind,
            "trained_on": {k: v for k, v in (trained or {}).items() if k in ("kind", "sources", "n_items")} or None,
            "validation": validation, "warning": warning}
