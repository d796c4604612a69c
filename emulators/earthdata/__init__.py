"""Earthdata Login (EDL) and ASF's login service on 127.0.0.1, for the ASF burst extractor emulator.

Two hosts, as in reality (``reference/asf.md`` §5.2, §6):

* EDL (``urs.earthdata.nasa.gov``): ``POST /api/users/find_or_create_token`` (Basic) → token;
  ``GET /oauth/authorize?client_id&redirect_uri&state`` (Basic) → 302 ``redirect_uri?code&state``;
  without Basic → 401.
* ASF auth (``auth.asf.alaska.edu``): ``GET /loginservice/in/<url>`` → 302 to EDL authorize;
  ``GET /login?code&state`` → 302 back to ``state`` with ``Set-Cookie: asf-urs=<JWT>``;
  ``GET /cookie`` (a TEA-protected file) with ``Authorization: Bearer <EDL token>`` → 200 + the cookie.

Credentials: ``users`` maps username → password (None: any non-empty pair). Cookies expire after
``cookie_ttl`` seconds on the shared :class:`Clock`; ``revoke_cookies()`` makes the next use a 403.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qsl, quote, urlencode

from emulators.cdse.app import Response, json_response
from emulators.cdse.tokens import Clock
from emulators.hosting import Host

CLIENT_ID = "BO_n7nTIlMljdvU6kRRB3g"


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header, whatever its case ("" when absent)."""
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Sessions:
    """Who may log in, and which tokens, codes and ``asf-urs`` cookies are live."""

    def __init__(self, users: Mapping[str, str] | None, clock: Clock, cookie_ttl: float) -> None:
        self.users = dict(users) if users is not None else None
        self.clock = clock
        self.cookie_ttl = cookie_ttl
        self._lock = threading.Lock()
        self.tokens: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self.cookies: dict[str, float] = {}
        self.logins = 0  # successful Basic authentications at EDL
        self.basic_seen: list[str] = []  # hosts that received a Basic header (must be EDL only)

    def check_basic(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, encoded = header(headers, "authorization").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if not user or not password or (self.users is not None and self.users.get(user) != password):
            return None
        with self._lock:
            self.logins += 1
        return user

    def new(self, table: dict[str, str], user: str) -> str:
        value = secrets.token_urlsafe(24)
        with self._lock:
            table[value] = user
        return value

    def cookie(self, user: str) -> tuple[str, str]:
        """A new ``asf-urs`` JWT and its Set-Cookie header value."""
        now = self.clock.now()
        claims = {"urs-user-id": user, "first_name": user, "iat": int(now), "exp": int(now + self.cookie_ttl)}
        value = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(16)}"
        with self._lock:
            self.cookies[value] = now + self.cookie_ttl
        expires = formatdate(now + self.cookie_ttl, usegmt=True)
        return value, f"asf-urs={value}; Expires={expires}; Path=/"

    def cookie_state(self, headers: Mapping[str, str]) -> str:
        """``missing``, ``valid`` or ``invalid`` for the request's ``asf-urs`` cookie."""
        raw = header(headers, "cookie")
        values = [v.split("=", 1)[1] for v in (p.strip() for p in raw.split(";")) if v.startswith("asf-urs=")]
        if not values:
            return "missing"
        with self._lock:
            expires = self.cookies.get(values[0])
        return "valid" if expires is not None and self.clock.now() < expires else "invalid"

    def revoke_cookies(self) -> None:
        with self._lock:
            self.cookies.clear()


class EdlApp:
    """urs.earthdata.nasa.gov"""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        if header(headers, "authorization").lower().startswith("basic"):
            self.sessions.basic_seen.append("edl")
        if path == "/api/users/find_or_create_token" and method == "POST":
            user = self.sessions.check_basic(headers)
            if user is None:
                return json_response(401, {"error": "invalid_credentials", "error_description": "Invalid user"})
            token = self.sessions.new(self.sessions.tokens, user)
            return json_response(200, {"access_token": token, "token_type": "Bearer", "expiration_date": "12/31/2099"})
        if path == "/oauth/authorize" and method == "GET":
            params = dict(parse_qsl(query))
            user = self.sessions.check_basic(headers)
            if user is None:
                return json_response(401, {"error": "unauthorized", "error_description": "Invalid user credentials"})
            code = self.sessions.new(self.sessions.codes, user)
            target = params.get("redirect_uri", "")
            location = f"{target}?{urlencode({'code': code, 'state': params.get('state', '')})}"
            return Response(302, b"", {"Location": location})
        return json_response(404, {"error": "not_found"})


class AsfAuthApp:
    """auth.asf.alaska.edu (login service) and a TEA-protected file that hands out the cookie for a token."""

    def __init__(self, sessions: Sessions, edl_url: str) -> None:
        self.sessions = sessions
        self.edl_url = edl_url
        self.url = ""

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        value = header(headers, "authorization")
        if value.lower().startswith("basic"):
            self.sessions.basic_seen.append("asf-auth")
        if path.startswith("/loginservice/in/"):
            back = path.removeprefix("/loginservice/in/") + (f"?{query}" if query else "")
            params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": f"{self.url}/login",
                      "state": back}  # fmt: skip
            return Response(
                302, b"", {"Location": f"{self.edl_url}/oauth/authorize?{urlencode(params, quote_via=quote)}"}
            )
        if path == "/login":
            params = dict(parse_qsl(query))
            user = self.sessions.codes.pop(params.get("code", ""), None)
            if user is None:
                return json_response(401, {"error": "invalid code"})
            _, cookie = self.sessions.cookie(user)
            return Response(301, b"", {"Location": params.get("state", "/"), "Set-Cookie": cookie})
        if path == "/cookie":
            token = value.partition(" ")[2] if value.lower().startswith("bearer") else ""
            user = self.sessions.tokens.get(token)
            if user is None:
                location = f"{self.edl_url}/oauth/authorize?client_id={CLIENT_ID}&app_type=401"
                return Response(302, b"", {"Location": location})
            _, cookie = self.sessions.cookie(user)
            return Response(200, b"<iso/>\n", {"Content-Type": "application/xml", "Set-Cookie": cookie})
        return json_response(404, {"error": "not_found"})


class EarthdataEmulator:
    """EDL + ASF auth hosts; ``edl_url``, ``auth_url`` and ``cookie_url`` after start."""

    def __init__(self, users: Mapping[str, str] | None = None, cookie_ttl: float = 3600.0) -> None:
        self.clock = Clock()
        self.sessions = Sessions(users, self.clock, cookie_ttl)
        self.edl: Host | None = None
        self.auth: Host | None = None

    def start(self) -> EarthdataEmulator:
        self.edl = Host(EdlApp(self.sessions), "edl")
        auth_app = AsfAuthApp(self.sessions, self.edl.url)
        self.auth = Host(auth_app, "asf-auth")
        auth_app.url = self.auth.url
        return self

    def stop(self) -> None:
        for host in (self.edl, self.auth):
            if host is not None:
                host.stop()

    @property
    def edl_url(self) -> str:
        assert self.edl is not None
        return self.edl.url

    @property
    def auth_url(self) -> str:
        assert self.auth is not None
        return self.auth.url

    @property
    def cookie_url(self) -> str:
        return f"{self.auth_url}/cookie"

    def environment(self) -> dict[str, str]:
        return {
            "EOCAT_EDL_URL": self.edl_url,
            "EOCAT_ASF_AUTH_URL": self.auth_url,
            "EOCAT_ASF_COOKIE_URL": self.cookie_url,
        }
