"""A sliding-window rate limiter: at most N calls in any window (ASF SearchAPI: 250 queries per minute)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Blocks in :meth:`acquire` until a call fits under ``limit`` per ``window_s``; thread-safe.

    ``limit=None`` never waits. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        limit: int | None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("a rate limit must allow at least one call per window")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds spent waiting, for reports and tests

    def acquire(self) -> None:
        """Wait (if needed) and count one call."""
        if self.limit is None:
            return
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and self._calls[0] <= now - self.window_s:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return
                wait = self._calls[0] + self.window_s - now
            self.waited += wait
            self._sleep(wait)
