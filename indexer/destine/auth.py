"""DESP tokens for the DestinE streamer: the ``streaming-fe`` browser login, refreshed before expiry.

DESP's public client has no password grant, so the login does what a browser does
(reference/destine.md §4.1): read the realm's OpenID configuration, open the authorization endpoint
(one cookie session), post the username and password to the login form's action, take the ``code``
from the 302 ``Location`` and trade it at the token endpoint. Access tokens live about 300 s: they are
refreshed with the refresh token (standard Keycloak) and, when that fails, obtained by a new login.
Tokens stay in memory only, and the credentials come from ``DESP_USERNAME``/``DESP_PASSWORD`` or
``~/.netrc`` (see :func:`indexer.auth.find_credentials`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx

from catalog.http import RetryPolicy, get_json, new_client, request
from indexer.auth import Credentials, find_credentials
from indexer.endpoints import endpoint
from indexer.errors import AuthError

CLIENT_ID = "streaming-fe"
CALLBACK_PATH = "/api/v1/authentication/callback"


class _FormParser(HTMLParser):
    """The first form's action and the login error message, from Keycloak's login page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.error: list[str] = []
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action")
        if tag == "span" and values.get("id") == "input-error":
            self._in_error = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error.append(data.strip())


class DespTokenProvider:
    """Thread-safe DESP access tokens (same interface as :class:`indexer.auth.TokenProvider`)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        auth_url: str | None = None,
        streamer_url: str | None = None,
        client_id: str = CLIENT_ID,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials, self.client_id = credentials, client_id
        self.auth_url = (auth_url or endpoint("desp_auth")).rstrip("/")
        self.redirect_uri = (streamer_url or endpoint("destine_streamer")).rstrip("/") + CALLBACK_PATH
        self._owns_client = client is None
        self._client = client or new_client(max_connections=2, timeout=30.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._oidc: dict[str, Any] | None = None
        self.grants: list[str] = []  # grant types used, for tests and diagnostics

    @classmethod
    def from_environment(cls, **kwargs: Any) -> DespTokenProvider:
        """A provider with the credentials of the environment or ~/.netrc (AuthError when there are none)."""
        auth_url = kwargs.pop("auth_url", None) or endpoint("desp_auth")
        credentials = find_credentials("DESP", auth_url)
        if credentials is None:
            raise AuthError("DestinE needs DESP credentials: set DESP_USERNAME and DESP_PASSWORD (or ~/.netrc)")
        return cls(credentials, auth_url=auth_url, **kwargs)

    def access_token(self) -> str:
        """A valid access token, refreshed or obtained by a new login only when needed."""
        with self._lock:
            now = self._clock()
            if self._state.get("access_token") and now < self._state["access_expires"] - self._margin("access"):
                return str(self._state["access_token"])
            if self._state.get("refresh_token") and now < self._state["refresh_expires"] - self._margin("refresh"):
                form = {"grant_type": "refresh_token", "refresh_token": self._state["refresh_token"]}
                if self._grant(form):
                    return str(self._state["access_token"])
            code = self._login()
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
            if not self._grant(form):
                raise AuthError("the DESP token endpoint refused the login's authorization code")
            return str(self._state["access_token"])

    def invalidate(self, token: str | None = None) -> None:
        """Forget the access token (after a 401; only if it is still ``token``), keeping the refresh token."""
        with self._lock:
            if token is None or self._state.get("access_token") == token:
                self._state.pop("access_token", None)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> DespTokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the browser-style login ---------------------------------------------------------------------
    def _configuration(self) -> dict[str, Any]:
        if self._oidc is None:
            self._oidc = get_json(
                self._client, f"{self.auth_url}/.well-known/openid-configuration", policy=RetryPolicy(attempts=4)
            )
        return self._oidc

    def _login(self) -> str:
        oidc = self._configuration()
        self._client.cookies.clear()
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "response_type": "code",
        }
        page = request(
            self._client, "GET", oidc["authorization_endpoint"], params=params, policy=RetryPolicy(attempts=4)
        )
        if page.status_code != 200:
            raise AuthError(f"DESP login page answered HTTP {page.status_code}")
        form = _FormParser()
        form.feed(page.text)
        if not form.action:
            raise AuthError("DESP login page has no form (has the login flow changed?)")
        action = str(page.url.join(form.action))
        answer = request(
            self._client,
            "POST",
            action,
            policy=RetryPolicy(attempts=2),
            data={"username": self.credentials.username, "password": self.credentials.password},
        )
        if answer.status_code == 200:
            refused = _FormParser()
            refused.feed(answer.text)
            reason = " ".join(refused.error) or "no reason given"
            raise AuthError(f"DESP refused the login of {self.credentials.username!r}: {reason}")
        location = answer.headers.get("Location", "")
        if answer.status_code not in (301, 302, 303) or not location:
            raise AuthError(f"DESP login answered HTTP {answer.status_code} without a redirect")
        query = httpx.URL(location).params
        if "error" in query or "code" not in query:
            raise AuthError(f"DESP login failed: {query.get('error_description') or query.get('error') or 'no code'}")
        return str(query["code"])

    def _grant(self, form: dict[str, str]) -> bool:
        started = self._clock()
        response = request(
            self._client,
            "POST",
            self._configuration()["token_endpoint"],
            data={**form, "client_id": self.client_id},
            policy=RetryPolicy(attempts=4),
        )
        self.grants.append(form["grant_type"])
        if response.status_code in (400, 401):
            self._state.pop("refresh_token", None)
            return False
        if response.status_code != 200:
            raise AuthError(f"DESP token endpoint answered HTTP {response.status_code}")
        body = response.json()
        self._state = {
            "access_token": body["access_token"],
            "access_expires": started + float(body.get("expires_in", 300)),
            "access_life": float(body.get("expires_in", 300)),
            "refresh_token": body.get("refresh_token"),
            "refresh_expires": started + float(body.get("refresh_expires_in", 0)),
            "refresh_life": float(body.get("refresh_expires_in", 0)),
        }
        return True

    def _margin(self, kind: str) -> float:
        """Renew 30 s early, or a fifth of the lifetime for short-lived tokens."""
        return min(30.0, 0.2 * float(self._state.get(f"{kind}_life", 0.0)))
