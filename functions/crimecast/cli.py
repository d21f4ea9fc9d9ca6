"""The `crimecast` command line. Each feature module registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys

from crimecast import __version__, plugins
from crimecast.contract import ContractError

# Each module exposes `register(subparsers)`; its commands import heavy modules lazily.
COMMAND_MODULES = [
    "crimecast.cli_data",
    "crimecast.forecast.cli",
    "crimecast.allocation_cli",
    "crimecast.report.cli",
    "crimecast.vision.cli",
    "crimecast.demo",
    "crimecast.replay",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crimecast", description=__doc__)
    parser.add_argument("--version", action="version", version=f"crimecast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    # The training commands come from the training package's entry points (never imported by name here).
    plugins.register_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except ContractError as exc:
        print(f"crimecast {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"crimecast {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # Core functions raise ValueError subclasses for bad input; show them plainly, exit 2.
        print(f"crimecast {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        if not plugins.is_training_missing(exc):
            raise
        print(f"crimecast {args.command}: error: needs the training extra ({exc}): {plugins.INSTALL_HINT}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
