"""Generic retry policy: exponential backoff with jitter, honouring ``Retry-After`` (seconds or HTTP date).

Shared by the fetch layer and (re-exported) by ``indexer.http``: the catalogue must not import the
indexer, so the generic pieces live here.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class RetryPolicy:
    """How often and how long to wait: ``backoff`` doubles per attempt, capped at ``max_wait``."""

    attempts: int = 8
    backoff: float = 0.5  # first wait, doubled each attempt
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``Retry-After`` wins, still capped)."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return min(self.max_wait, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def retry_after_headers(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), if any."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


retry_after_seconds = retry_after_headers
