"""The window: source and back-end controls, the frame, the result panel, the timeline, the status bar.

The UI thread only draws what the worker sends (through a queue polled every 40 ms); messages from a
run that was stopped or replaced are dropped, so a late answer for an old source never paints over the
current one.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import time
from pathlib import Path
from typing import Any

from crimecast.gui import layout
from crimecast.gui import model_info as mi
from crimecast.gui.backends import LocalBackend, RemoteBackend
from crimecast.gui.common import MAX_TIMELINE, RISK_COLOURS, ClientError
from crimecast.gui.panel import ModelBanner, ResultPanel
from crimecast.gui.worker import Worker

SOURCE_TITLE = "Source: image or video file, camera number (0, 1, …) or stream URL (rtsp://…)"


class App:
    def __init__(self, root: Any, args: argparse.Namespace) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.tk, self.root, self.args = tk, root, args
        self.queue: queue.Queue = queue.Queue()
        self.worker: Worker | None = None
        self._stopped: set[Worker] = set()  # stopped workers that may still be finishing a frame
        self._api_models: dict[str, mi.ModelInfo] = {}  # API base URL → its model, as its last answer said
        self.run_id = 0
        self.results: list[tuple[float, dict]] = []
        self._last_poll: float | None = None
        self.max_ui_gap_ms = 0.0  # longest pause of the UI loop while a worker ran (responsiveness check)
        self.errors: list[str] = []
        self._photo = None
        self._rgb = None
        self._exit_scheduled = False
        root.title("crimecast — surveillance risk triage")
        root.geometry(args.geometry)
        root.minsize(*layout.MIN_SIZE)
        root.columnconfigure(0, weight=1)

        src = ttk.LabelFrame(root, text=SOURCE_TITLE)
        src.grid(row=0, column=0, sticky="ew", padx=8, pady=(6, 2))
        src.columnconfigure(0, weight=1)
        self.source_var = tk.StringVar(value=args.source or "")
        self.source_entry = ttk.Entry(src, textvariable=self.source_var, width=30)
        self.source_entry.grid(row=0, column=0, sticky="ew", padx=4, pady=4)
        self.source_entry.bind("<Return>", lambda _e: self.start())
        ttk.Button(src, text="File…", command=self.pick_file).grid(row=0, column=1, padx=(4, 12))
        ttk.Button(src, text="Start", command=self.start).grid(row=0, column=2, padx=4)
        ttk.Button(src, text="Stop", command=self.stop).grid(row=0, column=3, padx=(0, 4))

        mode = ttk.LabelFrame(root, text="Classify with")
        mode.grid(row=1, column=0, sticky="ew", padx=8, pady=2)
        mode.columnconfigure(1, weight=1)
        self.mode_var = tk.StringVar(value="api" if args.api else "local")
        ttk.Radiobutton(mode, text="Local model folder", variable=self.mode_var, value="local").grid(
            row=0, column=0, sticky="w", padx=4)
        self.model_var = tk.StringVar(value=str(mi.default_model_dir(args.model)))
        ttk.Entry(mode, textvariable=self.model_var, width=20).grid(row=0, column=1, sticky="ew", padx=4, pady=2)
        ttk.Button(mode, text="Folder…", command=self.pick_model).grid(row=0, column=2, padx=4)
        ttk.Radiobutton(mode, text="HTTPS API base URL", variable=self.mode_var, value="api").grid(
            row=1, column=0, sticky="w", padx=4)
        self.api_var = tk.StringVar(value=args.api or "")
        ttk.Entry(mode, textvariable=self.api_var, width=20).grid(row=1, column=1, sticky="ew", padx=4, pady=2)
        token = ttk.Frame(mode)
        token.grid(row=1, column=2, sticky="e", padx=4)
        ttk.Label(token, text="Token").pack(side="left")
        self.token_var = tk.StringVar(value=args.token or os.environ.get("CRIMECAST_API_TOKEN", ""))
        ttk.Entry(token, textvariable=self.token_var, width=10, show="•").pack(side="left", padx=(4, 0))

        self.banner = ModelBanner(root)
        self.banner.label.grid(row=2, column=0, sticky="ew", padx=8, pady=(4, 2))
        meta = None if args.api else mi.read_metadata(Path(self.model_var.get()))
        if meta:  # the user sees which model (and any warning about it) before pressing Start
            self.banner.show(mi.describe(meta, "local"))

        body = tk.Frame(root)
        body.grid(row=3, column=0, sticky="nsew", padx=8, pady=4)
        root.rowconfigure(3, weight=1)
        body.columnconfigure(0, weight=3, uniform="body")  # frame : panel = 3 : 2 at every window size
        body.columnconfigure(1, weight=2, uniform="body", minsize=layout.PANEL_MIN_W)
        body.rowconfigure(0, weight=1)
        body.bind("<Configure>", lambda e: self._balance(body, e.width))
        self.canvas = tk.Canvas(body, width=160, height=100, bg="#111", highlightthickness=0)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.canvas.bind("<Configure>", lambda _e: self.draw_frame())
        self.panel = ResultPanel(body)
        self.panel.frame.grid(row=0, column=1, sticky="nsew", padx=(12, 0))

        ttk.Label(root, text="Timeline (one mark per classified frame; colour = risk level)").grid(
            row=4, column=0, sticky="w", padx=8)
        self.timeline = tk.Canvas(root, height=34, bg="#f4f4f4", highlightthickness=0)
        self.timeline.grid(row=5, column=0, sticky="ew", padx=8, pady=2)
        self.timeline.bind("<Configure>", lambda _e: self.draw_timeline())
        self.status_var = tk.StringVar(value="Ready. Choose a source and press Start (or Enter in the source box); "
                                             "Ctrl+Q quits.")
        self.status = tk.Label(root, textvariable=self.status_var, anchor="w", justify="left", fg="#102a43",
                               bg="#e4e7eb", padx=6)
        self.status.grid(row=6, column=0, sticky="ew")
        root.bind("<Configure>", self._wrap_wide_labels, add="+")
        root.bind_all("<Control-q>", lambda _e: self.finish())
        root.protocol("WM_DELETE_WINDOW", self.close)
        root.after(40, self.poll)
        if args.start:
            root.after(200, self.start)
        if args.exit_after:
            root.after(int(args.exit_after * 1000), self.finish)
        self.source_entry.focus_set()

    @staticmethod
    def _balance(body: Any, width: int) -> None:
        """Frame : panel 3 : 2 in a wide window, 1 : 1 in a narrow one (the words matter more than the picture)."""
        body.columnconfigure(0, weight=3 if width >= layout.WIDE_BODY_W else 1)
        body.columnconfigure(1, weight=2 if width >= layout.WIDE_BODY_W else 1)

    def _wrap_wide_labels(self, event: Any) -> None:
        if event.widget is self.root:
            for label in (self.status, self.banner.label):
                label.configure(wraplength=max(100, event.width - 24 - 2 * int(str(label.cget("padx")))))

    # -- actions
    def pick_file(self) -> None:
        from tkinter import filedialog

        path = filedialog.askopenfilename(title="Image or video", filetypes=[
            ("Images and videos", "*.jpg *.jpeg *.png *.bmp *.webp *.mp4 *.avi *.mov *.mkv"), ("All files", "*")])
        if path:
            self.source_var.set(path)

    def pick_model(self) -> None:
        from tkinter import filedialog

        path = filedialog.askdirectory(title="Classifier model folder (model.tflite + metadata.json)")
        if path:
            self.model_var.set(path)

    def backend(self) -> LocalBackend | RemoteBackend:
        if self.mode_var.get() == "api":
            return RemoteBackend(self.api_var.get(), self.token_var.get())
        return LocalBackend(self.model_var.get())

    def start(self) -> None:
        """A new run: everything the last run showed is cleared first."""
        self.stop()
        self.run_id += 1
        self.results.clear()
        self.timeline.delete("all")
        self._rgb = None
        self.draw_frame()
        self.panel.clear()
        try:
            backend = self.backend()
        except ClientError as exc:
            self.show_error(str(exc))
            return
        if isinstance(backend, RemoteBackend):  # what this API said about its model last time, until it answers
            self.banner.show(self._api_models.get(backend.base_url),
                             f"Model: the API's model ({backend.base_url}) is shown after its first answer")
        else:  # known before the (slower) load, so even a run that fails on its source shows which model it had
            meta = mi.read_metadata(backend.model_dir)
            self.banner.show(mi.describe(meta, "local") if meta else None,
                             f"Model: no model found in {backend.model_dir}")
        run = self.run_id
        self.worker = Worker(self.source_var.get(), backend, lambda msg: self.queue.put((run, msg)),
                             sample_s=self.args.sample_every)
        self.worker.start()
        self.write_state()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self._stopped = {w for w in self._stopped if w.is_alive()} | {self.worker}
            self.worker = None

    # -- drawing (UI thread only)
    def poll(self) -> None:
        now = time.monotonic()
        if self._last_poll is not None and self.worker is not None:
            self.max_ui_gap_ms = max(self.max_ui_gap_ms, (now - self._last_poll) * 1e3)
        self._last_poll = now
        try:
            while True:
                run, msg = self.queue.get_nowait()
                if run == self.run_id:  # a stopped or replaced run's late messages are dropped
                    self.handle(msg)
        except queue.Empty:
            pass
        self.root.after(40, self.poll)

    def handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "status":
            self.set_status(msg[1])
        elif kind == "model":
            self.banner.show(msg[1])
            if self.mode_var.get() == "api":
                self._api_models[self.api_var.get().strip().rstrip("/")] = msg[1]
        elif kind == "frame":
            self._rgb = msg[2]
            self.draw_frame()
        elif kind == "result":
            self.show_result(msg[1], msg[2])
        elif kind == "clip":
            self.panel.show_clip(msg[1])
        elif kind == "error":
            self.show_error(msg[1])
        elif kind == "done":
            self.set_status(msg[1])
            self.stop()
            if self.args.exit_after_results:
                self.finish()
        self.write_state()

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_var.set(text)
        self.status.configure(fg=RISK_COLOURS["High"] if error else "#102a43")

    def draw_frame(self) -> None:
        from PIL import Image, ImageTk

        self.canvas.delete("all")
        if self._rgb is None:
            return
        w, h = max(self.canvas.winfo_width(), 2), max(self.canvas.winfo_height(), 2)
        im = Image.fromarray(self._rgb)
        scale = min(w / im.width, h / im.height)
        im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.Resampling.BILINEAR)
        self._photo = ImageTk.PhotoImage(im)  # keep a reference or Tk drops the image
        self.canvas.create_image(w // 2, h // 2, image=self._photo)

    def show_result(self, t: float, r: dict) -> None:
        self.panel.show(t, r)
        self.results.append((t, r))
        del self.results[:-MAX_TIMELINE]  # a camera can run for hours: keep the recent past only
        self.draw_timeline()
        level = r.get("risk_level", "?")
        review = " (uncertain → human review)" if r.get("uncertain") else ""
        self.set_status(f"{len(self.results)} frame(s) classified — last: {level}{review} at {t:.1f} s")
        if self.args.exit_after_results and len(self.results) >= self.args.exit_after_results:
            self.finish()

    def draw_timeline(self) -> None:
        self.timeline.delete("all")
        if not self.results:
            return
        width = max(self.timeline.winfo_width(), 200)
        span = max(10.0, self.results[-1][0] + 1.0)
        for t, r in self.results:
            x = 4 + (width - 14) * t / span
            self.timeline.create_rectangle(x, 4, x + 6, 24, fill=RISK_COLOURS.get(str(r.get("risk_level")), "#999"),
                                           outline="")
        self.timeline.create_text(width - 4, 33, text=f"{span:.0f} s", anchor="se", font=("Helvetica", 8))

    def show_error(self, text: str) -> None:
        """The run failed: the panel is emptied (no earlier result stays on screen) and says why."""
        self.errors.append(text)
        self.results.clear()
        self.draw_timeline()
        self.panel.clear(f"Could not classify: {text}", error=True)
        self.set_status(f"Error: {text}", error=True)
        self.stop()
        if self.args.exit_after_results:
            self.finish()

    # -- exit (and what a test reads back)
    def state(self) -> dict:
        return {**self.panel.state(), **self.banner.state(), "max_ui_gap_ms": round(self.max_ui_gap_ms, 1),
                "status": self.status_var.get(), "errors": self.errors, "run": self.run_id,
                "results": [{"t": t, "risk_level": r.get("risk_level"), "confidence": r.get("confidence"),
                             "uncertain": r.get("uncertain")} for t, r in self.results],
                "layout": layout.report(self.root, {**self.panel.labels, "model": self.banner.label,
                                                                  "status": self.status})}

    def write_state(self) -> None:
        """With --state-json: what the window shows, rewritten (atomically) after every change."""
        if not self.args.state_json:
            return
        path = Path(self.args.state_json)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.state(), indent=1))
        os.replace(tmp, path)

    def finish(self) -> None:
        if self._exit_scheduled:
            return
        self._exit_scheduled = True
        self.root.after(300, self._finish_now)  # let the last result draw before the screenshot

    def _finish_now(self) -> None:
        self.root.update()
        if self.args.screenshot:
            self.screenshot(Path(self.args.screenshot))
        self.write_state()
        self.close()

    def screenshot(self, path: Path) -> None:
        from PIL import ImageGrab

        self.root.update_idletasks()
        x, y = self.root.winfo_rootx(), self.root.winfo_rooty()
        w, h = self.root.winfo_width(), self.root.winfo_height()
        path.parent.mkdir(parents=True, exist_ok=True)
        ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=os.environ.get("DISPLAY")).save(path)

    def close(self) -> None:
        """Stop the worker and wait (briefly) for it: a thread left inside LiteRT or OpenCV when Python exits
        can abort the process."""
        worker = self.worker
        self.stop()
        for w in {worker, *self._stopped}:
            if w is not None:
                w.join(timeout=3.0)
        self.root.destroy()
