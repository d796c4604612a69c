"""The store contract on both backends (round trips, merging upserts, deletes, extents), then the
SQLite store's own concerns: migrations, crashes, WAL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import catalog.migrations
from catalog.columns import HotProperty
from catalog.errors import NotFound
from catalog.migrations import MIGRATIONS
from catalog.search import Query, count, search
from catalog.store import Store
from tests.items import make_item


@pytest.fixture
def store(any_store: Any) -> Any:
    """The contract tests below run on each backend (SQLite and pgstac)."""
    return any_store


def rtree_size(store: Any) -> int:
    """Spatial index entries: SQLite's R*Tree rows; in pgstac the GiST index is on the item row itself."""
    if isinstance(store, Store):
        return int(store.conn.execute("SELECT count(*) FROM items_rtree").fetchone()[0])
    return int(store.conn.execute("SELECT count(*) FROM pgstac.items WHERE geometry IS NOT NULL").fetchone()[0])


def test_item_reads_back_exactly(store: Store) -> None:
    item = make_item(properties={"eo:cloud_cover": 12.5, "weird:π": [1, {"a": None}], "big": 2**53 + 1})
    item["properties"]["datetime"] = "2024-05-01T10:00:00.123+00:00"  # kept as given, not rewritten
    report = store.upsert_items([item])
    assert (report.inserted, report.updated, report.rejected) == (1, 0, 0)
    assert store.get_item("test-collection", "item-1") == item
    if isinstance(store, Store):  # pgstac keeps JSONB, which orders keys its own way: equal, not byte-equal
        assert json.dumps(store.get_item("test-collection", "item-1")) == json.dumps(item)


def test_upsert_merges_assets_providers_and_properties(store: Store) -> None:
    cdse = make_item(
        properties={"eo:cloud_cover": 5.0, "providers": [{"name": "CDSE", "roles": ["host"]}], "only:cdse": 1},
        assets={"cdse": {"href": "https://cdse.test/a.zip", "alternate": {"local": {"href": "file:///x.zip"}}}},
    )
    asf = make_item(
        properties={"providers": [{"name": "ASF", "roles": ["host"]}, {"name": "CDSE", "roles": ["producer"]}],
                    "only:asf": 2},
        assets={"tiff": {"href": "https://asf.test/a.tiff"}, "cdse": {"href": "https://cdse.test/a.zip"}},
    )  # fmt: skip
    store.upsert_items([cdse])
    report = store.upsert_items([asf])
    assert (report.inserted, report.updated) == (0, 1)
    merged = store.get_item("test-collection", "item-1")
    assert set(merged["assets"]) == {"cdse", "tiff"}
    assert merged["assets"]["cdse"]["alternate"]["local"]["href"] == "file:///x.zip", "a local copy survives"
    providers = {p["name"]: p for p in merged["properties"]["providers"]}
    assert set(providers) == {"CDSE", "ASF"} and providers["CDSE"]["roles"] == ["host", "producer"]
    assert merged["properties"]["only:cdse"] == 1 and merged["properties"]["only:asf"] == 2
    # the indexed column keeps the value only the first source had
    assert count(store, Query.parse(filter="eo:cloud_cover = 5")) == 1
    # harvesting the same record again changes nothing
    again = store.upsert_items([asf])
    assert (again.updated, again.unchanged) == (0, 1)
    assert store.count_items() == 1 and rtree_size(store) == 1


def test_replace_mode_drops_what_the_new_version_lacks(store: Store) -> None:
    store.upsert_items([make_item(assets={"a": {"href": "https://x.test/a"}})])
    store.upsert_items([make_item(assets={"b": {"href": "https://x.test/b"}})], mode="replace")
    assert set(store.get_item("test-collection", "item-1")["assets"]) == {"b"}


def test_same_item_twice_in_one_batch_is_merged(store: Store) -> None:
    report = store.upsert_items([make_item(assets={"a": {"href": "h1"}}), make_item(assets={"b": {"href": "h2"}})])
    assert report.inserted == 1 and store.count_items() == 1
    assert set(store.get_item("test-collection", "item-1")["assets"]) == {"a", "b"}


def test_moving_an_item_moves_its_index_entry(store: Store) -> None:
    store.upsert_items([make_item(x=10, y=45)])
    store.upsert_items([make_item(x=-120, y=30)], mode="replace")
    assert count(store, Query.parse(bbox="9,44,12,47")) == 0
    assert count(store, Query.parse(bbox="-121,29,-118,32")) == 1


