"""Unit tests of the fetch machinery: names, multihashes, part files, redirects and credentials."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from catalog.fetch import Busy
from catalog.fetch.files import Layout, PartFile
from catalog.fetch.http import open_final, redact
from catalog.fetch.names import choose_name, content_disposition_name, sanitize
from catalog.fetch.session import FetchSession
from catalog.fetch.verify import multihash, new_hasher, parse_multihash


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        (".hidden", "hidden"),
        ("a b;c.zip", "a_b_c.zip"),
        ("évil\x00name.tiff", "vil_name.tiff"),
        ("..", None),
        ("$value", None),
        ("", None),
    ],
)
def test_sanitize(raw: str, safe: str | None) -> None:
    got = sanitize(raw)
    if safe is None:
        assert got is None
    else:
        assert got is not None and "/" not in got and not got.startswith(".")
        assert got.endswith(safe.split("_")[-1])


def test_content_disposition_forms() -> None:
    assert content_disposition_name('attachment; filename="a b.zip"') == "a b.zip"
    assert content_disposition_name("attachment; filename=S1_x.tiff") == "S1_x.tiff"
    assert content_disposition_name("attachment; filename*=UTF-8''%C3%A9t%C3%A9.zip") == "été.zip"
    assert content_disposition_name(None) is None


def test_choose_name_prefers_server_then_local_path_then_url() -> None:
    href = "http://h/odata/v1/Products(1)/$value"
    assert choose_name(disposition='attachment; filename="x.zip"', local_path="p.zip", href=href,
                       fallback="i-a", media_type="application/zip") == "x.zip"  # fmt: skip
    assert choose_name(disposition=None, local_path="p.zip", href=href, fallback="i-a", media_type=None) == "p.zip"
    assert choose_name(disposition=None, local_path=None, href=href, fallback="i-a", media_type="application/zip") == (
        "i-a.zip"
    )
    assert choose_name(disposition=None, local_path=None, href="http://h/a/0.tiff", fallback="f", media_type=None) == (
        "0.tiff"
    )


def test_multihash_round_trip() -> None:
    for algorithm, digest in (("md5", hashlib.md5(b"x").hexdigest()), ("sha2-256", hashlib.sha256(b"x").hexdigest())):
        parsed = parse_multihash(multihash(algorithm, digest))
        assert parsed is not None and (parsed.algorithm, parsed.digest) == (algorithm, digest)
    assert multihash("md5", "00" * 16).startswith("d50110")
    assert multihash("blake3", "00" * 32).startswith("1e20")
    hasher = new_hasher("blake3")
    hasher.update(b"abc")
    assert parse_multihash(multihash("blake3", hasher.hexdigest())) is not None
    assert parse_multihash("zz") is None and parse_multihash("d50110abcd") is None


def test_part_file_resumes_only_the_same_href_and_is_exclusive(tmp_path: Path) -> None:
    layout = Layout.for_asset(tmp_path, "c", "i", "a", None)
    part = PartFile(layout.part, "http://h/x", "md5")
    part.write(b"hello ")
    with pytest.raises(Busy):
        PartFile(layout.part, "http://h/x", "md5")
    part.close()
    again = PartFile(layout.part, "http://h/x", "md5")
    assert again.size == 6
    again.write(b"world")
    assert again.hexdigest() == hashlib.md5(b"hello world").hexdigest()
    again.close()
    other = PartFile(layout.part, "http://h/other", "md5")
    assert other.size == 0  # bytes of another URL are never resumed
    other.close()


def test_final_path_refuses_to_leave_the_store(tmp_path: Path) -> None:
    layout = Layout.for_asset(tmp_path, "../../c", "../i", "a", None)
    assert layout.final_path("../../x.zip").resolve().is_relative_to(tmp_path.resolve())


class _Trusting:
    def headers(self, url: httpx.URL) -> dict[str, str]:
        return {"Authorization": "Bearer t"} if url.host == "cdse.test" else {}

    def renew(self, response: httpx.Response | None) -> bool:
        return False


def test_redirects_resend_credentials_only_to_trusted_hosts() -> None:
    seen: list[tuple[str, str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.host, request.headers.get("authorization")))
        if request.url.host == "cdse.test" and request.url.path == "/a":
            return httpx.Response(307, headers={"Location": "http://cdse.test/b"})
        if request.url.host == "cdse.test":
            return httpx.Response(302, headers={"Location": "http://storage.test/c?X-Amz-Signature=s"})
        return httpx.Response(200, content=b"ok")

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        FetchSession(client=client) as session,
        open_final(session, "POST", "http://cdse.test/a", auth=_Trusting(), repost=True) as response,
    ):
        assert response.read() == b"ok"
    assert seen == [
        ("POST", "cdse.test", "Bearer t"),
        ("POST", "cdse.test", "Bearer t"),
        ("POST", "storage.test", None),
    ]


def test_redact_hides_secrets() -> None:
    shown = redact("http://h/x?token=abc&X-Amz-Signature=def&a=1")
    assert "abc" not in shown and "def" not in shown and "a=1" in shown
