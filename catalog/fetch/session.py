"""A fetch session: one HTTP client, host limits, retry policy, progress and authenticators for a run.

Authenticators are created once per scheme and shared by every job, so a run logs in once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from catalog.fetch.errors import AuthFailed
from catalog.fetch.hosts import HostLimits
from catalog.fetch.progress import NullReporter, Reporter
from catalog.http import Credentials, RetryPolicy, new_client


class Authenticator(Credentials, Protocol):
    """Credentials for one ``auth:schemes`` entry: ``headers(url)`` per hop (empty for hosts that must
    not see them, see :func:`catalog.http.follow_redirects`) and a way to renew them."""

    def renew(self, response: httpx.Response | None) -> bool:
        """After a refusal: refresh or log in again; False when that cannot help."""
        ...


AuthFactory = Callable[["FetchSession", Mapping[str, Any]], Authenticator]


class FetchSession:
    """Shared state of a fetch run. Thread-safe; close it (or use ``with``) when done."""

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        limits: HostLimits | None = None,
        policy: RetryPolicy | None = None,
        reporter: Reporter | None = None,
        auth_factories: Mapping[str, AuthFactory] | None = None,
        max_connections: int = 32,
    ) -> None:
        self._owns_client = client is None
        self.client = client or new_client(max_connections, timeout=60.0, read_timeout=300.0)
        self.limits = limits or HostLimits()
        self.policy = policy or RetryPolicy()
        self.reporter: Reporter = reporter or NullReporter()
        self._factories = dict(auth_factories or {})
        self._auth: dict[str, Authenticator] = {}
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {}  # per-run caches of protocol steps (closed with the session if closable)

    def authenticator(self, scheme: str, document: Mapping[str, Any]) -> Authenticator:
        """The run's authenticator for ``scheme`` (``oidc``, ``earthdata``, ``desp`` …), made on first use."""
        with self._lock:
            found = self._auth.get(scheme)
            if found is None:
                factory = self._factories.get(scheme)
                if factory is None:
                    raise AuthFailed(f"no authenticator for auth scheme {scheme!r} (is its provider plugin installed?)")
                found = self._auth[scheme] = factory(self, document)
            return found

    def close(self) -> None:
        for thing in [*self.state.values(), *self._auth.values()]:
            closer = getattr(thing, "close", None)
            if callable(closer):
                closer()
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> FetchSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
