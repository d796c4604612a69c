"""A catalogue written by schema 2 (JSON text bodies, 2D R*Tree) is upgraded in place on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from catalog import geo
from catalog.columns import HOT_PROPERTIES
from catalog.migrations import MIGRATIONS, _sync_hot_columns
from catalog.search import SHORT_SPAN_US, Query, _probe, count, iter_items
from catalog.sqlite import sqlite_utils
from catalog.store import Store
from catalog.timeutil import canonical_lenient, parse_canonical
from tests import oracle

_TIMES = ("datetime", "start_datetime", "end_datetime")


def _write_schema_2(path: Path, items: list[dict[str, Any]]) -> None:
    """What the schema-2 store wrote: text bodies, bbox columns, an R*Tree of boxes only."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA page_size = 16384")
    conn.create_function("eocat_item", 1, lambda text: text)
    db = sqlite_utils.Database(conn)
    for number, migration in enumerate(MIGRATIONS[:2], start=1):
        migration(db)
        conn.execute(f"PRAGMA user_version = {number}")
    _sync_hot_columns(db)
    collections = sorted({item["collection"] for item in items})
    for collection in collections:
        document = {"type": "Collection", "id": collection, "description": "", "license": "other", "links": []}
        conn.execute("INSERT INTO collections VALUES (?, ?, '2024-01-01T00:00:00.000000Z')",
                     [collection, orjson.dumps(document).decode()])  # fmt: skip
    conn.execute("BEGIN")
    for pk, item in enumerate(items, start=1):
        properties = item["properties"]
        instant = canonical_lenient(properties.get("datetime"))
        start = canonical_lenient(properties.get("start_datetime"))
        end = canonical_lenient(properties.get("end_datetime"))
        first = min(t for t in (start, instant) if t)
        last = max(t for t in (end, instant) if t)
        box = geo.item_bbox(item)
        minx, miny, maxx, maxy = box if box is not None else (None, None, None, None)
        conn.execute(
            "INSERT INTO items (pk, id, collection, datetime, start_datetime, end_datetime, minx, miny, maxx, maxy, "
            "content, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2024-01-01T00:00:00.000000Z')",
            [pk, item["id"], item["collection"], instant or start, first, last, minx, miny, maxx, maxy,
             orjson.dumps(item).decode()],
        )  # fmt: skip
        if minx is not None:
            conn.execute("INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?)",
                         [pk, minx, maxx + 360 if minx > maxx else maxx, miny, maxy])  # fmt: skip
    for hot in HOT_PROPERTIES:  # the hot columns, as schema 2 wrote them
        conn.execute(f"UPDATE items SET {hot.column} = json_extract(content, ?)", [f'$.properties."{hot.name}"'])
    conn.execute("COMMIT")
    conn.close()


def test_schema_2_catalogue_is_upgraded_in_place(tmp_path: Path, sample_items: list[dict[str, Any]]) -> None:
    items = sample_items[:1500]
    path = tmp_path / "old.db"
    _write_schema_2(path, items)
    with Store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        types = {row[0] for row in store.conn.execute("SELECT DISTINCT typeof(content) FROM items")}
        assert types == {"blob"}  # every body recompressed
        # every item reads back byte for byte
        texts = store.item_texts(list(range(1, len(items) + 1)))
        assert [texts[pk] for pk in range(1, len(items) + 1)] == [orjson.dumps(item).decode() for item in items]
        first = items[0]
        assert store.get_item(first["collection"], first["id"]) == first
        # the new index answers spatial, temporal and collection queries like the oracle
        area = oracle.bbox_geometry([-10, 35, 30, 60])
        window = "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"
        query = Query.parse(bbox="-10,35,30,60", datetime=window, collections="sentinel-2-l2a")
        truth = {
            item["id"]
            for item in items
            if item["collection"] == "sentinel-2-l2a"
            and oracle.matches_geometry(item, area)
            and oracle.matches_interval_text(item, window)
        }
        assert truth
        assert {item["id"] for item in iter_items(store, query)} == truth
        assert count(store, query) == len(truth)
        # schema 5 noted each collection's longest item span from the stored items: an upper bound, to 1 µs
        spans: dict[str, float] = {}
        for item in items:
            properties = item["properties"]
            times = [parse_canonical(t) for t in (canonical_lenient(properties.get(k)) for k in _TIMES) if t]
            seconds = (max(times) - min(times)).total_seconds()
            if seconds:
                spans[item["collection"]] = max(spans.get(item["collection"], 0.0), seconds * 1e6)
        noted = store.collection_spans()
        assert noted.keys() == spans.keys() and any(span > SHORT_SPAN_US for span in spans.values())
        assert all(0 <= noted[name] - spans[name] <= 1 for name in spans)
        # schema 4's grid index was built on open, and a small area is looked up in it
        assert store.grid_levels()
        minx, miny, *_ = geo.item_bbox(items[7]) or (0.0, 0.0, 0.0, 0.0)
        small = [minx, miny, minx + 0.5, miny + 0.5]
        query = Query.parse(bbox=small)
        assert _probe(store, query).cells  # type: ignore[union-attr]
        truth = {item["id"] for item in items if oracle.matches_geometry(item, oracle.bbox_geometry(small))}
        assert items[7]["id"] in truth
        assert {item["id"] for item in iter_items(store, query)} == truth
        # and it keeps working as a catalogue: a changed item is rewritten, compressed
        changed = {**first, "properties": {**first["properties"], "eo:cloud_cover": 1.5}}
        report = store.upsert_items([changed], mode="replace")
        assert report.updated == 1
        assert store.get_item(first["collection"], first["id"]) == changed
    with Store(path) as store:  # opening again migrates nothing
        assert store.count_items() == len(items)


