"""What every part of the desktop client shares: the user-facing error type, the risk colours and the timings."""

from __future__ import annotations

RISK_COLOURS = {"High": "#c62828", "Medium": "#ef6c00", "Low": "#2e7d32"}
NEUTRAL = "#555555"
REVIEW_BG = "#fff3cd"  # the "uncertain → human review" banner
WARN_BG = "#fde2e1"  # the synthetic-only / unknown-training-data model banner
DEFAULT_SAMPLE_S = 0.5  # classify one frame every 0.5 s of video
HTTP_TIMEOUT_S = 15.0
MAX_TIMELINE = 600  # results kept for the timeline and the clip rule
CLIP_WINDOW_S = 60.0  # cameras: the clip rule looks at the last minute


class ClientError(Exception):
    """Something the user can fix (bad source, unreachable API, missing model); shown in the window."""
