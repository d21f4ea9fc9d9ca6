"""Deterministic procedural surveillance-like images and short clips for the three risk classes.

These images only exercise the pipeline (decode → preprocess → train → export → serve). They say
nothing about accuracy on real footage; real accuracy is measured on ../shared/data/real-images.

Scenes (drawn with Pillow, no external assets):
- high_risk: two or more people close together, raised arms, a weapon-like dark object, motion streaks.
- medium_risk: graffiti tags on a wall / shutter, or a person climbing a fence (trespass).
- low_risk: a normal street or corridor, people walking apart, or empty.
All classes share backgrounds, day/night lighting, sensor noise, blur, and camera overlays
(timestamp, camera id), so the class is in the content, not in the style.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ("high_risk", "medium_risk", "low_risk")
RISK_OF_CLASS = {"high_risk": "high", "medium_risk": "medium", "low_risk": "low"}
IMAGE_SIZE = (256, 192)  # width, height in px (a small CCTV frame)
VIDEO_SIZE = (320, 240)
VIDEO_FPS = 4.0


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, size=3)
    return int(c[0]), int(c[1]), int(c[2])


def _background(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> int:
    """Street / corridor / car park backdrop. Returns the y of the ground line."""
    kind = int(rng.integers(0, 3))
    horizon = int(h * rng.uniform(0.35, 0.55))
    wall = _colour(rng, 70, 190)
    ground = _colour(rng, 50, 140)
    draw.rectangle([0, 0, w, horizon], fill=wall)
    draw.rectangle([0, horizon, w, h], fill=ground)
    if kind == 0:  # street: kerb line and a few windows
        draw.line([0, horizon + 5, w, horizon + 5], fill=_colour(rng, 150, 230), width=2)
        for _ in range(int(rng.integers(2, 6))):
            x = int(rng.integers(0, w - 20))
            y = int(rng.integers(5, max(6, horizon - 25)))
            draw.rectangle([x, y, x + 18, y + 14], fill=_colour(rng, 20, 90), outline=_colour(rng, 150, 255))
    elif kind == 1:  # corridor: perspective lines
        cx = int(w * rng.uniform(0.4, 0.6))
        for x in (0, w):
            draw.line([x, h, cx, horizon], fill=_colour(rng, 30, 100), width=2)
            draw.line([x, 0, cx, horizon - 20], fill=_colour(rng, 30, 100), width=1)
    else:  # car park: parked car blocks
        for _ in range(int(rng.integers(1, 4))):
            x = int(rng.integers(0, w - 50))
            y = horizon + int(rng.integers(5, max(6, (h - horizon) // 2)))
            draw.rounded_rectangle([x, y, x + 48, y + 22], radius=5, fill=_colour(rng, 20, 220))
    return horizon


def _person(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y_feet: int, height: int,
            arms: str = "down", lean: float = 0.0) -> None:
    """A stick-and-blob figure: head, torso, arms (down|raised|forward), legs."""
    body = _colour(rng, 10, 200)
    skin = _colour(rng, 120, 230)
    head_r = max(3, height // 9)
    hip = (x, y_feet - int(height * 0.45))
    neck = (x + int(lean * height * 0.2), y_feet - int(height * 0.82))
    width = max(3, height // 7)
    draw.line([hip, neck], fill=body, width=width)
    draw.ellipse([neck[0] - head_r, neck[1] - 2 * head_r, neck[0] + head_r, neck[1]], fill=skin)
    shoulder = (neck[0], neck[1] + head_r // 2)
    arm_len = int(height * 0.35)
    limb = max(2, width // 2)
    for side in (-1, 1):
        if arms == "raised":
            hand = (shoulder[0] + side * arm_len // 2, shoulder[1] - arm_len)
        elif arms == "forward":
            hand = (shoulder[0] + side * arm_len, shoulder[1] - arm_len // 4)
        else:
            hand = (shoulder[0] + side * arm_len // 4, shoulder[1] + arm_len)
        draw.line([shoulder, hand], fill=body, width=limb)
        foot = (hip[0] + side * int(height * 0.15), y_feet)
        draw.line([hip, foot], fill=_colour(rng, 10, 120), width=limb + 1)


def _weapon(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int, size: int) -> None:
    """A dark pistol- or bat-like object held at (x, y)."""
    dark = _colour(rng, 0, 40)
    if rng.random() < 0.5:  # pistol: barrel + grip
        draw.rectangle([x, y, x + size, y + max(2, size // 4)], fill=dark)
        draw.rectangle([x, y, x + max(2, size // 4), y + size // 2], fill=dark)
    else:  # bat / knife: a long diagonal bar
        draw.line([x, y, x + size, y - size], fill=dark, width=max(2, size // 5))


def _graffiti(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, horizon: int) -> None:
    """Bright spray-paint tags: thick random polylines and blobs on the wall."""
    for _ in range(int(rng.integers(2, 5))):
        colour = _colour(rng, 0, 256)
        colour = (colour[0], 255 - colour[1] // 2, colour[2]) if rng.random() < 0.5 else colour
        x0 = int(rng.integers(0, max(1, w - 60)))
        y0 = int(rng.integers(5, max(6, horizon - 20)))
        pts = [(x0 + int(rng.integers(0, 60)), y0 + int(rng.integers(0, max(4, horizon // 2))))
               for _ in range(int(rng.integers(4, 9)))]
        draw.line(pts, fill=colour, width=int(rng.integers(3, 7)), joint="curve")
        if rng.random() < 0.5:
            cx, cy = pts[0]
            r = int(rng.integers(5, 12))
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour, width=3)


def _fence(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, horizon: int, h: int) -> tuple[int, int]:
    """A chain-link style fence; returns (x, top y) where a climber sits."""
    top = horizon - int(rng.integers(10, 30))
    bottom = horizon + int(rng.integers(15, 40))
    colour = _colour(rng, 140, 220)
    for x in range(0, w, 8):
        draw.line([x, top, x + 8, bottom], fill=colour, width=1)
        draw.line([x + 8, top, x, bottom], fill=colour, width=1)
    draw.line([0, top, w, top], fill=colour, width=3)
    return int(rng.integers(30, w - 30)), top


def render_scene(rng: np.random.Generator, cls: str, size: tuple[int, int] = IMAGE_SIZE,
                 night: bool | None = None) -> Image.Image:
    """Draw one surveillance-like RGB scene of class `cls` (one of CLASSES)."""
    if cls not in CLASSES:
        raise ValueError(f"unknown image class {cls!r}; expected one of {CLASSES}")
    w, h = size
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    horizon = _background(draw, rng, w, h)
    scale = h / 192
    if cls == "high_risk":
        n = int(rng.integers(2, 4))
        x0 = int(rng.integers(int(w * 0.2), int(w * 0.6)))
        for i in range(n):
            height = int(rng.uniform(60, 95) * scale)
            x = x0 + i * int(rng.integers(12, 24) * scale)
            arms = "raised" if i % 2 == 0 else "forward"
            _person(draw, rng, x, int(h * rng.uniform(0.82, 0.95)), height, arms=arms, lean=rng.uniform(-0.8, 0.8))
        _weapon(draw, rng, x0 - int(10 * scale), int(h * rng.uniform(0.35, 0.55)), int(rng.uniform(14, 26) * scale))
        for _ in range(int(rng.integers(2, 5))):  # motion streaks
            xs = x0 + int(rng.integers(-30, 60))
            ys = int(rng.integers(horizon - 20, h - 10))
            draw.line([xs, ys, xs + int(rng.integers(15, 35)), ys + int(rng.integers(-6, 6))],
                      fill=(235, 235, 235), width=1)
    elif cls == "medium_risk":
        if rng.random() < 0.6:
            _graffiti(draw, rng, w, horizon)
            if rng.random() < 0.4:
                _person(draw, rng, int(rng.integers(20, w - 20)), int(h * 0.9), int(70 * scale), arms="forward")
        else:
            fx, top = _fence(draw, rng, w, horizon, h)
            _person(draw, rng, fx, top + int(40 * scale), int(70 * scale), arms="raised", lean=rng.uniform(-0.3, 0.3))
    else:
        for _ in range(int(rng.integers(0, 4))):
            x = int(rng.integers(15, w - 15))
            _person(draw, rng, x, int(h * rng.uniform(0.75, 0.97)), int(rng.uniform(45, 90) * scale), arms="down")
    arr = np.asarray(img, dtype=np.float32)
    if night if night is not None else rng.random() < 0.3:
        arr = arr * rng.uniform(0.25, 0.45)
        arr = arr.mean(axis=2, keepdims=True) * 0.7 + arr * 0.3  # IR-like desaturation
    arr = arr * rng.uniform(0.8, 1.15) + rng.normal(0, rng.uniform(2, 12), arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.5, 1.6))))
    if rng.random() < 0.15:
        img = img.convert("L").convert("RGB")
    draw = ImageDraw.Draw(img)
    if rng.random() < 0.8:  # camera overlay: timestamp + camera id
        stamp = (f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d} "
                 f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}")
        draw.text((4, 3), stamp, fill=(255, 255, 255))
        draw.text((w - 40, h - 13), f"CAM{int(rng.integers(1, 20)):02d}", fill=(255, 255, 255))
    return img


def _jpeg_bytes(img: Image.Image, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _clip_schedule(rng: np.random.Generator, n_frames: int) -> list[str]:
    """Per-frame class: low at first, then escalation (medium and/or high), sometimes back to low."""
    seq: list[str] = []
    segments = ["low_risk", str(rng.choice(["medium_risk", "high_risk"])), "high_risk" if rng.random() < 0.6
                else "low_risk"]
    cuts = sorted(rng.choice(np.arange(4, n_frames - 4), size=2, replace=False).tolist())
    for i in range(n_frames):
        seg = 0 if i < cuts[0] else (1 if i < cuts[1] else 2)
        seq.append(segments[seg])
    return seq


def _write_clip(path: Path, rng: np.random.Generator, duration_s: float) -> list[tuple[int, float, str]]:
    import cv2  # OpenCV only for video

    n_frames = int(round(duration_s * VIDEO_FPS))
    schedule = _clip_schedule(rng, n_frames)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), VIDEO_FPS, VIDEO_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV could not open an mp4v writer for {tmp}")
    night = bool(rng.random() < 0.3)
    labels = []
    try:
        for i, cls in enumerate(schedule):
            # Each frame is a fresh scene of the scheduled class, with the clip's lighting held fixed.
            frame = np.asarray(render_scene(rng, cls, VIDEO_SIZE, night=night))
            writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
            labels.append((i, round(i / VIDEO_FPS, 3), RISK_OF_CLASS[cls]))
    finally:
        writer.release()
    os.replace(tmp, path)
    return labels


def generate_images(out_dir: Path, per_class: int = 200, videos: int = 3, seed: int = 0) -> dict:
    """Write synthetic images (`out_dir/images/<class>/*.jpg` + `labels.csv`) and clips (`out_dir/videos`).

    Deterministic by `seed`. Each image belongs to its own `group_id`; clip frames are not in images/.
    Returns {"images": n, "per_class": {...}, "videos": n, "video_frames": n, "fps": VIDEO_FPS}.
    """
    if per_class < 0 or videos < 0:
        raise ValueError(f"per_class ({per_class}) and videos ({videos}) must be >= 0")
    out_dir = Path(out_dir)
    img_dir = out_dir / "images"
    counts: dict[str, int] = {}
    rows: list[tuple[str, str, str, str]] = []
    for ci, cls in enumerate(CLASSES):
        d = img_dir / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            rng = np.random.default_rng([seed, ci, i])  # per-image stream: stable when per_class changes
            name = f"{cls}_{i:04d}.jpg"
            _write_atomic(d / name, _jpeg_bytes(render_scene(rng, cls)))
            rows.append((f"{cls}/{name}", RISK_OF_CLASS[cls], f"synth:{cls}:{i:04d}", "synthetic"))
        counts[cls] = per_class
    if per_class:
        buf = io.StringIO()
        wr = csv.writer(buf, lineterminator="\n")
        wr.writerow(["path", "risk", "group_id", "source"])
        wr.writerows(rows)
        _write_atomic(img_dir / "labels.csv", buf.getvalue().encode())
    n_frames = 0
    if videos:
        vid_dir = out_dir / "videos"
        vid_dir.mkdir(parents=True, exist_ok=True)
        for k in range(videos):
            rng = np.random.default_rng([seed, 99, k])
            duration = float(rng.choice([6.0, 8.0, 10.0]))
            path = vid_dir / f"clip_{k:02d}.mp4"
            labels = _write_clip(path, rng, duration)
            buf = io.StringIO()
            wr = csv.writer(buf, lineterminator="\n")
            wr.writerow(["frame", "t_s", "risk"])
            wr.writerows(labels)
            _write_atomic(vid_dir / f"clip_{k:02d}_labels.csv", buf.getvalue().encode())
            n_frames += len(labels)
    return {"images": sum(counts.values()), "per_class": counts, "videos": videos, "video_frames": n_frames,
            "fps": VIDEO_FPS, "seed": seed}