def test_new_catalogue_is_compact(tmp_path: Path, sample_items: list[dict[str, Any]]) -> None:
    with Store(tmp_path / "new.db") as store:
        store.upsert_items(sample_items[:3000])
        sizes = store.conn.execute("SELECT avg(length(content)) FROM items").fetchone()[0]
        raw = sum(len(orjson.dumps(item)) for item in sample_items[:3000]) / 3000
        assert sizes < raw / 3  # dictionaries were trained: bodies at least 3x smaller
        assert store.get_item(sample_items[5]["collection"], sample_items[5]["id"]) == sample_items[5]


def test_an_index_with_other_columns_is_rebuilt_on_open(tmp_path: Path, sample_items: list[dict[str, Any]]) -> None:
    """A grid index of an earlier release (without the cloud-cover column) is replaced by today's."""
    path = tmp_path / "eocat.db"
    with Store(path) as store:
        store.upsert_items(sample_items)
        expected = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_cell'").fetchone()[0]
        store.conn.execute("DROP INDEX items_cell")
        store.conn.execute(
            'CREATE INDEX items_cell ON items ("cell", "datetime", "collection", "minx", "miny", "maxx", "maxy")'
        )
    with Store(path) as store:
        columns = [row[2] for row in store.conn.execute("PRAGMA index_info(items_cell)")]
        assert columns[-1] == "p_eo_cloud_cover"
        assert store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_cell'").fetchone()[0] == expected
        assert store.grid_levels() is not None


def _key_indexes(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%items_%'")
    return {row[0] for row in rows} & {"items_key", "sqlite_autoindex_items_1"}


def test_the_key_becomes_a_named_index_in_a_store_without_items_and_stays_inline_in_one_with(
    tmp_path: Path, sample_items: list[dict[str, Any]]
) -> None:
    _write_schema_2(tmp_path / "full.db", sample_items[:50])
    _write_schema_2(tmp_path / "empty.db", [])
    with Store(tmp_path / "full.db") as store:  # rewriting every row would double a large file: kept
        assert _key_indexes(store) == {"sqlite_autoindex_items_1"}
        with store.bulk_load():  # a store with items: nothing dropped
            assert _key_indexes(store) == {"sqlite_autoindex_items_1"}
    with Store(tmp_path / "empty.db") as store:
        assert _key_indexes(store) == {"items_key"}
        assert {"items_datetime", "items_collection_datetime"} <= {
            row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")} == {
            "items_rtree_update", "items_rtree_delete"
        }  # fmt: skip
        store.upsert_items(sample_items[:50])
        store.upsert_items(sample_items[:50])
        assert store.count_items() == 50
    with Store(tmp_path / "full.db") as store:
        assert store.count_items() == 50
        store.upsert_items(sample_items[:50])
        assert store.count_items() == 50
