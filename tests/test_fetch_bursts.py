"""Harvested burst items fetched end to end: CDSE on-demand extraction and ASF extractor, over real HTTP.

The burst truth is served by the CDSE and ASF search emulators; the items the harvesters write are then
materialized through ``catalog.fetch`` from the CDSE bursts host and the ASF extractor + Earthdata Login.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.fetch import FetchSession, fetch
from catalog.search import Query, iter_items
from catalog.store import Store
from emulators.asf import AsfEmulator
from emulators.asf_extractor import AsfExtractorEmulator, burst_names, content
from emulators.cdse import CdseEmulator
from emulators.earthdata import EarthdataEmulator
from emulators.s1truth import SyntheticBursts
from indexer.asf.client import AsfBurstQuery, harvest_asf_bursts
from indexer.bursts import COLLECTION_ID
from indexer.cdse.bursts import BurstQuery, harvest_cdse_bursts
from tests.fetch_helpers import fast_session

TRUTH = SyntheticBursts(seed=7, frames=1, start="2024-09-01T00:00:00Z", end="2024-10-01T00:00:00Z")


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, CdseEmulator, AsfExtractorEmulator]]:
    earthdata = EarthdataEmulator().start()
    extractor = AsfExtractorEmulator(earthdata, names=burst_names(TRUTH)).start()
    try:
        with (
            CdseEmulator(include_fixtures=False, bursts=TRUTH) as cdse,
            AsfEmulator(bursts=TRUTH, include_fixtures=False, quota=None) as asf,
            Store(tmp_path / "e.db") as store,
        ):
            variables = {**cdse.environment(), **asf.environment(), **extractor.environment()}
            for key, value in variables.items():
                monkeypatch.setenv(key, value)
            settings = {"CDSE_USERNAME": "alice", "CDSE_PASSWORD": "secret", "EOCAT_TOKEN_CACHE": "0",
                        "EARTHDATA_USERNAME": "alice", "EARTHDATA_PASSWORD": "secret",
                        "EOCAT_ASF_POLL_INTERVAL": "0.01", "EOCAT_ASSET_DIR": str(tmp_path / "assets")}  # fmt: skip
            for key, value in settings.items():
                monkeypatch.setenv(key, value)
            monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
            harvest_cdse_bursts(store, BurstQuery(), TRUTH.start, TRUTH.end, progress=False)
            harvest_asf_bursts(store, AsfBurstQuery(), TRUTH.start, TRUTH.end, progress=False, queries_per_minute=None)
            yield store, cdse, extractor
    finally:
        extractor.stop()
        earthdata.stop()


@pytest.fixture
def session() -> Iterator[FetchSession]:
    with fast_session() as fast:
        yield fast


def _merged_item(store: Store) -> dict[str, Any]:
    for item in iter_items(store, Query.parse(collections=COLLECTION_ID, sortby="datetime")):
        if {"cdse", "tiff", "xml"} <= set(item["assets"]):
            return item
    raise AssertionError("no burst carries assets from both sources")


def test_a_harvested_burst_is_fetched_from_both_sources(
    world: tuple[Store, CdseEmulator, AsfExtractorEmulator], session: FetchSession
) -> None:
    store, cdse, _ = world
    item = _merged_item(store)
    props = item["properties"]
    report = fetch(store, item["id"], ["cdse", "tiff", "xml"], session=session)
    assert not report.failed, [r.error for r in report.failed]
    assert report.count("fetched") == 3

    stored = store.get_item(COLLECTION_ID, item["id"])
    paths = {
        key: Path(stored["assets"][key]["alternate"]["local"]["href"].removeprefix("file://")) for key in item["assets"]
    }
    with zipfile.ZipFile(paths["cdse"]) as archive:  # the on-demand extraction of this very burst
        names = archive.namelist()
    assert any(n.endswith(".tiff") and "/measurement/" in n for n in names)
    assert cdse.app.burst_downloads.extractions == 1

    granule = props["s1:parent_product"].removesuffix(".SAFE")
    pol = props["sar:polarizations"][0]
    expected = content(granule, props["s1:subswath"], pol, props["s1:burst_index"], "tiff")
    assert paths["tiff"].read_bytes() == expected
    assert paths["tiff"].name == f"{item['id']}-BURST.tiff"  # the server's name: ASF's fileID of this very burst
    assert paths["xml"].read_bytes() == content(granule, props["s1:subswath"], pol, props["s1:burst_index"], "xml")

    again = fetch(store, item["id"], ["cdse", "tiff", "xml"], session=session)
    assert again.count("cached") == 3 and again.transferred == 0


def test_an_unknown_burst_id_is_a_clear_404(
    world: tuple[Store, CdseEmulator, AsfExtractorEmulator], session: FetchSession
) -> None:
    store, _, _ = world
    item = _merged_item(store)
    item["id"] = "S1_000000_IW1_20240901T000000_VV_FFFF"
    item["assets"] = {"cdse": {**item["assets"]["cdse"]}}
    item["assets"]["cdse"]["href"] = (
        item["assets"]["cdse"]["href"].rsplit("(", 1)[0] + "(00000000-0000-0000-0000-000000000000)/$value"
    )
    store.upsert_items([item])
    report = fetch(store, item["id"], "cdse", session=session)
    (failure,) = report.failed
    assert "404" in (failure.error or "") or "not found" in (failure.error or "").lower()


def test_a_burst_asf_does_not_have_is_a_404_with_its_errors(
    world: tuple[Store, CdseEmulator, AsfExtractorEmulator], session: FetchSession
) -> None:
    store, _, _ = world
    item = _merged_item(store)
    item["id"] = "S1_000000_IW1_20240901T000000_VV_EEEE"
    tiff = dict(item["assets"]["tiff"])
    tiff["href"] = tiff["href"].rsplit("/", 1)[0] + "/9.tiff"  # a well-formed index this granule lacks
    item["assets"] = {"tiff": tiff}
    store.upsert_items([item])
    (failure,) = fetch(store, item["id"], "tiff", session=session).failed
    assert "no such burst file" in (failure.error or "") and "no burst" in (failure.error or "")  # its errors list
