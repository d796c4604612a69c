"""What eocat writes validates against the STAC 1.1 and extension schemas (offline copies)."""

from __future__ import annotations

from typing import Any

from catalog.search import Query, iter_items
from catalog.store import Store
from tests.items import make_item
from tests.stac_validation import validate_collection, validate_item


def test_items_read_back_from_the_store_validate(sample_store: Store) -> None:
    items = list(iter_items(sample_store, Query.parse(limit=1000)))
    assert len(items) == sample_store.count_items()
    sample = items[::25] + [item for item in items if item["bbox"][0] > item["bbox"][2]]  # ~5 ms each
    assert {item["collection"] for item in sample} == {c["id"] for c in sample_store.collections()}
    for item in sample:
        validate_item(item)


def test_stored_collections_validate(sample_store: Store) -> None:
    documents = sample_store.collections()
    assert len(documents) >= 5
    for document in documents:
        validate_collection(document)


def test_merged_items_still_validate(store: Store, sample_items: list[dict[str, Any]]) -> None:
    burst = next(item for item in sample_items if item["collection"] == "sentinel-1-bursts")
    other_source = {
        **burst,
        "assets": {"extra": {"href": "https://asf.test/extra.xml", "type": "application/xml", "roles": ["metadata"]}},
        "properties": {**burst["properties"], "providers": [{"name": "ASF", "roles": ["host"]}]},
    }
    store.upsert_items([burst])
    store.upsert_items([other_source])
    merged = store.get_item(burst["collection"], burst["id"])
    assert set(merged["assets"]) == set(burst["assets"]) | {"extra"}
    validate_item(merged)


def test_placeholder_collections_validate_before_and_after_their_extent_is_computed(store: Store) -> None:
    store.upsert_items([make_item("a", "made-up"), make_item("b", "made-up", x=-20, datetime="2020-02-02T00:00:00Z")])
    validate_collection(store.get_collection("made-up"))
    store.refresh_extent("made-up")
    validate_collection(store.get_collection("made-up"))
    validate_item(store.get_item("made-up", "a"))
