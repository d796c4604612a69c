"""The local asset store: partial files that resume, atomic publication, quarantine.

Layout under the store root (default: ``assets/`` next to the catalogue file):

* ``<collection>/<item>/<file>``: finished, verified copies only;
* ``.partial/<collection>/<item>/<asset>.part`` (+ ``.part.json``: which href it belongs to): bytes received
  so far, kept across crashes so the next run resumes with an HTTP Range request;
* ``.quarantine/…``: files that failed verification, kept for inspection, never published.

A ``.part`` is locked (``flock``) while a process writes it, so two runs never write the same file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from catalog.fetch.errors import Busy, FetchError
from catalog.fetch.names import inside, sanitize
from catalog.fetch.verify import Hasher, new_hasher


@dataclass(frozen=True)
class Layout:
    """Where the copies of one asset go: its final directory and its partial file."""

    root: Path
    final_dir: Path
    part: Path

    @classmethod
    def for_asset(cls, root: Path, collection: str, item_id: str, asset_key: str, dest: Path | None) -> Layout:
        """The store layout (``dest`` given: finished files go straight into ``dest``)."""
        names = [sanitize(collection) or "_", sanitize(item_id) or "_"]
        key = sanitize(asset_key) or "asset"
        if dest is not None:
            return cls(dest, dest, dest / ".eocat-partial" / names[1] / f"{key}.part")
        return cls(root, root.joinpath(*names), root / ".partial" / names[0] / names[1] / f"{key}.part")

    def final_path(self, name: str) -> Path:
        """The final path of a (sanitized) file name; refuses anything outside the store."""
        safe = sanitize(name)
        if safe is None:
            raise FetchError(f"unusable file name {name!r}")
        path = self.final_dir / safe
        if not inside(self.root, path):
            raise FetchError(f"file name {name!r} would leave the asset store {self.root}")
        return path


class HashWorker:
    """Hashes in a background thread while the downloader writes (hashlib and blake3 release the GIL).

    ``update`` copies the data (the caller reuses its buffer) into a bounded queue: at most ``depth`` MiB
    are in flight, so memory stays constant and a slow hasher slows the download instead of piling up.
    """

    INLINE = frozenset({"blake3"})  # GB/s: a thread and a copy would cost more than they save

    def __init__(self, algorithm: str, depth: int = 8) -> None:
        self.algorithm = algorithm
        self.hasher: Hasher = new_hasher(algorithm)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="fetch-hash", daemon=True)
        self.inline = algorithm in self.INLINE
        if not self.inline:
            self._thread.start()

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            try:
                if data is None:
                    return
                self.hasher.update(data)
            finally:
                self._queue.task_done()

    def update(self, data: bytes | memoryview) -> None:
        if self.inline:
            self.hasher.update(data)
        else:
            self._queue.put(bytes(data))

    def reset(self) -> None:
        self._queue.join()
        self.hasher = new_hasher(self.algorithm)

    def hexdigest(self) -> str:
        self._queue.join()
        return self.hasher.hexdigest()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class PartFile:
    """An exclusive, resumable partial download that hashes what it holds.

    ``href`` identifies the content: a leftover ``.part`` of another href is discarded, not resumed.
    """

    def __init__(self, path: Path, href: str, algorithm: str) -> None:
        self.path = path
        self.meta = path.with_name(path.name + ".json")
        self.algorithm = algorithm
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = open(path, "a+b")  # noqa: SIM115 - closed in close()
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise Busy(f"{path} is being written by another eocat process; try again when it has finished") from None
        if self._recorded_href() != href:
            self._file.truncate(0)
            self._write_meta(href)
        self.size = self._file.seek(0, os.SEEK_END)
        self.resumed_from = self.size
        self.hasher = HashWorker(algorithm)
        self._hash_existing()

    def _recorded_href(self) -> str | None:
        try:
            return str(orjson.loads(self.meta.read_bytes())["href"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_meta(self, href: str) -> None:
        self.meta.write_bytes(orjson.dumps({"href": href}))

    def _hash_existing(self) -> None:
        self._file.seek(0)
        while chunk := self._file.read(1 << 20):
            self.hasher.update(chunk)
        self._file.seek(0, os.SEEK_END)

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes (the file is the only buffer: memory stays constant)."""
        self._file.write(data)
        self.hasher.update(data)
        self.size += len(data)

    def restart(self) -> None:
        """Drop what was received (the server ignored or refused the Range request)."""
        self._file.truncate(0)
        self._file.seek(0)
        self.size = 0
        self.resumed_from = 0
        self.hasher.reset()

    def flush(self) -> None:
        """Make received bytes durable enough to survive a crash of this process."""
        self._file.flush()

    def close(self) -> None:
        """Release the lock (the partial file stays for a later resume); closing twice is harmless."""
        self.hasher.stop()
        if self._file.closed:
            return
        with contextlib.suppress(OSError):
            self._file.flush()
        self._file.close()

    def hexdigest(self) -> str:
        return self.hasher.hexdigest()

    def discard_if_empty(self) -> None:
        """Close; remove the partial file when nothing was received (a kept one is resumed next time)."""
        empty = not self._file.closed and self.size == 0
        self.close()
        if empty:
            self.path.unlink(missing_ok=True)
            self.meta.unlink(missing_ok=True)

    def publish(self, final: Path) -> None:
        """fsync, then atomically rename to ``final`` (same file system), then fsync the directory."""
        self._file.flush()
        os.fsync(self._file.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        _fsync_dir(final.parent)
        self.meta.unlink(missing_ok=True)
        self.close()

    def quarantine(self, root: Path, label: str) -> Path:
        """Move the bytes out of the way, into ``root/.quarantine``, and return where they went."""
        self._file.flush()
        target = root / ".quarantine" / f"{sanitize(label) or 'asset'}-{time.strftime('%Y%m%dT%H%M%S')}.bad"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)
        self.meta.unlink(missing_ok=True)
        self.close()
        return target


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a whole file, read in 1 MiB chunks."""
    hasher = new_hasher(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
