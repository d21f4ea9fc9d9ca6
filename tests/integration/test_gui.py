"""The Tkinter client driven under Xvfb: a video file as the camera, the API path, failures in the window,
the layout at the default and the smallest window size, the model banner, and a user's keystrokes (xdotool).

Each test starts `crimecast-gui` as a subprocess with automation flags; the window keeps what it shows
(risk text, colour, status, results, model banner, layout check) in a JSON file and saves a PNG
screenshot when it closes. Screenshots are copied to .cache/screenshots/ for people to look at.
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
import time
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


def _run_gui(display: str, tmp_path: Path, *args: str, timeout: float = 180, cwd: Path = ROOT,
             env: dict[str, str] | None = None, start: bool = True) -> tuple[dict, Path, str]:
    state, shot = tmp_path / "state.json", tmp_path / "window.png"
    env = {**os.environ, "DISPLAY": display, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "crimecast.gui", *args, *(["--start"] if start else []),
                           "--state-json", str(state),
                           "--screenshot", str(shot)], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert state.exists(), f"the window wrote no state; stderr: {proc.stderr}"
    assert shot.exists() and shot.stat().st_size > 5_000
    return json.loads(state.read_text()), shot, proc.stderr


def _assert_nothing_cut_off(state: dict) -> None:
    """Every widget got the room it asked for inside the window, and every panel label wraps inside its width."""
    layout = state["layout"]
    assert layout["clipped"] == [], layout["clipped"]
    assert {"risk", "model", "status"} <= set(layout["labels"]), layout["labels"]
    for name, lab in layout["labels"].items():
        assert 0 < lab["wraplength"] <= lab["width"], (name, lab)
        assert lab["reqwidth"] <= lab["width"], (name, lab)


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
    assert re.match(r"Clip so far: (High|Medium|Low) \((≥ \d of \d|.* fewer than \d of any \d) consecutive frames",
                    state["clip_text"]), state["clip_text"]
    # The test model was trained on synthetic pictures: the banner says so (or that its training data is unknown)
    assert state["model_warn"] and state["model_kind"] in ("synthetic", "unknown"), state["model_text"]
    assert "SYNTHETIC pictures only" in state["model_text"] or "unknown training data" in state["model_text"]
    _assert_nothing_cut_off(state)
    _save(shot, "gui_video_local.png")


class _FakeAPI(http.server.BaseHTTPRequestHandler):
    """Stands in for POST /v1/classify: records what the client sent, answers like the API contract.

    The token picks the behaviour: `s3cret` alternates High and Low; `unsure` answers an uncertain Medium with
    long texts and a synthetic-only model; `flaky` answers once, then fails with 500; anything else is a 401."""

    seen: list[dict] = []

    def _send(self, code: int, out: dict) -> None:
        data = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _FakeAPI.seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                              "type": self.headers.get("Content-Type"), "jpeg": body[:3] == b"\xff\xd8\xff"})
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in ("s3cret", "unsure", "flaky"):
            return self._send(401, {"detail": "missing or bad token"})
        if token == "flaky" and len(_FakeAPI.seen) > 1:
            return self._send(500, {"detail": "model store unavailable"})
        if token == "unsure":
            return self._send(200, {
                "risk_level": "Medium", "confidence": 0.41,
                "probabilities": {"High": 0.33, "Medium": 0.41, "Low": 0.26},
                "action": "monitor the camera and ask the duty officer to look at this frame before anything else is "
                          "done about it", "uncertain": True,
                "model_version": "clf-20261202-203000-with-a-rather-long-version-name",
                "model": {"trained_on": {"kind": "synthetic", "n_items": 120}}})
        level = "High" if len(_FakeAPI.seen) % 2 else "Low"
        return self._send(200, {"risk_level": level, "confidence": 0.83,
                                "probabilities": {"High": 0.83, "Medium": 0.1, "Low": 0.07},
                                "action": "Escalate to an operator now" if level == "High" else "No action",
                                "uncertain": False, "model_version": "api-test"})

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
    # The API's model version is shown once it answered; an answer that does not say what the model was trained
    # on is flagged
    assert state["model_version"] == "api-test" and state["model_warn"] and "unknown training data" in \
        state["model_text"]
    assert state["review_text"] == ""
    _assert_nothing_cut_off(state)
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
    assert state["model_text"] == f"Model: no model found in {tmp_path / 'nomodel'}" and not state["model_warn"]


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


def test_entry_point_is_installed_and_answers_help():
    exe = Path(sys.executable).with_name("crimecast-gui")
    if not exe.exists():
        pytest.skip(f"no console script at {exe} (package not installed in this environment)")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--model" in proc.stdout and "CRIMECAST_CLASSIFIER_DIR" in proc.stdout


def test_failed_classification_leaves_no_stale_result(display, tmp_path, fake_api):
    # Given an API that answers the first frame (High) and fails on the second
    url, seen = fake_api
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", url, "--token", "flaky",
                              "--exit-after-results", "5", "--exit-after", "60")
    # Then the window shows the failure, and nothing of the earlier High answer is left on screen
    assert len(seen) == 2
    assert state["errors"] and "500" in state["errors"][-1] and "model store unavailable" in state["errors"][-1]
    assert state["results"] == []
    assert state["risk_text"] == "No result" and state["risk_colour"] != COLOURS["High"]
    assert state["action_text"].startswith("Could not classify: the API answered 500")
    assert state["confidence_text"] == state["detail_text"] == state["clip_text"] == state["review_text"] == ""
    assert state["status"].startswith("Error: the API answered 500")
    _assert_nothing_cut_off(state)
    _save(shot, "gui_failed_classification.png")


@pytest.mark.parametrize("name", ["incident-notes.txt", "photo.jpg"])
def test_text_file_is_reported_as_not_an_image_or_video(display, tmp_path, fake_api, name):
    url, seen = fake_api
    text = tmp_path / name
    text.write_text("Incident notes, 2 December\nNothing here is a picture.\n")
    state, _, _ = _run_gui(display, tmp_path, "--source", str(text), "--api", url, "--token", "s3cret",
                           "--exit-after-results", "1", "--exit-after", "60")
    assert seen == [], "nothing is sent to the API for a text file"
    assert state["results"] == []
    assert state["status"] == f"Error: {text}: not an image or video (it is a text file); choose a picture " \
                              "(JPEG, PNG, …) or a video (MP4, AVI, …)"
    assert state["action_text"].startswith(f"Could not classify: {text}: not an image or video")


@pytest.mark.parametrize("geometry", ["1000x760", "720x600"])
def test_nothing_is_cut_off_at_the_default_and_the_smallest_size(display, tmp_path, fake_api, geometry):
    """The longest texts the window shows (uncertain answer, long action and model version, the synthetic-model
    warning, a long status line) wrap inside the window at its default and its smallest size."""
    url, _ = fake_api
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", url, "--token", "unsure",
                              "--geometry", geometry, "--exit-after-results", "3", "--exit-after", "60")
    assert state["layout"]["window"] == [int(v) for v in geometry.split("x")]
    # uncertain → human review, shown as its own banner and in the status line
    assert state["review_text"].startswith("UNCERTAIN → human review")
    assert "(uncertain → human review)" in state["status"]
    assert state["action_text"].startswith("Action if confirmed: monitor the camera")
    assert state["risk_text"] == "Medium risk" and state["confidence_text"] == "confidence 41% (below threshold)"
    # the API's model is synthetic-only: the banner warns
    assert state["model_warn"] and state["model_kind"] == "synthetic" and "SYNTHETIC" in state["model_text"]
    _assert_nothing_cut_off(state)
    labels = state["layout"]["labels"]
    assert labels["action"]["wraplength"] < 600 and labels["model"]["wraplength"] < int(geometry.split("x")[0])
    _save(shot, f"gui_uncertain_{geometry}.png")


def _xdotool(display: str, *args: str) -> str:
    proc = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _wait_for(path: Path, ok, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < end:
        if path.exists():
            state = json.loads(path.read_text())  # replaced atomically by the window
            if ok(state):
                return state
        time.sleep(0.2)
    raise AssertionError(f"the window never reached the expected state; last: {state}")


def test_a_user_switching_to_a_text_file_sees_no_stale_result(display, tmp_path, fake_api):
    """Keystrokes as a user types them: a picture is classified High, then the user types the path of a text
    file into the source box and presses Enter; the High result must not stay on screen next to the error."""
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (Debian package xdotool)")
    url, _ = fake_api
    import cv2
    import numpy as np

    img, text = tmp_path / "still.png", tmp_path / "notes.txt"
    cv2.imwrite(str(img), np.full((90, 120, 3), 128, np.uint8))
    text.write_text("not a picture\n")
    state_path, shot = tmp_path / "state.json", tmp_path / "window.png"
    proc = subprocess.Popen([sys.executable, "-m", "crimecast.gui", "--source", str(img), "--api", url, "--token",
                             "s3cret", "--start", "--state-json", str(state_path), "--screenshot", str(shot),
                             "--exit-after", "90"], env={**os.environ, "DISPLAY": display}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _wait_for(state_path, lambda s: s["results"])
        assert first["risk_text"] == "High risk"
        window = _xdotool(display, "search", "--sync", "--name", "crimecast").split()[0]
        _xdotool(display, "windowfocus", "--sync", window)
        _xdotool(display, "key", "--window", window, "End")
        _xdotool(display, "key", "--delay", "2", "--repeat", str(len(str(img)) + 5), "BackSpace")
        _xdotool(display, "type", "--delay", "5", str(text))
        _xdotool(display, "key", "Return")
        after = _wait_for(state_path, lambda s: s["errors"])
        _xdotool(display, "key", "ctrl+q")
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert after["run"] == 2 and after["results"] == []
    assert after["model_version"] == "api-test", "the API's model stays shown for the same API"
    assert after["risk_text"] == "No result" and after["confidence_text"] == "" and after["detail_text"] == ""
    assert "not an image or video (it is a text file)" in after["action_text"]
    final = json.loads(state_path.read_text())
    assert final["risk_text"] == "No result" and shot.exists()
    _save(shot, "gui_text_file_after_result.png")


def _model_copy(src: Path, dest: Path, trained_on: dict | None) -> Path:
    """The test model with its metadata saying `trained_on` (the .tflite files are linked, not copied)."""
    dest.mkdir()
    meta = json.loads((src / "metadata.json").read_text())
    meta.pop("trained_on", None)
    if trained_on is not None:
        meta["trained_on"] = trained_on
    (dest / "metadata.json").write_text(json.dumps(meta))
    for f in src.glob("*.tflite"):
        (dest / f.name).symlink_to(f)
    return dest


@pytest.mark.slow
@pytest.mark.parametrize(("trained_on", "kind", "warn"), [
    ({"kind": "synthetic", "sources": ["synthetic"], "n_items": 120}, "synthetic", True),
    ({"kind": "real", "sources": ["surv-fight", "graffiti"], "n_items": 3000}, "real", False),
    (None, "unknown", True),
])
def test_the_model_banner_says_what_the_local_model_was_trained_on(display, tmp_path, classifier_model_dir,
                                                                    trained_on, kind, warn):
    model = _model_copy(classifier_model_dir, tmp_path / "model", trained_on)
    sample = ROOT / "data" / "samples" / "images"
    image = next(iter(sorted(sample.rglob("*.jpg"))), None) if sample.is_dir() else None
    if image is None:
        import cv2
        import numpy as np

        image = tmp_path / "still.png"
        cv2.imwrite(str(image), np.full((90, 120, 3), 128, np.uint8))
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(image), "--model", str(model),
                              "--exit-after-results", "1", "--exit-after", "90")
    assert len(state["results"]) == 1
    version = json.loads((model / "metadata.json").read_text())["version"]
    assert (state["model_kind"], state["model_warn"], state["model_version"]) == (kind, warn, version)
    assert state["model_text"].startswith(("⚠ " if warn else "") + f"Model {version} (local)")
    _assert_nothing_cut_off(state)
    _save(shot, f"gui_model_{kind}.png")


@pytest.mark.slow
def test_the_model_is_found_from_any_directory_via_the_environment(display, tmp_path, classifier_model_dir):
    """Started from an unrelated directory without --model: CRIMECAST_CLASSIFIER_DIR names the model."""
    import cv2
    import numpy as np

    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.full((90, 120, 3), 128, np.uint8))
    state, _, _ = _run_gui(display, tmp_path, "--source", str(image), "--exit-after-results", "1",
                           "--exit-after", "90", cwd=tmp_path,
                           env={"CRIMECAST_CLASSIFIER_DIR": str(classifier_model_dir)})
    assert state["errors"] == [] and len(state["results"]) == 1
    assert state["model_version"] == json.loads((classifier_model_dir / "metadata.json").read_text())["version"]


def test_the_shipped_model_is_found_from_any_directory(display, tmp_path):
    """Started from an unrelated directory, no --model, no environment variable: the checkout's
    models/classifier (found from the package's own location) is used."""
    shipped = ROOT / "models" / "classifier"
    if not (shipped / "metadata.json").exists():
        pytest.skip(f"{shipped} is not in this checkout (the shipped model is committed there)")
    image = tmp_path / "still.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(image), np.full((90, 120, 3), 128, np.uint8))
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(image), "--exit-after-results", "1",
                              "--exit-after", "90", cwd=tmp_path, env={"CRIMECAST_CLASSIFIER_DIR": ""})
    assert state["errors"] == [] and len(state["results"]) == 1
    meta = json.loads((shipped / "metadata.json").read_text())
    assert state["model_version"] == str(meta["version"])
    assert state["model_kind"] == (meta.get("trained_on") or {}).get("kind", "unknown")
    _save(shot, "gui_shipped_model.png")


