"""`crimecast-gui` command line: parse the options, open the window."""

from __future__ import annotations

import argparse
import re
import sys

from crimecast.gui.common import DEFAULT_SAMPLE_S
from crimecast.gui.layout import DEFAULT_GEOMETRY, MIN_SIZE
from crimecast.gui.model_info import ENV_MODEL_DIR


def _geometry(text: str) -> str:
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels (e.g. {DEFAULT_GEOMETRY}), got {text!r}")
    w, h = int(m[1]), int(m[2])
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise argparse.ArgumentTypeError(f"the window needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}, got {text}")
    return f"{w}x{h}"


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crimecast-gui",
        description="A desktop client for surveillance risk triage: classify an image, a video or a camera "
                    "with the local model or the HTTPS API.")
    p.add_argument("--source", help="image/video file, camera index or stream URL")
    p.add_argument("--model", help="local classifier model folder (model.tflite + metadata.json); default: "
                                   f"${ENV_MODEL_DIR}, else models/classifier of this checkout, else of the "
                                   "current directory")
    p.add_argument("--api", help="API base URL (classify remotely instead of locally)")
    p.add_argument("--token", help="API token (sent as 'Authorization: Bearer …'); or CRIMECAST_API_TOKEN")
    p.add_argument("--sample-every", type=float, default=DEFAULT_SAMPLE_S, help="seconds between classified frames")
    p.add_argument("--geometry", type=_geometry, default=DEFAULT_GEOMETRY,
                   help=f"window size WIDTHxHEIGHT (default {DEFAULT_GEOMETRY}, at least {MIN_SIZE[0]}x{MIN_SIZE[1]})")
    p.add_argument("--start", action="store_true", help="start classifying at once")
    p.add_argument("--exit-after", type=float, default=None, help="close after this many seconds (automation)")
    p.add_argument("--exit-after-results", type=int, default=None,
                   help="close after this many results, an error, or the end of the source (automation)")
    p.add_argument("--screenshot", help="save a PNG of the window when closing (automation)")
    p.add_argument("--state-json", help="keep what the window shows in this JSON file (automation)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    try:
        import tkinter as tk
    except ImportError as exc:
        print(f"crimecast-gui: error: Tkinter is not available in this Python ({exc})", file=sys.stderr)
        return 2
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        print(f"crimecast-gui: error: cannot open a window ({exc}); is DISPLAY set?", file=sys.stderr)
        return 2
    from crimecast.gui.app import App

    App(root, args)
    root.mainloop()
    return 0
