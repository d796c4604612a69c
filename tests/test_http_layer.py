"""catalog.http, the one HTTP layer: clients, retries, Retry-After, redirects with per-hop credentials,
redaction, and clear one-line failures for hosts that cannot be reached (issue 12, item 8)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from catalog import http
from catalog.fetch import fetch_items, new_session
from catalog.fetch.rawhttp import open_raw
from catalog.http import (
    SECRET_PARAMS,
    USER_AGENT,
    RetryPolicy,
    Unreachable,
    UpstreamError,
    follow_redirects,
    get_json,
    new_client,
    redact,
    request,
    retry_after,
)
from catalog.store import Store


class Sleeps:
    """A policy clock that records instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def policy(**kwargs: Any) -> tuple[RetryPolicy, Sleeps]:
    sleeps = Sleeps()
    return RetryPolicy(sleep=sleeps, **kwargs), sleeps


class Trusting:
    """Credentials for ``cdse.test`` only."""

    def headers(self, url: httpx.URL) -> dict[str, str]:
        return {"Authorization": "Bearer t"} if url.host in ("cdse.test", "127.0.0.1") else {}


def test_new_client_identifies_itself_and_leaves_redirects_to_the_layer() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(302, headers={"Location": "/x"}))
    with new_client(max_connections=2, timeout=7.0, read_timeout=9.0) as client:
        assert client.headers["User-Agent"] == USER_AGENT
        assert client.follow_redirects is False
        assert client.timeout.connect == http.CONNECT_TIMEOUT and client.timeout.read == 9.0
        assert client.timeout.write == 7.0
    with httpx.Client(transport=transport, headers={"User-Agent": USER_AGENT}) as client:
        assert request(client, "GET", "http://h.test/a").status_code == 302
    assert len(seen) == 1


def test_retries_honour_retry_after_seconds_and_dates() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": format_datetime(datetime.now(UTC) - timedelta(seconds=5))}),
            httpx.Response(500),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    rules, sleeps = policy(backoff=0.25, max_wait=10.0)
    with httpx.Client(transport=httpx.MockTransport(lambda r: next(answers))) as client:
        assert get_json(client, "http://h.test/a", policy=rules) == {"ok": True}
    assert sleeps.waits[:2] == [3.0, 0.0]
    assert 0.125 <= sleeps.waits[2] <= 1.0  # backoff with jitter for the third attempt (0.25 * 2**2 * [0.5, 1])


def test_retry_after_parsing() -> None:
    assert retry_after({"Retry-After": "12"}) == 12.0
    assert retry_after({"retry-after": "-4"}) == 0.0
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120))
    assert 100 < (retry_after({"Retry-After": later}) or 0) <= 120


def test_retry_after_is_capped_by_the_policy() -> None:
    rules, sleeps = policy(max_wait=2.0)
    answers = iter([httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200)])
    with httpx.Client(transport=httpx.MockTransport(lambda r: next(answers))) as client:
        assert request(client, "GET", "http://h.test/", policy=rules).status_code == 200
    assert sleeps.waits == [2.0]


def test_exhausted_retries_give_one_line_with_a_redacted_url() -> None:
    rules, sleeps = policy(attempts=3)
    with (
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(502))) as client,
        pytest.raises(UpstreamError) as error,
    ):
        request(client, "GET", "http://h.test/a?token=SECRET&page=2", policy=rules)
    message = str(error.value)
    assert "\n" not in message and "SECRET" not in message and "page=2" in message
    assert "failed after 3 attempts: HTTP 502" in message
    assert len(sleeps.waits) == 2


def test_connection_refused_is_one_line_after_few_short_tries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    rules, sleeps = policy(attempts=8, backoff=0.5)
    with httpx.Client(transport=httpx.MockTransport(refuse)) as client, pytest.raises(Unreachable) as error:
        request(client, "GET", "http://h.test:8123/odata?token=SECRET", policy=rules)
    message = str(error.value)
    assert message.startswith("cannot reach h.test:8123 (Connection refused) after 3 attempts")
    assert "SECRET" not in message and "\n" not in message
    assert len(sleeps.waits) == rules.connect_attempts - 1 and sum(sleeps.waits) <= 1.5


