"""GeoParquet export: the ecosystem's readers get the catalogue's items back; layout and metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest

from catalog.parquet import export as export_module
from catalog.parquet import export_parquet
from catalog.parquet.reader import read_parquet_records
from catalog.parquet.schema import DATETIME_FIELDS
from catalog.store import Store
from catalog.timeutil import canonical_lenient
from tests.items import all_stored_items


def normalize(item: dict[str, Any]) -> dict[str, Any]:
    """An item as Parquet can keep it: nulls dropped (the spec's drawback), timestamps as instants."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    document: dict[str, Any] = clean(orjson.loads(orjson.dumps(item)))
    properties = document.get("properties", {})
    for name in DATETIME_FIELDS & set(properties):
        properties[name] = canonical_lenient(properties[name])
    document.setdefault("type", "Feature")
    return document


def stored_items(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    return {(item["collection"], item["id"]): item for item in all_stored_items(store)}


@pytest.fixture(scope="module")
def exported(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    report = export_parquet(sample_store, directory)
    assert report.items == sample_store.count_items()
    return directory


def files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.parquet"))


def assert_same_items(read: list[dict[str, Any]], store: Store) -> None:
    expected = stored_items(store)
    got = {(item["collection"], item["id"]): item for item in read}
    assert len(read) == len(expected) == len(got)
    assert got.keys() == expected.keys()
    mismatched = [key for key in expected if normalize(got[key]) != normalize(expected[key])]
    assert not mismatched, (mismatched[:3], normalize(got[mismatched[0]]), normalize(expected[mismatched[0]]))


def test_layout_partitions_and_metadata(exported: Path, sample_store: Store) -> None:
    paths = files(exported)
    assert paths, "nothing exported"
    for path in paths:
        relative = path.relative_to(exported).parts
        assert relative[0].startswith("collection=") and relative[1].startswith("year=")
        collection, year = relative[0].split("=", 1)[1], relative[1].split("=", 1)[1]
        handle = pq.ParquetFile(path)
        schema = handle.schema_arrow
        geo = json.loads(schema.metadata[b"geo"])
        assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
        column = geo["columns"]["geometry"]
        assert column["encoding"] == "WKB"
        assert column["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
        stac = json.loads(schema.metadata[b"stac-geoparquet"])
        assert stac["collections"][collection] == sample_store.get_collection(collection)
        assert str(schema.field("datetime").type) == "timestamp[us, tz=UTC]"
        assert [f.name for f in schema.field("bbox").type] == ["xmin", "ymin", "xmax", "ymax"]
        assert "properties" not in schema.names and "stac_extensions" in schema.names
        assert handle.metadata.row_group(0).column(0).compression == "ZSTD"
        table = pq.read_table(path, columns=["datetime", "collection"])
        assert {d.year for d in table.column("datetime").to_pylist()} == {int(year)}
        assert set(table.column("collection").to_pylist()) == {collection}
    # one schema per collection
    by_collection: dict[str, set[str]] = {}
    for path in paths:
        by_collection.setdefault(path.parts[-3], set()).add(str(pq.read_schema(path).remove_metadata()))
    assert all(len(schemas) == 1 for schemas in by_collection.values())


def test_round_trip_stac_geoparquet_reader(exported: Path, sample_store: Store) -> None:
    from stac_geoparquet.arrow import stac_table_to_items

    read = [item for path in files(exported) for item in stac_table_to_items(pq.read_table(path))]
    assert_same_items(read, sample_store)


def test_round_trip_rustac_reader(exported: Path, sample_store: Store) -> None:
    import rustac

    read = [item for path in files(exported) for item in rustac.read_sync(str(path))["features"]]
    assert_same_items(read, sample_store)


def test_round_trip_own_reader_and_import(exported: Path, sample_store: Store, tmp_path: Path) -> None:
    records = list(read_parquet_records(exported))
    items = [document for _, document in records if document.get("type") == "Feature"]  # type: ignore[misc]
    collections = [document for _, document in records if document.get("type") == "Collection"]  # type: ignore[misc]
    assert_same_items(items, sample_store)
    assert {c["id"] for c in collections} == sample_store.collection_ids()
    from catalog.ingest import import_files

    with Store(tmp_path / "again.db") as again:
        report = import_files(again, [exported])
        assert report.inserted == sample_store.count_items() and report.rejected == 0
        assert_same_items(list(stored_items(again).values()), sample_store)
        assert again.get_collection("sentinel-1-slc") == sample_store.get_collection("sentinel-1-slc")


def test_duckdb_reads_the_export_and_bbox_columns_filter(exported: Path, sample_store: Store) -> None:
    conn = duckdb.connect()
    glob = str(exported / "**" / "*.parquet")
    counts = dict(conn.sql(
        f"SELECT collection, count(*) FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true) "
        "GROUP BY 1"
    ).fetchall())  # fmt: skip
    assert counts == dict(sample_store.conn.execute("SELECT collection, count(*) FROM items GROUP BY 1").fetchall())
    west, south, east, north = 0.0, 30.0, 40.0, 60.0
    duck = {row[0] for row in conn.sql(
        f"SELECT id FROM read_parquet('{glob}', union_by_name = true) WHERE bbox.xmin <= {east} AND "
        f"bbox.xmax >= {west} AND bbox.ymin <= {north} AND bbox.ymax >= {south} AND bbox.xmin <= bbox.xmax"
    ).fetchall()}  # fmt: skip
    expected = {row[0] for row in sample_store.conn.execute(
        "SELECT id FROM items WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? AND minx <= maxx",
        [east, west, north, south],
    )}  # fmt: skip
    assert duck == expected and len(expected) > 10


def test_geopandas_reads_the_export(exported: Path, sample_store: Store) -> None:
    import geopandas

    path = next(p for p in files(exported) if "sentinel-2-l2a" in str(p))
    frame = geopandas.read_parquet(path)
    assert frame.crs is not None and frame.crs.to_string() == "OGC:CRS84"
    assert len(frame) == pq.ParquetFile(path).metadata.num_rows
    first = frame.iloc[0]
    item = sample_store.get_item("sentinel-2-l2a", first["id"])
    import shapely

    assert frame.geometry.iloc[0].equals(shapely.geometry.shape(item["geometry"]))
    assert first["eo:cloud_cover"] == pytest.approx(item["properties"].get("eo:cloud_cover", float("nan")),
                                                    nan_ok=True)  # fmt: skip


def test_rows_are_spatially_ordered_so_bbox_predicates_skip_row_groups(
    sample_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "MIN_ROW_GROUP_ROWS", 16)
    export_parquet(sample_store, tmp_path)
    path = max(files(tmp_path), key=lambda p: pq.ParquetFile(p).metadata.num_rows)
    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    index = {name: names.index(f"bbox.{name}") for name in ("xmin", "ymin", "xmax", "ymax")}
    groups = metadata.num_row_groups
    assert groups >= 8
    # Hilbert order: each row group's box is a small part of the world, so a 10x10 degree query hits few.
    widths = []
    for g in range(groups):
        stats = {name: metadata.row_group(g).column(i).statistics for name, i in index.items()}
        widths.append((stats["xmax"].max - stats["xmin"].min) * (stats["ymax"].max - stats["ymin"].min))
    assert sorted(widths)[len(widths) // 2] < 360 * 180 / 4


def test_export_is_deterministic(sample_store: Store, tmp_path: Path) -> None:
    export_parquet(sample_store, tmp_path / "a")
    export_parquet(sample_store, tmp_path / "b")
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_other_writers_files_import(sample_items: list[dict[str, Any]], tmp_path: Path) -> None:
    import rustac
    from stac_geoparquet.arrow import parse_stac_items_to_arrow, to_parquet

    items = [item for item in sample_items if item["collection"] == "sentinel-2-l2a"][:200]
    rustac.write_sync(str(tmp_path / "rustac.parquet"), items)
    to_parquet(parse_stac_items_to_arrow(items), tmp_path / "sgp.parquet")
    for name in ("rustac.parquet", "sgp.parquet"):
        read = [d for _, d in read_parquet_records(tmp_path / name) if d.get("type") == "Feature"]  # type: ignore[misc]
        got = {item["id"]: normalize(item) for item in read}
        expected = {item["id"]: normalize(item) for item in items}
        assert got.keys() == expected.keys()
        for key, item in expected.items():
            other = got[key]
            assert other["geometry"] == item["geometry"] and other["assets"] == item["assets"], name
            if name == "rustac.parquet":  # rustac itself stores timestamps in milliseconds
                for properties in (other["properties"], item["properties"]):
                    for field in DATETIME_FIELDS & set(properties):
                        properties[field] = properties[field][:23]
            assert other["properties"] == item["properties"], name
