"""Where a GeoParquet lake lives: a local directory or an object-store prefix (``s3://``, ``gs://``).

One small interface over pyarrow's filesystems, so the exporter and the readers do not care:
relative paths (``collection=…/year=…/items.parquet``) under a root. Object stores have no
rename, so a partition is *published* differently per kind (:meth:`Lake.partition_file`):

* a local directory writes ``items.parquet.tmp``, fsyncs it and renames it over
  ``items.parquet`` (a reader opens the old file or the new one);
* an object store writes a new object under a new name (``items-<token>.parquet``; a PUT, or a
  multipart upload, becomes visible only once complete), then the exporter switches the
  manifest to it and deletes the object it replaced. Readers that follow the manifest never
  see a half-written partition.

Credentials and the endpoint come from the environment as the AWS SDKs read them
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``, or a profile); eocat never logs, stores or exports them.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from catalog.errors import EocatError

REMOTE_SCHEMES = ("s3://", "gs://", "gcs://")


def _s3(bucket: str) -> pafs.S3FileSystem:
    """pyarrow's S3 client from the standard AWS settings (credentials: the SDK's default chain)."""
    options: dict[str, Any] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options.update(endpoint_override=parts.netloc + parts.path.rstrip("/"), scheme=parts.scheme)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and not endpoint:
        region = pafs.resolve_s3_region(bucket)
    return pafs.S3FileSystem(region=region, **options)


def is_remote(target: str | Path) -> bool:
    return str(target).startswith(REMOTE_SCHEMES)


@dataclass
class Lake:
    """A lake root: a pyarrow filesystem and the root path inside it."""

    uri: str  # as given: a path or s3://bucket/prefix
    fs: pafs.FileSystem
    root: str  # path inside ``fs``, no trailing slash
    remote: bool

    @classmethod
    def open(cls, target: str | Path) -> Lake:
        """The lake at a local path or an object-store URI (``s3://bucket/prefix``)."""
        text = str(target)
        if not is_remote(text):
            return cls(text, pafs.LocalFileSystem(), str(Path(text).absolute()), remote=False)
        try:
            if text.startswith("s3://"):
                root = text[len("s3://") :]
                fs: pafs.FileSystem = _s3(root.split("/", 1)[0])
            else:
                fs, root = pafs.FileSystem.from_uri(text)
        except (pa.ArrowException, ValueError, OSError) as exc:
            raise EocatError(f"cannot open {text}: {exc}") from None
        root = root.strip("/")
        if not root:
            raise EocatError(f"{text}: give a bucket (s3://bucket/prefix)")
        return cls(text.rstrip("/"), fs, root, remote=True)

    # -- names ----------------------------------------------------------------------------------
    def path(self, relative: str) -> str:
        """The path of a lake file inside the filesystem."""
        return f"{self.root}/{relative}" if relative else self.root

    def url(self, relative: str) -> str:
        """The location of a lake file as DuckDB, Spark or pyarrow take it (path or URI)."""
        if not self.remote:
            return str(Path(self.root) / relative)
        scheme = self.uri.split("://", 1)[0]
        return f"{scheme}://{self.path(relative)}"

    def partition_file(self, logical: str) -> str:
        """The relative path a new version of a partition is written to (see the module doc)."""
        if not self.remote:
            return logical
        directory, _, name = logical.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        return f"{directory}/{stem}-{secrets.token_hex(6)}{dot}{suffix}"

    # -- reading --------------------------------------------------------------------------------
    def read_bytes(self, relative: str) -> bytes | None:
        """A file's content, or None when it does not exist."""
        try:
            with self.fs.open_input_stream(self.path(relative)) as stream:
                data: bytes = stream.read()
                return data
        except FileNotFoundError:
            return None
        except (OSError, pa.ArrowException) as exc:
            if "NoSuchKey" in str(exc) or "not found" in str(exc).lower():
                return None
            raise EocatError(f"cannot read {self.url(relative)}: {exc}") from None

    def files(self, prefix: str = "") -> set[str]:
        """Relative paths of every file under ``prefix`` (recursively)."""
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        try:
            infos = self.fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as exc:
            raise EocatError(f"cannot list {self.url(prefix)}: {exc}") from None
        start = len(self.root) + 1
        return {info.path[start:] for info in infos if info.type == pafs.FileType.File}

    # -- writing --------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the root (a local directory; object stores need nothing)."""
        if not self.remote:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def open_output(self, relative: str) -> pa.NativeFile:
        """A stream for a new file (local: ``…tmp`` until :meth:`publish`)."""
        if not self.remote:
            target = Path(self.root) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            return pa.OSFile(str(target) + ".tmp", "wb")
        return self.fs.open_output_stream(self.path(relative))

    def publish(self, relative: str) -> None:
        """Make a file written through :meth:`open_output` visible (local: fsync and rename)."""
        if self.remote:
            return  # the object became visible when its upload completed
        target = Path(self.root) / relative
        tmp = str(target) + ".tmp"
        descriptor = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(tmp, target)

    def discard(self, relative: str) -> None:
        """Remove a file written through :meth:`open_output` that will not be published."""
        if not self.remote:
            Path(str(Path(self.root) / relative) + ".tmp").unlink(missing_ok=True)

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write a small file atomically (local: temp file, fsync, rename; object store: one PUT)."""
        with self.open_output(relative) as stream:
            stream.write(data)
        self.publish(relative)

    def delete(self, relative: str) -> bool:
        """Delete a file; False when it was not there. Local directories left empty are removed
        (on object stores pyarrow keeps the "directory" as an empty ``…/`` marker object)."""
        try:
            self.fs.delete_file(self.path(relative))
        except FileNotFoundError:
            return False
        except (OSError, pa.ArrowException) as exc:
            raise EocatError(f"cannot delete {self.url(relative)}: {exc}") from None
        if not self.remote:
            root = Path(self.root)
            for parent in (root / relative).parents:
                if parent == root:
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break
        return True
