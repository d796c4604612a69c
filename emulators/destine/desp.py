"""DESP Keycloak emulation: the browser-style login the streamer's public client ``streaming-fe`` uses.

Flow (reference/destine.md §4.1): ``/.well-known/openid-configuration`` → the authorization endpoint
answers an HTML login form (and a session cookie) → posting ``username``/``password`` to the form's
action answers 302 to ``redirect_uri?code=…`` (200 with ``<span id="input-error">`` when refused) →
the token endpoint trades the code (``grant_type=authorization_code``) for JWT-shaped access and
refresh tokens; ``grant_type=refresh_token`` renews them. Access tokens are short-lived (300 s like the
real service, configurable) and can also be limited to a number of uses, so tests can make a token
expire in the middle of a harvest without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

CLIENT_ID = "streaming-fe"
REALM = "/realms/desp"


@dataclass
class _Token:
    expires: float
    uses_left: int | None


@dataclass
class DespService:
    """Issues and checks DESP tokens. ``credentials`` = ``{user: password}`` (None: any non-empty pair)."""

    credentials: Mapping[str, str] | None = None
    access_lifetime: float = 300.0
    refresh_lifetime: float = 1800.0
    max_uses: int | None = None  # an access token stops working after this many API calls
    clock: Callable[[], float] = time.time
    grants: list[str] = field(default_factory=list)
    _sessions: dict[str, str] = field(default_factory=dict)  # session cookie -> form nonce
    _codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    _access: dict[str, _Token] = field(default_factory=dict)
    _refresh: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    # -- endpoints -------------------------------------------------------------------------------
    def openid_configuration(self, base: str) -> dict[str, Any]:
        realm = base + REALM
        return {
            "issuer": realm,
            "authorization_endpoint": f"{realm}/protocol/openid-connect/auth",
            "token_endpoint": f"{realm}/protocol/openid-connect/token",
            "jwks_uri": f"{realm}/protocol/openid-connect/certs",
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
        }

    def login_page(self, base: str, query: str, error: str | None = None) -> tuple[str, str]:
        """The login form HTML and a new session cookie value."""
        session, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(8)
        with self._lock:
            self._sessions[session] = nonce
        action = f"{base}{REALM}/login-actions/authenticate?" + urlencode(
            {"session_code": nonce, "execution": "auth", "tab_id": "t1", **dict(parse_qsl(query))}
        )
        message = f'<span id="input-error" class="error">{html.escape(error)}</span>' if error else ""
        page = (
            "<!DOCTYPE html><html><head><title>Sign in to DESP</title></head><body>"
            f'<form id="kc-form-login" action="{html.escape(action)}" method="post">'
            '<input name="username" type="text"/><input name="password" type="password"/>'
            f'<input type="submit" value="Sign In"/></form>{message}</body></html>'
        )
        return page, session

    def authenticate(self, query: str, cookie: str | None, form: Mapping[str, str]) -> tuple[int, str]:
        """The form post: ``(302, location)`` with a code, or ``(200, error message)``."""
        params = dict(parse_qsl(query))
        with self._lock:
            nonce = self._sessions.pop(cookie or "", None)
        if nonce is None or nonce != params.get("session_code"):
            return (
                200,
                "Your login attempt timed out or the session cookie is missing. Login will start from beginning.",
            )
        username, password = form.get("username", ""), form.get("password", "")
        if (
            not username
            or not password
            or (self.credentials is not None and self.credentials.get(username) != password)
        ):
            return 200, "Invalid username or password."
        code = secrets.token_urlsafe(24)
        redirect = params.get("redirect_uri", "")
        with self._lock:
            self._codes[code] = redirect
        return 302, f"{redirect}?" + urlencode({"session_state": secrets.token_hex(8), "code": code})

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: authorization-code and refresh grants."""
        grant = form.get("grant_type", "")
        if form.get("client_id") != CLIENT_ID:
            return 401, {"error": "unauthorized_client", "error_description": "Invalid client"}
        now = self.clock()
        with self._lock:
            if grant == "authorization_code":
                redirect = self._codes.pop(form.get("code", ""), None)
                if redirect is None or redirect != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant", "error_description": "Code not valid"}
            elif grant == "refresh_token":
                expires = self._refresh.pop(form.get("refresh_token", ""), None)
                if expires is None or expires <= now:
                    return 400, {"error": "invalid_grant", "error_description": "Token is not active"}
            else:
                return 400, {"error": "unsupported_grant_type"}
            self.grants.append(grant)
            access, refresh = self._jwt(now, self.access_lifetime), self._jwt(now, self.refresh_lifetime)
            self._access[access] = _Token(now + self.access_lifetime, self.max_uses)
            self._refresh[refresh] = now + self.refresh_lifetime
        return 200, {
            "access_token": access,
            "expires_in": int(self.access_lifetime),
            "refresh_token": refresh,
            "refresh_expires_in": int(self.refresh_lifetime),
            "token_type": "Bearer",
            "scope": "openid",
        }

    def check(self, authorization: str | None, *, spend: bool = True) -> str | None:
        """None when the bearer token is valid (and ``spend``: one use is spent), else the reason."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return "Not authenticated"
        token = authorization[7:].strip()
        with self._lock:
            state = self._access.get(token)
            if state is None:
                return "Invalid token"
            if state.expires <= self.clock() or state.uses_left == 0:
                return "Token expired"
            if spend and state.uses_left is not None:
                state.uses_left -= 1
        return None

    def expire_all(self) -> None:
        """Make every access token expire now (refresh tokens stay valid)."""
        with self._lock:
            for state in self._access.values():
                state.expires = 0.0

    def _jwt(self, now: float, lifetime: float) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": "emulator"}
        claims = {
            "exp": int(now + lifetime),
            "iat": int(now),
            "jti": secrets.token_hex(8),
            "iss": "desp-emulator",
            "typ": "Bearer",
            "azp": CLIENT_ID,
            "scope": "openid",
            "realm_access": {"roles": ["DPAD_Direct_Access"]},
        }
        parts = [_b64(orjson.dumps(header)), _b64(orjson.dumps(claims))]
        signature = hmac.new(self._key, ".".join(parts).encode(), hashlib.sha256).digest()
        return ".".join([*parts, _b64(signature)])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
