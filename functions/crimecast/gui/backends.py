"""The two ways a frame is classified: the LiteRT model on this computer, or the HTTPS API.

Both take JPEG bytes and return the API's result dict (risk_level, confidence, probabilities, action,
uncertain, model_version); both raise `ClientError` with a sentence the user can act on. `model_info`
says what the window's model banner shows (None until known: the API's model is known after its first
answer).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from crimecast.gui import model_info as mi
from crimecast.gui.common import HTTP_TIMEOUT_S, ClientError


class Backend(Protocol):
    model_info: mi.ModelInfo | None

    def describe(self) -> str: ...

    def load(self) -> None: ...

    def classify_jpeg(self, data: bytes) -> dict: ...


class LocalBackend:
    """Classifies JPEG bytes with the LiteRT model in `model_dir` (loaded on the worker thread)."""

    def __init__(self, model_dir: str | os.PathLike[str]) -> None:
        self.model_dir = Path(model_dir)
        self._clf: Any = None
        self.model_info: mi.ModelInfo | None = None

    def describe(self) -> str:
        return f"local model {self.model_dir}"

    def load(self) -> None:
        from crimecast.vision import CrimeImageClassifier

        if not (self.model_dir / "metadata.json").exists():
            raise ClientError(mi.not_found_message(self.model_dir))
        try:
            self._clf = CrimeImageClassifier().load_model(self.model_dir)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ClientError(f"cannot load the model in {self.model_dir}: {exc}") from None
        self.model_info = mi.describe(self._clf.metadata, "local")

    def clip_rule(self) -> tuple[int, int]:
        """(k, n) of the model's k-of-n clip rule (metadata `video`), (3, 5) before loading."""
        return (int(self._clf.k), int(self._clf.n)) if self._clf is not None else (3, 5)

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
        self.model_info: mi.ModelInfo | None = None

    def describe(self) -> str:
        return f"API {self.base_url}"

    def load(self) -> None:
        """Nothing to load; the first request shows whether the API is reachable."""

    def clip_rule(self) -> tuple[int, int]:
        return 3, 5

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
        self.model_info = mi.from_api_result(result) or self.model_info
        return result
