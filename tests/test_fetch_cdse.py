"""CDSE fetches over real HTTP against the emulator: products, Nodes files, on-demand bursts. Those
that record local copies in the catalogue (and the kill -9 resume) run on both backends."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.fetch import FetchSession, fetch, fetch_items, local_copy
from catalog.fetch.api import asset_root
from catalog.fetch.verify import multihash
from catalog.store import Store
from emulators.cdse.burst_download import BurstInfo, burst_zip, derived_burst
from emulators.cdse.download import payload_md5
from tests.backends import both_backends
from tests.fetch_helpers import BURST_ID, burst_item, cdse, fast_session, fetch_and_kill, files_under

BURST_ITEM = "S1_181296_IW1_20240802T060723_VH"


@pytest.fixture
def fast() -> Iterator[FetchSession]:
    with fast_session() as session:
        yield session


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@both_backends
def test_product_fetch_is_verified_recorded_and_then_cached(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store) as (emulator, items):
        item = items[0]
        report = fetch(store, item["id"], session=fast)
        [result] = report.results
        assert result.status == "fetched", result.error
        assert result.path is not None and result.path.name == item["assets"]["product"]["file:local_path"]
        product = emulator.product(item["properties"]["cdse:id"])
        assert product is not None and _md5(result.path) == payload_md5(product)
        assert result.checksum == item["assets"]["product"]["file:checksum"]
        stored = store.get_item(item["collection"], item["id"])
        local = stored["assets"]["product"]["alternate"]["local"]
        assert local["href"] == result.path.absolute().as_uri() and local["file:size"] == result.size
        assert stored["assets"]["product"]["href"] == item["assets"]["product"]["href"]  # never overwritten
        assert local_copy(stored["assets"]["product"]) == result.path
        sent = emulator.app.streams.sent()
        again = fetch(store, item["id"], session=fast)
        assert [r.status for r in again.results] == ["cached"]
        assert emulator.app.streams.sent() == sent  # no byte moved


@both_backends
def test_checksum_mismatch_quarantines_and_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store) as (emulator, items):
        emulator.app.streams.corrupt(1)
        [result] = fetch(store, items[0]["id"], session=fast).results
        assert result.status == "failed"
        assert "checksum mismatch" in (result.error or "") and "quarantined" in (result.error or "")
        root = asset_root(store)
        assert files_under(root) == []
        assert len(list((root / ".quarantine").iterdir())) == 1
        assert "alternate" not in store.get_item(items[0]["collection"], items[0]["id"])["assets"]["product"]
        [retry] = fetch(store, items[0]["id"], session=fast).results  # a clean second attempt works
        assert retry.status == "fetched"


@pytest.mark.parametrize(("range_mode", "restarts"), [("honour", False), ("ignore", True), ("reject", True)])
def test_dropped_connection_resumes_or_restarts(
    monkeypatch: pytest.MonkeyPatch, store: Store, range_mode: str, restarts: bool, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, range_mode=range_mode) as (emulator, items):
        size = items[0]["assets"]["product"]["file:size"]
        emulator.app.streams.cut_at(size // 3)
        [result] = fetch(store, items[0]["id"], session=fast).results
        assert result.status == "fetched", result.error
        sent = emulator.app.streams.sent("/products/")
        assert sent == (size + size // 3 if restarts else size)


def test_retries_429_and_5xx_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store) as (emulator, items):
        emulator.faults.fail_next(1, "429", path="/zipper", retry_after=0)
        emulator.faults.fail_next(2, "503", path="/zipper", retry_after=0)
        [result] = fetch(store, items[0]["id"], session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.requests.count("/zipper", 429) == 1 and emulator.requests.count("/zipper", 503) == 2


def test_token_expiring_mid_download_is_refreshed(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, range_mode="honour") as (emulator, items):
        size = items[0]["assets"]["product"]["file:size"]
        emulator.app.streams.cut_at(size // 2, then=lambda: emulator.clock.advance(700))  # access token: 600 s
        [result] = fetch(store, items[0]["id"], session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.requests.count("/zipper", 401) == 1  # the stale token was refused once ...
        assert emulator.tokens.issued == 2  # ... and renewed (refresh grant), not a new login per request
        assert emulator.app.streams.sent("/products/") == size  # resumed, not restarted


def test_host_limit_caps_concurrent_downloads(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, count=8, payload=400_000) as (emulator, items):
        emulator.app.streams.rate = 2_000_000
        session = fast
        report = fetch_items(store, items, asset="product", jobs=8, session=session)
        assert report.count("fetched") == 8, [r.error for r in report.failed]
        host = emulator.base_url.removeprefix("http://")
        assert session.limits.peak[host] == 4


def test_scl_band_transfers_only_that_file(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with cdse(monkeypatch, store) as (emulator, items):
        item = items[0]
        [result] = fetch(store, item["id"], asset="SCL", session=fast).results
        assert result.status == "fetched", result.error
        assert result.path is not None and result.path.name.endswith("_SCL_20m.jp2")
        bodies = emulator.app.streams.bytes_sent
        assert list(bodies) == [next(k for k in bodies if k.endswith("_SCL_20m.jp2"))]
        assert bodies[next(iter(bodies))] == result.size == result.path.stat().st_size
        assert emulator.requests.count("/zipper/odata/v1/Products", 200) >= 1  # listings
        stored = store.get_item(item["collection"], item["id"])["assets"]["SCL"]
        assert stored["href"].endswith("_SCL_20m.jp2)/$value") and "local" in stored["alternate"]
        [same] = fetch(store, item["id"], node="GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2", session=fast).results
        assert same.status == "fetched" and same.path is not None and same.path.read_bytes() == result.path.read_bytes()


def test_ambiguous_node_pattern_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store) as (_, items):
        [result] = fetch(store, items[0]["id"], node="*_SCL_*.jp2", session=fast).results
        assert result.status == "failed" and "matches 2 files" in (result.error or "")


def test_burst_on_demand_post_redirect_repost_zip(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, count=1) as (emulator, _):
        store.upsert_items([burst_item(emulator.catalogue_url)])
        [result] = fetch(store, BURST_ITEM, session=fast).results
        assert result.status == "fetched", result.error
        info = derived_burst(BURST_ID)
        assert info is not None and result.path is not None
        assert result.path.name == info.safe_name.removesuffix(".SAFE") + ".zip"  # Content-Disposition
        with zipfile.ZipFile(result.path) as archive:
            assert archive.testzip() is None
            assert any(n.endswith(".tiff") and "/measurement/" in n for n in archive.namelist())
        assert emulator.app.burst_downloads.posts == ["catalogue", "bursts"]  # redirected, then re-POSTed


def test_burst_resume_after_cut(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with cdse(monkeypatch, store, count=1, range_mode="honour") as (emulator, _):
        store.upsert_items([burst_item(emulator.catalogue_url)])
        emulator.app.streams.cut_at(100_000)
        [result] = fetch(store, BURST_ITEM, session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.app.streams.sent("/bursts/") == result.size
        with zipfile.ZipFile(result.path or "") as archive:
            assert archive.testzip() is None


def test_hostile_content_disposition_stays_inside_the_store(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, count=1) as (emulator, _):
        emulator.app.burst_downloads.lookup = lambda bid: BurstInfo(bid, "../../../../../tmp/eocat-evil.SAFE")
        store.upsert_items([burst_item(emulator.catalogue_url)])
        [result] = fetch(store, BURST_ITEM, session=fast).results
        root = (store.path.parent / "assets").resolve()
        assert result.status == "fetched" and result.path is not None
        assert result.path.resolve().is_relative_to(root) and result.path.name == "eocat-evil.zip"
        assert not Path("/tmp/eocat-evil.zip").exists()


def test_wrong_credentials_fail_clearly(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with cdse(monkeypatch, store, credentials={"alice": "other"}) as (_, items):
        [result] = fetch(store, items[0]["id"], session=fast).results
        assert result.status == "failed" and "refused the credentials" in (result.error or "")
        assert "secret" not in (result.error or "")


@pytest.mark.slow
@both_backends
def test_killed_fetch_resumes_without_refetching(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, count=1, payload=6_000_000, range_mode="honour") as (emulator, items):
        item = items[0]
        size = item["assets"]["product"]["file:size"]
        emulator.app.streams.rate = 4_000_000  # slow enough to be killed midway
        kept = fetch_and_kill(store, item["id"], "product", size)
        emulator.app.streams.rate = None
        bodies = len(emulator.app.streams.transfers)
        [result] = fetch(store, item["id"], session=fast).results
        assert result.status == "fetched", result.error
        assert result.resumed_from == kept
        [resumed] = emulator.app.streams.transfers[bodies:]  # one more body: from the kept offset to the end
        assert resumed["start"] == kept and resumed["sent"] == size - kept
        product = emulator.product(item["properties"]["cdse:id"])
        assert product is not None and result.path is not None and _md5(result.path) == payload_md5(product)


def _burst_with_checksum(catalogue_url: str, tiff_size: int = 300_000) -> dict[str, Any]:
    item = burst_item(catalogue_url)
    info = derived_burst(BURST_ID)
    assert info is not None
    data = burst_zip(info, tiff_size)
    item["assets"]["cdse"]["file:size"] = len(data)
    item["assets"]["cdse"]["file:checksum"] = multihash("md5", hashlib.md5(data).hexdigest())
    return item


def test_burst_checksum_mismatch_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession
) -> None:
    with cdse(monkeypatch, store, count=1) as (emulator, _):
        store.upsert_items([_burst_with_checksum(emulator.catalogue_url)])
        emulator.app.streams.corrupt(1)
        [result] = fetch(store, BURST_ITEM, session=fast).results
        assert result.status == "failed" and "checksum mismatch" in (result.error or "")
        assert files_under(store.path.parent / "assets") == []


def test_burst_token_expiring_mid_download(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with cdse(monkeypatch, store, count=1, range_mode="honour") as (emulator, _):
        store.upsert_items([_burst_with_checksum(emulator.catalogue_url)])
        emulator.app.streams.cut_at(150_000, then=lambda: emulator.clock.advance(700))
        [result] = fetch(store, BURST_ITEM, session=fast).results
        assert result.status == "fetched", result.error
        assert emulator.requests.count("/bursts/", 401) == 1 and emulator.tokens.issued == 2
        assert [t["start"] for t in emulator.app.streams.transfers] == [0, 150_000]


@pytest.mark.slow
def test_killed_burst_fetch_resumes(monkeypatch: pytest.MonkeyPatch, store: Store, fast: FetchSession) -> None:
    with cdse(monkeypatch, store, count=1, range_mode="honour") as (emulator, _):
        emulator.app.burst_downloads.tiff_size = 4_000_000
        item = _burst_with_checksum(emulator.catalogue_url, 4_000_000)
        store.upsert_items([item])
        size = item["assets"]["cdse"]["file:size"]
        emulator.app.streams.rate = 3_000_000
        kept = fetch_and_kill(store, BURST_ITEM, "cdse", size)
        emulator.app.streams.rate = None
        bodies = len(emulator.app.streams.transfers)
        [result] = fetch(store, BURST_ITEM, session=fast).results
        assert result.status == "fetched", result.error
        [resumed] = emulator.app.streams.transfers[bodies:]
        assert resumed["start"] == kept and resumed["sent"] == size - kept


def test_rich_progress_reports_files_and_total(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    import io

    from rich.console import Console

    from catalog.fetch.progress import RichReporter

    with cdse(monkeypatch, store, count=2) as (_, items):
        screen = io.StringIO()
        reporter = RichReporter(Console(file=screen, force_terminal=True, width=140))
        report = fetch_items(store, items, asset="product", jobs=2, reporter=reporter)
        reporter.close()
        assert report.count("fetched") == 2
        assert "all files" in screen.getvalue() and "product" in screen.getvalue()
