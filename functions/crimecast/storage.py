"""Object storage behind one small interface: S3 (botocore) or a local directory.

The jobs, the API and the demo only ever see `Storage`; `S3Storage` honours
`CRIMECAST_S3_ENDPOINT_URL` (a moto server locally), `LocalStorage` maps keys to files under a root
directory (used by tests and by the CLI when no AWS is involved). Keys are '/'-separated strings.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from crimecast.atomic import atomic_path as _atomic


class NotFound(KeyError):
    """The key does not exist (or no longer exists) in the store."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where

    def __str__(self) -> str:
        return f"not found: {self.where}"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int  # bytes
    last_modified: datetime
    etag: str = ""
    version_id: str | None = None
    content_type: str | None = None


@runtime_checkable
class Storage(Protocol):
    """The operations crimecast needs from a bucket."""

    name: str

    def get_bytes(self, key: str, version_id: str | None = None) -> bytes: ...
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo: ...
    def head(self, key: str) -> ObjectInfo: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...
    def download_file(self, key: str, path: str | os.PathLike[str]) -> Path: ...
    def upload_file(self, path: str | os.PathLike[str], key: str, content_type: str | None = None) -> ObjectInfo: ...
    def presign_put(self, key: str, expires_s: int, content_type: str | None = None) -> str: ...
    def uri(self, key: str) -> str: ...


def _guess_type(key: str) -> str | None:
    import mimetypes

    if key.endswith(".parquet"):
        return "application/vnd.apache.parquet"
    return mimetypes.guess_type(key)[0]


class S3Storage:
    """One S3 bucket. `client` is shared per process (create it once, at cold start)."""

    def __init__(self, bucket: str, client: Any | None = None, endpoint_url: str | None = None) -> None:
        self.name = bucket
        self.client = client if client is not None else s3_client(endpoint_url)

    def uri(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def _missing(self, exc: Exception, key: str | None = None) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}:
            return True
        # Without an unconditional s3:ListBucket grant, S3 answers 403 (not 404) for a missing key. Our roles
        # may list only their prefixes, so ask the listing whether the key is really there.
        if code in {"403", "AccessDenied", "Forbidden"} and key is not None:
            return not self._listed(key)
        return False

    def _listed(self, key: str) -> bool:
        resp = self.client.list_objects_v2(Bucket=self.name, Prefix=key, MaxKeys=1)
        return any(o["Key"] == key for o in resp.get("Contents", []))

    def get_bytes(self, key: str, version_id: str | None = None) -> bytes:
        kw: dict[str, Any] = {"Bucket": self.name, "Key": key}
        if version_id and version_id != "null":
            kw["VersionId"] = version_id
        try:
            return bytes(self.client.get_object(**kw)["Body"].read())
        except Exception as exc:
            if self._missing(exc, key):
                raise NotFound(self.uri(key)) from None
            raise

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        kw: dict[str, Any] = {"Bucket": self.name, "Key": key, "Body": data}
        ctype = content_type or _guess_type(key)
        if ctype:
            kw["ContentType"] = ctype
        resp = self.client.put_object(**kw)
        return ObjectInfo(key, len(data), datetime.now(UTC), str(resp.get("ETag", "")).strip('"'),
                          resp.get("VersionId"), ctype)

    def head(self, key: str) -> ObjectInfo:
        try:
            r = self.client.head_object(Bucket=self.name, Key=key)
        except Exception as exc:
            if self._missing(exc, key):
                raise NotFound(self.uri(key)) from None
            raise
        return ObjectInfo(key, int(r.get("ContentLength", 0)), r["LastModified"], str(r.get("ETag", "")).strip('"'),
                          r.get("VersionId"), r.get("ContentType"))

    def exists(self, key: str) -> bool:
        # A prefix listing needs only prefix-scoped s3:ListBucket; HEAD of a missing key would need more.
        return self._listed(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        for page in pages:
            for o in page.get("Contents", []):
                yield ObjectInfo(o["Key"], int(o["Size"]), o["LastModified"], str(o.get("ETag", "")).strip('"'))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def download_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        with _atomic(target) as tmp:
            try:
                body = self.client.get_object(Bucket=self.name, Key=key)["Body"]
            except Exception as exc:
                if self._missing(exc, key):
                    raise NotFound(self.uri(key)) from None
                raise
            with open(tmp, "wb") as f:
                for chunk in body.iter_chunks(1 << 20):
                    f.write(chunk)
        return target

    def upload_file(self, path: str | os.PathLike[str], key: str, content_type: str | None = None) -> ObjectInfo:
        # One PUT (≤ 5 GB; our objects are models, tables and reports of MBs): readers see old or new, never half.
        ctype = content_type or _guess_type(key)
        kw: dict[str, Any] = {"ContentType": ctype} if ctype else {}
        with open(path, "rb") as f:
            resp = self.client.put_object(Bucket=self.name, Key=key, Body=f, **kw)
        return ObjectInfo(key, Path(path).stat().st_size, datetime.now(UTC), str(resp.get("ETag", "")).strip('"'),
                          resp.get("VersionId"), ctype)

    def presign_put(self, key: str, expires_s: int, content_type: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.name, "Key": key}
        if content_type:
            params["ContentType"] = content_type
        return str(self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=int(expires_s)))


