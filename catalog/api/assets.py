"""On-demand assets: start a materialization, answer 202 while it runs, 307 to the local copy when done.

The API does not know how to fetch anything itself: it is given a *materializer*, a blocking
callable ``(item, asset_key, dest_dir) -> Path`` that writes the asset somewhere under
``dest_dir`` and returns the file (the fetch layer, :mod:`catalog.fetch`, plugs in here). Without
one the endpoint answers 501. Jobs run in a small thread pool; their state lives in this process,
so with several workers a poll that lands on another worker starts the job there too: a
materializer must therefore be idempotent (a cache-backed fetch is).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Materializer = Callable[[dict[str, Any], str, Path], Path]
JobKey = tuple[str, str, str]  # (collection, item id, asset key)


@dataclass
class JobState:
    """What the endpoint answers: ``running`` (202), ``done`` (307 to ``path``), ``failed`` (502)."""

    status: str
    path: Path | None = None
    error: str | None = None


class AssetJobs:
    """Materialization jobs keyed by (collection, item, asset); a failed job is retried on the next call."""

    def __init__(self, materializer: Materializer | None, root: Path, *, workers: int = 4) -> None:
        self.materializer = materializer
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._jobs: dict[JobKey, Future[Path]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._workers = workers

    @property
    def available(self) -> bool:
        return self.materializer is not None

    def request(self, item: dict[str, Any], asset_key: str) -> JobState:
        """Start (or look up) the job for one asset of an item."""
        assert self.materializer is not None
        materializer = self.materializer
        key: JobKey = (str(item.get("collection")), str(item["id"]), asset_key)
        with self._lock:
            future = self._jobs.get(key)
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="eocat-asset")
                dest = self.root / _safe(key[0]) / _safe(key[1])
                future = self._pool.submit(materializer, item, asset_key, dest)
                self._jobs[key] = future
        if not future.done():
            return JobState("running")
        error = future.exception()
        if error is not None:
            self._forget(key, future)  # reported once; the next request starts again
            return JobState("failed", error=str(error) or type(error).__name__)
        path = Path(future.result()).resolve()
        if not path.is_file() or not path.is_relative_to(self.root):
            self._forget(key, future)
            return JobState("failed", error=f"the materializer returned {path}, not a file under {self.root}")
        return JobState("done", path=path)

    def _forget(self, key: JobKey, future: Future[Path]) -> None:
        with self._lock:
            if self._jobs.get(key) is future:
                del self._jobs[key]

    def local_path(self, relative: str) -> Path | None:
        """The served file for an ``/assets/…`` path, or None when it is not a file under the root."""
        path = (self.root / relative).resolve()
        return path if path.is_relative_to(self.root) and path.is_file() else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _safe(part: str) -> str:
    """A path component from an id: no separators, no dot-only names."""
    cleaned = "".join(char if char.isalnum() or char in "-_.=" else "_" for char in part)
    return cleaned if cleaned.strip(".") else "_"
