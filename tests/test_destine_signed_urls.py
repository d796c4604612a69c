"""DestinE signed stream URLs (issue 12, observation 9): a signature is a credential, so the catalogue, its
Parquet export and the API hold the stream's lasting address only; the fetch signs it anew with the user's
DESP login, and the emulator grants nothing to a stored or credential-less URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from catalog.store import Store
from emulators.destine import DestinEEmulator
from eocat.cli import main
from indexer.auth import Credentials
from indexer.destine.auth import DespTokenProvider
from indexer.destine.materialize import FrameRequest, frame_arrays
from indexer.errors import UpstreamError
from tests.api_fixtures import Server
from tests.destine_support import END, START, harvest, stored_items


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DestinEEmulator, Path]]:
    db = tmp_path_factory.mktemp("signed") / "e.db"
    with DestinEEmulator(start=START, end=END) as emulator:
        with Store(db) as store:
            harvest(store, emulator, ("Europe",), "2021-06-01T00:00:00Z", "2021-06-08T00:00:00Z")
        yield emulator, db


@pytest.fixture
def tokens(world: tuple[DestinEEmulator, Path]) -> Iterator[DespTokenProvider]:
    emulator, _ = world
    with DespTokenProvider(
        Credentials("u", "p"), auth_url=emulator.auth_url, streamer_url=emulator.base_url
    ) as provider:
        yield provider


def _items(db: Path) -> list[dict[str, Any]]:
    with Store(db) as store:
        return stored_items(store)


def test_no_signature_in_the_catalogue_its_parquet_export_or_the_api(
    world: tuple[DestinEEmulator, Path], tmp_path: Path
) -> None:
    emulator, db = world
    items = _items(db)
    assert items and all(item["assets"]["ndvi"]["href"].endswith("/streams/s3-ndvi-Europe.mp4") for item in items)
    assert b"sig=" not in db.read_bytes() and b"expires=" not in db.read_bytes()
    assert "sig=" in emulator.stream_path("Europe")  # upstream does sign it
    lake = tmp_path / "lake"
    assert CliRunner().invoke(main, ["--db", str(db), "export", "parquet", str(lake)]).exit_code == 0
    exported = "".join(str(pq.read_table(path).to_pylist()) for path in lake.rglob("*.parquet"))
    assert "s3-ndvi-Europe.mp4" in exported and "sig=" not in exported
    server = Server(db)
    try:
        answer = httpx.get(f"{server.url}/search", params={"limit": 1000}, timeout=180)
        assert answer.status_code == 200 and len(answer.json()["features"]) == len(items)
        assert "s3-ndvi-Europe.mp4" in answer.text and "sig=" not in answer.text
    finally:
        server.stop()


def test_the_stream_grants_nothing_without_a_fresh_signature_or_credentials(
    world: tuple[DestinEEmulator, Path],
) -> None:
    emulator, db = world
    stored = _items(db)[0]["assets"]["ndvi"]["href"]
    assert httpx.get(stored, headers={"Range": "bytes=0-99"}, timeout=180).status_code == 403
    signed = emulator.stream_path("Europe")
    assert httpx.get(signed, headers={"Range": "bytes=0-99"}, timeout=180).status_code == 206
    forged = signed.replace("expires=", "expires=9")  # a later expiry under the same signature
    assert httpx.get(forged, headers={"Range": "bytes=0-99"}, timeout=180).status_code == 403
    clock = emulator.desp.clock
    emulator.desp.clock = lambda: clock() + emulator.stream_lifetime + 1
    try:
        assert httpx.get(signed, headers={"Range": "bytes=0-99"}, timeout=180).status_code == 403  # expired
    finally:
        emulator.desp.clock = clock


def test_frames_are_fetched_through_a_freshly_signed_url(
    world: tuple[DestinEEmulator, Path], tokens: DespTokenProvider
) -> None:
    emulator, db = world
    item = _items(db)[3]
    old = dict(item, assets={"ndvi": {**item["assets"]["ndvi"], "href": emulator.stream_path("Europe")}})
    clock = emulator.desp.clock
    emulator.desp.clock = lambda: clock() + emulator.stream_lifetime + 1  # the old catalogue's signature expired
    try:
        for version in (item, old):
            [(request, values)] = frame_arrays([FrameRequest.from_item(version)], tokens=tokens)
            truth = emulator.truth("Europe", item["properties"]["destine:img_number"])
            np.testing.assert_array_equal(np.isnan(values), np.isnan(truth))
    finally:
        emulator.desp.clock = clock
    assert request.item_id == item["id"]


def test_a_stream_that_moved_is_a_clear_error(world: tuple[DestinEEmulator, Path], tokens: DespTokenProvider) -> None:
    emulator, db = world
    item = _items(db)[0]
    moved = dict(item, assets={"ndvi": {**item["assets"]["ndvi"], "href": f"{emulator.base_url}/streams/old.mp4"}})
    with pytest.raises(UpstreamError, match=r"not .*/streams/old\.mp4; harvest its frames again"):
        list(frame_arrays([FrameRequest.from_item(moved)], tokens=tokens))


def test_without_credentials_a_stored_stream_is_a_clear_error(world: tuple[DestinEEmulator, Path]) -> None:
    from indexer.errors import AuthError

    _, db = world
    with pytest.raises(AuthError, match="signed at fetch time: give DESP credentials"):
        list(frame_arrays([FrameRequest.from_item(_items(db)[0])]))