def test_the_model_warning_is_shown_before_start(display, tmp_path):
    """The banner reads the model folder's metadata when the window opens: the warning comes before any answer."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "metadata.json").write_text(json.dumps({"name": "classifier", "version": "v-synth",
                                                     "trained_on": {"kind": "synthetic", "n_items": 120}}))
    state, shot, _ = _run_gui(display, tmp_path, "--model", str(model), "--geometry", "720x600", "--exit-after", "1.5",
                              start=False)
    assert state["results"] == [] and state["errors"] == [] and state["run"] == 0
    assert state["model_warn"] and state["model_version"] == "v-synth"
    assert state["model_text"].startswith("⚠ Model v-synth (local) was trained on SYNTHETIC pictures only")
    _assert_nothing_cut_off(state)


@pytest.fixture
def real_api(aws, deployed_classifier):
    """The API itself (the app the Lambda serves) under uvicorn on a free port, over the local S3."""
    import socket

    import uvicorn
    from crimecast.api import create_app
    from crimecast.settings import get_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(get_settings(), aws.stores), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_the_real_api_answers_are_shown_with_its_model_warning(display, tmp_path, real_api, classifier_model_dir):
    """The window against the API itself: its answers, its model version and its synthetic-model flag."""
    state, shot, _ = _run_gui(display, tmp_path, "--source", str(_any_video()), "--api", real_api,
                              "--exit-after-results", "2", "--exit-after", "90")
    assert state["errors"] == [] and len(state["results"]) >= 2
    assert state["risk_text"].endswith(" risk") and state["results"][-1]["risk_level"] in COLOURS
    meta = json.loads((classifier_model_dir / "metadata.json").read_text())
    expected_kind = (meta.get("trained_on") or {}).get("kind", "unknown")
    assert state["model_kind"] == expected_kind and state["model_warn"] == (expected_kind != "real")
    assert state["model_text"].startswith(("⚠ " if expected_kind != "real" else "") + "Model ")
    assert "(API)" in state["model_text"]
    _assert_nothing_cut_off(state)
    _save(shot, "gui_real_api.png")
