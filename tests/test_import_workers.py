"""Importing NDJSON with worker processes (catalog.ingest_pipeline) stores exactly what a one-process import
stores: same rows, bodies, index entries, report; collections met mid-file type the items after them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from catalog import ingest_pipeline
from catalog.ingest import import_files
from catalog.migrations import mark_rtree_pending
from catalog.store import Store, WriteReport
from eocat import samples
from tests.items import make_item

_COLUMNS = (
    "id, collection, datetime, start_datetime, end_datetime, minx, miny, maxx, maxy, geometry, p_eo_cloud_cover, "
    "p_sat_relative_orbit, p_sar_polarizations, eocat_item(content)"
)


def _source(path: Path, size: int = 4_600) -> Path:
    """Generated items with, in between: blank and malformed lines, a mistyped property, a bow-tie
    (repaired), a repeated id, and a collection record whose summaries type the items after it."""
    lines = [orjson.dumps(item) for item in samples.generate_items(size, seed=3)]
    bowtie = make_item("bowtie", "late")
    bowtie["geometry"]["coordinates"] = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    bowtie["bbox"] = [0, 0, 1, 1]
    late = {**Store._placeholder("late"), "description": "typed", "summaries": {"s2:mgrs_tile": ["31TCJ"]}}
    lines[700:700] = [b"", b"{not json", orjson.dumps(make_item("typed-early", "late", properties={"s2:mgrs_tile": 1}))]
    lines[2500:2500] = [
        orjson.dumps(late),
        orjson.dumps(make_item("typed-late", "late", properties={"s2:mgrs_tile": 1})),
        orjson.dumps(bowtie),
        orjson.dumps(make_item("fine", "late", properties={"s2:mgrs_tile": "31TCJ"})),
        lines[10],  # seen before: merged, reported as a duplicate
        orjson.dumps(make_item("no-time", "late", datetime="yesterday")),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n\n")
    return path


def _import(path: Path, db: Path, workers: int) -> tuple[WriteReport, list[Any], list[Any], int]:
    with Store(db) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        report = import_files(store, [path], workers=workers)
        rows = store.conn.execute(f"SELECT {_COLUMNS} FROM items ORDER BY pk").fetchall()
        boxes = store.conn.execute("SELECT * FROM items_rtree ORDER BY pk").fetchall()
        with_dictionary = sum(
            zstandard.get_frame_parameters(content).dict_id != 0
            for (content,) in store.conn.execute("SELECT content FROM items")
        )
    return report, rows, boxes, with_dictionary


def test_workers_store_what_one_process_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_pipeline, "CHUNK_BYTES", 200_000)  # many chunks, several ahead of the writer
    source = _source(tmp_path / "items.ndjson")
    alone, rows, boxes, compressed = _import(source, tmp_path / "alone.db", workers=0)
    parallel, rows2, boxes2, compressed2 = _import(source, tmp_path / "parallel.db", workers=2)

    assert rows2 == rows and boxes2 == boxes
    assert parallel.as_dict() == alone.as_dict()
    assert (parallel.inserted, parallel.duplicates, parallel.repaired) == (4_600 + 3, 1, 1)
    reasons = "\n".join(parallel.errors)
    assert f"{source}:702: malformed JSON" in reasons
    assert f"{source}:2502: item 'typed-late': property 's2:mgrs_tile' must be a string" in reasons
    assert "item 'no-time': bad timestamp" in reasons
    assert parallel.rejected == 3  # typed-early came before the collection said what s2:mgrs_tile is
    assert {row[0] for row in rows} >= {"typed-early", "bowtie", "fine"}
    assert compressed2 == compressed > 4_000  # bodies use the collections' dictionaries once trained


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_workers_import_a_compressed_file_like_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    import gzip

    monkeypatch.setattr(ingest_pipeline, "CHUNK_BYTES", 150_000)  # chunks cut across compressed blocks
    plain = _source(tmp_path / "items.ndjson", size=2_000)
    packed = tmp_path / f"items.ndjson.{'zst' if compression == 'zstd' else 'gz'}"
    data = plain.read_bytes()
    packed.write_bytes(zstandard.ZstdCompressor().compress(data) if compression == "zstd" else gzip.compress(data))
    alone, rows, boxes, _ = _import(plain, tmp_path / "alone.db", workers=0)
    parallel, rows2, boxes2, _ = _import(packed, tmp_path / "parallel.db", workers=2)
    assert rows2 == rows and boxes2 == boxes
    expected = orjson.loads(orjson.dumps(alone.as_dict()).replace(str(plain).encode(), str(packed).encode()))
    assert parallel.as_dict() == expected
    assert f"{packed}:702: malformed JSON" in "\n".join(parallel.errors)  # line numbers of the decompressed text


def test_a_compressed_file_counts_as_the_ndjson_it_holds(tmp_path: Path) -> None:
    plain = _source(tmp_path / "items.ndjson", size=300)
    packed = tmp_path / "items.ndjson.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    assert ingest_pipeline.input_bytes(plain) == plain.stat().st_size
    assert ingest_pipeline.input_bytes(packed) == packed.stat().st_size * ingest_pipeline.COMPRESSION_GUESS
    assert ingest_pipeline.input_bytes(tmp_path) == ingest_pipeline.input_bytes("-") == 0


def test_an_import_again_with_workers_changes_nothing(tmp_path: Path) -> None:
    source = _source(tmp_path / "items.ndjson", size=2_600)
    db = tmp_path / "x.db"
    _, rows, boxes, _ = _import(source, db, workers=2)
    again, rows2, boxes2, _ = _import(source, db, workers=2)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2_600 + 3 - 1)
    assert (rows2, boxes2) == (rows, boxes)


def test_a_worker_that_dies_fails_the_import_with_its_exit_status_and_nothing_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_pipeline, "CHUNK_BYTES", 100_000)
    source = _source(tmp_path / "items.ndjson", size=2_600)
    taken = 0
    result = ingest_pipeline._Workers.result

    def result_then_kill(workers: Any, number: int) -> ingest_pipeline.Prepared:
        nonlocal taken
        taken += 1
        if taken == 2:  # results of the other chunks it holds may be queued already: they are not lost
            workers._processes[1].kill()
        return result(workers, number)

    monkeypatch.setattr(ingest_pipeline._Workers, "result", result_then_kill)
    with Store(tmp_path / "x.db") as store, pytest.raises(RuntimeError, match=r"import worker 1 exited \(-9\)"):
        import_files(store, [source], workers=2)
    with Store(tmp_path / "x.db") as store:  # what was written is whole, indexes and all
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert store.rtree_ready() and "items_key" in _indexes(store)


def _indexes(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'")
    return {row[0] for row in rows}


def _sort_settings(store: Store) -> list[Any]:
    return [store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "threads", "temp_store")]


def _rtree(store: Store) -> list[Any]:
    return store.conn.execute("SELECT * FROM items_rtree ORDER BY pk").fetchall()


def test_a_bulk_load_builds_the_indexes_after_and_a_killed_one_leaves_them_to_the_next_open(tmp_path: Path) -> None:
    from catalog.search import Query, search

    items = [make_item(f"i{n}", "c", x=n % 50, datetime=f"2024-05-{1 + n % 28:02d}T10:00:00Z") for n in range(300)]
    window = "2024-05-03T00:00:00Z/2024-05-09T00:00:00Z"
    query = Query.parse(collections="c", bbox="10,40,30,50", datetime=window, limit=1000)
    world = Query.parse(bbox="-170,-80,170,80", datetime=window, limit=1000)  # too many grid cells: the R*Tree's
    with Store(tmp_path / "one-by-one.db") as store:
        store.upsert_items(items)
        entries = _rtree(store)
    with Store(tmp_path / "x.db") as store:
        before = _indexes(store)
        assert {"items_datetime", "items_collection_datetime", "items_p_eo_cloud_cover"} <= before
        settings = _sort_settings(store)
        checkpoint = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        with store.bulk_load():
            store.upsert_items(items[:200])
            assert "items_datetime" not in _indexes(store)
            assert _rtree(store) == [] and not store.rtree_ready()
            during = [item["id"] for item in search(store, query).items]  # same answers, only slower
            during_world = [item["id"] for item in search(store, world).items]
            assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > checkpoint
        assert _indexes(store) == before and store.rtree_ready()
        assert _rtree(store) == entries[:200]
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == checkpoint
        assert _sort_settings(store) == settings  # the index builds' small sort buffers and threads were theirs only
        assert [item["id"] for item in search(store, world).items] == during_world and during_world
        store.upsert_items(items[200:])
        assert _rtree(store) == entries
        expected = sorted(item["id"] for item in search(store, query).items)
        assert set(during) <= set(expected) and during
        with store.bulk_load():  # a store with items is left as it is
            assert _indexes(store) == before and store.rtree_ready()
        for name in before - {name for name in before if name.startswith("sqlite_")}:
            store.conn.execute(f"DROP INDEX {name}")  # what a load killed half-way leaves
        store.conn.execute("DELETE FROM items_rtree")
        mark_rtree_pending(store.conn)
    with Store(tmp_path / "x.db") as store:
        assert _indexes(store) == before
        assert _rtree(store) == entries and store.rtree_ready()
        assert sorted(item["id"] for item in search(store, query).items) == expected


def test_a_store_opened_during_a_bulk_load_fills_the_rtree_and_the_load_then_keeps_it(tmp_path: Path) -> None:
    items = [make_item(f"i{n}", "c", x=n % 50, datetime=f"2024-05-{1 + n % 28:02d}T10:00:00Z") for n in range(300)]
    with Store(tmp_path / "one-by-one.db") as store:
        store.upsert_items(items)
        entries = _rtree(store)
    with Store(tmp_path / "x.db") as store:
        with store.bulk_load():
            store.upsert_items(items[:100])
            with Store(tmp_path / "x.db") as reader:  # its open builds what the load left to build
                assert reader.rtree_ready() and len(_rtree(reader)) == 100
            store.upsert_items(items[100:])  # the R*Tree is filled: the load adds to it as it goes
        assert _rtree(store) == entries


def _stored(store: Store) -> list[Any]:
    return store.conn.execute(f"SELECT pk, {_COLUMNS} FROM items ORDER BY pk").fetchall()


def test_a_bulk_load_merges_an_item_read_again_in_a_later_batch_as_one_upsert_after_another_does(
    tmp_path: Path,
) -> None:
    items = [make_item(f"i{n}", "c", x=n % 50, datetime=f"2024-05-{1 + n % 28:02d}T10:00:00Z") for n in range(300)]
    changed = make_item("i5", "c", x=5, datetime="2024-05-06T10:00:00Z", properties={"eo:cloud_cover": 3.0})
    moved = make_item("i9", "c", x=70, datetime="2024-05-10T10:00:00Z")  # its R*Tree entry moves too
    again = [changed, items[7], moved, changed]  # changed, unchanged, moved, then the same change again
    expected = WriteReport()
    with Store(tmp_path / "one-by-one.db") as store:
        store.upsert_items(items, report=expected)
        store.upsert_items(again[:3], report=expected)
        store.upsert_items(again[3:], report=expected)
        rows, entries = _stored(store), _rtree(store)
    report = WriteReport()
    with Store(tmp_path / "x.db") as store:
        before = _indexes(store)
        assert "items_key" in before
        with store.bulk_load(report):
            store.upsert_items(items, report=report)
            assert "items_key" not in _indexes(store)
            store.upsert_items(again[:3], report=report)  # no key index: stored a second time, for now
            store.upsert_items(again[3:], report=report)
            assert store.count_items() == 300 + 4
        assert _indexes(store) == before
        assert (_stored(store), _rtree(store)) == (rows, entries)
        assert store.get_item("c", "i5")["properties"]["eo:cloud_cover"] == 3.0
    counts = (report.inserted, report.updated, report.unchanged)
    assert counts == (expected.inserted, expected.updated, expected.unchanged)
    assert (report.duplicates, report.rejected) == (4, 0)
    assert any("'i9'" in note for note in report.notes)


def test_a_store_opened_after_a_killed_bulk_load_merges_its_repeated_keys(tmp_path: Path) -> None:
    items = [make_item(f"i{n}", "c", x=n % 50) for n in range(20)]
    with Store(tmp_path / "x.db") as store:
        store.conn.execute("DROP INDEX items_key")  # what a load killed half-way leaves, with i3 twice
        store.upsert_items(items)
        store.upsert_items([make_item("i3", "c", x=3, properties={"eo:cloud_cover": 9.0})])
        assert store.count_items() == 21
    with Store(tmp_path / "x.db") as store:
        assert "items_key" in _indexes(store) and store.count_items() == 20
        assert store.get_item("c", "i3")["properties"]["eo:cloud_cover"] == 9.0
        assert [pk for (pk,) in store.conn.execute("SELECT pk FROM items ORDER BY pk")] == list(range(1, 21))
