"""Incremental GeoParquet export: only changed partitions are rewritten, each atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from catalog.parquet import convert, export_parquet
from catalog.parquet import export as export_module
from catalog.parquet.reader import read_parquet_records
from catalog.store import Store
from tests.items import lake_items, make_item


def snapshot(directory: Path) -> dict[str, tuple[int, int, str]]:
    return {
        str(path.relative_to(directory)): (path.stat().st_ino, path.stat().st_mtime_ns,
                                           hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(directory.rglob("*.parquet"))
    }  # fmt: skip


def items_in(path: Path) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for _, d in read_parquet_records(path) if d.get("type") == "Feature"}  # type: ignore[misc]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "cat.db")
    items = lake_items()
    assert store.upsert_items(items).inserted == len(items)
    return store


def test_second_export_writes_nothing(store: Store, tmp_path: Path) -> None:
    first = export_parquet(store, tmp_path / "out")
    assert len(first.written) == 6 and first.written_items == 1800
    before = snapshot(tmp_path / "out")
    again = export_parquet(store, tmp_path / "out")
    assert again.written == [] and len(again.unchanged) == 6 and again.items == 1800
    assert snapshot(tmp_path / "out") == before


def test_change_in_one_partition_rewrites_only_it(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_parquet(store, out)
    before = snapshot(out)
    changed = store.get_item("beta", "beta-2023-7")
    changed["properties"]["eo:cloud_cover"] = 99.5
    assert store.upsert_items([changed], mode="replace").updated == 1
    report = export_parquet(store, out)
    target = "collection=beta/year=2023/items.parquet"
    assert report.written == [target] and report.written_items == 300 and report.schemas_inferred == []
    after = snapshot(out)
    assert after.keys() == before.keys()
    assert {k for k in before if before[k] != after[k]} == {target}
    assert items_in(out / target)["beta-2023-7"]["properties"]["eo:cloud_cover"] == 99.5


def test_new_field_rebuilds_the_collection_schema(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_parquet(store, out)
    before = snapshot(out)
    item = make_item("alpha-2024-new", "alpha", datetime="2024-03-01T00:00:00Z",
                     properties={"sat:relative_orbit": 42, "custom:flags": {"a": [1, 2]}})  # fmt: skip
    store.upsert_items([item])
    report = export_parquet(store, out)
    assert report.schemas_inferred == ["alpha"]
    assert sorted(report.written) == [f"collection=alpha/year={y}/items.parquet" for y in (2022, 2023, 2024)]
    after = snapshot(out)
    assert all(after[k] == before[k] for k in before if k.startswith("collection=beta"))
    schemas = {str(pq.read_schema(out / path).remove_metadata()) for path in report.written}
    assert len(schemas) == 1 and "custom:flags" in next(iter(schemas))
    assert items_in(out / "collection=alpha/year=2024/items.parquet")["alpha-2024-new"]["properties"][
        "custom:flags"] == {"a": [1, 2]}  # fmt: skip


def test_rare_field_outside_the_sample_is_kept(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "SAMPLE_ROWS", 10)
    item = store.get_item("alpha", "alpha-2022-299")
    item["properties"]["rare:value"] = "only here"
    store.upsert_items([item], mode="replace")
    report = export_parquet(store, tmp_path / "out", full=True)
    assert "alpha" in report.schemas_inferred
    read = items_in(tmp_path / "out" / "collection=alpha/year=2022/items.parquet")
    assert read["alpha-2022-299"]["properties"]["rare:value"] == "only here"


@pytest.mark.parametrize("full", [False, True])
def test_deleted_partition_is_removed(store: Store, tmp_path: Path, full: bool) -> None:
    out = tmp_path / "out"
    export_parquet(store, out)
    store.conn.execute("DELETE FROM items WHERE collection = 'alpha' AND datetime LIKE '2022-%'")
    report = export_parquet(store, out, full=full)
    assert report.removed == ["collection=alpha/year=2022/items.parquet"]
    assert len(report.written) == (5 if full else 0)
    assert not (out / "collection=alpha" / "year=2022").exists()


def test_failed_rewrite_leaves_the_old_partition_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers see the old or the new file: a crash mid-partition leaves the old one in place."""
    out = tmp_path / "out"
    monkeypatch.setattr(export_module, "MIN_ROW_GROUP_ROWS", 50)
    export_parquet(store, out)
    before = snapshot(out)
    changed = store.get_item("alpha", "alpha-2023-3")
    changed["properties"]["eo:cloud_cover"] = 1.25
    store.upsert_items([changed], mode="replace")
    calls = {"n": 0}
    real = convert.to_table

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # after two row groups went to the temporary file
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_module, "to_table", failing)
    with pytest.raises(OSError, match="disk full"):
        export_parquet(store, out)
    assert snapshot(out) == before
    assert not list(out.rglob("*.tmp"))
    assert items_in(out / "collection=alpha/year=2023/items.parquet")["alpha-2023-3"]["properties"][
        "eo:cloud_cover"] == 3.0  # fmt: skip
    monkeypatch.setattr(export_module, "to_table", real)
    report = export_parquet(store, out)  # the next run finishes the job
    assert report.written == ["collection=alpha/year=2023/items.parquet"]
    assert items_in(out / report.written[0])["alpha-2023-3"]["properties"]["eo:cloud_cover"] == 1.25


def test_collection_document_change_rewrites_its_partitions(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_parquet(store, out)
    document = store.get_collection("beta")
    document["description"] = "changed"
    store.upsert_collection(document, mode="replace")
    report = export_parquet(store, out)
    assert sorted(report.written) == [f"collection=beta/year={y}/items.parquet" for y in (2022, 2023, 2024)]
    metadata = pq.read_schema(out / report.written[0]).metadata[b"stac-geoparquet"]
    assert b'"changed"' in metadata


def test_monthly_partitions_when_a_year_is_large(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MAX_PARTITION_ROWS", 200)
    report = export_parquet(store, tmp_path / "out")
    assert "collection=alpha/year=2023/month=04/items.parquet" in report.written
    assert sum(pq.ParquetFile(tmp_path / "out" / p).metadata.num_rows for p in report.written) == 1800
