"""The one HTTP layer of eocat: every harvester and the fetch layer talk to upstreams through it.

* **Clients**: :func:`new_client` (user agent, timeouts, connection limits, TLS verified, redirects not
  followed implicitly).
* **Retries**: :class:`RetryPolicy` (exponential backoff with jitter, ``Retry-After`` in seconds or as an
  HTTP date wins, capped) over :data:`RETRY_STATUS`, dropped connections and truncated bodies. A host that
  cannot be reached at all (connection refused, unknown name, connect timeout) gets only
  ``connect_attempts`` tries with short waits, then one clear line (:class:`Unreachable`).
* **Redirects and credentials**: :func:`follow_redirects` follows redirects by hand and asks the
  :class:`Credentials` for headers at every hop, so a token goes only to the hosts it trusts (CDSE re-sends
  its Bearer to the download host; nothing goes to a storage host). The streaming download path
  (``catalog/fetch/http.py``, ``catalog/fetch/rawhttp.py``) plugs its own ``send`` into the same loop.
* **Showing URLs**: :func:`redact` hides every secret-bearing query parameter (tokens, signatures,
  credentials of pre-signed S3/Azure/DestinE URLs) before a URL reaches a message or a log.
"""

from __future__ import annotations

import email.utils
import errno
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote_plus

import httpx
import orjson

from catalog.errors import EocatError

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECT_STATUS",
    "RETRY_STATUS",
    "SECRET_PARAMS",
    "USER_AGENT",
    "Credentials",
    "RetryPolicy",
    "Unreachable",
    "UpstreamError",
    "follow_redirects",
    "get_json",
    "is_unreachable",
    "new_client",
    "redact",
    "redirect_method",
    "request",
    "retry_after",
    "unreachable",
]

log = logging.getLogger("eocat.http")

USER_AGENT = "eocat/0.1"
CONNECT_TIMEOUT = 20.0
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10

SECRET_PARAMS = frozenset(
    {
        # OAuth / generic
        "token", "access_token", "refresh_token", "id_token", "code", "password", "passwd", "secret",
        "client_secret", "api_key", "apikey", "key", "auth", "authorization", "session", "sessionid",
        # pre-signed URLs: AWS S3 (SigV4 and V2), Azure SAS, Google Cloud Storage, DestinE streamer
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid",
        "sig", "x-goog-signature", "x-goog-credential",
    }
)  # fmt: skip
"""Query parameter names (lower case) whose values :func:`redact` hides."""


class UpstreamError(EocatError):
    """An upstream service kept failing (after retries) or answered something unusable."""


class Unreachable(UpstreamError):
    """An upstream host could not be reached at all (refused, unknown name, connect timeout)."""


class Credentials(Protocol):
    """What the HTTP layer needs from an authenticator: headers for one hop (empty for untrusted hosts)."""

    def headers(self, url: httpx.URL) -> dict[str, str]:
        """Headers to send to ``url``."""
        ...


@dataclass
class RetryPolicy:
    """How often and how long to wait: ``backoff`` doubles per attempt, capped at ``max_wait``.

    ``connect_attempts`` bounds the tries against a host that cannot be reached at all (a refused
    connection rarely heals within seconds; the user should hear about it at once).
    """

    attempts: int = 8
    backoff: float = 0.5  # first wait, doubled each attempt
    max_wait: float = 60.0
    connect_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``Retry-After`` wins, still capped)."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return min(self.max_wait, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def retry_after(headers: Mapping[str, str]) -> float | None:
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


def new_client(max_connections: int = 4, timeout: float = 60.0, read_timeout: float | None = None) -> httpx.Client:
    """An httpx client: at most ``max_connections`` connections (CDSE allows 4), eocat's user agent, TLS
    verified, redirects left to the caller (:func:`follow_redirects` applies the credential rules)."""
    return httpx.Client(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT, read=read_timeout if read_timeout else timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=True,
    )


def redact(url: str | httpx.URL) -> str:
    """A URL safe to show: the values of secret-bearing query parameters become ``***``; user info goes."""
    parsed = httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if not parsed.query:
        return str(parsed)
    pieces = []
    for piece in parsed.query.decode("ascii", "replace").split("&"):
        name, equals, _value = piece.partition("=")
        pieces.append(f"{name}=***" if equals and unquote_plus(name).lower() in SECRET_PARAMS else piece)
    return str(parsed.copy_with(query="&".join(pieces).encode("ascii", "replace")))


# -- failures ------------------------------------------------------------------------------------------

_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}


