"""Window sizes, and a check that nothing in the window is cut off (read back by the GUI tests).

`report(root)` walks every widget and lists those that did not get the size they asked for (text
clipped) or that reach past the window's edge, and the wrap width of every wrapping label.
"""

from __future__ import annotations

from typing import Any

DEFAULT_GEOMETRY = "1000x760"
MIN_SIZE = (720, 600)  # the smallest window the layout is checked at
PANEL_MIN_W = 270
WIDE_BODY_W = 880  # below this body width the frame and the result panel share it equally
_SHRINKABLE = {"TEntry", "Entry", "Canvas", "Frame", "TFrame", "Labelframe", "TLabelframe"}


def _name(w: Any) -> str:
    text = ""
    try:
        text = str(w.cget("text"))[:40]
    except Exception:  # noqa: BLE001 - widgets without a text option
        pass
    return f"{w.winfo_class()} {str(w)}" + (f" {text!r}" if text else "")


def report(root: Any, named: dict[str, Any] | None = None) -> dict:
    """{"window": [w, h], "clipped": [what is cut off and how], "labels": {name: wraplength, width, reqwidth}}
    for every shown label with text (`named` gives some of them readable names)."""
    names = {str(w): n for n, w in (named or {}).items()}
    root.update_idletasks()
    rx, ry, rw, rh = root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(), root.winfo_height()
    clipped: list[str] = []
    wrapping: dict[str, dict[str, int]] = {}
    stack = list(root.winfo_children())
    while stack:
        w = stack.pop()
        stack.extend(w.winfo_children())
        if not w.winfo_ismapped():
            parent = w.nametowidget(w.winfo_parent())
            if w.winfo_manager() and parent.winfo_ismapped():  # laid out, but the geometry manager had no room
                clipped.append(f"{_name(w)}: not shown, no room left in {parent.winfo_width()}x"
                               f"{parent.winfo_height()}")
            continue
        x, y, ww, hh = w.winfo_rootx() - rx, w.winfo_rooty() - ry, w.winfo_width(), w.winfo_height()
        if x < 0 or y < 0 or x + ww > rw + 1 or y + hh > rh + 1:
            clipped.append(f"{_name(w)}: {ww}x{hh}+{x}+{y} reaches past the {rw}x{rh} window")
            continue
        if w.winfo_class() not in _SHRINKABLE and (ww + 1 < w.winfo_reqwidth() or hh + 1 < w.winfo_reqheight()):
            clipped.append(f"{_name(w)}: got {ww}x{hh}, needs {w.winfo_reqwidth()}x{w.winfo_reqheight()}")
        if w.winfo_class() == "Label" and str(w.cget("text")):
            wrapping[names.get(str(w), str(w))] = {"wraplength": int(float(str(w.cget("wraplength")))), "width": ww,
                                "reqwidth": w.winfo_reqwidth()}
    return {"window": [rw, rh], "clipped": sorted(clipped), "labels": wrapping}
