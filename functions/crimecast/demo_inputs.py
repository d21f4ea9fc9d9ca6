"""What `crimecast demo` runs on: the data tables, the models, the uploads, and the shipped-model backtest.

- Data: the embedded real default (data/chicago: 22 Chicago districts, 2010 → 2022-02-12, events,
  NOAA weather) unless `--data DIR` (a folder of contract tables) or `--synthetic` is given.
- Uploads: the real sample images and clip in data/samples (licences: data/samples/ATTRIBUTION.md), or the
  synthetic pictures with `--synthetic`, or `--media DIR` (images/<class>/*.jpg, videos/*.mp4).
- Models: the shipped models in models/ (committed, with metadata.json and MODEL_CARD.md). Nothing is
  trained unless `--train` is given; a missing model is a clear error naming `make models`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
MODELS = REPO / "models"
MODEL_NAMES = ("forecaster", "classifier")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov")
# Contract tables in a --data folder (or the synthetic set): kind → accepted file names, first match wins.
TABLE_NAMES = {
    "counts": ("crime_rate_dataset.csv", "crime_rate_dataset.csv.gz", "counts.csv", "counts.csv.gz",
               "counts_by_district.csv.gz", "counts.parquet"),
    "events": ("event_holiday_data.csv", "events.csv", "events.csv.gz", "event_holiday_data.csv.gz"),
    "weather": ("weather.csv", "weather.csv.gz"),
    "districts": ("districts.csv", "districts.csv.gz"),
}


class DemoInputError(RuntimeError):
    """A demo input is missing or unusable (the message says what and how to get it)."""


@dataclass
class DemoData:
    label: str  # one line for the start message
    tables: dict[str, Path]  # kind → file (counts always present)
    media: list[Path] = field(default_factory=list)


def cli(say: Any, *args: str) -> None:
    """Run a crimecast sub-command in a subprocess (training imports TensorFlow: keep it out of this process)."""
    say("$ crimecast " + " ".join(args))
    proc = subprocess.run([sys.executable, "-m", "crimecast.cli", *args], text=True)
    if proc.returncode != 0:
        raise DemoInputError(f"`crimecast {args[0]}` failed with exit code {proc.returncode}")


def _tables_in(folder: Path) -> dict[str, Path]:
    found = {}
    for kind, names in TABLE_NAMES.items():
        hit = next((folder / n for n in names if (folder / n).is_file()), None)
        if hit is not None:
            found[kind] = hit
    if "counts" not in found:
        raise DemoInputError(f"--data {folder}: no counts table (looked for {', '.join(TABLE_NAMES['counts'])})")
    return found


def pick_media(folder: Path, n_images: int) -> list[Path]:
    """Up to n_images images round-robin over images/<class>/ plus the first clip in videos/."""
    images: list[Path] = []
    root = folder / "images"
    classes = sorted(d for d in root.iterdir() if d.is_dir()) if root.is_dir() else []
    per_class = [sorted(p for p in d.iterdir() if p.is_file()) for d in classes]
    i = 0
    while len(images) < n_images and any(i < len(f) for f in per_class):
        for files in per_class:
            if i < len(files) and len(images) < n_images:
                images.append(files[i])
        i += 1
    videos = sorted(p for p in (folder / "videos").glob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    return images + videos[:1]


def choose_data(a: argparse.Namespace, out: Path, say: Any) -> DemoData:
    if a.synthetic:
        data = out / "data"
        if not (data / "crime_rate_dataset.csv").exists() or not (data / "images").is_dir():
            cli(say, "synth", "--out", str(data), "--years", str(a.years), "--districts", str(a.districts),
                "--seed", str(a.seed), "--images-per-class", "40", "--videos", "2")
        media = Path(a.media) if a.media else data
        return DemoData(f"SYNTHETIC data in {data} (crimecast synth --seed {a.seed})", _tables_in(data),
                        pick_media(media, a.images))
    if a.data:
        folder = Path(a.data).resolve()
        if not folder.is_dir():
            raise DemoInputError(f"--data {folder}: not a folder")
        tables = _tables_in(folder)
        label = f"your data in {folder}"
    else:
        from crimecast.chicago import embedded_paths

        p = embedded_paths()
        tables = {"counts": p["district"], "events": p["events"], "weather": p["weather"]}
        label = "the embedded real data: Chicago, 22 police districts, 2010-01-01 – 2022-02-12 (data/chicago)"
    media_dir = Path(a.media).resolve() if a.media else SAMPLES
    media = pick_media(media_dir, a.images)
    if not media:
        raise DemoInputError(f"no images under {media_dir}/images/<class>/ (and no clip in {media_dir}/videos/)")
    return DemoData(label, tables, media)


def choose_models(a: argparse.Namespace, data: DemoData, say: Any) -> dict[str, Path]:
    """The model folders; trained only with --train (the synthetic quick profile for --synthetic)."""
    models = Path(a.models).resolve() if a.models else MODELS
    out = {n: models / n for n in MODEL_NAMES}
    missing = [n for n, d in out.items() if not (d / "metadata.json").is_file() or not (d / "model.tflite").is_file()]
    if missing and not a.train:
        raise DemoInputError(f"no {' and no '.join(missing)} model in {models} (model.tflite + metadata.json). "
                             "The shipped models are committed under models/; rebuild them with `make models`, "
                             "or run `crimecast demo --train` to train missing ones here (slow)")
    t = data.tables
    for n in missing:
        if n == "forecaster":
            args = ["train-forecaster", "--counts", str(t["counts"]), "--out", str(out[n])]
            for k in ("events", "weather", "districts"):
                if k in t:
                    args += [f"--{k}", str(t[k])]
            cli(say, *args, *(["--quick"] if a.synthetic else []))
        else:
            images = (Path(a.out).resolve() / "data" / "images") if a.synthetic else REPO.parent / "shared" / "data" \
                / "real-images"
            cli(say, "train-classifier", "--images", str(images), "--out", str(out[n]),
                *(["--quick"] if a.synthetic else []))
    for n, d in out.items():
        say(f"{n}: {d} ({_describe(d)})")
    return out


def _describe(model_dir: Path) -> str:
    import json

    try:
        meta = json.loads((model_dir / "metadata.json").read_text())
    except (OSError, ValueError):
        return "metadata unreadable"
    t = meta.get("trained_on") if isinstance(meta.get("trained_on"), dict) else {}
    kind = str(t.get("kind") or "")
    if not kind:
        return f"version {meta.get('version', '?')}; its metadata does not say what it was trained on"
    return f"version {meta.get('version', '?')}, trained on {kind.upper() if kind == 'synthetic' else kind} data"


def worker_init() -> None:
    """The backtest worker process: quiet, and Ctrl-C is the parent's business (it stops the worker)."""
    import signal

    from crimecast import quiet

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet.quiet_logs()