def is_unreachable(exc: BaseException) -> bool:
    """True for failures to reach a host at all (as opposed to a connection that broke mid-way)."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | socket.gaierror | ConnectionRefusedError):
        return True
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, OSError) and is_unreachable(cause)


def unreachable(method: str, url: str | httpx.URL, exc: BaseException, attempts: int) -> Unreachable:
    """The one-line error for a host that could not be reached."""
    target = httpx.URL(url)
    where = f"{target.host}:{target.port}" if target.port else target.host
    return Unreachable(
        f"cannot reach {where} ({_reason(exc)}) after {attempts} attempt{'s' if attempts != 1 else ''}: "
        f"{method} {redact(target)}; is the service running and the address right?"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectTimeout | TimeoutError):
        return "connect timeout"
    if isinstance(exc, socket.gaierror) or "name or service not known" in str(exc).lower():
        return "unknown host name"
    text = str(exc).strip()
    if "]" in text and text.startswith("[Errno"):
        text = text.split("]", 1)[1].strip()
    return text or type(exc).__name__


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    httpx.DecodingError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    ssl.SSLError,
)
"""Network failures worth a retry (a full disk is an ``OSError`` too, but not one of these)."""


# -- redirects -----------------------------------------------------------------------------------------


class _Hop(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def close(self) -> None: ...


HopT = TypeVar("HopT", bound=_Hop)


def redirect_method(status: int, method: str, repost: bool = False) -> str:
    """The method for the next hop: 303 always GETs; 301/302 turn a POST into a GET unless ``repost``."""
    if status == 303 or (status in (301, 302) and method == "POST" and not repost):
        return "GET"
    return method


def follow_redirects(
    send: Callable[[str, httpx.URL, dict[str, str]], HopT],
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    auth: Credentials | None = None,
    repost: bool = False,
) -> HopT:
    """Send ``method url`` with ``send(method, url, headers)`` and follow redirects by hand.

    At every hop the credentials are asked again for the headers of *that* URL, so a token never follows
    a redirect to a host it does not trust. Returns the final response (unread); closes the others.
    """
    for _ in range(MAX_REDIRECTS + 1):
        target = httpx.URL(url)
        sent = dict(headers or {})
        if auth is not None:
            sent.update(auth.headers(target))
        response = send(method, target, sent)
        status = response.status_code
        if status in REDIRECT_STATUS and "location" in response.headers:
            response.close()
            url = str(target.join(response.headers["location"]))
            method = redirect_method(status, method, repost)
            continue
        return response
    raise UpstreamError(f"more than {MAX_REDIRECTS} redirects from {redact(url)}")


# -- requests with retries -----------------------------------------------------------------------------


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    auth: Credentials | None = None,
    follow: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request, retrying transient failures; the returned response's body is fully read.

    With ``follow`` (or ``auth``) redirects are followed by :func:`follow_redirects`. Raises
    :class:`Unreachable` when the host cannot be reached, :class:`UpstreamError` when retries run out.
    """
    policy = policy or RetryPolicy()
    headers = kwargs.pop("headers", None)

    def send(hop_method: str, target: httpx.URL, sent: dict[str, str]) -> httpx.Response:
        return client.request(hop_method, target, headers=sent, **kwargs)

    last = ""
    connect_failures = 0
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            if follow or auth is not None:
                response = follow_redirects(send, method, url, headers, auth)
            else:
                response = send(method, httpx.URL(url), dict(headers or {}))
            response.read()
            # httpx's response and its bound stream refer to each other, so a read body (a 3.6 MB
            # page of a harvest) would wait for the cyclic collector; a stream of the read bytes
            # has no way back, and the response goes when its last user lets it go.
            response.stream = httpx.ByteStream(response.content)
        except TRANSPORT_ERRORS as exc:
            if is_unreachable(exc):
                connect_failures += 1
                if connect_failures >= policy.connect_attempts:
                    raise unreachable(method, url, exc, connect_failures) from None
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code not in RETRY_STATUS:
                return response
            last = f"HTTP {response.status_code}"
            wait = retry_after(response.headers)
        if attempt == policy.attempts:
            break
        delay = policy.wait(attempt, wait)
        log.info("retrying %s %s after %s (attempt %d, waiting %.1fs)", method, redact(url), last, attempt, delay)
        policy.sleep(delay)
    raise UpstreamError(f"{method} {redact(url)} failed after {policy.attempts} attempts: {last}")


def get_json(client: httpx.Client, url: str, *, policy: RetryPolicy | None = None, **kwargs: Any) -> Any:
    """GET a JSON document with retries; a truncated or non-JSON 200 counts as a transient failure."""
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        response = request(client, "GET", url, policy=policy, **kwargs)
        if response.status_code != 200:
            raise UpstreamError(f"GET {redact(url)} answered HTTP {response.status_code}: {response.text[:500]}")
        try:
            return orjson.loads(response.content)  # 3-4x faster than httpx's json.loads, smaller objects
        except ValueError:
            if attempt == policy.attempts:
                raise UpstreamError(f"GET {redact(url)} returned malformed JSON {attempt} times") from None
            policy.sleep(policy.wait(attempt))
    raise AssertionError("unreachable")