def test_bad_items_are_rejected_with_reasons_and_the_rest_stored(store: Store) -> None:
    good = make_item("good")
    no_time = make_item("no-time")
    del no_time["properties"]["datetime"]
    bad_time = make_item("bad-time", datetime="tuesday")
    no_collection = make_item("no-collection")
    del no_collection["collection"]
    bad_bbox = make_item("bad-bbox")
    bad_bbox["bbox"] = [1, 2, 3]
    report = store.upsert_items([good, no_time, bad_time, no_collection, bad_bbox, "junk"])  # type: ignore[list-item]
    assert report.inserted == 1 and report.rejected == 5
    joined = "\n".join(report.errors)
    for fragment in ("item 2: ", "datetime", "item 3: ", "bad timestamp", "no 'collection'", "bbox", "item 6: "):
        assert fragment in joined


def test_ranges_without_datetime_are_accepted(store: Store) -> None:
    item = make_item()
    item["properties"] = {
        "datetime": None,
        "start_datetime": "2024-01-01T00:00:00Z",
        "end_datetime": "2024-01-02T00:00:00Z",
    }
    assert store.upsert_items([item]).inserted == 1
    assert count(store, Query.parse(datetime="2024-01-01T12:00:00Z")) == 1


def test_delete_item_and_collection_clean_the_index(store: Store) -> None:
    store.upsert_items([make_item(f"i{n}", x=n) for n in range(10)] + [make_item("other", "c2")])
    store.delete_item("test-collection", "i3")
    assert store.count_items() == 10 and rtree_size(store) == 10
    with pytest.raises(NotFound):
        store.get_item("test-collection", "i3")
    with pytest.raises(NotFound):
        store.delete_item("test-collection", "i3")
    assert store.delete_collection("test-collection") == 9
    assert store.count_items() == 1 and rtree_size(store) == 1
    assert store.collection_ids() == {"c2"}


def test_unknown_collection_gets_a_placeholder_with_a_computed_extent(store: Store) -> None:
    report = store.upsert_items([make_item("a", x=1, y=2), make_item("b", x=5, y=6, datetime="2024-06-01T00:00:00Z")])
    assert report.collections_created == ["test-collection"]
    store.refresh_extent("test-collection")
    extent = store.get_collection("test-collection")["extent"]
    assert extent["spatial"]["bbox"] == [[1.0, 2.0, 6.0, 7.0]]
    assert extent["temporal"]["interval"] == [["2024-05-01T10:00:00.000000Z", "2024-06-01T00:00:00.000000Z"]]


def test_antimeridian_item_is_indexed_unwrapped(store: Store) -> None:
    item = make_item("crossing")
    item["geometry"] = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[179, 0], [180, 0], [180, 1], [179, 1], [179, 0]]],
            [[[-180, 0], [-179, 0], [-179, 1], [-180, 1], [-180, 0]]],
        ],
    }
    item["bbox"] = [179, 0, -179, 1]
    store.upsert_items([item])
    if isinstance(store, Store):
        minx, maxx = store.conn.execute("SELECT minx, maxx FROM items_rtree").fetchone()
        assert minx <= 179 and maxx >= 181
    for bbox in ("178.5,0,179.5,1", "-179.5,0,-178.5,1", "178,0,-178,1"):
        assert count(store, Query.parse(bbox=bbox)) == 1, bbox
    assert count(store, Query.parse(bbox="0,0,170,1")) == 0


def test_schema_version_and_new_hot_property_is_backfilled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.db"
    with Store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        store.upsert_items([make_item(properties={"test:level": 3}), make_item("two", properties={"test:level": 7})])
    extra = HotProperty("test:level", "INTEGER")
    monkeypatch.setattr(catalog.migrations, "HOT_PROPERTIES", (*catalog.migrations.HOT_PROPERTIES, extra))
    with Store(path) as store:
        rows = store.conn.execute(f"SELECT id, {extra.column} FROM items ORDER BY id").fetchall()
        assert rows == [("item-1", 3), ("two", 7)]
        plan = store.conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM items WHERE {extra.column} = 3").fetchall()
        assert "USING INDEX" in str(plan) or "USING COVERING INDEX" in str(plan)


