"""ASF burst extractor fetches over real HTTP: polling, Earthdata login, storage redirect, resume, errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from catalog.fetch import FetchSession, fetch
from catalog.fetch.verify import multihash
from catalog.store import Store
from emulators.asf_extractor import AsfExtractorEmulator, content, file_id
from emulators.earthdata import EarthdataEmulator
from tests.fetch_helpers import fast_session, fetch_and_kill, files_under

GRANULE = "S1A_IW_SLC__1SDV_20220219T125500_20220219T125527_041982_04FFF7_10AF"
ITEM = "S1_181296_IW1_20220219T125501_VV_10AF"


@pytest.fixture
def fast() -> Iterator[FetchSession]:
    with fast_session() as session:
        yield session


def burst_item(burst_url: str, index: int = 0, checksums: bool = False) -> dict[str, Any]:
    """A burst item with the issue-4 ``tiff`` and ``xml`` assets (made by hand)."""
    assets = {}
    for ext, media_type, role in (("tiff", "image/tiff", "data"), ("xml", "application/xml", "metadata")):
        asset: dict[str, Any] = {
            "href": f"{burst_url}/{GRANULE}/IW1/VV/{index}.{ext}",
            "type": media_type,
            "roles": [role],
            "eocat:protocol": "asf-extractor",
            "auth:refs": ["earthdata"],
        }
        if checksums:
            data = content(GRANULE, "IW1", "VV", index, ext)
            asset["file:size"] = len(data)
            asset["file:checksum"] = multihash("md5", hashlib.md5(data).hexdigest())
        assets[ext] = asset
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": ITEM,
        "collection": "sentinel-1-bursts",
        "geometry": {"type": "Point", "coordinates": [-147.7, 64.8]},
        "bbox": [-147.7, 64.8, -147.7, 64.8],
        "properties": {
            "datetime": "2022-02-19T12:55:01Z",
            "auth:schemes": {"earthdata": {"type": "http", "scheme": "cookie", "description": "NASA Earthdata"}},
        },
        "links": [],
        "assets": assets,
    }


@contextmanager
def asf(
    monkeypatch: pytest.MonkeyPatch, store: Store, *, token: bool = False, users: dict[str, str] | None = None,
    cookie_ttl: float = 3600.0, **options: Any,
) -> Iterator[AsfExtractorEmulator]:  # fmt: skip
    earthdata = EarthdataEmulator(users=users, cookie_ttl=cookie_ttl).start()
    emulator = AsfExtractorEmulator(earthdata, **options).start()
    try:
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("EOCAT_ASF_POLL_INTERVAL", "0.01")
        monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
        monkeypatch.setenv("EARTHDATA_USERNAME", "alice")
        monkeypatch.setenv("EARTHDATA_PASSWORD", "secret")
        if token:
            monkeypatch.setenv("EARTHDATA_TOKEN", earthdata.sessions.new(earthdata.sessions.tokens, "alice"))
        store.upsert_items([burst_item(emulator.burst_url, checksums=True)])
        yield emulator
    finally:
        emulator.stop()
        earthdata.stop()


def test_tiff_after_several_polls_login_once_no_auth_to_storage(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with asf(monkeypatch, store, ready_after=4) as emulator:
        report = fetch(store, ITEM, asset="tiff,xml", jobs=2, session=fast)
        assert report.count("fetched") == 2, [r.error for r in report.failed]
        by_key = {r.asset: r for r in report.results}
        tiff = by_key["tiff"].path
        assert tiff is not None and tiff.read_bytes() == content(GRANULE, "IW1", "VV", 0, "tiff")
        assert tiff.name == file_id(GRANULE, "IW1", "VV", 0) + ".tiff"  # from Content-Disposition
        polls = emulator.extractor_app.polls
        assert polls[f"/{GRANULE}/IW1/VV/0.tiff"] == 5  # 4 x 202, then 307
        sessions = emulator.earthdata.sessions
        assert sessions.logins == 1  # one login for both files
        assert sessions.basic_seen == ["edl"]  # Basic only ever went to EDL
        assert emulator.authorization_at_storage == 0
        stored = store.get_item("sentinel-1-bursts", ITEM)["assets"]["tiff"]["alternate"]["local"]
        assert stored["file:checksum"] == store.get_item("sentinel-1-bursts", ITEM)["assets"]["tiff"]["file:checksum"]


def test_token_login_through_the_cookie_url(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store, token=True) as emulator:
        [result] = fetch(store, ITEM, asset="xml", session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.earthdata.sessions.logins == 0  # no password used
        assert emulator.earthdata.sessions.basic_seen == []


def test_403_reauthenticates_once_and_recovers(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with asf(monkeypatch, store) as emulator:
        assert fetch(store, ITEM, asset="xml", session=fast).results[0].status == "fetched"
        emulator.earthdata.sessions.revoke_cookies()  # the cookie expires between two downloads
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.extractor.requests.count(status=403) == 1 if emulator.extractor else False
        assert emulator.earthdata.sessions.logins == 2


def test_persistent_403_fails_clearly(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store, cookie_ttl=0.0) as emulator:
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "failed" and "refused access after logging in again" in (result.error or "")
        assert emulator.earthdata.sessions.logins == 2
        assert "secret" not in (result.error or "")


def test_wrong_password_is_reported(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store, users={"alice": "other"}):
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "failed" and "Earthdata Login refused the credentials of 'alice'" in (
            result.error or ""
        )


def test_404_shows_the_servers_errors(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store) as emulator:
        store.upsert_items([burst_item(emulator.burst_url, index=42)])
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "failed" and "burst index 42 is out of range 0..9" in (result.error or "")
        assert not list((store.path.parent / "assets" / ".partial").rglob("*.part"))  # no empty leftovers


def test_retries_extractor_5xx(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store) as emulator:
        assert emulator.extractor is not None
        emulator.extractor.faults.fail_next(2, "500")
        [result] = fetch(store, ITEM, asset="xml", session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.extractor.requests.count(status=500) == 2


def test_checksum_mismatch_leaves_nothing(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store) as emulator:
        emulator.streams.corrupt(1)
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "failed" and "checksum mismatch" in (result.error or "")
        assert files_under(store.path.parent / "assets") == []


def test_cut_storage_stream_resumes_with_range(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with asf(monkeypatch, store) as emulator:
        emulator.streams.cut_at(50_000)
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "fetched", result.error
        assert [t["start"] for t in emulator.streams.transfers] == [0, 50_000]
        assert emulator.streams.sent() == result.size


def test_expired_presigned_url_is_renewed_and_resumed(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with asf(monkeypatch, store) as emulator:
        emulator.streams.cut_at(60_000, then=emulator.expire_signatures)
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "fetched", result.error
        assert [t["start"] for t in emulator.streams.transfers] == [0, 60_000]  # a fresh URL, same offset
        assert emulator.storage is not None and emulator.storage.requests.count(status=403) == 1


def test_hostile_filename_stays_inside(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with asf(monkeypatch, store) as emulator:
        emulator.filename = "../../../../etc/cron.d/evil.tiff"
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "fetched" and result.path is not None
        assert result.path.resolve().is_relative_to((store.path.parent / "assets").resolve())
        assert result.path.name == "evil.tiff"


@pytest.mark.slow
def test_killed_fetch_resumes_without_refetching(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with asf(monkeypatch, store, tiff_size=4_000_000) as emulator:
        data = content(GRANULE, "IW1", "VV", 0, "tiff", tiff_size=4_000_000)
        item = burst_item(emulator.burst_url)
        item["assets"]["tiff"]["file:size"] = len(data)
        store.upsert_items([item], mode="replace")
        emulator.streams.rate = 3_000_000
        kept = fetch_and_kill(store, ITEM, "tiff", len(data))
        emulator.streams.rate = None
        bodies = len(emulator.streams.transfers)
        [result] = fetch(store, ITEM, asset="tiff", session=fast).results
        assert result.status == "fetched", result.error
        [resumed] = emulator.streams.transfers[bodies:]
        assert resumed["start"] == kept and resumed["sent"] == len(data) - kept
        assert result.path is not None and result.path.read_bytes() == data
