"""Harvesting DestinE frames from the emulator over real HTTP: counts, windows, tokens, bad records, STAC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.store import Store
from emulators.destine import DestinEEmulator
from indexer.auth import Credentials
from indexer.destine.auth import DespTokenProvider
from indexer.destine.client import harvest_frames
from indexer.destine.mapping import frame_item
from tests.destine_support import END, START, frames_between, stored_items
from tests.stac_validation import validate_collection, validate_item


@pytest.fixture(scope="module")
def emulator() -> Iterator[DestinEEmulator]:
    with DestinEEmulator(start=START, end=END) as emulator:
        yield emulator


def _tokens(emulator: DestinEEmulator) -> DespTokenProvider:
    return DespTokenProvider(Credentials("u", "p"), auth_url=emulator.auth_url, streamer_url=emulator.base_url)


@pytest.fixture
def env(emulator: DestinEEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(
    ("start", "end", "span"),
    [
        ("2021-06-01T00:00:00Z", "2021-07-15T00:00:00Z", 31),  # the whole stream
        ("2021-06-03T10:00:00Z", "2021-06-20T09:59:30Z", 2),  # starts between S3A and S3B, ends mid-minute
        ("2021-06-10T09:45:30Z", "2021-06-10T23:00:00Z", 1),  # a few hours, seconds precision
        ("2021-06-20T00:00:00Z", "2021-07-30T00:00:00Z", 7),  # runs past the end of the stream
        ("2021-05-01T00:00:00Z", "2021-05-30T00:00:00Z", 31),  # before the stream: nothing
    ],
)
def test_harvest_counts_equal_the_metadatas_frames(
    emulator: DestinEEmulator, store: Store, env: None, start: str, end: str, span: int
) -> None:
    expected = frames_between(emulator, "Europe", start, end)
    with _tokens(emulator) as tokens:
        report = harvest_frames(
            store, "Europe", start, end, tokens=tokens, streamer_url=emulator.base_url, span_days=span, progress=False
        )
    assert report.items.inserted == report.received == report.expected == len(expected)
    assert report.items.rejected == 0 and not report.shortfalls
    items = stored_items(store)
    assert [i["properties"]["destine:img_number"] for i in items] == [f.img_number for f in expected]
    assert len({i["id"] for i in items}) == len(expected)


def test_adjacent_windows_and_reharvest_neither_lose_nor_duplicate(emulator: DestinEEmulator, store: Store) -> None:
    cut = "2021-06-17T10:05:00Z"  # between frames of one day
    with _tokens(emulator) as tokens:
        one = harvest_frames(
            store, "Africa", "2021-06-01T00:00:00Z", cut, tokens=tokens, streamer_url=emulator.base_url, progress=False
        )
        two = harvest_frames(
            store, "Africa", cut, "2021-07-15T00:00:00Z", tokens=tokens, streamer_url=emulator.base_url, progress=False
        )
        again = harvest_frames(
            store,
            "Africa",
            "2021-06-01T00:00:00Z",
            "2021-07-15T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            restart=True,
            progress=False,
        )
    total = len(emulator.streams["Africa"])
    assert one.items.inserted + two.items.inserted == total
    assert again.items.unchanged == total and again.items.inserted == again.items.updated == 0
    assert len(stored_items(store, "Africa")) == total


def test_a_token_expiring_mid_harvest_is_refreshed(store: Store) -> None:
    # each access token is good for one metadata call; 45 daily windows need 45 calls
    with DestinEEmulator(start=START, end=END, max_uses=1) as emulator, _tokens(emulator) as tokens:
        report = harvest_frames(
            store,
            "Europe",
            "2021-06-01T00:00:00Z",
            "2021-07-15T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            span_days=1,
            jobs=1,
            progress=False,
        )
        assert report.items.inserted == len(emulator.streams["Europe"]) and not report.shortfalls
        assert tokens.grants[0] == "authorization_code"
        assert tokens.grants.count("refresh_token") >= 40
        assert ("GET", "/api/streaming/s3/data/metadata/Europe", 401) in emulator.requests
        assert emulator.desp.grants == tokens.grants


def test_expired_tokens_by_time_are_refreshed_too(store: Store) -> None:
    with DestinEEmulator(start=START, end=END) as emulator, _tokens(emulator) as tokens:
        harvest_frames(
            store,
            "Europe",
            "2021-06-01T00:00:00Z",
            "2021-06-10T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            progress=False,
        )
        emulator.desp.expire_all()  # the server says the (client-side still valid) token has expired
        report = harvest_frames(
            store,
            "Europe",
            "2021-06-10T00:00:00Z",
            "2021-06-20T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            progress=False,
        )
    assert report.items.inserted == len(
        frames_between(emulator, "Europe", "2021-06-10T00:00:00Z", "2021-06-20T00:00:00Z")
    )
    assert tokens.grants == ["authorization_code", "refresh_token"]


def test_malformed_records_are_counted_and_reported(store: Store) -> None:
    with DestinEEmulator(start=START, end=END, malformed=[3, 30]) as emulator, _tokens(emulator) as tokens:
        report = harvest_frames(
            store,
            "Europe",
            "2021-06-01T00:00:00Z",
            "2021-07-15T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            progress=False,
        )
        total = len(emulator.streams["Europe"])
    assert report.items.rejected == 2 and report.items.inserted == total - 2
    assert all("img_max_value None is not a finite number" in e for e in report.items.errors)
    assert report.received == report.expected == total and not report.shortfalls


def test_items_and_collection_are_valid_stac(emulator: DestinEEmulator, store: Store) -> None:
    with _tokens(emulator) as tokens:
        token = tokens.access_token()
        harvest_frames(
            store,
            "Africa",
            "2021-06-01T00:00:00Z",
            "2021-06-05T00:00:00Z",
            tokens=tokens,
            streamer_url=emulator.base_url,
            progress=False,
        )
    items = stored_items(store)
    validate_collection(store.get_collection("destine-s3-ndvi"))
    for item in items:
        validate_item(item)
    frame = emulator.streams["Africa"].frames[items[0]["properties"]["destine:img_number"] - 1]
    item = items[0]
    properties, asset = item["properties"], item["assets"]["ndvi"]
    assert properties["datetime"] == frame.start.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert properties["platform"] == {"S3A": "sentinel-3a", "S3B": "sentinel-3b"}[frame.satellite]
    assert properties["proj:shape"] == [148, 144]
    assert properties["proj:transform"] == [0.5, 0.0, -20.0, 0.0, -0.5, 38.0]
    assert item["bbox"] == [-20.0, -36.0, 52.0, 38.0]
    assert asset["href"] == f"{emulator.base_url}/streams/s3-ndvi-Africa.mp4" and asset["type"] == "video/mp4"
    assert asset["eocat:protocol"] == "destine-frame" and asset["eocat:frame"] == frame.img_number
    assert asset["eocat:fps"] == 25 and asset["auth:refs"] == ["desp"]
    assert "desp" in properties["auth:schemes"] and "desp" in store.get_collection("destine-s3-ndvi")["auth:schemes"]
    band = asset["bands"][0]
    assert band["raster:offset"] == frame.min_value and band["nodata"] == 0
    assert band["raster:scale"] == pytest.approx((frame.max_value - frame.min_value) / 4095)
    serialized = str(items)
    assert token not in serialized and "password" not in serialized


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"img_number": 0}, "img_number"),
        ({"img_min_value": float("inf")}, "img_min_value"),
        ({"img_max_value": -1.0}, "img_max_value -1.0 < img_min_value"),
        ({"img_start_date": "yesterday"}, "not a date-time"),
        ({"satellite": "S3C"}, "unknown satellite"),
    ],
)
def test_mapping_rejects_malformed_records(change: dict[str, object], message: str) -> None:
    from catalog.errors import InvalidItem

    image = {
        "img_number": 4,
        "img_start_date": "2021-01-01T09:41:12",
        "img_min_value": -0.2,
        "img_max_value": 0.9,
        "satellite": "S3A",
        **change,
    }
    record = {
        "image": image,
        "continent": "Europe",
        "stream": {"stream_path": "https://x/s.mp4", "nx": 4, "ny": 2, "bbox": [0, 0, 4, 2]},
    }
    with pytest.raises(InvalidItem, match=message):
        frame_item(record)


def test_fixture_record_maps_like_the_spec(tmp_path: Path) -> None:
    import json

    document = json.loads(
        (Path(__file__).parents[1] / "emulators/destine/fixtures/s3_continent_metadata.reconstructed.json").read_text()
    )
    stream = {k: document[k] for k in ("stream_path", "nx", "ny", "bbox")}
    items = [frame_item({"image": i, "stream": stream, "continent": "Europe"}) for i in document["images"]]
    assert [i["id"] for i in items] == [
        "s3-ndvi-Europe-S3A-20210101T094112",
        "s3-ndvi-Europe-S3B-20210101T102047",
        "s3-ndvi-Europe-S3A-20210102T101503",
    ]
    assert items[0]["properties"]["destine:stream_time_s"] == pytest.approx(730 / 25)
    assert items[0]["properties"]["proj:transform"] == pytest.approx([0.025, 0, -25.0, 0, -0.025, 72.0])
    for item in items:
        validate_item(item)
