"""``eocat sql`` with DuckDB's spatial extension loaded offline from its wheel: the examples run, the
spatial answers equal the catalogue's, nothing is ever downloaded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from catalog.errors import EocatError
from catalog.parquet import duck, export_parquet
from catalog.parquet.sql import EXAMPLES, run_sql
from catalog.search import Query, count
from catalog.store import Store
from eocat.cli import main

POLYGON = "POLYGON((-10 30, 20 30, 20 60, -10 60, -10 30))"


@pytest.fixture(scope="module")
def lake(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sql-lake")
    export_parquet(sample_store, directory)
    return directory


def test_spatial_count_equals_the_catalogue(lake: Path, sample_store: Store, tmp_path: Path) -> None:
    sql = (f"SELECT count(*) AS n FROM 'sentinel-2-l2a' WHERE "
           f"ST_Intersects(ST_GeomFromWKB(geometry), ST_GeomFromText('{POLYGON}'))")  # fmt: skip
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "none.db"), "sql", "--parquet", str(lake),
                                       "--format", "json", sql])  # fmt: skip
    assert result.exit_code == 0, result.output
    query = Query.parse(collections="sentinel-2-l2a", intersects=_geojson(POLYGON))
    expected = count(sample_store, query)
    assert 0 < expected < 1200 and json.loads(result.stdout) == {"n": expected}


def _geojson(wkt: str) -> dict[str, object]:
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", wkt)]
    ring = [[numbers[i], numbers[i + 1]] for i in range(0, len(numbers), 2)]
    return {"type": "Polygon", "coordinates": [ring]}


def test_every_example_runs(lake: Path) -> None:
    result = CliRunner().invoke(main, ["sql", "--examples"])  # no QUERY needed
    assert result.exit_code == 0 and "ST_Intersects" in result.stdout
    statements = [part.strip() for part in re.split(r";\s*\n", EXAMPLES) if part.strip()]
    assert len(statements) >= 5
    for statement in statements:
        table = run_sql(lake, statement)
        assert table.num_rows > 0, statement
    areas = run_sql(lake, next(s for s in statements if "ST_Area" in s)).to_pylist()
    assert all(row["km2"] > 0 for row in areas)


def test_extensions_load_from_wheels_with_autoinstall_off() -> None:
    conn = duck.connect()
    try:
        settings = dict(conn.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions', 'TimeZone')"
        ).fetchall())  # fmt: skip
        assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
                            "TimeZone": "UTC"}  # fmt: skip
        loaded = dict(conn.execute("SELECT extension_name, loaded FROM duckdb_extensions()").fetchall())
        assert loaded["spatial"] and not loaded.get("httpfs")
        with pytest.raises(duckdb.Error):  # an extension not shipped as a wheel is not fetched
            conn.execute("SELECT * FROM read_xlsx('nothing.xlsx')")
    finally:
        conn.close()


def test_a_duckdb_without_matching_wheels_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duckdb, "__version__", "9.9.9")
    with pytest.raises(EocatError, match=r"no build for DuckDB 9\.9\.9 .*pip install 'duckdb==9\.9\.9'"):
        duck.extension_file("spatial")