def start_backtest(model_dir: Path, tables: dict[str, Path], n_origins: int) -> Any:
    """Run `shipped_backtest` in a separate (daemon) process on the other core; returns a function that waits for
    and returns its result. Ctrl-C or an error in the demo ends the worker with the demo."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_backtest_worker, args=(send, model_dir, tables, n_origins), daemon=True,
                       name="crimecast-demo-backtest")
    proc.start()
    send.close()

    def result() -> dict[str, Any]:
        try:
            ok, payload = recv.recv()
        except EOFError:
            raise DemoInputError(f"the backtest worker ended without a result (exit code {proc.exitcode})") from None
        proc.join(10)
        if not ok:
            raise DemoInputError(f"the backtest of the shipped forecaster failed: {payload}")
        return payload

    return result


def _backtest_worker(conn: Any, model_dir: Path, tables: dict[str, Path], n_origins: int) -> None:
    worker_init()
    try:
        conn.send((True, shipped_backtest(model_dir, tables, n_origins)))
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        conn.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def shipped_backtest(model_dir: Path, tables: dict[str, Path], n_origins: int) -> dict[str, Any]:
    """{model: metrics.json dict} for the shipped forecaster vs the baselines (no retraining; seconds)."""
    import warnings

    from crimecast.contract import read_table
    from crimecast.forecast.model import CrimeForecaster
    from crimecast.shipped_backtest import evaluate_shipped

    counts = read_table(tables["counts"], "counts")
    known = set(counts["district"].unique())
    events = read_table(tables["events"], "events", known_districts=known) if "events" in tables else None
    weather = read_table(tables["weather"], "weather") if "weather" in tables else None
    districts = read_table(tables["districts"], "districts") if "districts" in tables else None
    from crimecast.quiet import native_stderr_silenced

    with native_stderr_silenced():  # LiteRT's one-time INFO banner
        forecaster = CrimeForecaster().load_model(model_dir)
    with warnings.catch_warnings():  # statsmodels' ETS convergence chatter: the metrics say how it did
        warnings.simplefilter("ignore")
        return evaluate_shipped(forecaster, counts, events, weather, districts, n_origins=n_origins)
