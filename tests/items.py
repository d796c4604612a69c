"""Small hand-made STAC items for unit tests (the generator in eocat.samples makes big sets)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from catalog.backend import CatalogStore


#: a minimal valid STAC Collection for CLI tests (the items of make_item name their own collections)
COLLECTION = {
    "type": "Collection",
    "stac_version": "1.1.0",
    "id": "test-collection",
    "description": "d",
    "license": "CC-BY-4.0",
    "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    "links": [],
}


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


def lake_items(step: int = 1, cloud_cover: float | None = None, platform: str = "sentinel-2a") -> list[dict[str, Any]]:
    """1,800 items in two collections over three years and nine months (every ``step``-th of them): the
    export tests' small lake. ``cloud_cover`` None gives each item its own value."""
    return [
        make_item(f"{collection}-{year}-{n}", collection, x=n % 50, y=n % 40,
                  datetime=f"{year}-0{1 + n % 9}-02T10:00:00Z",
                  properties={"eo:cloud_cover": float(n % 100) if cloud_cover is None else cloud_cover,
                              "platform": platform})
        for collection in ("alpha", "beta") for year in (2022, 2023, 2024) for n in range(0, 300, step)
    ]  # fmt: skip


def all_stored_items(store: CatalogStore) -> list[dict[str, Any]]:
    """Every stored item, read through the store's bulk-read interface (bodies may be compressed)."""
    return [
        orjson.loads(text)
        for collection in sorted(store.collection_ids())
        for chunk in store.iter_item_texts(collection)
        for text in chunk
    ]


def finished_windows(db: str | Path, source: str | None = None) -> int:
    """How many harvest windows a catalogue (SQLite file or pgstac URL) records as finished, read
    without opening a store, while another process harvests into it (0 before it exists)."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        import psycopg

        where, params = ("WHERE source = %s", [source]) if source else ("", [])
        with psycopg.connect(db) as conn:
            row = conn.execute(f"SELECT count(*) FROM eocat.harvest_windows {where}".encode(), params).fetchone()
        return int(row[0]) if row else 0
    import sqlite3

    if not Path(db).exists():
        return 0
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute(f"SELECT count(*) FROM harvest_windows {where}", params).fetchone()
        except sqlite3.OperationalError:  # the catalogue is still being created
            return 0
    return int(row[0]) if row else 0
