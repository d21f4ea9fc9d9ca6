"""The Tkinter client driven under Xvfb: a video file as the camera, the API path, and failures in the window.

Each test starts `crimecast-gui` as a subprocess with automation flags; the window writes what it shows
(risk text, colour, status, results) as JSON and a PNG screenshot when it closes.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".cache" / "screenshots"
COLOURS = {"High": "#c62828", "Medium": "#ef6c00", "Low": "#2e7d32"}


@pytest.fixture(scope="module")
def display():
    """A private Xvfb display (':N'); skip with the reason when none can be started."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("Xvfb is not installed (Debian package xvfb): no display server for the GUI test")
    try:
        import tkinter  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"Tkinter is not available in this Python: {exc}")
    r, w = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            pytest.skip(f"Xvfb did not start (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _run_gui(display: str, tmp_path: Path, *args: str, timeout: float = 180) -> tuple[dict, Path, str]:
    state, shot = tmp_path / "state.json", tmp_path / "window.png"
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.run([sys.executable, "-m", "crimecast.gui", *args, "--start", "--state-json", str(state),
                           "--screenshot", str(shot)], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert state.exists(), f"the window wrote no state; stderr: {proc.stderr}"
    assert shot.exists() and shot.stat().st_size > 5_000
    return json.loads(state.read_text()), shot, proc.stderr


def _save(shot: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / name)


@pytest.mark.slow
def test_video_file_as_camera_is_classified_locally(display, tmp_path, synth_dir, classifier_model_dir):
    # Given the LiteRT classifier and a synthetic CCTV clip used as the camera
    video = synth_dir / "videos" / "clip_00.mp4"
    # When the client runs until it has shown 4 classifications
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(video), "--model", str(classifier_model_dir),
                              "--exit-after-results", "4", "--exit-after", "150")
    # Then the window shows a risk level in its colour, a confidence, an action and a timeline
    assert state["errors"] == []
    assert len(state["results"]) >= 4
    times = [r["t"] for r in state["results"]]
    assert times == sorted(times) and times[-1] > times[0]
    last = state["results"][-1]
    assert last["risk_level"] in COLOURS
    assert state["risk_text"].startswith(f"{last['risk_level']} risk")
    assert state["risk_colour"] == COLOURS[last["risk_level"]]
    assert re.match(r"confidence \d+%", state["confidence_text"]), state["confidence_text"]
    assert state["action_text"]
    # The UI loop kept running while the worker loaded the model and classified (here ≈ 0.2 s at most)
    assert 0 < state["max_ui_gap_ms"] < 2000
    assert re.match(r"Clip so far: (High|Medium|Low) \(≥ \d of \d consecutive frames", state["clip_text"])
    _save(shot, "gui_video_local.png")


class _FakeAPI(http.server.BaseHTTPRequestHandler):
    """Stands in for POST /v1/classify: records what the client sent, answers like the API contract."""

    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _FakeAPI.seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                              "type": self.headers.get("Content-Type"), "jpeg": body[:3] == b"\xff\xd8\xff"})
        if self.headers.get("Authorization") != "Bearer s3cret":
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail": "missing or bad token"}')
            return
        level = "High" if len(_FakeAPI.seen) % 2 else "Low"
        out = {"risk_level": level, "confidence": 0.83, "probabilities": {"High": 0.83, "Medium": 0.1, "Low": 0.07},
               "action": "Escalate to an operator now" if level == "High" else "No action", "uncertain": False,
               "model_version": "api-test"}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    _FakeAPI.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeAPI)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _FakeAPI.seen
    server.shutdown()


def _any_video() -> Path:
    """A short clip written here with OpenCV (the API tests need no synthetic data set)."""
    import cv2
    import numpy as np

    path = ROOT / ".cache" / "gui-test-clip.avi"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 4.0, (160, 120))
        for i in range(16):
            frame = np.full((120, 160, 3), 40, np.uint8)
            cv2.rectangle(frame, (10 + 6 * i, 40), (40 + 6 * i, 90), (0, 0, 200), -1)
            wr.write(frame)
        wr.release()
    return path


def test_remote_api_results_are_shown_with_token(display, tmp_path, fake_api):
    url, seen = fake_api
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", url, "--token", "s3cret",
                              "--exit-after-results", "3", "--exit-after", "60")
    assert len(state["results"]) >= 3 and state["errors"] == []
    assert all(s["path"] == "/v1/classify" and s["auth"] == "Bearer s3cret" and s["type"] == "image/jpeg"
               and s["jpeg"] for s in seen)
    assert state["risk_text"] in {"High risk", "Low risk"} and state["risk_colour"] in COLOURS.values()
    # The fake API alternates High, Low, High: ≥ 2 of 3 frames are High → the clip rule says High
    assert state["clip_text"].startswith("Clip so far: High"), state["clip_text"]
    _save(shot, "gui_video_api.png")


def test_bad_token_is_a_message_in_the_window(display, tmp_path, fake_api):
    url, _ = fake_api
    state, _, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", url, "--token", "wrong",
                           "--exit-after-results", "1", "--exit-after", "60")
    assert state["results"] == []
    assert "401" in state["status"] and "check the token" in state["status"]


def test_unreachable_api_is_a_message_in_the_window(display, tmp_path):
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", "http://127.0.0.1:9",
                              "--exit-after-results", "1", "--exit-after", "60")
    assert state["results"] == [] and state["status"].startswith("Error: cannot reach the API at http://127.0.0.1:9")
    _save(shot, "gui_unreachable_api.png")


@pytest.mark.parametrize(("source", "message"), [
    ("7", "cannot open camera 7"),
    ("rtsp://127.0.0.1:9/nothing", "cannot open camera rtsp://127.0.0.1:9/nothing"),
    ("/no/such/clip.mp4", "/no/such/clip.mp4: no such file"),
])
def test_unavailable_camera_or_file_is_a_message_in_the_window(display, tmp_path, source, message):
    state, _, _ = _run_gui(display, tmp_path, "--source", source, "--api", "http://127.0.0.1:9",
                           "--exit-after-results", "1", "--exit-after", "60")
    assert state["results"] == [] and message in state["status"], state["status"]


def test_missing_local_model_is_a_message_in_the_window(display, tmp_path):
    state, _, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--model", str(tmp_path / "nomodel"),
                           "--exit-after-results", "1", "--exit-after", "60")
    assert "no classifier model in" in state["status"]


def test_image_file_is_classified_once_via_the_api(display, tmp_path, fake_api):
    import cv2
    import numpy as np

    url, seen = fake_api
    img = tmp_path / "still.png"
    cv2.imwrite(str(img), np.full((90, 120, 3), 128, np.uint8))
    state, _, _ = _run_gui(display, tmp_path, "--source", str(img), "--api", url, "--token", "Bearer s3cret",
                           "--exit-after-results", "5", "--exit-after", "60")
    assert len(state["results"]) == 1 and len(seen) == 1 and seen[0]["jpeg"]
    assert state["status"].startswith("finished: 1 frame(s) classified")


def test_backend_and_source_errors_are_client_errors(tmp_path):
    from crimecast.gui import ClientError, RemoteBackend, parse_source

    with pytest.raises(ClientError, match="must start with https://"):
        RemoteBackend("api.example.org")
    with pytest.raises(ClientError, match="choose an image or video file"):
        parse_source("  ")
    with pytest.raises(ClientError, match="is a folder"):
        parse_source(str(tmp_path))
    assert parse_source("0") == ("camera", 0)
    assert parse_source("rtsp://cam.local/stream") == ("camera", "rtsp://cam.local/stream")
