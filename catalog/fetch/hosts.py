"""Per-host connection limits shared by every job of a run (CDSE allows 4 concurrent downloads per user)."""

from __future__ import annotations

import contextlib
import fnmatch
import threading
from collections.abc import Callable, Iterator

DEFAULT_LIMIT = 8


class HostLimits:
    """Semaphores per ``host[:port]``; limits set by exact host or glob (``*.dataspace.copernicus.eu``)."""

    def __init__(self, default: int = DEFAULT_LIMIT) -> None:
        self.default = default
        self._rules: dict[str, int] = {}
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self.peak: dict[str, int] = {}
        self._active: dict[str, int] = {}
        self._sources: list[Callable[[], dict[str, int]]] = []

    def add_source(self, source: Callable[[], dict[str, int]]) -> None:
        """Limits computed when a host is first used (endpoints may be configured late, e.g. by env)."""
        self._sources.append(source)

    def set(self, pattern: str, limit: int) -> None:
        """Allow at most ``limit`` concurrent connections to hosts matching ``pattern``."""
        with self._lock:
            self._rules[pattern.lower()] = max(1, limit)

    def limit_of(self, host: str) -> int:
        host = host.lower()
        for source in self._sources:
            for pattern, limit in source().items():
                if pattern.lower() == host or fnmatch.fnmatchcase(host, pattern.lower()):
                    return max(1, limit)
        if host in self._rules:
            return self._rules[host]
        for pattern, limit in self._rules.items():
            if fnmatch.fnmatchcase(host, pattern):
                return limit
        return self.default

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one connection slot of ``host`` for the duration of the block."""
        with self._lock:
            semaphore = self._semaphores.get(host)
            if semaphore is None:
                semaphore = self._semaphores[host] = threading.BoundedSemaphore(self.limit_of(host))
        with semaphore:
            with self._lock:
                self._active[host] = self._active.get(host, 0) + 1
                self.peak[host] = max(self.peak.get(host, 0), self._active[host])
            try:
                yield
            finally:
                with self._lock:
                    self._active[host] -= 1
