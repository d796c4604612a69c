"""``eocat inventory --lake``: the inventory computed by DuckDB over a lake equals the catalogue's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from click.testing import CliRunner

from catalog.errors import InvalidQuery
from catalog.parquet import export_parquet
from catalog.parquet.inventory import compute
from catalog.parquet.lake_inventory import compute_lake
from catalog.parquet.lake_search import LakeCatalog
from catalog.search import Query, iter_items
from catalog.store import Store
from eocat.cli import main
from tests.inventory_compare import assert_same_inventory
from tests.test_inventory import AOI, EXPECTED, ITEMS

# AOIs where the sample's Sentinel-1 passes pile up, a wide one, one across the antimeridian
SAMPLE_CASES: list[dict[str, Any]] = [
    {"collections": "sentinel-1-slc", "bbox": "-150,-30,-140,-20"},
    {"collections": "sentinel-1-grd,sentinel-1-slc", "bbox": "0,-10,10,0"},
    {"collections": "sentinel-1-bursts", "bbox": "-150,-40,-140,-30", "datetime": "2023-01-01T00:00:00Z/.."},
    {"collections": "sentinel-1-grd", "bbox": "175,-75,-175,-60"},
    {"collections": "sentinel-1-slc",
     "intersects": {"type": "Polygon", "coordinates": [[[100, -50], [125, -45], [110, -30], [100, -50]]]}},
    {"collections": "sentinel-2-l2a", "bbox": "150,-5,170,5"},  # no orbit fields: passes are UTC days
    {"collections": "sentinel-1-slc", "bbox": "-150,-30,-140,-20", "filter": "\"sat:orbit_state\" = 'ascending'"},
]  # fmt: skip


@pytest.fixture(scope="module")
def lake(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("lake")
    export_parquet(sample_store, directory)
    return directory


@pytest.mark.parametrize("parameters", SAMPLE_CASES, ids=[json.dumps(c)[:70] for c in SAMPLE_CASES])
def test_lake_inventory_is_the_catalogues(parameters: dict[str, Any], sample_store: Store, lake: Path) -> None:
    query = Query.parse(**parameters, limit=1000)
    area = query.spatial()
    assert area is not None
    expected = compute(iter_items(sample_store, query), area.geometry)
    assert sum(len(g.passes) for g in expected.groups) >= 3  # something to compare
    with LakeCatalog(lake, memory_limit="200MB") as catalog:
        got = compute_lake(catalog, query, area.geometry)
    assert_same_inventory(got, expected)


def test_cli_inventory_lake_known_coverages(tmp_path: Path) -> None:
    with Store(tmp_path / "cat.db") as store:
        assert store.upsert_items(ITEMS).inserted == len(ITEMS)
        export_parquet(store, tmp_path / "lake")
    (tmp_path / "aoi.geojson").write_text(json.dumps(AOI))
    runner = CliRunner()
    common = ["inventory", "--intersects", str(tmp_path / "aoi.geojson"), "--collections", "sentinel-1-slc"]
    lake = ["--db", str(tmp_path / "absent.db"), *common, "--lake", str(tmp_path / "lake"), "--memory-limit", "64MB"]
    result = runner.invoke(main, [*lake, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["items"] == 8 and document["best"]["full_coverage_dates"] == 2
    by_key = {(g["orbit_state"], g["relative_orbit"], g["polarizations"]): g for g in document["groups"]}
    assert by_key.keys() == EXPECTED.keys()
    for key, passes in EXPECTED.items():
        assert [(a["date"], a["coverage"]) for a in by_key[key]["acquisitions"]] == [
            (d, pytest.approx(c, abs=1e-6)) for d, c in passes]  # fmt: skip
    assert by_key[("ascending", 15, "VV+VH")]["acquisitions"][2]["item_ids"] == ["a3w", "a3e"]  # VH+VV is VV+VH
    catalogue = runner.invoke(main, ["--db", str(tmp_path / "cat.db"), *common, "--format", "json"])
    assert document == json.loads(catalogue.stdout)
    assert not (tmp_path / "absent.db").exists()

    result = runner.invoke(main, [*lake, "--format", "parquet", "--out", str(tmp_path / "inv.parquet")])
    assert result.exit_code == 0 and (tmp_path / "inv.parquet").stat().st_size > 0
    result = runner.invoke(main, [*common, "--lake", str(tmp_path / "lake"), "--memory-limit", "lots"])
    assert result.exit_code == 2 and "memory limit" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, [*common[:-1], "nope", "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 3 and "nope" in result.output


def test_memory_limit_reaches_duckdb(lake: Path) -> None:
    with LakeCatalog(lake, memory_limit="123MB") as catalog:
        setting = catalog.execute("SELECT current_setting('memory_limit')", []).fetchone()
        assert setting is not None and setting[0] in ("117.3 MiB", "123.0 MB")
        spill = catalog.execute("SELECT current_setting('temp_directory')", []).fetchone()
        assert spill is not None and "eocat-duckdb-" in spill[0]
    assert not Path(spill[0]).exists()  # removed with the catalogue
    with pytest.raises(InvalidQuery):
        LakeCatalog(lake, memory_limit="a lot")


def test_an_aoi_without_area_is_refused(lake: Path) -> None:
    line = shapely.geometry.LineString([(0, 0), (1, 1)])
    with LakeCatalog(lake) as catalog, pytest.raises(ValueError, match="no area"):
        compute_lake(catalog, Query.parse(collections="sentinel-1-slc"), line)
