"""Clip model inputs without a model: decoding on the time grid, bad files, optical-flow features, windows,
and the timeline rules (aggregation, High segments)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from crimecast.vision.clip_features import decode_sampled, window_indices
from crimecast.vision.clip_motion import MOTION_DIM, motion_features, sequence_motion, to_grey_small
from crimecast.vision.clip_timeline import aggregate, segments
from crimecast.vision.decode import InputError

cv2 = pytest.importorskip("cv2")


def write_video(path: Path, n: int, size: tuple[int, int] = (64, 48), fps: float = 10.0, moving: bool = True) -> Path:
    """An mp4v mp4 of `n` frames (w, h) = size with a bright square moving right (or still)."""
    w, h = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert vw.isOpened()
    for i in range(n):
        f = np.full((h, w, 3), 40, np.uint8)
        x = (i * max(1, w // 20)) % max(1, w - w // 4) if moving else w // 3
        f[h // 3: h // 3 + h // 4, x: x + w // 4] = 230
        vw.write(f)
    vw.release()
    return path


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def audio_only_mp4(path: Path) -> Path:
    """An MP4 whose only track is a sound track (handler 'soun'), with a silent AAC-sized mdat."""
    mvhd = box(b"mvhd", b"\x00" * 4 + struct.pack(">IIII", 0, 0, 1000, 1000) + b"\x00\x01\x00\x00\x01\x00"
               + b"\x00" * 10 + b"\x00\x01\x00\x00" + b"\x00" * 12 + b"\x00\x01\x00\x00" + b"\x00" * 12
               + b"\x40\x00\x00\x00" + b"\x00" * 24 + struct.pack(">I", 2))
    hdlr = box(b"hdlr", b"\x00" * 8 + b"soun" + b"\x00" * 12 + b"SoundHandler\x00")
    mdhd = box(b"mdhd", b"\x00" * 12 + struct.pack(">II", 44100, 44100) + b"\x55\xc4\x00\x00")
    stbl = box(b"stbl", box(b"stsd", b"\x00" * 8) + box(b"stts", b"\x00" * 8) + box(b"stsc", b"\x00" * 8)
               + box(b"stsz", b"\x00" * 12) + box(b"stco", b"\x00" * 8))
    minf = box(b"minf", box(b"smhd", b"\x00" * 8) + stbl)
    trak = box(b"trak", box(b"tkhd", b"\x00\x00\x00\x07" + b"\x00" * 80) + box(b"mdia", mdhd + hdlr + minf))
    data = box(b"ftyp", b"M4A \x00\x00\x00\x00M4A mp42isom") + box(b"moov", mvhd + trak) + box(b"mdat", b"\x21" * 400)
    path.write_bytes(data)
    return path


def test_decode_samples_on_the_time_grid(tmp_path: Path):
    v = write_video(tmp_path / "a.mp4", 30, fps=10.0)  # 3 s
    c = decode_sampled(v, 5.0, 32, 120.0)
    assert c.rgb.shape == (15, 32, 32, 3) and c.rgb.dtype == np.uint8
    assert np.allclose(np.diff(c.times_s), 0.2, atol=1e-3) and not c.truncated
    assert len(c.grey) == 15 and c.grey[0].shape == (72, 96)


def test_decode_caps_long_videos(tmp_path: Path):
    v = write_video(tmp_path / "long.mp4", 50, fps=10.0)
    c = decode_sampled(v, 5.0, 32, 2.0)
    assert c.truncated and c.times_s[-1] <= 2.0 and "first" in c.notes[0]
    # big frames at a high rate: the decoded-pixel budget shortens the analysed part, and says why
    b = decode_sampled(v, 5.0, 32, 120.0, max_decoded_pixels=64 * 48 * 10 * 2.5)
    assert b.truncated and b.times_s[-1] <= 2.5 and "decode budget for 64×48 at 10 fps" in b.notes[0]


@pytest.mark.parametrize("make", ["zero_frames", "garbage", "audio_only", "truncated"])
def test_bad_videos_are_clear_errors(tmp_path: Path, make: str):
    if make == "zero_frames":
        p = write_video(tmp_path / "zero.mp4", 0)
    elif make == "garbage":
        p = tmp_path / "garbage.mp4"
        p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    elif make == "audio_only":
        p = audio_only_mp4(tmp_path / "audio.mp4")
    else:
        full = write_video(tmp_path / "full.mp4", 40).read_bytes()
        p = tmp_path / "truncated.mp4"
        p.write_bytes(full[: len(full) // 3])  # mp4v writes the index (moov) last: this loses it
    with pytest.raises(InputError, match=str(p.name)):
        decode_sampled(p, 5.0, 32, 120.0)


def test_one_frame_video_is_sound(tmp_path: Path):
    c = decode_sampled(write_video(tmp_path / "one.mp4", 1), 5.0, 32, 120.0)
    assert len(c.times_s) == 1 and any("single frame" in n for n in c.notes)
    m = sequence_motion(c.grey, c.times_s)
    assert m.shape == (1, MOTION_DIM) and np.all(m == 0)


def test_portrait_and_4k60_videos_decode(tmp_path: Path):
    c = decode_sampled(write_video(tmp_path / "portrait.mp4", 6, size=(48, 96)), 5.0, 32, 120.0)
    assert (c.width, c.height) == (48, 96) and c.rgb.shape[1:] == (32, 32, 3)
    big = decode_sampled(write_video(tmp_path / "4k.mp4", 13, size=(3840, 2160), fps=60.0), 5.0, 32, 120.0)
    assert (big.width, big.height) == (3840, 2160) and len(big.times_s) == 2  # t = 0 and 0.2 s of 0.2 s


def test_motion_features_see_motion():
    rng = np.random.default_rng(0)
    base = (rng.random((72 + 8, 96 + 8)) * 255).astype(np.uint8)
    a, b = base[4:76, 4:100], base[4:76, 6:102]  # texture shifted 2 px left
    still = motion_features(a, a, 0.2)
    moved = motion_features(a, b, 0.2)
    assert still.shape == (MOTION_DIM,) and np.isfinite(moved).all()
    assert moved[0] > still[0] + 0.1  # mean log-magnitude
    # the dominant direction bin is "left" (angle π → bin 0 or 7 at the ±π seam) with most of the mass
    assert moved[9:17][[0, 7]].sum() > 0.6
    assert to_grey_small(np.zeros((10, 20, 3), np.uint8)).shape == (72, 96)


def test_window_indices():
    assert [w.tolist() for w in window_indices(12, 10, 5)] == [list(range(10)), list(range(2, 12))]
    short = window_indices(3, 10, 5)
    assert len(short) == 1 and short[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert window_indices(0, 10, 5) == []
    assert len(window_indices(100, 10, 5)) == 19


def test_aggregate_is_the_mean_for_short_clips_and_the_worst_span_for_long_ones():
    p = np.array([[0.1, 0.1, 0.8], [0.3, 0.2, 0.5], [0.2, 0.2, 0.6]])
    m, span = aggregate(p, np.array([0, 1, 2.0]), np.array([2, 3, 4.0]), span_s=13)
    assert np.allclose(m, p.mean(0)) and span == (0.0, 4.0)
    n = 60
    starts = np.arange(n) * 1.0
    q = np.tile([0.05, 0.05, 0.9], (n, 1))
    q[30:33] = [0.9, 0.05, 0.05]
    m, (s, e) = aggregate(q, starts, starts + 2, span_s=5)
    assert m[0] > 0.5 and s <= 30 and e >= 32 and e - s <= 5


def test_segments_merge_overlapping_high_windows():
    lv = ["Low", "High", "High", "Low", "High"]
    st = np.array([0, 1, 2, 3, 8.0])
    segs = segments(lv, st, st + 2, np.array([0.1, 0.7, 0.9, 0.2, 0.6]))
    assert segs == [{"start_s": 1.0, "end_s": 4.0, "confidence": 0.9, "windows": 2},
                    {"start_s": 8.0, "end_s": 10.0, "confidence": 0.6, "windows": 1}]


def test_dynamic_image_is_rank_pooling_and_black_when_nothing_moves():
    from crimecast.vision.clip_features import dynamic_image

    still = np.full((5, 8, 8, 3), 90, np.uint8)
    assert not dynamic_image(still).any() and not dynamic_image(still[:1]).any()
    ramp = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (0, 10, 20, 30)])
    ramp[:, 0, 0] = 0  # one pixel never changes: it is the darkest (brightening elsewhere ranks high)
    d = dynamic_image(ramp)
    assert d.dtype == np.uint8 and d[0, 0, 0] == 0 and d[1, 1, 0] == 255
    assert np.array_equal(dynamic_image(ramp[::-1]), 255 - d)  # time reversed: the negative image
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (6, 8, 8, 3), dtype=np.uint8)  # a mirror image's dynamic image is the mirrored one
    assert np.array_equal(dynamic_image(x[:, :, ::-1]), dynamic_image(x)[:, ::-1])


def test_decode_with_dynamic_images_on_every_kth_frame(tmp_path: Path):
    from crimecast.vision.clip_features import DynamicImager

    v = write_video(tmp_path / "a.mp4", 30, fps=10.0)
    c = decode_sampled(v, 5.0, 32, 120.0, dynamic_every=2)
    assert len(c.dyn) == 15 and [d is not None for d in c.dyn] == [i % 2 == 0 for i in range(15)]
    assert not c.dyn[0].any() and c.dyn[2].shape == (32, 32, 3) and c.dyn[2].any()  # first black, then motion
    still = decode_sampled(write_video(tmp_path / "s.mp4", 30, moving=False), 5.0, 32, 120.0, dynamic_every=1)
    assert all(not d.any() for d in still.dyn)
    assert decode_sampled(v, 5.0, 32, 120.0).dyn is None
    im = DynamicImager(16)  # a 60-fps source is pooled on a 30-fps grid
    kept = 0
    for i in range(60):
        if im.wants(i / 60):
            im.push(i / 60, np.zeros((16, 16, 3), np.uint8))
            kept += 1
    assert kept == 30


def test_window_stats_pool_only_the_rows_with_a_dynamic_image():
    from crimecast.vision.clip_features import window_stats

    x = np.array([[1.0, 10.0, 5.0], [2.0, np.nan, 6.0], [3.0, 30.0, 7.0]])  # 1 appearance, 1 dynamic, 1 motion
    s = window_stats(x, 1, 1)
    np.testing.assert_allclose(s[:3], [2, 3, 1])
    np.testing.assert_allclose(s[3:6], [20, 30, 20])
    np.testing.assert_allclose(s[6:], [6, 7, np.std([5, 6, 7]), 1], rtol=1e-6)
    assert np.all(window_stats(x[1:2], 1, 1)[3:6] == 0)  # no dynamic image in the window: zeros, not NaN


def test_dynamic_imager_running_sums_equal_the_weighted_sum():
    from crimecast.vision.clip_features import DynamicImager

    rng = np.random.default_rng(3)
    x = rng.integers(0, 255, (9, 16, 16, 3), dtype=np.uint8)
    t = len(x)
    d = np.tensordot((2.0 * np.arange(1, t + 1) - t - 1), x.astype(np.float64), axes=1)
    ref = (d - d.min()) * 255.0 / (d.max() - d.min())
    im = DynamicImager(16)
    for i, f in enumerate(x):
        im.push(i / 30, f)
    assert np.abs(im.take().astype(float) - ref).max() <= 1.0
    assert not im.take().any()  # the next image starts at the frame just taken: one frame, black
    im2 = DynamicImager(16)
    for i, f in enumerate(x[:-1]):
        im2.push(i / 30, f)
    assert np.abs(im2.take(x[-1]).astype(float) - ref).max() <= 1.0  # a kept frame off the grid is added by take
    with pytest.raises(ValueError, match="no frame"):
        DynamicImager(16).take()


def test_time_grid_keeps_one_frame_per_step_and_skips_what_a_jump_missed():
    from crimecast.vision.clip_features import TimeGrid

    def taken(times, grid):
        out = []
        for t in times:
            if grid.due(t):
                grid.mark(t)
                out.append(round(t, 3))
        return out

    assert taken([i / 30 for i in range(31)], TimeGrid(0.2, start=0.0)) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # a feed: the grid starts at its first frame; after a jump it keeps its phase (0.5 + k·0.2), skipping the gap
    assert taken([0.5, 0.55, 0.7, 3.0, 3.05, 3.1, 3.2], TimeGrid(0.2)) == [0.5, 0.7, 3.0, 3.1]
