"""The grid cell SQLite computes for an item is among the cells listed for every box that meets its bbox."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import grid
from catalog.search import Query, _probe, search
from catalog.store import Store
from tests.items import make_item


def _cell(minx: float, miny: float, maxx: float, maxy: float) -> int:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE items (minx REAL, miny REAL, maxx REAL, maxy REAL, "
        f"cell INTEGER GENERATED ALWAYS AS ({grid.CELL_SQL}) VIRTUAL)"
    )
    conn.execute("INSERT INTO items VALUES (?, ?, ?, ?)", [minx, miny, maxx, maxy])
    return int(conn.execute("SELECT cell FROM items").fetchone()[0])


_lon = st.floats(-180, 180, allow_nan=False)
_lat = st.floats(-90, 90, allow_nan=False)
_size = st.one_of(st.floats(0, 0.01), st.floats(0, 3), st.floats(0, 400))


@st.composite
def _item_box(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """An item bbox as stored: minx > maxx when it crosses the antimeridian."""
    minx, miny = draw(_lon), draw(_lat)
    width, height = min(draw(_size), 360.0), draw(_size)
    maxx = minx + width
    if maxx > 180:
        maxx = maxx - 360 if width < 360 else 180.0
        if width >= 360:
            minx = -180.0
    return minx, miny, maxx, min(90.0, miny + height)


def _meets(item: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = item
    unwrapped_maxx = maxx + 360 if minx > maxx else maxx
    return minx <= box[2] and unwrapped_maxx >= box[0] and miny <= box[3] and maxy >= box[1]


@settings(max_examples=400, deadline=None)
@given(item=_item_box(), corner=st.tuples(_lon, _lat), size=_size)
def test_every_box_meeting_an_item_lists_its_cell(
    item: tuple[float, float, float, float], corner: tuple[float, float], size: float
) -> None:
    x0, y0 = corner
    query = (x0, y0, min(180.0, x0 + size), min(90.0, y0 + size))
    boxes = [query, (query[0] + 360, query[1], query[2] + 360, query[3])]  # as SpatialFilter.index_boxes
    if any(_meets(item, box) for box in boxes):
        assert _cell(*item) in grid.query_cells(boxes, range(grid.LEVELS))


def test_an_item_gets_the_finest_level_at_least_its_size() -> None:
    cell = _cell(10.1, 45.1, 11.0, 46.0)  # 0.9 degrees: the 1-degree level
    assert grid.level_range(2)[0] <= cell < grid.level_range(2)[1]
    across = _cell(179.5, 10.0, -179.5, 10.5)  # 1 degree across the antimeridian, not 359
    assert grid.level_range(2)[0] <= across < grid.level_range(2)[1]
    assert _cell(-180.0, -90.0, 180.0, 90.0) >= grid.level_range(grid.LEVELS - 1)[0]


def test_cells_count_matches_the_cells_listed() -> None:
    apart = [(10.0, 45.0, 11.0, 46.0), (-100.0, -60.0, -80.0, -40.0)]
    levels = [2, 3, 6]
    assert grid.cells_count(apart, levels) == len(grid.query_cells(apart, levels))
    overlapping = [(10.0, 45.0, 11.0, 46.0), (-25.0, 34.0, 45.0, 72.0)]
    assert grid.cells_count(overlapping, levels) >= len(grid.query_cells(overlapping, levels))


def test_a_moved_item_is_found_at_its_new_place_only(tmp_path: Path, sample_items: list[dict[str, Any]]) -> None:
    item = next(i for i in sample_items if i["bbox"][0] < i["bbox"][2] and i["bbox"][2] < 150)
    minx, miny, maxx, maxy = item["bbox"]
    assert item["geometry"]["type"] == "Polygon"
    moved = orjson.loads(orjson.dumps(item))
    moved["bbox"] = [minx + 20, miny, maxx + 20, maxy]
    for ring in moved["geometry"]["coordinates"]:
        for point in ring:
            point[0] += 20
    x, y = item["geometry"]["coordinates"][0][0]  # a vertex: a small box around it meets the footprint
    old_place = Query.parse(bbox=[x - 0.1, y - 0.1, x + 0.1, y + 0.1], ids=item["id"])
    new_place = Query.parse(bbox=[x + 19.9, y - 0.1, x + 20.1, y + 0.1], ids=item["id"])
    with Store(tmp_path / "moved.db") as store:
        store.upsert_items([item])
        assert _probe(store, old_place).cells  # type: ignore[union-attr]  # the grid answers here
        assert [i["id"] for i in search(store, old_place).items] == [item["id"]]
        store.upsert_items([moved], mode="replace")
        assert search(store, old_place).items == []
        assert [i["id"] for i in search(store, new_place).items] == [item["id"]]


def test_a_probe_for_given_collections_reads_their_index_entries_only(tmp_path: Path) -> None:
    """Both collections share the cell; the collection probe seeks its own entries (items_cell_collection)."""
    items = [make_item(f"{name}-{n}", name, x=10.0 + n / 100, y=45.0) for name in ("alpha", "beta") for n in range(30)]
    with Store(tmp_path / "eocat.db") as store:
        store.upsert_items(items)
        (cell,) = {row[0] for row in store.conn.execute("SELECT cell FROM items")}
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        window = ("0001", "9999")
        box = [(9.0, 44.0, 11.0, 47.0)]
        alpha = store.grid_candidates([cell], box, ["alpha"], window, 1000)
        both = store.grid_candidates([cell], box, [], window, 1000)
        store.conn.set_trace_callback(None)
        keys = dict(store.conn.execute("SELECT pk, collection FROM items"))
        assert alpha is not None and sorted(keys[pk] for pk, _ in alpha) == ["alpha"] * 30
        assert both is not None and len(both) == 60
        probes = [sql for sql in statements if "INDEXED BY items_cell" in sql]
        assert "INDEXED BY items_cell_collection" in probes[0] and "INDEXED BY items_cell " in probes[1]
        plan = " ".join(str(row) for row in store.conn.execute("EXPLAIN QUERY PLAN " + probes[0]))
        assert "items_cell_collection (cell=? AND collection=?" in plan


def test_a_filter_on_cloud_cover_is_tested_on_the_grid_entries(tmp_path: Path) -> None:
    """The probe of a cloud-filtered page lists the matching items only, from the index alone (no row read)."""
    items = [
        make_item(f"s2-{n}", "s2", x=10.0 + n / 100, y=45.0, properties={"eo:cloud_cover": float(n)}) for n in range(40)
    ]
    query = Query.parse(bbox=[9.0, 44.0, 11.0, 47.0], collections="s2", filter="eo:cloud_cover < 10 AND platform = 'x'")
    with Store(tmp_path / "eocat.db") as store:
        store.upsert_items(items)
        probe = _probe(store, query)
        assert probe is not None and probe.cells is not None
        assert "p_eo_cloud_cover" in probe.entries[0] and "platform" not in probe.entries[0]
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        found = store.grid_candidates(probe.cells, probe.boxes, probe.names, ("0001", "9999"), 1000, probe.entries)
        store.conn.set_trace_callback(None)
        ids = dict(store.conn.execute("SELECT pk, id FROM items"))
        assert found is not None and sorted(ids[pk] for pk, _ in found) == sorted(f"s2-{n}" for n in range(10))
        (sql,) = [statement for statement in statements if "INDEXED BY items_cell_collection" in statement]
        plan = " ".join(str(row) for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "items_cell_collection (cell=? AND collection=?" in plan
        # the plan defers the seek to the row, and every column it reads comes from the index entry
        root = store.conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'items'").fetchone()[0]
        program = store.conn.execute("EXPLAIN " + sql).fetchall()
        (table,) = [op[2] for op in program if op[1] == "OpenRead" and op[3] == root]
        assert any(op[1] == "DeferredSeek" for op in program)
        assert [op for op in program if op[1] in ("Column", "Rowid") and op[2] == table] == []
        # the page applies the whole filter: platform is not in the items, so nothing matches
        assert search(store, query).items == []
        cloudy = Query.parse(bbox=[9.0, 44.0, 11.0, 47.0], collections="s2", filter="eo:cloud_cover >= 35")
        assert sorted(item["id"] for item in search(store, cloudy).items) == [f"s2-{n}" for n in range(35, 40)]
