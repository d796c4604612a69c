"""A lean HTTP/1.1 client for bulk bodies: ``http.client`` with ``readinto`` a reused 1 MiB buffer.

httpx costs several Python calls per 64 KiB chunk; for multi-GiB downloads on a fast link that CPU is the
bottleneck. This path does one ``readinto`` per MiB and hands memoryviews straight to the part file and the
hasher. It follows redirects by hand like :func:`catalog.fetch.http.open_final` (credentials per hop from
the authenticator) and opens one connection per request (downloads are long; pooling buys nothing).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from collections.abc import Iterator, Mapping
from functools import lru_cache

import httpx

from catalog.fetch.errors import FetchError
from catalog.fetch.session import USER_AGENT, Authenticator

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10
# network failures worth a retry (a full disk is an OSError too, but not one of these)
TRANSPORT_ERRORS = (ConnectionError, TimeoutError, socket.gaierror, ssl.SSLError, http.client.HTTPException)


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class RawResponse:
    """Status, headers and a body to ``readinto`` (or ``read`` when small)."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse, url: str) -> None:
        self._connection = connection
        self._response = response
        self.url = url
        self.status_code = response.status
        self.headers = httpx.Headers(response.getheaders())
        self.body: bytes | None = None  # a small body already read (error details)

    def readinto(self, buffer: memoryview) -> int:
        return self._response.readinto(buffer)

    def read(self, limit: int = 1 << 20) -> bytes:
        return self._response.read(limit)

    def close(self) -> None:
        self._response.close()
        self._connection.close()


def _connect(url: httpx.URL, timeout: float) -> http.client.HTTPConnection:
    port = url.port
    if url.scheme == "https":
        return http.client.HTTPSConnection(url.host, port, timeout=timeout, context=_tls())
    if url.scheme == "http":
        return http.client.HTTPConnection(url.host, port, timeout=timeout)
    raise FetchError(f"unsupported URL scheme {url.scheme!r}")


def _send(method: str, url: httpx.URL, headers: Mapping[str, str], timeout: float) -> RawResponse:
    connection = _connect(url, timeout)
    try:
        target = url.raw_path.decode("ascii")
        connection.request(method, target, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
    except BaseException:
        connection.close()
        raise
    return RawResponse(connection, response, str(url))


@contextlib.contextmanager
def open_raw(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    auth: Authenticator | None = None,
    repost: bool = False,
    timeout: float = 300.0,
) -> Iterator[RawResponse]:
    """Send ``method url``, following redirects by hand; yield the final response (body unread)."""
    for _ in range(MAX_REDIRECTS + 1):
        target = httpx.URL(url)
        sent = dict(headers or {})
        if auth is not None:
            sent.update(auth.headers(target))
        response = _send(method, target, sent, timeout)
        status = response.status_code
        if status in REDIRECTS and "location" in response.headers:
            response.close()
            url = str(target.join(response.headers["location"]))
            if status == 303 or (status in (301, 302) and method == "POST" and not repost):
                method = "GET"
            continue
        try:
            yield response
        finally:
            response.close()
        return
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")
