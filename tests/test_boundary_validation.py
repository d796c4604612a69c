"""Validation at the boundary (issue 12, observation 3): bad items are rejected with file:line and reason,
faithful repairs are reported, old STAC versions are migrated, duplicates are reported; nothing aborts the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import shapely
from click.testing import CliRunner

from catalog.search import Query, count
from catalog.store import Store
from eocat.cli import main
from tests.items import make_item
from tests.stac_validation import validate_item


def _write_ndjson(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return path


def _polygon(item: dict[str, Any], ring: list[list[float]]) -> dict[str, Any]:
    item["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    xs, ys = [point[0] for point in ring], [point[1] for point in ring]
    item["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    return item


def test_a_mistyped_property_is_rejected_at_import_with_its_line_and_the_export_still_works(tmp_path: Path) -> None:
    source = _write_ndjson(
        tmp_path / "items.ndjson",
        [
            make_item("clear", "c1", properties={"eo:cloud_cover": 10}),
            make_item("cloudy", "c1", properties={"eo:cloud_cover": "lots"}),
            make_item("later", "c1", x=20, properties={"eo:cloud_cover": 55.5}),
        ],
    )
    db = tmp_path / "x.db"
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "import", str(source)])
    assert result.exit_code == 1
    assert f"{source}:2: item 'cloudy': property 'eo:cloud_cover' must be a number" in result.output
    assert "imported 2 new" in result.output  # the rest was not aborted
    exported = runner.invoke(main, ["--db", str(db), "export", "parquet", str(tmp_path / "lake")])
    assert exported.exit_code == 0, exported.output
    table = pq.read_table(next((tmp_path / "lake").rglob("*.parquet")))
    assert sorted(table.column("id").to_pylist()) == ["clear", "later"]


def test_property_types_come_from_the_hot_table_and_the_collections_summaries(store: Store) -> None:
    summaries = {"s2:mgrs_tile": ["31TCJ", "32TQM"], "view:sun_elevation": {"minimum": 10.0, "maximum": 60.0}}
    store.upsert_collection({**store._placeholder("typed"), "summaries": summaries})
    report = store.upsert_items(
        [
            make_item("a", "typed", properties={"s2:mgrs_tile": 31, "eo:cloud_cover": 5}),
            make_item("b", "typed", properties={"view:sun_elevation": "high"}),
            make_item("c", "typed", properties={"sat:relative_orbit": 12.5}),
            make_item("d", "typed", properties={"eo:cloud_cover": 140}),
            make_item("e", "typed", properties={"sar:polarizations": ["VV", 2]}),
            # a value outside a summary's range or enum is new, not wrong: accepted
            make_item("f", "typed", properties={"s2:mgrs_tile": "33UUP", "view:sun_elevation": 75,
                                                "sat:relative_orbit": 12.0}),
        ]
    )  # fmt: skip
    assert (report.inserted, report.rejected) == (1, 5)
    reasons = "\n".join(report.errors)
    assert "item 'a': property 's2:mgrs_tile' must be a string, got 31" in reasons
    assert "item 'b': property 'view:sun_elevation' must be a number" in reasons
    assert "item 'c': property 'sat:relative_orbit' must be an integer, got 12.5" in reasons
    assert "item 'd': property 'eo:cloud_cover' must be within [0, 100], got 140" in reasons
    assert "item 'e': property 'sar:polarizations' must be an array of strings" in reasons
    assert store.get_item("typed", "f")["properties"]["view:sun_elevation"] == 75


def test_a_harvesters_collection_document_types_its_items_before_it_is_stored(store: Store) -> None:
    document = {**store._placeholder("harvested"), "summaries": {"product:timeliness": ["NRT", "NTC"]}}
    report = store.upsert_items(
        [make_item("x", "harvested", properties={"product:timeliness": ["NRT"]})],
        collections=lambda name: document if name == "harvested" else None,
    )
    assert report.rejected == 1 and "must be a string" in report.errors[0]


def test_coordinates_out_of_range_and_unclosed_rings_are_rejected_with_the_reason(store: Store) -> None:
    far = make_item("far")
    far["geometry"], far["bbox"] = {"type": "Point", "coordinates": [200, 10]}, [200, 10, 200, 10]
    north = make_item("north")
    north["geometry"] = {"type": "Point", "coordinates": [10, 100]}
    del north["bbox"]
    unclosed = make_item("unclosed")
    unclosed["geometry"]["coordinates"][0].pop()
    empty = make_item("empty")
    empty["geometry"] = {"type": "Polygon", "coordinates": []}
    report = store.upsert_items([far, north, unclosed, empty, make_item("fine")])
    assert (report.inserted, report.rejected) == (1, 4)
    reasons = "\n".join(report.errors)
    assert "item 'far': longitude 200.0 outside [-180, 180]" in reasons
    assert "item 'north': latitude 100.0 outside [-90, 90]" in reasons
    assert "item 'unclosed': bad geometry: polygon ring is not closed" in reasons
    assert "item 'empty': bad geometry: the geometry is empty" in reasons


def test_a_self_intersecting_polygon_is_repaired_faithfully_and_found_by_bbox_and_intersects_alike(
    store: Store,
) -> None:
    bowtie = _polygon(make_item("bowtie"), [[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]])
    report = store.upsert_items([bowtie])
    assert (report.inserted, report.repaired) == (1, 1)
    assert "repaired item 1: item 'bowtie': invalid geometry (Self-intersection[1 1])" in report.notes[0]
    stored = shapely.from_geojson(orjson.dumps(store.get_item("test-collection", "bowtie")["geometry"]))
    assert stored.is_valid and stored.geom_type == "MultiPolygon" and stored.area == 2.0
    validate_item(store.get_item("test-collection", "bowtie"))
    probe = {"type": "Polygon", "coordinates": [[[0.1, 0.9], [0.4, 0.9], [0.4, 1.1], [0.1, 1.1], [0.1, 0.9]]]}
    assert count(store, Query.parse(bbox="0.1,0.9,0.4,1.1")) == 1
    assert count(store, Query.parse(intersects=probe)) == 1


def test_an_invalid_polygon_that_make_valid_would_change_is_rejected(store: Store) -> None:
    spike = _polygon(make_item("spike"), [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5], [-1, 0.5], [0, 0.5], [0, 0]])
    report = store.upsert_items([spike])
    assert report.rejected == 1 and store.count_items() == 0
    assert "invalid geometry (" in report.errors[0] and "cannot repair faithfully" in report.errors[0]


def test_a_bbox_that_does_not_contain_the_geometry_is_rejected(store: Store) -> None:
    shrunk = make_item("shrunk", x=10, size=1)
    shrunk["bbox"] = [10.0, 45.0, 10.5, 46.0]
    crossing = make_item("crossing")  # an antimeridian box holding both halves of a split footprint
    east = [[179, 0], [180, 0], [180, 1], [179, 1], [179, 0]]
    west = [[-180, 0], [-179, 0], [-179, 1], [-180, 1], [-180, 0]]
    crossing["geometry"] = {"type": "MultiPolygon", "coordinates": [[east], [west]]}
    crossing["bbox"] = [179, 0, -179, 1]
    report = store.upsert_items([shrunk, crossing])
    assert (report.inserted, report.rejected) == (1, 1)
    assert "item 'shrunk': bbox [10.0, 45.0, 10.5, 46.0] does not contain the geometry" in report.errors[0]


def test_a_stac_0_9_item_is_migrated_before_it_is_stored(store: Store) -> None:
    old = make_item("old", properties={"eo:cloud_cover": 3})
    old["stac_version"], old["stac_extensions"] = "0.9.0", ["eo"]
    store.upsert_items([old])
    stored = store.get_item("test-collection", "old")
    assert stored["stac_version"] == "1.1.0"
    assert stored["stac_extensions"] == ["https://stac-extensions.github.io/eo/v1.1.0/schema.json"]
    validate_item(stored)


def test_duplicate_ids_in_one_input_are_reported_with_where_they_are(tmp_path: Path, store: Store) -> None:
    from catalog.ingest import import_files

    source = _write_ndjson(tmp_path / "dups.ndjson", [make_item("a"), make_item("b"), make_item("a", x=20)])
    report = import_files(store, [source])
    assert (report.inserted, report.duplicates) == (2, 1)
    assert report.notes == [f"duplicate {source}:3: item 'a' of collection 'test-collection' appeared earlier in "
                            "this input; merged into it"]  # fmt: skip
    again = import_files(store, [source])  # a second input is not a duplicate of the first
    assert again.duplicates == 1 and again.unchanged == 2


def test_duplicates_are_found_across_chunks_and_batches(store: Store) -> None:
    items = [make_item(f"i{n % 2500}", x=(n % 170)) for n in range(5000)]
    report = store.upsert_items(items, batch_size=1000)
    assert report.duplicates == 2500 and store.count_items() == 2500


def test_a_duplicate_from_an_earlier_batch_is_noted_where_it_was_read_and_stored_items_are_not(store: Store) -> None:
    """Items stored before the input are updated, not duplicates; one read again a batch later is, at its line."""
    store.upsert_items([make_item("old-1"), make_item("old-2")])
    entries = [
        (f"line {n}", make_item(name, x=n)) for n, name in enumerate(["old-1", "new-1", "new-2", "new-1", "old-2"], 1)
    ]
    report = store.upsert_items(entries, batch_size=2)  # batches: lines 1-2, 3-4, 5
    assert report.duplicates == 1
    assert report.notes == ["duplicate line 4: item 'new-1' of collection 'test-collection' appeared earlier in this "
                            "input; merged into it"]  # fmt: skip
    assert (report.inserted, report.updated, store.count_items()) == (2, 3, 4)
