"""Retries (httpx.MockTransport unit tests) and the token provider's reuse/refresh/re-login rules."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from catalog.http import RetryPolicy, get_json, request, retry_after
from indexer.auth import Credentials, TokenProvider, find_credentials
from indexer.errors import AuthError, UpstreamError


def sequence_transport(responses: list[httpx.Response | Exception]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        outcome = responses.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return httpx.MockTransport(handler), seen


def test_retries_honour_retry_after_and_recover() -> None:
    waits: list[float] = []
    transport, seen = sequence_transport([
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"ok": True}),
    ])  # fmt: skip
    with httpx.Client(transport=transport) as client:
        body = get_json(client, "https://x.test/a", policy=RetryPolicy(sleep=waits.append, backoff=0.1))
    assert body == {"ok": True} and len(seen) == 4
    assert waits[0] == 7 and all(w <= 0.4 for w in waits[1:])


def test_truncated_json_is_retried() -> None:
    transport, seen = sequence_transport([httpx.Response(200, content=b'{"value": ['), httpx.Response(200, json={})])
    with httpx.Client(transport=transport) as client:
        assert get_json(client, "https://x.test/", policy=RetryPolicy(sleep=lambda s: None)) == {}
    assert len(seen) == 2


def test_give_up_with_a_clear_error_and_no_secret_in_it() -> None:
    transport, _ = sequence_transport([httpx.Response(500)] * 3)
    with httpx.Client(transport=transport) as client, pytest.raises(UpstreamError) as error:
        request(
            client, "GET", "https://x.test/p?token=SECRET&a=1", policy=RetryPolicy(attempts=3, sleep=lambda s: None)
        )
    assert "failed after 3 attempts: HTTP 500" in str(error.value) and "SECRET" not in str(error.value)


def test_client_errors_are_not_retried() -> None:
    transport, seen = sequence_transport([httpx.Response(404)])
    with httpx.Client(transport=transport) as client:
        assert request(client, "GET", "https://x.test/").status_code == 404
    assert len(seen) == 1


def test_retry_after_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(response.headers) == 0.0


class FakeIdentity:
    """A token endpoint: lifetimes in seconds of a fake clock."""

    def __init__(self, access: float = 600, refresh: float = 3600) -> None:
        self.access, self.refresh, self.issued = access, refresh, 0
        self.valid_refresh: set[str] = set()

    def __call__(self, req: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(req.content.decode()))
        assert form["client_id"] == "cdse-public"
        if form["grant_type"] == "password":
            if form.get("password") != "right":
                return httpx.Response(401, json={"error": "invalid_grant"})
        elif form["refresh_token"] not in self.valid_refresh:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token is not active"})
        self.issued += 1
        refresh = f"refresh-{self.issued}"
        self.valid_refresh.add(refresh)
        return httpx.Response(200, json={"access_token": f"access-{self.issued}", "expires_in": self.access,
                                         "refresh_token": refresh, "refresh_expires_in": self.refresh})  # fmt: skip


def test_token_reuse_refresh_and_relogin(tmp_path: Path) -> None:
    now = [1000.0]
    identity = FakeIdentity()
    client = httpx.Client(transport=httpx.MockTransport(identity))
    provider = TokenProvider("https://id.test/token", Credentials("u", "right"), client=client, cache_dir=tmp_path,
                             clock=lambda: now[0])  # fmt: skip
    assert provider.access_token() == "access-1"
    assert provider.access_token() == "access-1", "reused while valid"
    now[0] += 590  # within the 30 s margin: refresh
    assert provider.access_token() == "access-2" and provider.grants == ["password", "refresh_token"]
    now[0] += 4000  # refresh token expired too: log in again
    assert provider.access_token() == "access-3" and provider.grants[-1] == "password"
    identity.valid_refresh.clear()  # refresh refused by the server: fall back to a password grant
    now[0] += 590
    assert provider.access_token() == "access-4" and provider.grants[-2:] == ["refresh_token", "password"]
    cache = next(tmp_path.iterdir())
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600 and b"right" not in cache.read_bytes()
    other_process = TokenProvider("https://id.test/token", Credentials("u", "right"), client=client,
                                  cache_dir=tmp_path, clock=lambda: now[0])  # fmt: skip
    assert other_process.access_token() == "access-4" and other_process.grants == []


def test_wrong_password_is_a_clear_auth_error(tmp_path: Path) -> None:
    client = httpx.Client(transport=httpx.MockTransport(FakeIdentity()))
    provider = TokenProvider("https://id.test/token", Credentials("u", "wrong"), client=client, cache_dir=tmp_path)
    with pytest.raises(AuthError, match="refused the credentials of 'u'"):
        provider.access_token()


def test_credentials_from_environment_or_netrc(tmp_path: Path) -> None:
    env = {"CDSE_USERNAME": "alice", "CDSE_PASSWORD": "pw"}
    assert find_credentials("CDSE", "https://identity.test/t", env) == Credentials("alice", "pw")
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine identity.test login bob password secret\n")
    netrc_file.chmod(0o600)
    found = find_credentials("CDSE", "https://identity.test/t", {"NETRC": str(netrc_file)})
    assert found == Credentials("bob", "secret") and "secret" not in repr(found)
    assert find_credentials("CDSE", "https://other.test/t", {"NETRC": str(netrc_file)}) is None
