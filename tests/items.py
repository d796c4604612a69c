"""Small hand-made STAC items for unit tests (the generator in eocat.samples makes big sets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from catalog.backend import CatalogStore


def make_item(
    item_id: str = "item-1",
    collection: str = "test-collection",
    *,
    x: float = 10.0,
    y: float = 45.0,
    size: float = 1.0,
    datetime: str = "2024-05-01T10:00:00Z",
    properties: dict[str, Any] | None = None,
    assets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": [],
        "id": item_id,
        "collection": collection,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [x, y, x + size, y + size],
        "properties": {"datetime": datetime, **(properties or {})},
        "links": [{"rel": "collection", "href": f"https://example.test/collections/{collection}"}],
        "assets": assets if assets is not None else {"data": {"href": f"https://example.test/{item_id}.tif"}},
    }


def all_stored_items(store: CatalogStore) -> list[dict[str, Any]]:
    """Every stored item, read through the store's bulk-read interface (bodies may be compressed)."""
    return [
        orjson.loads(text)
        for collection in sorted(store.collection_ids())
        for chunk in store.iter_item_texts(collection)
        for text in chunk
    ]