def test_hot_properties_are_queried_through_an_index(sample_store: Store) -> None:
    plan = sample_store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT pk FROM items WHERE p_eo_cloud_cover < 20 AND p_sat_relative_orbit = 3"
    ).fetchall()
    assert "INDEX" in str(plan)


def test_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    with Store(path) as writer, Store(path, timeout=0.5) as reader:
        writer.upsert_items([make_item("before")])
        writer.conn.execute("BEGIN IMMEDIATE")
        writer.conn.execute("UPDATE items SET content = content WHERE id = 'before'")
        writer.conn.execute("DELETE FROM items")
        assert reader.count_items() == 1, "the reader sees the last committed state, without waiting"
        writer.conn.execute("ROLLBACK")
        assert reader.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


CRASHING_WRITER = textwrap.dedent(
    """
    import sys
    from catalog.store import Store
    from tests.items import make_item

    def items():
        for n in range(1_000_000):
            if n == 5000:
                print("ready", flush=True)
            yield make_item(f"i{n}", x=(n % 300) - 150, y=(n % 120) - 60)

    Store(sys.argv[1]).upsert_items(items(), batch_size=250)
    """
)


def test_killed_writer_leaves_a_consistent_store_and_reimport_has_no_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(path)], cwd=root, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    # the reader blocks once two batches wait for the writer thread: at least 4000 rows are in
    assert stored >= 4000 - 250 and stored % 250 == 0, "only whole batches are ever stored"
    assert conn.execute("SELECT count(*) FROM items_rtree").fetchone()[0] == stored
    conn.close()
    with Store(path) as store:
        report = store.upsert_items(make_item(f"i{n}", x=(n % 300) - 150, y=(n % 120) - 60) for n in range(6000))
        assert report.inserted == 6000 - stored and report.unchanged == stored
        assert store.count_items() == 6000 and rtree_size(store) == 6000


def test_sqlite_store_implements_the_backend_interface(tmp_path):
    from catalog.backend import CatalogStore, open_store

    store = open_store(tmp_path / "c.db")
    assert isinstance(store, CatalogStore)
    store.close()


def test_open_store_refuses_a_missing_catalogue_for_read_commands(tmp_path):
    import pytest

    from catalog.backend import open_store
    from catalog.errors import NotFound

    with pytest.raises(NotFound):
        open_store(tmp_path / "nope" / "c.db", must_exist=True)
    assert not (tmp_path / "nope").exists()


def _month_counts(items: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item["collection"], item["properties"]["datetime"][:7])
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_month_summaries_count_each_collection_month_across_year_ends(store: Any) -> None:
    times = ["2023-12-31T23:59:59.999999Z", "2024-01-01T00:00:00Z", "2024-01-31T23:59:59Z", "2024-03-15T00:00:00Z"]
    items = [
        make_item(f"{collection}-{n}", collection, datetime=when)
        for collection in ("alpha", "beta")
        for n, when in enumerate(times[: 4 if collection == "alpha" else 2])
    ]
    store.upsert_items(items)
    summaries = store.month_summaries(with_updated=True)
    assert {(s.collection, s.month): s.count for s in summaries} == _month_counts(items)
    assert [(s.collection, s.month) for s in summaries] == sorted((s.collection, s.month) for s in summaries)
    assert all(s.last_updated for s in summaries)
    assert sum(s.key_sum for s in summaries) > 0


def test_month_summaries_reach_the_last_representable_month(tmp_path: Path) -> None:
    with Store(tmp_path / "eocat.db") as store:
        items = [
            make_item(f"i{n}", datetime=when)
            for n, when in enumerate(["0001-01-01T00:00:00Z", "2024-12-31T23:59:59Z", "9999-12-31T23:59:59Z"])
        ]
        store.upsert_items(items)
        summaries = store.month_summaries()
        assert {(s.collection, s.month): s.count for s in summaries} == _month_counts(items)
        key_sums = dict(store.conn.execute("SELECT substr(datetime, 1, 7), sum(pk) FROM items GROUP BY 1"))
        assert {s.month: s.key_sum for s in summaries} == key_sums


def _lasting(item_id: str, collection: str, start: str, end: str) -> dict[str, Any]:
    return make_item(item_id, collection, properties={"datetime": None, "start_datetime": start, "end_datetime": end})


