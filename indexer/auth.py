"""Credentials and OAuth2 tokens (Keycloak password and refresh grants), reused, never logged.

Credentials come from the environment (``<PREFIX>_USERNAME``/``<PREFIX>_PASSWORD``, optional
``<PREFIX>_TOTP``) or ``~/.netrc`` (the machine of the token URL); never from the command line.
Tokens are reused until shortly before they expire, refreshed with the refresh token while it
lives, and obtained anew by password once it has expired. They are cached for other processes
in a user-only file under ``$XDG_CACHE_HOME/eocat`` (set ``EOCAT_TOKEN_CACHE=0`` to disable),
and never written to the catalogue, exports or logs.
"""

from __future__ import annotations

import hashlib
import netrc
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from catalog.http import RetryPolicy, new_client, request
from indexer.errors import AuthError

EXPIRY_MARGIN_S = 30.0


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    totp: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"Credentials(username={self.username!r}, password=***)"


def find_credentials(prefix: str, url: str, environ: dict[str, str] | None = None) -> Credentials | None:
    """Credentials from ``<PREFIX>_USERNAME``/``_PASSWORD`` or the netrc entry of the URL's host."""
    env = os.environ if environ is None else environ
    username, password = env.get(f"{prefix}_USERNAME"), env.get(f"{prefix}_PASSWORD")
    if username and password:
        return Credentials(username, password, env.get(f"{prefix}_TOTP") or None)
    host = httpx.URL(url).host
    try:
        entry = netrc.netrc(env.get("NETRC") or None).authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError):
        return None
    if entry is None or not entry[0] or not entry[2]:
        return None
    return Credentials(entry[0], entry[2])


class TokenProvider:
    """Thread-safe access tokens for one token endpoint and one user."""

    def __init__(
        self,
        token_url: str,
        credentials: Credentials,
        *,
        client_id: str = "cdse-public",
        client: httpx.Client | None = None,
        cache_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url, self.credentials, self.client_id = token_url, credentials, client_id
        self._owns_client = client is None
        self._client = client or new_client(timeout=30.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._cache = _cache_file(cache_dir, token_url, credentials.username)
        self.grants: list[str] = []  # grant types used, for tests and diagnostics
        if self._cache is not None and self._cache.is_file():
            try:
                self._state = orjson.loads(self._cache.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                self._state = {}

    def access_token(self) -> str:
        """A valid access token, obtained or refreshed only when needed."""
        with self._lock:
            now = self._clock()
            if self._state.get("access_token") and now < self._state["access_expires"] - EXPIRY_MARGIN_S:
                return str(self._state["access_token"])
            refreshable = self._state.get("refresh_token") and now < self._state["refresh_expires"] - EXPIRY_MARGIN_S
            if refreshable and self._grant(
                {"grant_type": "refresh_token", "refresh_token": self._state["refresh_token"]}
            ):
                return str(self._state["access_token"])
            form = {"grant_type": "password", "username": self.credentials.username,
                    "password": self.credentials.password}  # fmt: skip
            if self.credentials.totp:
                form["totp"] = self.credentials.totp
            if not self._grant(form):
                raise AuthError(
                    f"the token service refused the credentials of {self.credentials.username!r} "
                    "(check the username, password and TOTP)"
                )
            return str(self._state["access_token"])

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> TokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def invalidate(self) -> None:
        """Forget the access token (after a 401), keeping the refresh token."""
        with self._lock:
            self._state.pop("access_token", None)

    def _grant(self, form: dict[str, str]) -> bool:
        started = self._clock()
        response = request(
            self._client, "POST", self.token_url, data={**form, "client_id": self.client_id},
            policy=RetryPolicy(attempts=4),
        )  # fmt: skip
        self.grants.append(form["grant_type"])
        if response.status_code in (400, 401):
            if form["grant_type"] == "refresh_token":
                self._state.pop("refresh_token", None)
            return False
        if response.status_code != 200:
            raise AuthError(f"token service answered HTTP {response.status_code}")
        body = response.json()
        self._state = {
            "access_token": body["access_token"],
            "access_expires": started + float(body.get("expires_in", 600)),
            "refresh_token": body.get("refresh_token"),
            "refresh_expires": started + float(body.get("refresh_expires_in", 0)),
        }
        self._save()
        return True

    def _save(self) -> None:
        if self._cache is None:
            return
        self._cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self._cache.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(orjson.dumps(self._state))
        temporary.replace(self._cache)


def _cache_file(cache_dir: Path | None, token_url: str, username: str) -> Path | None:
    if cache_dir is None:
        if os.environ.get("EOCAT_TOKEN_CACHE", "1") == "0":
            return None
        cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eocat" / "tokens"
    key = hashlib.sha256(f"{token_url}\n{username}".encode()).hexdigest()[:24]
    return cache_dir / f"{key}.json"
