"""Switchable faults (429, 5xx, dropped connections, truncated bodies, delays) and request counters.

Decisions are deterministic given the fault seed: the n-th request for the same method and URL draws
``blake2b(seed, method, url, n)``, so interleaving of concurrent clients does not change which
request fails. ``fail_next`` queues exact faults for precise tests and wins over rates.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("429", "500", "502", "503", "drop", "truncate", "delay")


@dataclass(frozen=True)
class FaultRule:
    """Rates (0..1) of each fault for requests under ``path`` (a prefix; None = everywhere)."""

    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    rate_truncate: float = 0.0
    delay_s: float = 0.0
    path: str | None = None


@dataclass(frozen=True)
class Fault:
    """The fault applied to one request: ``kind`` in KINDS (or "none"), with its parameters."""

    kind: str
    retry_after: int = 1
    delay_s: float = 0.0


@dataclass
class _Queued:
    remaining: int
    fault: Fault
    path: str | None


class FaultPlan:
    """Runtime-switchable fault configuration, shared by all server threads."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rules: dict[str | None, FaultRule] = {}
        self._queue: list[_Queued] = []
        self._seen: Counter[str] = Counter()

    def set(
        self,
        rate_429: float = 0.0,
        retry_after: int = 1,
        rate_5xx: float = 0.0,
        rate_drop: float = 0.0,
        rate_truncate: float = 0.0,
        delay_s: float = 0.0,
        path: str | None = None,
        seed: int | None = None,
    ) -> None:
        """Replace the rule for ``path`` (a path prefix such as ``/odata/v1/Products``; None = global)."""
        rule = FaultRule(rate_429, retry_after, rate_5xx, rate_drop, rate_truncate, delay_s, path)
        if rate_429 + rate_5xx + rate_drop + rate_truncate > 1:
            raise ValueError("fault rates add up to more than 1")
        with self._lock:
            self._rules[path] = rule
            if seed is not None:
                self.seed = seed
                self._seen.clear()

    def fail_next(
        self, n: int = 1, kind: str = "500", path: str | None = None, retry_after: int = 1, delay_s: float = 1.0
    ) -> None:
        """Make the next ``n`` requests (under ``path``) fail with ``kind`` (one of KINDS)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose from {KINDS}")
        with self._lock:
            self._queue.append(_Queued(n, Fault(kind, retry_after, delay_s if kind == "delay" else 0.0), path))

    def clear(self) -> None:
        """No faults any more (rules and queued faults dropped)."""
        with self._lock:
            self._rules.clear()
            self._queue.clear()
            self._seen.clear()

    def decide(self, method: str, path: str, url: str) -> Fault:
        """The fault for this request (consumes a queued one if any applies)."""
        with self._lock:
            for q in self._queue:
                if q.path is None or path.startswith(q.path):
                    q.remaining -= 1
                    if q.remaining <= 0:
                        self._queue.remove(q)
                    return q.fault
            rule = self._rule(path)
            if rule is None:
                return Fault("none")
            key = f"{method} {url}"
            n = self._seen[key]
            self._seen[key] += 1
        digest = hashlib.blake2b(f"{self.seed}|{key}|{n}".encode(), digest_size=8).digest()
        u = int.from_bytes(digest, "big") / 2**64
        for kind, rate in (
            ("429", rule.rate_429),
            ("5xx", rule.rate_5xx),
            ("drop", rule.rate_drop),
            ("truncate", rule.rate_truncate),
        ):
            if u < rate:
                if kind == "5xx":
                    kind = ("500", "502", "503")[int(u / rate * 3) % 3]
                return Fault(kind, rule.retry_after, rule.delay_s)
            u -= rate
        return Fault("delay" if rule.delay_s > 0 else "none", rule.retry_after, rule.delay_s)

    def _rule(self, path: str) -> FaultRule | None:
        best: FaultRule | None = None
        for prefix, rule in self._rules.items():
            if prefix is not None and path.startswith(prefix) and (best is None or len(prefix) > len(best.path or "")):
                best = rule
        return best or self._rules.get(None)


@dataclass
class RequestStats:
    """Counters of handled requests: per path, per status, per (path, status), and per fault kind.

    Dropped connections count with status 0.
    """

    total: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    by_path_status: Counter[tuple[str, int]] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, path: str, status: int, fault: str = "none") -> None:
        """Count one request."""
        with self._lock:
            self.total += 1
            self.by_path[path] += 1
            self.by_status[status] += 1
            self.by_path_status[(path, status)] += 1
            if fault != "none":
                self.faults[fault] += 1

    def count(self, path: str | None = None, status: int | None = None) -> int:
        """Requests under ``path`` (prefix) with ``status`` (None = any)."""
        with self._lock:
            return sum(
                n
                for (p, s), n in self.by_path_status.items()
                if (path is None or p.startswith(path)) and (status is None or s == status)
            )

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.total = 0
            self.by_path.clear()
            self.by_status.clear()
            self.by_path_status.clear()
            self.faults.clear()
