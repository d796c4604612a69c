"""A lean HTTP/1.1 client for bulk bodies: ``http.client`` with ``readinto`` a reused 1 MiB buffer.

httpx costs several Python calls per 64 KiB chunk; for multi-GiB downloads on a fast link that CPU is the
bottleneck. This path does one ``readinto`` per MiB and hands memoryviews straight to the part file and the
hasher. Redirects and per-hop credentials are :func:`catalog.http.follow_redirects` (this module only
supplies the ``send``); it opens one connection per request (downloads are long; pooling buys nothing).
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
from collections.abc import Iterator, Mapping
from functools import lru_cache

import httpx

from catalog import http as layer
from catalog.fetch.errors import FetchError

# network failures worth a retry (a full disk is an OSError too, but not one of these)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (*layer.TRANSPORT_ERRORS, http.client.HTTPException)


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
        connection.request(method, target, headers={"User-Agent": layer.USER_AGENT, **headers})
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
    auth: layer.Credentials | None = None,
    repost: bool = False,
    timeout: float = 300.0,
) -> Iterator[RawResponse]:
    """Send ``method url``, following redirects by the HTTP layer's rules; yield the final response (body unread)."""

    def send(hop_method: str, target: httpx.URL, sent: dict[str, str]) -> RawResponse:
        return _send(hop_method, target, sent, timeout)

    response = layer.follow_redirects(send, method, url, headers, auth, repost)
    try:
        yield response
    finally:
        response.close()
