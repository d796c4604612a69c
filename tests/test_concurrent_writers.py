"""Concurrent writers (issue 12, observation 2): imports, a harvest and searches on one catalogue at once.

Real processes on one real SQLite file: three ``eocat import`` (one overlapping another), one
``eocat harvest cdse`` from the emulator and a loop of ``eocat search``, all started together.
Every process succeeds, every item is stored once, and every implicitly created collection's extent
is exactly that of its items.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from catalog.errors import StoreBusy
from catalog.store import Store, is_placeholder
from emulators.cdse import CdseEmulator, SyntheticProducts
from tests.items import all_stored_items, make_item

EOCAT = str(Path(sys.executable).parent / "eocat")
PER_FILE = 6000
OVERLAP = 500  # items of the first file that the third imports again


def _files(tmp_path: Path) -> list[Path]:
    from eocat import samples

    items = list(samples.generate_items(2 * PER_FILE, seed=12))
    parts = [items[:PER_FILE], items[PER_FILE:], items[:OVERLAP]]
    # the third file also brings new items of the same collections
    parts[2] += [{**item, "id": f"{item['id']}-again"} for item in items[OVERLAP : PER_FILE // 2]]
    paths = []
    for number, part in enumerate(parts):
        path = tmp_path / f"part{number}.ndjson"
        path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in part))
        paths.append(path)
    return paths


def _expected_ids(paths: list[Path]) -> set[tuple[str, str]]:
    keys = set()
    for path in paths:
        for line in path.read_bytes().splitlines():
            item = orjson.loads(line)
            keys.add((item["collection"], item["id"]))
    return keys


def test_three_imports_a_harvest_and_searches_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    paths = _files(tmp_path)
    start, end = "2023-01-01T00:00:00Z", "2023-01-15T00:00:00Z"
    recipe = SyntheticProducts(seed=4, count=3000, start=start, end=end, collections=("SENTINEL-2",))
    with CdseEmulator(products=recipe, include_fixtures=False) as emulator:
        environment = {**os.environ, **emulator.environment(), "EOCAT_DB": str(db), "EOCAT_TOKEN_CACHE": "0"}
        commands = [[EOCAT, "import", "--json", str(path)] for path in paths]
        commands.append([EOCAT, "harvest", "cdse", "--collection", "SENTINEL-2", "--start", start, "--end", end,
                         "--jobs", "2", "--json"])  # fmt: skip
        searcher = (
            "import subprocess, sys, time\n"
            "deadline = time.monotonic() + 600\n"
            "while time.monotonic() < deadline:\n"
            f"    done = subprocess.run([{EOCAT!r}, 'search', '--format', 'count', '--bbox', '-20,30,40,60'],"
            " capture_output=True, text=True)\n"
            "    if done.returncode not in (0, 3): sys.exit(f'search failed: {done.stderr}')\n"
            "    if open(sys.argv[1]).read(): break\n"
        )
        stop = tmp_path / "stop"
        stop.write_text("")
        processes = [subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for command in commands]  # fmt: skip
        search = subprocess.Popen([sys.executable, "-c", searcher, str(stop)], env=environment, stderr=subprocess.PIPE)
        outputs = [process.communicate(timeout=600) for process in processes]
        stop.write_text("stop")
        _, search_errors = search.communicate(timeout=120)
        truth = set(emulator.ids(f"Collection/Name eq 'SENTINEL-2' and ContentDate/Start ge {start} and "
                                 f"ContentDate/Start lt {end}"))  # fmt: skip
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
        assert json.loads(stdout)["rejected"] == 0
    assert search.returncode == 0, search_errors.decode()

    expected = _expected_ids(paths)
    with Store(db) as reader:
        rows = [
            (item["collection"], item["id"], item["properties"].get("cdse:id")) for item in all_stored_items(reader)
        ]
    keys = [(collection, item_id) for collection, item_id, _ in rows]
    assert len(keys) == len(set(keys))  # nothing twice
    assert expected <= set(keys)  # every imported item
    harvested = [cdse_id for collection, item_id, cdse_id in rows if (collection, item_id) not in expected]
    assert len(truth) == 3000 and sorted(harvested) == sorted(truth)  # every harvested product, and nothing else
    with Store(db) as store:
        for collection in {key[0] for key in expected}:
            if is_placeholder(store.get_collection(collection)):
                _assert_extent_is_that_of_the_items(store, collection)
        # the harvest's collection documents replace the placeholders imports made up, whoever came first
        assert not is_placeholder(store.get_collection("sentinel-2-l2a"))
        assert {"sentinel-1-grd", "sentinel-2-l2a"} <= {key[0] for key in expected}


def _assert_extent_is_that_of_the_items(store: Store, collection: str) -> None:
    document = store.get_collection(collection)
    minx, miny, maxx, maxy, first, last, crosses = store.conn.execute(
        "SELECT min(minx), min(miny), max(maxx), max(maxy), min(start_datetime), max(end_datetime), "
        "max(minx > maxx) FROM items WHERE collection = ?",
        [collection],
    ).fetchone()
    bbox = [-180.0, miny, 180.0, maxy] if crosses else [minx, miny, maxx, maxy]
    assert document["extent"] == {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [[first, last]]}}, collection


def test_a_second_import_into_an_implicit_collection_widens_its_extent(tmp_path: Path) -> None:
    from catalog.ingest import import_files

    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_bytes(orjson.dumps(make_item("a", "made-up", x=10)) + b"\n")
    second.write_bytes(orjson.dumps(make_item("b", "made-up", x=-40, datetime="2020-01-01T00:00:00Z")) + b"\n")
    with Store(tmp_path / "x.db") as store:
        import_files(store, [first])
        import_files(store, [second])
        _assert_extent_is_that_of_the_items(store, "made-up")
        assert store.get_collection("made-up")["extent"]["spatial"]["bbox"] == [[-40.0, 45.0, 11.0, 46.0]]


def test_a_writer_waiting_past_the_bound_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with Store(path, timeout=0.3) as store:
            # the message names the store's own bound (0.3 s), not SQLite's default wait
            with pytest.raises(StoreBusy, match=r"another process has been writing to .*x\.db for more than 0\.3 s"):
                store.upsert_items([make_item()])
            with pytest.raises(StoreBusy):
                store.upsert_collection(store._placeholder("c"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store(path) as store:  # nothing half-written
        assert store.count_items() == 0 and store.collection_ids() == set()


def test_readers_see_collections_other_processes_created(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with Store(path) as reader, Store(path) as writer:
        assert reader.collection_ids() == set()
        writer.upsert_items([make_item("a", "new-one")])
        assert reader.collection_ids() == {"new-one"}


def test_an_import_whose_items_were_all_rejected_creates_no_collection(tmp_path: Path) -> None:
    from catalog.ingest import import_files

    bad = make_item("a", "never")
    bad["properties"]["eo:cloud_cover"] = "lots"
    (tmp_path / "bad.ndjson").write_bytes(orjson.dumps(bad) + b"\n")
    with Store(tmp_path / "x.db") as store:
        report = import_files(store, [tmp_path / "bad.ndjson"])
        assert report.rejected == 1 and store.collection_ids() == set()


def test_a_harvesters_collection_document_replaces_a_placeholder(store: Store) -> None:
    store.upsert_items([make_item("a", "shared")])
    document = {**store._placeholder("shared"), "description": "The real one", "title": "Shared"}
    store.upsert_items([make_item("b", "shared")], collections=lambda name: document if name == "shared" else None)
    assert store.get_collection("shared")["description"] == "The real one"
    store.upsert_items([make_item("c", "shared")])  # a later import keeps it
    assert store.get_collection("shared")["title"] == "Shared"
