"""HTTP with retries: backoff with jitter, honouring Retry-After, for flaky upstreams.

Retried: 429, 500, 502, 503, 504, connection errors, dropped connections and truncated bodies
(the body is read inside the retry loop, so a short read is just another failed attempt).
Everything else is returned to the caller, who decides what a 4xx means.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import httpx

from catalog.fetch.retry import RETRY_STATUS, RetryPolicy, retry_after_headers
from indexer.errors import UpstreamError

log = logging.getLogger("eocat.http")
USER_AGENT = "eocat/0.1"
__all__ = ["RETRY_STATUS", "RetryPolicy", "get_json", "new_client", "request", "retry_after_seconds"]


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if any."""
    return retry_after_headers(response.headers)


def new_client(max_connections: int = 4, timeout: float = 60.0) -> httpx.Client:
    """An httpx client with at most ``max_connections`` connections (CDSE allows 4) and TLS verified."""
    return httpx.Client(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        timeout=httpx.Timeout(timeout, connect=20.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=True,
    )


def request(
    client: httpx.Client, method: str, url: str, *, policy: RetryPolicy | None = None, **kwargs: Any
) -> httpx.Response:
    """Send a request, retrying transient failures; the returned response's body is fully read."""
    policy = policy or RetryPolicy()
    last: str = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            response = client.request(method, url, **kwargs)
            response.read()
        except (httpx.TransportError, httpx.DecodingError) as exc:
            last = f"{type(exc).__name__}: {exc}"
            wait = None
        else:
            if response.status_code not in RETRY_STATUS:
                return response
            last = f"HTTP {response.status_code}"
            wait = retry_after_seconds(response)
        if attempt == policy.attempts:
            break
        if wait is None:
            wait = min(policy.max_wait, policy.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        log.info("retrying %s %s after %s (attempt %d, waiting %.1fs)", method, _redact(url), last, attempt, wait)
        policy.sleep(min(wait, policy.max_wait))
    raise UpstreamError(f"{method} {_redact(url)} failed after {policy.attempts} attempts: {last}")


def get_json(client: httpx.Client, url: str, *, policy: RetryPolicy | None = None, **kwargs: Any) -> Any:
    """GET a JSON document with retries; a truncated or non-JSON 200 counts as a transient failure."""
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        response = request(client, "GET", url, policy=policy, **kwargs)
        if response.status_code != 200:
            raise UpstreamError(f"GET {_redact(url)} answered HTTP {response.status_code}: {response.text[:500]}")
        try:
            return response.json()
        except ValueError:
            if attempt == policy.attempts:
                raise UpstreamError(f"GET {_redact(url)} returned malformed JSON {attempt} times") from None
            policy.sleep(min(policy.max_wait, policy.backoff * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")


def _redact(url: str) -> str:
    """A URL safe to log: query values named like secrets are hidden."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url
    params = [
        (k, "***" if k.lower() in ("token", "access_token", "password") else v) for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))
