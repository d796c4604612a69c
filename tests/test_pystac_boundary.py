"""pystac at the library boundary: pystac objects in (upsert), pystac objects out (search, collections)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pystac
import pytest

from catalog import NotFound, Store, pystac_io
from catalog.search import Query, search
from catalog.timeutil import canonical_lenient
from eocat import samples
from indexer.bursts import mapping as bursts_mapping
from indexer.cdse import mapping as cdse_mapping
from indexer.destine import mapping as destine_mapping
from tests.stac_validation import validate_collection, validate_item


def shipped_collections() -> list[dict[str, Any]]:
    return [
        *cdse_mapping.collections("https://zipper.example/odata/v1"),
        bursts_mapping.collection(),
        destine_mapping.collection(),
        *samples.collections(),
    ]


@pytest.mark.parametrize("document", shipped_collections(), ids=lambda d: d["id"])
def test_every_shipped_collection_round_trips_through_pystac_and_validates(document: dict[str, Any]) -> None:
    original = copy.deepcopy(document)
    collection = pystac_io.to_collection(document)
    assert isinstance(collection, pystac.Collection) and collection.id == original["id"]
    assert document == original  # the stored dict is not touched
    back = pystac_io.collection_dict(collection)
    validate_collection(back)
    # pystac drops an empty summaries object; nothing else changes
    expected = {k: v for k, v in original.items() if not (k == "summaries" and not v)}
    assert back == expected


def _same_item(stored: dict[str, Any], given: dict[str, Any]) -> None:
    """Equal, with times compared as instants (pystac writes its own RFC 3339 spelling)."""
    times = ("datetime", "start_datetime", "end_datetime", "created", "updated", "published")
    for key in times:
        assert canonical_lenient(stored["properties"].get(key)) == canonical_lenient(given["properties"].get(key))
    strip = {k: v for k, v in stored["properties"].items() if k not in times}
    assert strip == {k: v for k, v in given["properties"].items() if k not in times}
    assert {k: v for k, v in stored.items() if k != "properties"} == {
        k: v for k, v in given.items() if k != "properties"
    }


def test_upsert_accepts_pystac_items_item_collections_and_collections(tmp_path: Path) -> None:
    items = list(samples.generate_items(30, seed=21))
    store = Store(tmp_path / "c.db")
    for document in samples.collections():
        store.upsert_collection(pystac.Collection.from_dict(document))
    as_pystac = [pystac.Item.from_dict(item) for item in items[:10]]
    report = store.upsert_items([*as_pystac, *items[10:20]])
    assert report.written == 20 and not report.rejected
    report = store.upsert_items(pystac.ItemCollection([pystac.Item.from_dict(i) for i in items[20:]]))
    assert report.written == 10
    for item in items:
        stored = store.get_item(item["collection"], item["id"])
        _same_item(stored, item)
        validate_item(stored)
    assert {c.id for c in pystac_io.collections(store)} == set(samples.COLLECTION_IDS.values())


def test_upsert_still_rejects_what_is_not_an_item(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    report = store.upsert_items([{"type": "Feature"}, "not an item"])
    assert report.written == 0 and report.rejected == 2


def test_search_returns_pystac_objects(tmp_path: Path) -> None:
    items = list(samples.generate_items(60, seed=5, kinds=("s2-l2a",)))
    store = Store(tmp_path / "c.db")
    store.upsert_items(items)
    page = pystac_io.search(store, collections="sentinel-2-l2a", limit=25, sortby="-datetime")
    assert isinstance(page, pystac.ItemCollection) and len(page) == 25
    assert all(isinstance(item, pystac.Item) for item in page)
    plain = search(store, Query.parse(collections="sentinel-2-l2a", limit=25, sortby="-datetime"))
    assert [item.id for item in page] == [item["id"] for item in plain.items]
    assert page.items[0].datetime is not None and page.items[0].collection_id == "sentinel-2-l2a"
    everything = pystac_io.search_all(store, Query.parse(collections="sentinel-2-l2a", limit=7))
    assert sorted(item.id for item in everything) == sorted(item["id"] for item in items)
    with pytest.raises(TypeError):
        pystac_io.search(store, Query.parse(limit=3), limit=4)


def test_collections_come_out_as_pystac(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    store.upsert_collection(bursts_mapping.collection())
    collection = pystac_io.get_collection(store, "sentinel-1-bursts")
    assert isinstance(collection, pystac.Collection) and collection.title
    with pytest.raises(NotFound):
        pystac_io.get_collection(store, "nosuch")
