"""`crimecast-gui`: a Tkinter desktop client for surveillance risk triage.

Pick an image or video file, or a camera (OpenCV device index or RTSP/HTTP URL); frames are classified
locally with the LiteRT model or sent to the HTTPS API (`POST {base}/v1/classify`, image/jpeg). The
window shows the frame, the risk level in colour, the confidence, "uncertain → human review" when the
model is not sure, the recommended action, the model's version and training data and, for video, a
running timeline and the clip decision.

The parts, each in its own module:

* `sources`   what a source is (by content) and its frames: image, video file, camera / stream
* `backends`  how a frame is classified: `LocalBackend` (LiteRT) or `RemoteBackend` (HTTPS API)
* `clip`      the clip decision over a feed (`ClipDecider`: the seam for a rolling clip model)
* `worker`    the thread that runs source → back-end → clip decision and reports by messages
* `model_info` where the default model is found and what the window says about it
* `panel`, `layout`, `app`  the window (UI thread only); `cli` the command line

This package is for desktops: it is left out of the Lambda bundles (layers/build.py).
"""

from crimecast.gui.backends import LocalBackend, RemoteBackend
from crimecast.gui.cli import build_arg_parser, main
from crimecast.gui.common import ClientError
from crimecast.gui.sources import Frame, parse_source
from crimecast.gui.worker import Worker

__all__ = ["ClientError", "Frame", "LocalBackend", "RemoteBackend", "Worker", "build_arg_parser", "main",
           "parse_source"]