def test_dropped_connections_are_retried_like_errors_not_as_unreachable() -> None:
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 4:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, text="fine")

    rules, _ = policy(attempts=6)
    with httpx.Client(transport=httpx.MockTransport(flaky)) as client:
        assert request(client, "GET", "http://h.test/", policy=rules).text == "fine"
    assert calls == 5


def _hops(handler_log: list[tuple[str, str, str | None]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        handler_log.append((request.method, request.url.host, request.headers.get("authorization")))
        if request.url.host == "cdse.test" and request.url.path == "/a":
            return httpx.Response(307, headers={"Location": "http://cdse.test/b"})
        if request.url.host == "cdse.test" and request.url.path == "/b":
            return httpx.Response(302, headers={"Location": "http://storage.test/c?X-Amz-Signature=s"})
        if request.url.host == "loop.test":
            return httpx.Response(302, headers={"Location": "/again"})
        return httpx.Response(200, content=b"ok")

    return httpx.MockTransport(handler)


def test_credentials_follow_redirects_only_to_trusted_hosts() -> None:
    seen: ClassVar[list[tuple[str, str, str | None]]] = []
    with httpx.Client(transport=_hops(seen)) as client:
        response = request(client, "POST", "http://cdse.test/a", auth=Trusting(), policy=policy()[0])
    assert response.content == b"ok"
    # 307 keeps POST; 302 turns it into GET (no repost); the storage host never sees the token
    assert seen == [("POST", "cdse.test", "Bearer t"), ("POST", "cdse.test", "Bearer t"), ("GET", "storage.test", None)]


def test_redirect_methods_and_the_redirect_limit() -> None:
    assert http.redirect_method(303, "POST", repost=True) == "GET"
    assert http.redirect_method(302, "POST", repost=True) == "POST"
    assert http.redirect_method(301, "POST") == "GET"
    assert http.redirect_method(308, "POST") == "POST"
    seen: ClassVar[list[tuple[str, str, str | None]]] = []
    with httpx.Client(transport=_hops(seen)) as client, pytest.raises(UpstreamError, match="more than 10 redirects"):
        follow_redirects(lambda m, u, h: client.send(client.build_request(m, u, headers=h)), "GET", "http://loop.test/")
    assert len(seen) == http.MAX_REDIRECTS + 1


@pytest.mark.parametrize("name", sorted(SECRET_PARAMS))
def test_redact_hides_every_secret_parameter(name: str) -> None:
    for spelled in (name, name.upper()):
        shown = redact(f"https://h.test/p?{spelled}=SeCrEt&page=2")
        assert "SeCrEt" not in shown and "page=2" in shown and spelled in shown


def test_redact_drops_user_info_and_keeps_plain_urls() -> None:
    assert "pw" not in redact("https://user:pw@h.test/x")
    assert redact("https://h.test/x/$value") == "https://h.test/x/$value"
    shown = redact("https://streamer.test/v.mp4?sig=abc&se=2030&X-Amz-Credential=AKIA/x&X-Amz-Signature=f00")
    assert "abc" not in shown and "AKIA" not in shown and "f00" not in shown
    assert "sig=***&se=2030" in shown  # readable in messages, other parameters untouched
    assert "SeCrEt" not in redact("https://h.test/p?tok%65n=SeCrEt")  # percent-encoded names too


# -- the raw download path uses the same redirect rules (real sockets on 127.0.0.1) ----------------------


class _Redirecting(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        if self.path == "/start":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/storage")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"payload"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def redirecting_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Redirecting.seen = []
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_raw_download_path_applies_the_same_credential_rules(redirecting_server: int) -> None:
    with open_raw("GET", f"http://127.0.0.1:{redirecting_server}/start", auth=Trusting()) as response:
        assert response.status_code == 200 and response.read() == b"payload"
    # the token went to 127.0.0.1, not to the storage host (localhost), and the UA is the layer's
    assert _Redirecting.seen == [("GET", "/start", "Bearer t"), ("GET", "/storage", None)]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_fetch_from_a_refused_port_fails_in_one_line_quickly(tmp_path: Path) -> None:
    """Issue 12 item 8: no traceback and no 46 s of retries when the download host refuses connections."""
    port = _closed_port()
    store = Store(tmp_path / "c.db")
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": "one", "collection": "c",
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "bbox": [1.0, 2.0, 1.0, 2.0],
        "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [],
        "assets": {"data": {"href": f"http://127.0.0.1:{port}/file.bin?token=SECRET", "roles": ["data"]}},
    }  # fmt: skip
    sleeps = Sleeps()
    session = new_session(policy=RetryPolicy(attempts=8, backoff=0.5, sleep=sleeps))
    report = fetch_items(store, [item], asset="data", dest=tmp_path / "out", session=session)
    [result] = report.results
    assert result.status == "failed" and result.error is not None
    assert result.error.startswith(f"cannot reach 127.0.0.1:{port} (Connection refused) after 3 attempts")
    assert "SECRET" not in result.error and "\n" not in result.error
    assert len(sleeps.waits) == 2 and sum(sleeps.waits) <= 1.5


def test_listing_product_files_from_a_refused_port_fails_in_one_line(tmp_path: Path) -> None:
    """Issue 12 item 8, the Nodes path (``--asset SCL``): it used to print an httpx.ConnectError traceback."""
    port = _closed_port()
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": "S2B_MSIL2A_x", "collection": "sentinel-2-l2a",
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "bbox": [1.0, 2.0, 1.0, 2.0],
        "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [],
        "assets": {"nodes": {"href": f"http://127.0.0.1:{port}/odata/v1/Products(1)/Nodes", "roles": ["metadata"]}},
    }  # fmt: skip
    sleeps = Sleeps()
    session = new_session(policy=RetryPolicy(attempts=8, backoff=0.5, sleep=sleeps))
    report = fetch_items(Store(tmp_path / "c.db"), [item], asset="SCL", dest=tmp_path / "out", session=session)
    [result] = report.results
    assert result.status == "failed" and result.error is not None and "\n" not in result.error
    assert f"cannot reach 127.0.0.1:{port} (Connection refused) after 3 attempts" in result.error
    assert len(sleeps.waits) == 2


def test_a_read_response_is_freed_without_the_cyclic_collector() -> None:
    """A harvest holds a page's 3.6 MB body only while it uses it (httpx's response and its stream
    refer to each other; left so, every body waited for a garbage collection)."""
    import gc
    import weakref

    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"{}" * 1000)))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        response = http.request(client, "GET", "https://catalogue.example/odata/v1/Products")
        assert response.content == b"{}" * 1000
        gone = weakref.ref(response)
        del response
        assert gone() is None
    finally:
        if was_enabled:
            gc.enable()


def test_odata_pages_follow_next_links_on_the_same_service_only() -> None:
    from indexer.cdse.client import odata_pages
    from indexer.errors import UpstreamError

    def pages(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params.get("$skip", "0"))
        following = {
            0: "https://catalogue.example/odata/v1/Products?$skip=2",
            2: "https://elsewhere.example/odata/v1/Products?$skip=4",
        }.get(skip)
        body: dict[str, Any] = {"value": [{"Id": str(skip)}, {"Id": str(skip + 1)}]}
        if following:
            body["@odata.nextLink"] = following
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(pages))
    policy = http.RetryPolicy(attempts=1)
    seen: list[str] = []
    with pytest.raises(UpstreamError, match=r"another service: elsewhere\.example"):
        for page in odata_pages(client, "https://catalogue.example/odata/v1/Products", {"$top": "2"}, policy):
            seen.extend(record["Id"] for record in page)
    assert seen == ["0", "1"]  # the page whose nextLink leaves the service is not used
