"""ASF fetch plugin: the ``earthdata`` authenticator and the ``asf-extractor`` step (``reference/asf.md`` §5).

``asf-extractor``: GET href with the ``asf-urs`` cookie (sent to ASF hosts only), then

* 202 → poll with backoff and ±20 % jitter (2, 4, 8, then every 15 s; ``Retry-After`` wins) until
  ``$EOCAT_ASF_POLL_DEADLINE`` seconds (default 600; first wait ``$EOCAT_ASF_POLL_INTERVAL``, default 2);
* 307 to the login service (or EDL) → log in (once per run), then retry; 307 elsewhere → the product on
  the storage host, downloaded **without** Authorization or cookies (Range resume, retries, verification);
* 403 → log in again once, then fail clearly; 404 → fail with the server's ``errors`` list; 429/5xx → retry.
"""

from __future__ import annotations

import fnmatch
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from catalog.fetch import (
    AuthFailed,
    Delivery,
    FetchError,
    FetchSession,
    Job,
    NotFetchable,
    register_auth,
    register_host_limits,
    register_step,
)
from catalog.fetch.http import download
from catalog.http import RETRY_STATUS, redact, retry_after
from indexer.earthdata import EarthdataLogin, auth_url
from indexer.endpoints import endpoint

ASF_HOSTS = ("*.asf.alaska.edu",)
EXTRACTOR_LIMIT = 10


def asf_hosts() -> list[str]:
    """Hosts that may receive the ``asf-urs`` cookie."""
    return [httpx.URL(endpoint("asf_burst")).netloc.decode(), *ASF_HOSTS]


@dataclass
class PollPolicy:
    """How to wait for an extraction job (``reference/asf.md`` §5.3)."""

    first: float = 2.0
    cap: float = 15.0
    deadline: float = 600.0
    jitter: float = 0.2

    @classmethod
    def from_environment(cls) -> PollPolicy:
        return cls(
            first=float(os.environ.get("EOCAT_ASF_POLL_INTERVAL") or 2.0),
            deadline=float(os.environ.get("EOCAT_ASF_POLL_DEADLINE") or 600.0),
        )

    def wait(self, polls: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        base = min(self.cap, self.first * 2 ** (polls - 1))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class EarthdataAuth:
    """The ``earthdata`` scheme: the run's ``asf-urs`` cookie for ASF hosts only."""

    def __init__(self, session: FetchSession, document: Mapping[str, Any]) -> None:
        self.login = EarthdataLogin.from_environment(session.client)
        self.hosts = asf_hosts()

    def headers(self, url: httpx.URL) -> dict[str, str]:
        host = (url.host or "").lower()
        trusted = any(url.netloc.decode() == h or fnmatch.fnmatchcase(host, h) for h in self.hosts)
        if not trusted or self.login.cookie is None:
            return {}
        return {"Cookie": f"asf-urs={self.login.cookie}"}

    def renew(self, response: httpx.Response | None) -> bool:
        self.login.login(seen=self.login.generation)
        return True


def _is_login(location: httpx.URL, extractor: httpx.URL) -> bool:
    """A redirect to ASF's login service or to EDL (as opposed to the product on a storage host)."""
    login_hosts = {httpx.URL(auth_url()).netloc, httpx.URL(endpoint("edl")).netloc}
    return (
        location.netloc in login_hosts
        or location.path.startswith("/loginservice/")
        or (location.netloc == extractor.netloc and "login" in location.path)
    )


def _errors(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        listed = body.get("errors")
        if isinstance(listed, list) and listed:
            return "; ".join(str(e) for e in listed)
        return str(body.get("message") or body)
    return str(body)[:300]


def extractor_step(job: Job) -> Delivery:
    """``asf-extractor``: request, poll, authenticate, then download from the storage host."""
    auth = job.auth()
    if not isinstance(auth, EarthdataAuth):
        raise AuthFailed(f"asset {job.key!r}: the asf-extractor protocol needs auth:refs ['earthdata']")
    session, policy = job.session, PollPolicy.from_environment()
    url = httpx.URL(job.href)
    started = time.monotonic()
    polls = failures = logins = storage_refusals = 0
    reauthenticated = False
    while True:
        seen = auth.login.generation  # the login this request used: re-login only if nobody did since
        with session.limits.slot(url.netloc.decode()):
            response = session.client.get(url, headers=auth.headers(url), follow_redirects=False)
        status = response.status_code
        if status == 202:
            polls += 1
            if time.monotonic() - started > policy.deadline:
                raise FetchError(f"{redact(str(url))} still extracting after {policy.deadline:.0f} s ({polls} polls)")
            session.policy.sleep(policy.wait(polls, retry_after(response.headers)))
            continue
        if status in (301, 302, 303, 307, 308) and "location" in response.headers:
            location = url.join(response.headers["location"])
            if _is_login(location, url):
                logins += 1
                if logins > 2:
                    raise AuthFailed("the ASF login keeps redirecting to the login service; check the credentials")
                auth.login.login(str(location), seen=seen)
                continue
            try:
                delivery = download(job, str(location), auth=None)  # storage host: no Authorization, no cookie
            except AuthFailed:
                if storage_refusals:  # a presigned URL expired (e.g. a long resume): ask for a fresh one once
                    raise
                storage_refusals += 1
                continue
            delivery.extra["polls"] = polls
            return delivery
        if status == 403:
            if reauthenticated:
                raise AuthFailed(
                    f"{redact(str(url))} refused access after logging in again (HTTP 403): {_errors(response)}"
                )
            reauthenticated = True
            auth.login.login(seen=seen)
            continue
        if status == 404:
            raise NotFetchable(f"the ASF extractor has no such burst file ({redact(str(url))}): {_errors(response)}")
        if status in RETRY_STATUS:
            failures += 1
            if failures >= session.policy.attempts:
                raise FetchError(f"{redact(str(url))} answered HTTP {status} {failures} times: {_errors(response)}")
            session.policy.sleep(session.policy.wait(failures, retry_after(response.headers)))
            continue
        raise FetchError(f"{redact(str(url))} answered HTTP {status}: {_errors(response)}")


def host_limits() -> dict[str, int]:
    """About 10 concurrent requests per ASF host, as hyp3-isce2 does."""
    return dict.fromkeys(asf_hosts(), EXTRACTOR_LIMIT)


def register() -> None:
    """Entry point of the ``eocat.fetch`` plugin group."""
    register_auth("earthdata", EarthdataAuth)
    register_step("asf-extractor", extractor_step)
    register_host_limits(host_limits)