def test_each_collection_keeps_its_longest_item_span(tmp_path: Path) -> None:
    """Windows are padded by the named collections' own longest span: daily frames do not widen Sentinel
    windows; the span is an upper bound (never lowered by shorter items) and leaves with its collection."""
    with Store(tmp_path / "spans.db") as store:
        store.upsert_items(
            [
                _lasting("day", "daily", "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"),
                _lasting("slice", "s1", "2024-05-01T10:00:00Z", "2024-05-01T10:00:25.5Z"),
                make_item("tile", "s2"),
            ]
        )
        store.upsert_items([_lasting("short-day", "daily", "2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z")])
        day, slice_ = 86_400 * 10**6, 25_500_000
        assert store.collection_spans() == {"daily": day + 1, "s1": slice_ + 1}
        assert store.max_span_us() == day + 1
        assert store.max_span_us(["s2"]) == 0
        assert store.max_span_us(["s1", "s2"]) == slice_ + 1
        assert store.max_span_us(["unknown"]) == 0
        store.delete_collection("daily")
        assert store.max_span_us() == slice_ + 1


def test_a_window_over_all_collections_finds_long_items_in_its_padding(tmp_path: Path) -> None:
    """In the padding a window gets for daily frames, only collections of long items are read: a frame that
    began 20 h before the window is found, a Sentinel-1 slice ending before it is not (whatever the plan)."""
    window = "2024-05-02T08:00:00Z/2024-05-02T09:00:00Z"
    items = [
        _lasting("frame", "daily", "2024-05-01T12:00:00Z", "2024-05-02T12:00:00Z"),
        _lasting("old-frame", "daily", "2024-04-30T12:00:00Z", "2024-05-01T12:00:00Z"),
        _lasting("slice-before", "s1", "2024-05-02T07:59:30Z", "2024-05-02T07:59:55Z"),
        _lasting("slice-into", "s1", "2024-05-02T07:59:50Z", "2024-05-02T08:00:10Z"),
        make_item("tile-in", "s2", datetime="2024-05-02T08:30:00Z"),
        make_item("tile-after", "s2", datetime="2024-05-02T10:00:00Z"),
    ]
    with Store(tmp_path / "pad.db") as store:
        store.upsert_items(items)
        expected = {"frame", "slice-into", "tile-in"}
        for area in ({}, {"bbox": "9,44,12,47"}, {"bbox": "-170,-80,170,80"}):
            query = Query.parse(datetime=window, **area)
            found = {item["id"] for item in search(store, query).items}
            assert found == expected, area
            assert count(store, query) == len(expected)


def test_long_writes_fold_the_log_into_the_file_aside_and_restore_the_settings(tmp_path: Path) -> None:
    """During a harvest's writes a thread of its own copies the write-ahead log into the database file:
    commits no longer do it (their threshold is raised far above what these writes make)."""
    import time

    from catalog import store as store_module
    from eocat import samples

    path = tmp_path / "x.db"
    with Store(path) as store:
        settings = [
            store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("wal_autocheckpoint", "journal_size_limit")
        ]
        store.checkpoint()
        empty = path.stat().st_size
        with store.long_writes():
            assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == store_module.ASIDE_CHECKPOINT_PAGES
            store.upsert_items(samples.generate_items(1_500, seed=5))
            written = Path(f"{path}-wal").stat().st_size
            assert 2**20 < written < store_module.ASIDE_CHECKPOINT_PAGES * 16384
            deadline = time.monotonic() + 60  # the folding thread runs every ASIDE_INTERVAL_S
            while path.stat().st_size < empty + 2**20 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert path.stat().st_size >= empty + 2**20  # the items' pages are in the file, not only in the log
        assert [
            store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("wal_autocheckpoint", "journal_size_limit")
        ] == settings
        assert store.count_items() == 1_500


def test_an_interrupt_that_comes_just_after_a_commit_is_raised_and_the_batch_is_kept(tmp_path: Path) -> None:
    """Ctrl-C (a harvest's deadline) landing right after COMMIT: the KeyboardInterrupt goes on, it does not
    turn into "cannot rollback - no transaction is active", and what was committed stays."""
    with Store(tmp_path / "x.db") as store:
        real = store.conn

        class InterruptAfterCommit:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def execute(self, sql: str, *args: Any) -> Any:
                cursor = real.execute(sql, *args)
                if sql == "COMMIT":
                    raise KeyboardInterrupt
                return cursor

        store.conn = InterruptAfterCommit()  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            store.upsert_items([make_item("kept", "c")])
        store.conn = real
        assert store.get_item("c", "kept")["id"] == "kept"
