"""`crimecast-gui`: a Tkinter desktop client for surveillance risk triage.

Pick an image or video file, or a camera (OpenCV device index or RTSP/HTTP URL); frames are classified
locally with the LiteRT model or sent to the HTTPS API (`POST {base}/v1/classify`, image/jpeg). The
window shows the frame, the risk level in colour, the confidence, the recommended action and, for video,
a running timeline. All reading, decoding, model loading and network calls run on a worker thread; the
UI thread only draws what the worker puts on a queue, so the window never freezes.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RISK_COLOURS = {"High": "#c62828", "Medium": "#ef6c00", "Low": "#2e7d32"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
DEFAULT_SAMPLE_S = 0.5  # classify one frame every 0.5 s of video (the API engineer's default is 2 fps too)
HTTP_TIMEOUT_S = 15.0
FRAME_W, FRAME_H = 640, 400
MAX_TIMELINE = 600  # results kept for the timeline and the clip rule
CLIP_WINDOW_S = 60.0  # cameras: the clip rule looks at the last minute


class ClientError(Exception):
    """Something the user can fix (bad source, unreachable API, missing model); shown in the window."""


# ---------------------------------------------------------------- classification backends
class LocalBackend:
    """Classifies JPEG bytes with the LiteRT model in `model_dir` (loaded on the worker thread)."""

    def __init__(self, model_dir: str | os.PathLike[str]) -> None:
        self.model_dir = Path(model_dir)
        self._clf: Any = None

    def describe(self) -> str:
        return f"local model {self.model_dir}"

    def load(self) -> None:
        from crimecast.vision import CrimeImageClassifier

        if not (self.model_dir / "metadata.json").exists():
            raise ClientError(f"no classifier model in {self.model_dir} (metadata.json missing)")
        try:
            self._clf = CrimeImageClassifier().load_model(self.model_dir)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ClientError(f"cannot load the model in {self.model_dir}: {exc}") from None

    def classify_jpeg(self, data: bytes) -> dict:
        if self._clf is None:
            self.load()
        try:
            return self._clf.classify_bytes(data, "frame.jpg", "image/jpeg")
        except ValueError as exc:
            raise ClientError(f"the model rejected the frame: {exc}") from None


class RemoteBackend:
    """POSTs JPEG bytes to `{base_url}/v1/classify` with an optional Authorization header."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = HTTP_TIMEOUT_S) -> None:
        base_url = base_url.strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ClientError(f"API base URL must start with https:// (or http:// for a local server), got "
                              f"{base_url!r}")
        self.base_url = base_url
        self.token = (token or "").strip() or None
        self.timeout = timeout

    def describe(self) -> str:
        return f"API {self.base_url}"

    def load(self) -> None:
        """Nothing to load; the first request shows whether the API is reachable."""

    def classify_jpeg(self, data: bytes) -> dict:
        headers = {"Content-Type": "image/jpeg", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = self.token if " " in self.token else f"Bearer {self.token}"
        req = urllib.request.Request(f"{self.base_url}/v1/classify", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            try:
                j = json.loads(detail)
                detail = j.get("detail") or j.get("title") or j.get("message") or detail
            except (json.JSONDecodeError, AttributeError):
                pass
            hint = " (check the token)" if exc.code in (401, 403) else ""
            raise ClientError(f"the API answered {exc.code} {exc.reason}{hint}: {detail}") from None
        except urllib.error.URLError as exc:
            raise ClientError(f"cannot reach the API at {self.base_url}: {exc.reason}") from None
        except (TimeoutError, OSError) as exc:
            raise ClientError(f"cannot reach the API at {self.base_url}: {exc}") from None
        try:
            result = json.loads(body)
        except json.JSONDecodeError:
            raise ClientError(f"the API at {self.base_url} did not answer JSON: {body[:80]!r}") from None
        if not isinstance(result, dict) or "risk_level" not in result:
            raise ClientError(f"the API answer has no risk_level: {str(result)[:120]}")
        return result


# ---------------------------------------------------------------- frame sources
@dataclass
class Frame:
    t: float  # seconds since the start of the source
    rgb: Any  # numpy (H, W, 3) uint8
    jpeg: bytes


def parse_source(spec: str) -> tuple[str, Any]:
    """('image', path) | ('video', path) | ('camera', index or URL). Raises ClientError."""
    spec = spec.strip()
    if not spec:
        raise ClientError("choose an image or video file, or enter a camera index or stream URL")
    if spec.isdigit():
        return "camera", int(spec)
    if "://" in spec:
        return "camera", spec
    p = Path(spec).expanduser()
    if not p.exists():
        raise ClientError(f"{p}: no such file")
    if p.is_dir():
        raise ClientError(f"{p}: is a folder, not an image or video file")
    return ("image" if p.suffix.lower() in IMAGE_SUFFIXES else "video"), str(p)


def _encode(rgb: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ClientError("could not encode the frame as JPEG")
    return buf.tobytes()


def read_image(path: str) -> Frame:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ClientError(f"{path}: not a readable image ({exc})") from None
    return Frame(0.0, rgb, _encode(rgb))


def iter_frames(kind: str, target: Any, sample_s: float, stop: threading.Event, realtime: bool = True):
    """Yield one Frame every `sample_s` seconds of video (files paced in real time, like a camera)."""
    import cv2

    cap = cv2.VideoCapture(target)
    try:
        if not cap.isOpened():
            what = f"camera {target}" if kind == "camera" else f"video {target}"
            raise ClientError(f"cannot open {what} (OpenCV could not read it)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        file_like = kind == "video" or (fps > 0 and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 0)
        start = time.monotonic()
        next_t, i, got_any = 0.0, 0, False
        while not stop.is_set():
            ok, bgr = cap.read()
            if not ok:
                if not got_any:
                    raise ClientError(f"{'camera' if kind == 'camera' else 'video'} {target}: no frames could be read")
                return
            got_any = True
            t = i / fps if (file_like and fps > 0) else time.monotonic() - start
            i += 1
            if t + 1e-9 < next_t:
                continue
            next_t = t + sample_s
            if realtime and file_like:
                wait = t - (time.monotonic() - start)
                if wait > 0 and stop.wait(wait):
                    return
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(round(t, 3), rgb, _encode(rgb))
    finally:
        cap.release()


class Worker(threading.Thread):
    """Reads frames and classifies them off the UI thread; reports through `out` (a queue)."""

    def __init__(self, source: str, backend: LocalBackend | RemoteBackend, out: queue.Queue,
                 sample_s: float = DEFAULT_SAMPLE_S, realtime: bool = True) -> None:
        super().__init__(daemon=True, name="crimecast-gui-worker")
        self.source, self.backend, self.out = source, backend, out
        self.sample_s, self.realtime = sample_s, realtime
        self.stop_event = threading.Event()

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        try:
            kind, target = parse_source(self.source)
            self.out.put(("status", f"loading {self.backend.describe()} …"))
            self.backend.load()
            self.out.put(("status", f"classifying {kind} {target} with {self.backend.describe()}"))
            frames = [read_image(target)] if kind == "image" else iter_frames(kind, target, self.sample_s,
                                                                              self.stop_event, self.realtime)
            n = 0
            for frame in frames:
                if self.stop_event.is_set():
                    break
                self.out.put(("frame", frame.t, frame.rgb))
                t0 = time.perf_counter()
                result = self.backend.classify_jpeg(frame.jpeg)
                result.setdefault("latency_ms", round((time.perf_counter() - t0) * 1e3, 1))
                self.out.put(("result", frame.t, result, kind))
                n += 1
            self.out.put(("done", f"finished: {n} frame(s) classified" if n else "stopped"))
        except ClientError as exc:
            self.out.put(("error", str(exc)))
        except Exception as exc:  # the window must show every failure, never die with a traceback
            self.out.put(("error", f"unexpected error: {type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------- the window
class App:
    def __init__(self, root: Any, args: argparse.Namespace) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.tk, self.root, self.args = tk, root, args
        self.queue: queue.Queue = queue.Queue()
        self.worker: Worker | None = None
        self.results: list[tuple[float, dict]] = []
        self.clip_k_n = (3, 5)
        self._last_poll: float | None = None
        self.max_ui_gap_ms = 0.0  # longest pause of the UI loop while a worker ran (responsiveness check)
        self.errors: list[str] = []
        self._photo = None
        self._exit_scheduled = False
        root.title("crimecast — surveillance risk triage")
        root.geometry("1000x760")

        src = ttk.LabelFrame(root, text="Source: image/video file, camera index (0) or stream URL (rtsp://…)")
        src.pack(fill="x", padx=8, pady=4)
        self.source_var = tk.StringVar(value=args.source or "")
        ttk.Entry(src, textvariable=self.source_var, width=80).pack(side="left", padx=4, pady=4, fill="x",
                                                                      expand=True)
        ttk.Button(src, text="File…", command=self.pick_file).pack(side="left", padx=4)

        mode = ttk.LabelFrame(root, text="Classify with")
        mode.pack(fill="x", padx=8, pady=4)
        self.mode_var = tk.StringVar(value="api" if args.api else "local")
        ttk.Radiobutton(mode, text="Local model dir", variable=self.mode_var, value="local").grid(row=0, column=0,
                                                                                              sticky="w")
        self.model_var = tk.StringVar(value=args.model or os.environ.get("CRIMECAST_CLASSIFIER_DIR",
                                                                         "models/classifier"))
        ttk.Entry(mode, textvariable=self.model_var, width=50).grid(row=0, column=1, sticky="we", padx=4)
        ttk.Button(mode, text="Folder…", command=self.pick_model).grid(row=0, column=2, padx=4)
        ttk.Radiobutton(mode, text="HTTPS API base URL", variable=self.mode_var, value="api").grid(row=1, column=0,
                                                                                                sticky="w")
        self.api_var = tk.StringVar(value=args.api or "")
        ttk.Entry(mode, textvariable=self.api_var, width=50).grid(row=1, column=1, sticky="we", padx=4)
        ttk.Label(mode, text="Token").grid(row=1, column=2, sticky="e")
        self.token_var = tk.StringVar(value=args.token or os.environ.get("CRIMECAST_API_TOKEN", ""))
        ttk.Entry(mode, textvariable=self.token_var, width=24, show="•").grid(row=1, column=3, padx=4)
        mode.columnconfigure(1, weight=1)

        buttons = ttk.Frame(root)
        buttons.pack(fill="x", padx=8)
        self.start_btn = ttk.Button(buttons, text="Start", command=self.start)
        self.start_btn.pack(side="left", padx=4, pady=4)
        ttk.Button(buttons, text="Stop", command=self.stop).pack(side="left", padx=4)

        body = ttk.Frame(root)
        body.pack(fill="both", expand=True, padx=8, pady=4)
        self.canvas = tk.Canvas(body, width=FRAME_W, height=FRAME_H, bg="#111", highlightthickness=0)
        self.canvas.pack(side="left", anchor="n")
        panel = ttk.Frame(body)
        panel.pack(side="left", fill="both", expand=True, padx=12)
        self.risk_label = tk.Label(panel, text="—", font=("Helvetica", 34, "bold"), fg="#555", anchor="w")
        self.risk_label.pack(fill="x")
        self.conf_label = tk.Label(panel, text="confidence —", font=("Helvetica", 14), anchor="w", justify="left",
                                   wraplength=320)
        self.conf_label.pack(fill="x")
        self.action_label = tk.Label(panel, text="", font=("Helvetica", 12), wraplength=300, justify="left",
                                     anchor="w")
        self.action_label.pack(fill="x", pady=6)
        self.detail_label = tk.Label(panel, text="", font=("Helvetica", 10), fg="#555", justify="left", anchor="w",
                                     wraplength=320)
        self.detail_label.pack(fill="x")
        self.clip_label = tk.Label(panel, text="", font=("Helvetica", 12, "bold"), justify="left", anchor="w",
                                   wraplength=320)
        self.clip_label.pack(fill="x", pady=8)

        ttk.Label(root, text="Timeline (one mark per classified frame; colour = risk level)").pack(anchor="w",
                                                                                                 padx=8)
        self.timeline = tk.Canvas(root, height=46, bg="#f4f4f4", highlightthickness=0)
        self.timeline.pack(fill="x", padx=8, pady=2)
        self.status_var = tk.StringVar(value="Ready. Choose a source and press Start.")
        self.status = tk.Label(root, textvariable=self.status_var, anchor="w", fg="#102a43", bg="#e4e7eb")
        self.status.pack(fill="x", side="bottom")
        root.protocol("WM_DELETE_WINDOW", self.close)
        root.after(40, self.poll)
        if args.start:
            root.after(200, self.start)
        if args.exit_after:
            root.after(int(args.exit_after * 1000), self.finish)

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
        self.stop()
        self.results.clear()
        self.timeline.delete("all")
        try:
            backend = self.backend()
        except ClientError as exc:
            self.show_error(str(exc))
            return
        self.clip_k_n = (3, 5)
        if isinstance(backend, LocalBackend) and (backend.model_dir / "metadata.json").exists():
            try:
                vid = json.loads((backend.model_dir / "metadata.json").read_text()).get("video", {})
                self.clip_k_n = (int(vid.get("k", 3)), int(vid.get("n", 5)))
            except (OSError, ValueError, AttributeError):
                pass  # the worker reports a broken model directory
        self.clip_label.configure(text="")
        self.worker = Worker(self.source_var.get(), backend, self.queue, sample_s=self.args.sample_every)
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # -- drawing (UI thread only)
    def poll(self) -> None:
        now = time.monotonic()
        if self._last_poll is not None and self.worker is not None:
            self.max_ui_gap_ms = max(self.max_ui_gap_ms, (now - self._last_poll) * 1e3)
        self._last_poll = now
        try:
            while True:
                self.handle(self.queue.get_nowait())
        except queue.Empty:
            pass
        self.root.after(40, self.poll)

    def handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "status":
            self.status_var.set(msg[1])
            self.status.configure(fg="#102a43")
        elif kind == "frame":
            self.show_frame(msg[2])
        elif kind == "result":
            self.show_result(msg[1], msg[2], msg[3])
        elif kind == "error":
            self.show_error(msg[1])
        elif kind == "done":
            self.status_var.set(msg[1])
            if self.args.exit_after_results:
                self.finish()

    def show_frame(self, rgb: Any) -> None:
        from PIL import Image, ImageTk

        im = Image.fromarray(rgb)
        scale = min(FRAME_W / im.width, FRAME_H / im.height)
        im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.Resampling.BILINEAR)
        self._photo = ImageTk.PhotoImage(im)  # keep a reference or Tk drops the image
        self.canvas.delete("all")
        self.canvas.create_image(FRAME_W // 2, FRAME_H // 2, image=self._photo)

    def show_result(self, t: float, r: dict, kind: str) -> None:
        level = str(r.get("risk_level", "?"))
        colour = RISK_COLOURS.get(level, "#555")
        conf = r.get("confidence")
        self.risk_label.configure(text=f"{level} risk", fg=colour)
        conf_text = f"confidence {conf:.0%}" if isinstance(conf, int | float) else "confidence —"
        self.conf_label.configure(text=conf_text + (" · uncertain: a person should look" if r.get("uncertain") else ""))
        self.action_label.configure(text=str(r.get("action", "")))
        probs = r.get("probabilities") or {}
        detail = "  ".join(f"{k} {v:.2f}" for k, v in probs.items() if isinstance(v, int | float))
        self.detail_label.configure(text=f"{detail}\nframe at {t:.1f} s · {r.get('latency_ms', '?')} ms · model "
                                         f"{r.get('model_version', '?')}")
        self.results.append((t, r))
        del self.results[:-MAX_TIMELINE]  # a camera can run for hours: keep the recent past only
        if kind != "image":
            self.draw_timeline()
            self.show_clip_decision(kind)
        self.status_var.set(f"{len(self.results)} frame(s) classified — last: {level} at {t:.1f} s")
        self.status.configure(fg="#102a43")
        if self.args.exit_after_results and len(self.results) >= self.args.exit_after_results:
            self.finish()

    def show_clip_decision(self, kind: str) -> None:
        """The vision module's k-of-n clip rule over the recent frames (what a clip upload would get)."""
        from crimecast.vision.video import k_of_n

        t_last = self.results[-1][0]
        recent = [(t, r) for t, r in self.results if t >= t_last - CLIP_WINDOW_S
                  and str(r.get("risk_level")) in RISK_COLOURS]
        if not recent:
            return
        k, n = self.clip_k_n
        d = k_of_n([str(r["risk_level"]) for _, r in recent], [t for t, _ in recent], ("High", "Medium", "Low"),
                   k=k, n=n)
        scope = "clip so far" if kind == "video" else f"last {CLIP_WINDOW_S:.0f} s"
        self.clip_label.configure(
            text=f"{scope.capitalize()}: {d['risk_level']} (≥ {d['k']} of {d['n']} consecutive frames; "
                 f"reached at {d['decision_time_s']:.1f} s)", fg=RISK_COLOURS[d["risk_level"]])

    def draw_timeline(self) -> None:
        self.timeline.delete("all")
        width = max(self.timeline.winfo_width(), 200)
        span = max(10.0, self.results[-1][0] + 1.0)
        for t, r in self.results:
            x = 4 + (width - 8) * t / span
            self.timeline.create_rectangle(x, 8, x + 6, 38, fill=RISK_COLOURS.get(str(r.get("risk_level")), "#999"),
                                           outline="")
        self.timeline.create_text(width - 4, 44, text=f"{span:.0f} s", anchor="se", font=("Helvetica", 8))

    def show_error(self, text: str) -> None:
        self.errors.append(text)
        self.status_var.set(f"Error: {text}")
        self.status.configure(fg="#c62828")
        self.risk_label.configure(text="—", fg="#555")
        if self.args.exit_after_results:
            self.finish()

    # -- exit (and what a test reads back)
    def state(self) -> dict:
        return {"risk_text": self.risk_label.cget("text"), "risk_colour": self.risk_label.cget("fg"),
                "confidence_text": self.conf_label.cget("text"), "action_text": self.action_label.cget("text"),
                "clip_text": self.clip_label.cget("text"), "max_ui_gap_ms": round(self.max_ui_gap_ms, 1),
                "status": self.status_var.get(), "errors": self.errors,
                "results": [{"t": t, "risk_level": r.get("risk_level"), "confidence": r.get("confidence")}
                            for t, r in self.results]}

    def finish(self) -> None:
        if self._exit_scheduled:
            return
        self._exit_scheduled = True
        self.root.after(300, self._finish_now)  # let the last result draw before the screenshot

    def _finish_now(self) -> None:
        self.root.update()
        if self.args.screenshot:
            self.screenshot(Path(self.args.screenshot))
        if self.args.state_json:
            Path(self.args.state_json).write_text(json.dumps(self.state(), indent=1))
        self.close()

    def screenshot(self, path: Path) -> None:
        from PIL import ImageGrab

        self.root.update_idletasks()
        x, y = self.root.winfo_rootx(), self.root.winfo_rooty()
        w, h = self.root.winfo_width(), self.root.winfo_height()
        path.parent.mkdir(parents=True, exist_ok=True)
        ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=os.environ.get("DISPLAY")).save(path)

    def close(self) -> None:
        self.stop()
        self.root.destroy()


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crimecast-gui", description=__doc__.split("\n\n")[0])
    p.add_argument("--source", help="image/video file, camera index or stream URL")
    p.add_argument("--model", help="local classifier model directory (model.tflite + metadata.json)")
    p.add_argument("--api", help="API base URL (classify remotely instead of locally)")
    p.add_argument("--token", help="API token (sent as 'Authorization: Bearer …'); or CRIMECAST_API_TOKEN")
    p.add_argument("--sample-every", type=float, default=DEFAULT_SAMPLE_S, help="seconds between classified frames")
    p.add_argument("--start", action="store_true", help="start classifying at once")
    p.add_argument("--exit-after", type=float, default=None, help="close after this many seconds (automation)")
    p.add_argument("--exit-after-results", type=int, default=None,
                   help="close after this many results, an error, or the end of the source (automation)")
    p.add_argument("--screenshot", help="save a PNG of the window when closing (automation)")
    p.add_argument("--state-json", help="write what the window shows as JSON when closing (automation)")
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
    App(root, args)
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
