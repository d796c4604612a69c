"""The Keycloak token endpoint of CDSE: password and refresh grants, lifetimes, a table of live tokens."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLIENT_ID = "cdse-public"
SCOPE = "AUDIENCE_PUBLIC openid email profile user-context"
INVALID_CREDENTIALS = (401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
NOT_ACTIVE = (400, {"error": "invalid_grant", "error_description": "Token is not active"})
INVALID_CLIENT = (401, {"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"})


class Clock:
    """Wall clock with an adjustable offset, so tests can expire tokens without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, shifted by ``offset``."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's time forward."""
        self.offset += seconds


@dataclass
class _Session:
    username: str
    sid: str
    refresh_expires: float


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenService:
    """Issues JWT-shaped (unsigned) tokens and remembers which are valid until when."""

    def __init__(
        self,
        clock: Clock,
        issuer: str,
        credentials: Mapping[str, str] | None = None,
        totp: str | None = None,
        access_lifetime: int = 600,
        refresh_lifetime: int = 3600,
    ) -> None:
        self.clock = clock
        self.issuer = issuer
        self.credentials = dict(credentials) if credentials is not None else None
        self.totp = totp
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self._refresh: dict[str, _Session] = {}
        self.issued = 0

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Handle a token POST: (status, JSON body) as Keycloak answers."""
        grant_type = form.get("grant_type")
        if not grant_type:
            return 400, {"error": "invalid_request", "error_description": "Missing form parameter: grant_type"}
        if form.get("client_id") != CLIENT_ID:
            return INVALID_CLIENT
        if grant_type == "password":
            return self._password(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form.get("refresh_token", ""))
        return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}

    def _password(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        user, password = form.get("username", ""), form.get("password", "")
        if not user or not password:
            return INVALID_CREDENTIALS
        if self.credentials is not None and self.credentials.get(user) != password:
            return INVALID_CREDENTIALS
        if self.totp is not None and form.get("totp") != self.totp:
            return INVALID_CREDENTIALS
        return 200, self._issue(user, str(uuid.uuid4()))

    def _refresh_grant(self, token: str) -> tuple[int, dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            session = self._refresh.pop(token, None)
        if session is None or session.refresh_expires <= now:
            return NOT_ACTIVE
        return 200, self._issue(session.username, session.sid)

    def _issue(self, user: str, sid: str) -> dict[str, Any]:
        now = self.clock.now()
        iat = int(now)
        claims = {
            "exp": iat + self.access_lifetime,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": ["CLOUDFERRO_PUBLIC", "account"],
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cdse-emulator:{user}")),
            "typ": "Bearer",
            "azp": CLIENT_ID,
            "sid": sid,
            "scope": SCOPE,
            "realm_access": {"roles": ["offline_access", "uma_authorization", "copernicus-general"]},
            "preferred_username": user,
        }
        header = {"alg": "RS256", "typ": "JWT", "kid": "cdse-emulator"}
        access = f"{_b64(header)}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        refresh_claims = {**claims, "exp": iat + self.refresh_lifetime, "typ": "Refresh", "jti": str(uuid.uuid4())}
        refresh = f"{_b64({'alg': 'HS512', 'typ': 'JWT'})}.{_b64(refresh_claims)}.{secrets.token_urlsafe(32)}"
        with self._lock:
            self._access[access] = now + self.access_lifetime
            self._refresh[refresh] = _Session(user, sid, now + self.refresh_lifetime)
            self.issued += 1
        return {
            "access_token": access,
            "expires_in": self.access_lifetime,
            "refresh_expires_in": self.refresh_lifetime,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": sid,
            "scope": SCOPE,
        }

    def status(self, token: str) -> str:
        """``"valid"``, ``"expired"`` or ``"unknown"`` for an access token."""
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return "unknown"
        return "valid" if self.clock.now() < expires else "expired"

    def validate(self, token: str) -> bool:
        """True while ``token`` is an unexpired access token issued here."""
        return self.status(token) == "valid"

    def revoke_all(self) -> None:
        """Forget every token (a server-side logout of all sessions)."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()
