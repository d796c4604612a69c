"""Streaming HTTP downloads into a :class:`PartFile`: redirects, auth per host, Range resume, retries.

* Redirects are followed by hand, asking the authenticator for headers at every hop: credentials go only
  to the hosts it trusts (CDSE re-sends its Bearer to the download host; nothing goes to a storage host).
* A non-empty part file is resumed with ``Range: bytes=N-``: 206 appends, 200 restarts from zero, 400/416
  restarts without Range (CDSE's zipper is not known to honour Range).
* 429/5xx, dropped connections and short bodies are retried with backoff, honouring ``Retry-After``; the
  attempt counter starts over whenever bytes arrived, so a flaky but progressing transfer completes. A host
  that cannot be reached gets ``policy.connect_attempts`` tries, then one line (:class:`catalog.http.Unreachable`).

The rules (retry statuses, backoff, redirects and credentials per hop, redaction) are :mod:`catalog.http`'s;
this module streams bodies into part files on top of them.
* 401/403 (and CDSE's ``{"detail": "Expired signature!"}``, even on a 200) ask the authenticator to renew,
  at most twice, then fail clearly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping

import httpx

from catalog.fetch.errors import AuthFailed, FetchError, Missing
from catalog.fetch.job import Delivery, Job
from catalog.fetch.rawhttp import TRANSPORT_ERRORS, RawResponse, open_raw
from catalog.fetch.session import Authenticator, FetchSession
from catalog.http import RETRY_STATUS, Credentials, follow_redirects, is_unreachable, redact, retry_after, unreachable

__all__ = ["download", "http_step", "open_final", "redact"]

log = logging.getLogger("eocat.fetch")
CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class ShortRead(Exception):
    """The connection ended before Content-Length bytes arrived."""


@contextlib.contextmanager
def open_final(
    session: FetchSession,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    auth: Credentials | None = None,
    repost: bool = False,
    timeout: httpx.Timeout | None = None,
) -> Iterator[httpx.Response]:
    """Send ``method url`` with the session's client and follow redirects by the HTTP layer's rules;
    yield the final (streamed) response."""

    def send(hop_method: str, target: httpx.URL, sent: dict[str, str]) -> httpx.Response:
        request = session.client.build_request(
            hop_method, target, headers=sent, timeout=timeout or httpx.USE_CLIENT_DEFAULT
        )
        return session.client.send(request, stream=True)

    response = follow_redirects(send, method, url, headers, auth, repost)
    try:
        yield response
    finally:
        response.close()


def download(
    job: Job,
    url: str,
    *,
    method: str = "GET",
    auth: Authenticator | None = None,
    repost: bool = False,
    headers: Mapping[str, str] | None = None,
    use_range: bool = True,
    timeout: float = 300.0,
) -> Delivery:
    """Fill ``job.part`` with the body of ``url`` (resuming what it holds); return what the server said."""
    session, part, policy = job.session, job.part, job.session.policy
    failures = renewals = connect_failures = 0
    host = httpx.URL(url).netloc.decode()
    view = memoryview(bytearray(CHUNK))
    while True:
        offset = part.size
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        ranged = use_range and offset > 0
        if ranged:
            sent["Range"] = f"bytes={offset}-"
        received_before = part.size
        wait: float | None = None
        try:
            with session.limits.slot(host), open_raw(method, url, sent, auth, repost, timeout) as response:
                status = response.status_code
                if status in (401, 403) or _expired_on_200(response, job.asset):
                    detail = _excerpt(response)
                    if auth is not None and renewals < 2 and auth.renew(None):
                        renewals += 1
                        log.info("%s: HTTP %d (%s), credentials renewed", job.key, status, detail)
                        continue
                    raise AuthFailed(f"{redact(url)} refused access (HTTP {status}: {detail}); check the credentials")
                if status in RETRY_STATUS:
                    failures += 1
                    wait = retry_after(response.headers)
                    raise _Retry(f"HTTP {status}: {_excerpt(response)}")
                if ranged and status in (400, 416):
                    log.info("%s: Range refused (HTTP %d); downloading from the start", job.key, status)
                    part.restart()
                    use_range = False
                    continue
                if status == 206:
                    if _range_start(response.headers.get("content-range")) != offset:
                        part.restart()
                        use_range = False
                        continue
                elif status == 200:
                    if offset:
                        part.restart()  # the server ignored Range: the body starts at byte 0
                else:
                    kind = Missing if status in (404, 410) else FetchError
                    raise kind(f"{method} {redact(url)} answered HTTP {status}: {_excerpt(response)}")
                declared = response.headers.get("content-length")
                total = part.size + int(declared) if declared is not None else None
                job.bar.total(total)
                job.bar.reset(part.size)
                while filled := response.readinto(view):
                    while filled < len(view) and (n := response.readinto(view[filled:])):
                        filled += n  # whole buffers: one write and one hash update per MiB, not per recv
                    part.write(view[:filled])
                    job.bar.advance(filled)
                part.flush()
                if total is not None and part.size != total:
                    raise ShortRead(f"got {part.size} of {total} bytes")
                return Delivery(
                    disposition=response.headers.get("content-disposition"),
                    media_type=response.headers.get("content-type"),
                    length=total,
                )
        except _RETRIED as exc:
            part.flush()
            if is_unreachable(exc):
                connect_failures += 1
                if connect_failures >= policy.connect_attempts:
                    raise unreachable(method, url, exc, connect_failures) from None
                delay = policy.wait(connect_failures)
                log.info("%s: %s; retrying in %.1fs", job.key, exc, delay)
                policy.sleep(delay)
                continue
            if part.size > received_before:
                failures = 0
            failures += 0 if isinstance(exc, _Retry) else 1
            if failures >= policy.attempts:
                raise FetchError(
                    f"{method} {redact(url)} failed {failures} times in a row ({type(exc).__name__}: {exc}); "
                    "run the fetch again to resume"
                ) from None
            delay = policy.wait(max(failures, 1), wait)
            log.info("%s: %s; retrying in %.1fs from byte %d", job.key, exc, delay, part.size)
            policy.sleep(delay)


class _Retry(Exception):
    """A retryable HTTP status."""


_RETRIED: tuple[type[BaseException], ...] = (_Retry, ShortRead, *TRANSPORT_ERRORS)


def _range_start(header: str | None) -> int | None:
    m = _CONTENT_RANGE.fullmatch((header or "").strip())
    return int(m.group(1)) if m else None


def _expired_on_200(response: RawResponse, asset: Mapping[str, object]) -> bool:
    """CDSE answers some auth failures with a JSON ``detail`` on HTTP 200: spot it when JSON is unexpected."""
    if response.status_code != 200 or "json" in str(asset.get("type") or ""):
        return False
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    if int(response.headers.get("content-length") or 0) > 4096:
        return False
    response.body = response.read(4096)
    return any(word in response.body.decode("utf-8", "replace") for word in ("Expired signature", "Unauthorized"))


def _excerpt(response: RawResponse) -> str:
    """A short, readable account of an error body (JSON ``detail``/``message``/``errors`` or text)."""
    try:
        data = response.body if response.body is not None else response.read(65536)
    except (*TRANSPORT_ERRORS,):
        return "(no body)"
    text = data.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return re.sub(r"\s+", " ", text)[:300] or "(empty body)"
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("detail", "message", "error", "error_description") if body.get(k)]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts.append("; ".join(str(e) for e in errors))
        if parts:
            return " - ".join(parts)[:500]
    return str(body)[:300]


def http_step(job: Job) -> Delivery:
    """The default step (``eocat:protocol`` absent or ``"http"``): GET href with the asset's auth."""
    return download(job, job.href, auth=job.auth())