class LocalStorage:
    """A directory that behaves like a bucket (keys are relative paths; writes are atomic)."""

    def __init__(self, root: str | os.PathLike[str], name: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.name = name or self.root.name

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if p != self.root and self.root not in p.parents:
            raise ValueError(f"key {key!r} escapes the storage root {self.root}")
        return p

    def _info(self, key: str, p: Path) -> ObjectInfo:
        st = p.stat()
        etag = hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()
        return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), etag, None, _guess_type(key))

    def get_bytes(self, key: str, version_id: str | None = None) -> bytes:
        p = self._path(key)
        if not p.is_file():
            raise NotFound(str(p))
        return p.read_bytes()

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        p = self._path(key)
        with _atomic(p) as tmp:
            tmp.write_bytes(data)
        return self._info(key, p)

    def head(self, key: str) -> ObjectInfo:
        p = self._path(key)
        if not p.is_file():
            raise NotFound(str(p))
        return self._info(key, p)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for p in sorted(self.root.rglob("*")):
            if not p.is_file() or p.name.startswith("."):
                continue
            key = p.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                st = p.stat()
                yield ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def download_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        data = self.get_bytes(key)
        target = Path(path)
        with _atomic(target) as tmp:
            tmp.write_bytes(data)
        return target

    def upload_file(self, path: str | os.PathLike[str], key: str, content_type: str | None = None) -> ObjectInfo:
        return self.put_bytes(key, Path(path).read_bytes(), content_type)

    def presign_put(self, key: str, expires_s: int, content_type: str | None = None) -> str:
        return self._path(key).as_uri()


@dataclass
class Stores:
    """The five stores a deployment uses (see `crimecast.env_names` for what each holds)."""

    uploads: Storage
    data: Storage
    results: Storage
    reports: Storage
    models: Storage

    @classmethod
    def from_settings(cls, settings: Any, client: Any | None = None) -> Stores:
        """S3 stores sharing one S3 client (create once per cold start).

        A bucket setting of `file:///dir` (or any path: S3 bucket names hold no '/') is a local directory.
        """
        s = settings
        names = (s.uploads_bucket, s.data_bucket, s.results_bucket, s.reports_bucket, s.models_bucket)
        if all(_is_local(n) for n in names):
            return cls(*(open_storage(n) for n in names))
        client = client if client is not None else s3_client(s.s3_endpoint_url)
        return cls(*(open_storage(n, client=client) for n in names))

    @classmethod
    def local(cls, root: str | os.PathLike[str]) -> Stores:
        """Five directories under `root` standing in for the buckets."""
        r = Path(root)
        return cls(*(LocalStorage(r / n, name=n) for n in ("uploads", "data", "results", "reports", "models")))


def s3_client(endpoint_url: str | None = None) -> Any:
    """An S3 client; `endpoint_url` (or CRIMECAST_S3_ENDPOINT_URL) points it at a local server.

    botocore directly, not boto3: boto3 adds s3transfer to every cold start for nothing we use."""
    import botocore.session
    from botocore.config import Config

    from crimecast import env_names

    endpoint = endpoint_url or os.environ.get(env_names.S3_ENDPOINT_URL) or None
    # Path-style addressing works with every local S3 (moto) and on AWS.
    # SigV4 explicitly: botocore otherwise presigns S3 URLs with the deprecated SigV2 (docs/security.md).
    cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                 retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)
    return botocore.session.get_session().create_client("s3", endpoint_url=endpoint, config=cfg)


def _is_local(location: str) -> bool:
    return location.startswith("file://") or "/" in location or location.startswith(".")


def open_storage(location: str, client: Any | None = None, endpoint_url: str | None = None) -> Storage:
    """`s3://bucket`, `file:///dir` or a plain directory path → a Storage; a bare name is an S3 bucket."""
    if location.startswith("s3://"):
        return S3Storage(location[5:].strip("/"), client=client, endpoint_url=endpoint_url)
    if _is_local(location):
        return LocalStorage(location[7:] if location.startswith("file://") else location)
    return S3Storage(location, client=client, endpoint_url=endpoint_url)


def download_prefix(store: Storage, prefix: str, dest: str | os.PathLike[str]) -> list[Path]:
    """Copy every object under `prefix` to `dest`, keeping the key layout below the prefix."""
    out = []
    for info in store.list(prefix):
        rel = info.key[len(prefix):].lstrip("/")
        if rel:
            out.append(store.download_file(info.key, Path(dest) / rel))
    return out
