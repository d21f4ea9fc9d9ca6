"""`CrimeImageClassifier`: LiteRT inference for images and videos (never TensorFlow).

Everything the classifier needs (labels, input size, calibration temperature, decision bias,
abstain threshold, out-of-distribution threshold, video rule) is read from the model directory's metadata.json.
A model may have a second output (width 1): an out-of-distribution score of the image's features; above the
metadata's `ood.threshold` the answer is "uncertain → human review" whatever the probabilities say.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from crimecast.litert import interpreter_class
from crimecast.vision import preprocess
from crimecast.vision.calibration import apply_temperature
from crimecast.vision.decode import InputError, decode_image, read_bytes, sniff_file, sniff_kind
from crimecast.vision.metrics import decide

ACTIONS = {"High": "immediate response", "Medium": "monitor", "Low": "routine patrol"}
LEVELS = ("High", "Medium", "Low")
MAX_BYTES = 512 * 1024 * 1024


_interpreter_class = interpreter_class  # the old private name, kept for older importers


def _env_float(name: str, default: float) -> float:
    from crimecast import env_names

    raw = os.environ.get(getattr(env_names, name), "")
    return float(raw) if raw.strip() else default


class CrimeImageClassifier:
    """Risk triage (High / Medium / Low) of CCTV images and clips with a TFLite model run by LiteRT."""

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = num_threads
        self.metadata: dict = {}
        self.version: str | None = None
        self._interp = None

    # -- loading -------------------------------------------------------------------------------
    def load_model(self, model_dir: str | os.PathLike[str], variant: str | None = None) -> CrimeImageClassifier:
        """Load `model_dir/metadata.json` and its TFLite file (the default variant unless `variant`)."""
        d = Path(model_dir)
        meta_path = d / "metadata.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{d}: no metadata.json (not a classifier model directory)")
        meta = json.loads(meta_path.read_text())
        if meta.get("name") != "classifier":
            raise ValueError(f"{meta_path}: name is {meta.get('name')!r}, expected 'classifier'")
        files = meta.get("files", {})
        variant = variant or meta.get("default_variant", "int8")
        fname = files.get(variant, "model.tflite" if variant == meta.get("default_variant") else None)
        if fname is None or not (d / fname).exists():
            raise FileNotFoundError(f"{d}: model variant {variant!r} not found (have {sorted(files)})")
        interp = interpreter_class()(model_path=str(d / fname), num_threads=self.num_threads)
        interp.allocate_tensors()
        self._interp = interp
        self._in = interp.get_input_details()[0]
        self._out, self._ood_out = self._outputs(interp, len(meta["labels"]))
        self._batch = 1
        self.metadata = meta
        self.variant = variant
        self.version = str(meta.get("version"))
        self.labels: list[str] = list(meta["labels"])
        self.size = int(meta["input"]["size"])
        cal = meta.get("calibration", {})
        self.temperature = float(cal.get("temperature", 1.0))
        self.threshold = float(cal.get("abstain_threshold", 0.5))
        bias = cal.get("decision_bias")
        self.bias = np.asarray(bias, dtype=np.float64) if bias else None
        ood = meta.get("ood") or {}
        self.ood_threshold = float(ood["threshold"]) if ood.get("threshold") is not None else None
        if self._ood_out is None:
            self.ood_threshold = None
        vid = meta.get("video", {})
        self.k, self.n = int(vid.get("k", 3)), int(vid.get("n", 5))
        return self

    @staticmethod
    def _outputs(interp, n_labels: int) -> tuple[dict, dict | None]:  # noqa: ANN001
        """(probabilities output, OOD-score output or None), told apart by their width."""
        outs = interp.get_output_details()
        probs = [o for o in outs if int(o["shape"][-1]) == n_labels]
        ood = [o for o in outs if int(o["shape"][-1]) == 1]
        if len(probs) != 1:
            raise ValueError(f"model has outputs of widths {[int(o['shape'][-1]) for o in outs]}; expected one of "
                             f"width {n_labels} (the class probabilities)")
        return probs[0], (ood[0] if ood else None)

    def _require(self) -> None:
        if self._interp is None:
            raise RuntimeError("no model loaded: call load_model(dir) first")

    # -- core inference ------------------------------------------------------------------------
    def _run(self, x: np.ndarray) -> np.ndarray:
        """Raw model probabilities for a float32 batch (N, S, S, 3) in 0..255."""
        return self._run_both(x)[0]

    @staticmethod
    def _dequantise(interp, out: dict) -> np.ndarray:  # noqa: ANN001
        y = interp.get_tensor(out["index"])
        if out["dtype"] != np.float32:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return np.asarray(y, dtype=np.float64)

    def _run_both(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(raw probabilities (N, 3), OOD scores (N,) or None) for a float32 batch (N, S, S, 3) in 0..255."""
        interp, inp = self._interp, self._in
        n = x.shape[0]
        if n != self._batch:
            interp.resize_tensor_input(inp["index"], [n, self.size, self.size, 3])
            interp.allocate_tensors()
            self._in = interp.get_input_details()[0]
            self._out, self._ood_out = self._outputs(interp, len(self.labels))
            inp = self._in
            self._batch = n
        if inp["dtype"] != np.float32:  # a model with quantised input: quantise here
            scale, zero = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(inp["dtype"])
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        y = self._dequantise(interp, self._out)
        ood = self._dequantise(interp, self._ood_out).reshape(n) if self._ood_out is not None else None
        return y, ood

    def predict_arrays(self, arrays: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Calibrated probabilities (N, 3) in label order for uint8 (S, S, 3) arrays."""
        return self.score_arrays(arrays, batch_size)[0]

    def score_arrays(self, arrays: list[np.ndarray], batch_size: int = 16) -> tuple[np.ndarray, np.ndarray | None]:
        """(calibrated probabilities (N, 3), OOD scores (N,) or None when the model has no OOD output)."""
        self._require()
        chunks = [self._run_both(preprocess.batch(arrays[i:i + batch_size]))
                  for i in range(0, len(arrays), batch_size)]
        p = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros((0, len(self.labels)))
        ood = np.concatenate([c[1] for c in chunks]) if chunks and chunks[0][1] is not None else None
        return apply_temperature(p, self.temperature), ood

    def _review(self, conf: float, ood: float | None) -> tuple[bool, str | None]:
        """(uncertain, why): out of distribution, or below the confidence threshold."""
        if ood is not None and self.ood_threshold is not None and ood > self.ood_threshold:
            return True, "out of distribution: unlike the images the model was trained on"
        if conf < self.threshold:
            return True, "low confidence"
        return False, None

    def _result(self, p: np.ndarray, ood: float | None = None) -> dict:
        idx = int(decide(p[None], self.bias)[0])
        level = self.labels[idx]
        conf = float(p[idx])
        uncertain, why = self._review(conf, ood)
        return {"risk_level": level, "confidence": round(conf, 4),
                "probabilities": {lvl: round(float(p[self.labels.index(lvl)]), 4) for lvl in LEVELS},
                "action": ACTIONS[level], "uncertain": uncertain, "review_reason": why,
                "ood_score": None if ood is None else round(float(ood), 3)}

    # -- public API ----------------------------------------------------------------------------
    def predict(self, image: str | os.PathLike[str] | bytes) -> tuple[str, float]:
        """(risk_level, calibrated confidence) for one image file path or image bytes."""
        data = image if isinstance(image, bytes) else read_bytes(image)
        r = self._classify_image_bytes(data, "<bytes>" if isinstance(image, bytes) else str(image))
        return r["risk_level"], r["confidence"]

    def _classify_image_bytes(self, data: bytes, name: str) -> dict:
        self._require()
        t0 = time.perf_counter()
        im = decode_image(data, name)
        t1 = time.perf_counter()
        arr = preprocess.to_array(im, self.size)
        t2 = time.perf_counter()
        p, ood = self.score_arrays([arr])
        t3 = time.perf_counter()
        r = self._result(p[0], None if ood is None else float(ood[0]))
        r["model_version"] = self.version
        r["timings_ms"] = {"decode": round((t1 - t0) * 1e3, 2), "preprocess": round((t2 - t1) * 1e3, 2),
                           "inference": round((t3 - t2) * 1e3, 2), "total": round((t3 - t0) * 1e3, 2)}
        return r

    def classify_video(self, path: str | os.PathLike[str], fps: float | None = None, max_frames: int | None = None,
                       max_seconds: float | None = None) -> dict:
        """Sample frames, classify them in batches, and apply the k-of-n clip rule."""
        from crimecast.vision import video

        self._require()
        fps = fps or _env_float("VIDEO_SAMPLE_FPS", video.DEFAULT_FPS)
        max_frames = max_frames or int(_env_float("VIDEO_MAX_FRAMES", video.DEFAULT_MAX_FRAMES))
        max_seconds = max_seconds or _env_float("VIDEO_MAX_SECONDS", video.DEFAULT_MAX_SECONDS)
        t0 = time.perf_counter()
        sv = video.sample_frames(path, fps=fps, max_frames=max_frames, max_seconds=max_seconds)
        arrays = [preprocess.rgb_array_to_array(f, self.size) for f in sv.frames]
        t1 = time.perf_counter()
        probs, oods = self.score_arrays(arrays)
        t2 = time.perf_counter()
        per = [self._result(p, None if oods is None else float(o))
               for p, o in zip(probs, oods if oods is not None else [None] * len(probs), strict=True)]
        levels = [r["risk_level"] for r in per]
        clip = video.k_of_n(levels, sv.times_s, LEVELS, k=self.k, n=self.n)
        level = clip["risk_level"]
        li = self.labels.index(level)
        # confidence of the clip decision: best mean probability of that level over any n-frame window
        n_eff = clip["n"]
        col = probs[:, li]
        conf = float(np.convolve(col, np.ones(n_eff) / n_eff, mode="valid").max())
        mean_p = probs.mean(axis=0)
        clip_ood = float(np.median(oods)) if oods is not None and len(oods) else None
        uncertain, why = self._review(conf, clip_ood)
        return {"risk_level": level, "confidence": round(conf, 4),
                "probabilities": {lvl: round(float(mean_p[self.labels.index(lvl)]), 4) for lvl in LEVELS},
                "action": ACTIONS[level], "uncertain": uncertain, "review_reason": why,
                "ood_score": None if clip_ood is None else round(clip_ood, 3),
                "model_version": self.version,
                "frames": [{"t": t, "risk_level": r["risk_level"], "confidence": r["confidence"]}
                           for t, r in zip(sv.times_s, per, strict=True)],
                "clip": {"decision_rule": clip["rule"], "k": clip["k"], "n": clip["n"],
                         "decision_time_s": clip["decision_time_s"], "first_time": clip["first_time"],
                         "truncated": sv.truncated, "sampled_frames": len(sv.frames), "sample_fps": fps,
                         "duration_s": None if sv.duration_s is None else round(sv.duration_s, 3),
                         "notes": sv.notes},
                "timings_ms": {"decode": round((t1 - t0) * 1e3, 2), "inference": round((t2 - t1) * 1e3, 2),
                               "total": round((t2 - t0) * 1e3, 2),
                               "frames_per_s": round(len(arrays) / max(t2 - t0, 1e-9), 2)}}

    def classify_path(self, path: str | os.PathLike[str]) -> dict:
        """Full result for one image or video file, chosen by content sniffing (not the extension)."""
        self._require()
        p = Path(path)
        if sniff_file(p) == "video":
            r = self.classify_video(p)
        else:
            r = self._classify_image_bytes(read_bytes(p, MAX_BYTES), str(p))
        return {"path": str(path), **r}

    def classify_bytes(self, data: bytes, filename: str | None = None, content_type: str | None = None) -> dict:
        """Full result for uploaded bytes (image or video by content; videos go through a temp file)."""
        self._require()
        name = filename or "<upload>"
        if not data:
            raise InputError(f"{name}: empty upload (0 bytes)")
        kind = sniff_kind(data[:32])
        if kind is None and content_type and content_type.startswith("video/"):
            kind = "video"
        if kind == "video":
            suffix = Path(filename).suffix if filename and Path(filename).suffix else ".mp4"
            with tempfile.TemporaryDirectory(prefix="crimecast-video-") as tmp:
                vp = Path(tmp) / f"upload{suffix}"
                vp.write_bytes(data)
                r = self.classify_video(vp)
        else:
            r = self._classify_image_bytes(data, name)
        return {"path": name, **r}
