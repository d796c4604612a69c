"""``eocat sql``: DuckDB over a GeoParquet lake (local or ``s3://``), with one view per collection.

Views: ``"<collection id>"`` (e.g. ``"sentinel-2-l2a"``; quote ids with dashes) over that
collection's files, and ``items`` over all of them (columns united by name). The files are the
ones the lake's manifest names (a reader never sees a partition being replaced). Hive partition
columns ``year`` (and ``month`` where used) come along, so ``WHERE year = 2023`` prunes files;
``bbox.xmin``/``bbox.ymin``/… predicates prune row groups. DuckDB's spatial extension is loaded
(offline, :mod:`catalog.parquet.duck`); ``geometry`` is WKB, so ``ST_GeomFromWKB(geometry)``
makes a geometry. ``ST_Intersects`` is not pushed down to the files: add the bbox covering
predicates to skip row groups. Examples::

    -- items per month
    SELECT date_trunc('month', datetime) AS month, count(*) FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1;
    -- items whose footprint intersects a polygon (the bbox terms skip row groups, ST_Intersects is exact)
    SELECT count(*) FROM "sentinel-2-l2a"
    WHERE bbox.xmin <= 12 AND bbox.xmax >= 10 AND bbox.ymin <= 46 AND bbox.ymax >= 45
      AND ST_Intersects(ST_GeomFromWKB(geometry), ST_GeomFromText('POLYGON((10 45, 12 45, 12 46, 10 46, 10 45))'));
    -- footprint area in km² per platform (equal-area projection)
    SELECT platform, round(sum(ST_Area(ST_Transform(ST_GeomFromWKB(geometry), 'EPSG:4326', 'EPSG:6933',
           always_xy := true))) / 1e6) AS km2 FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1;
    -- cloud-cover distribution in 10 % bins
    SELECT floor("eo:cloud_cover" / 10) * 10 AS bin, count(*) FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1;
    -- revisit gaps per S2 tile (days between consecutive acquisitions)
    SELECT "grid:code", max(gap) AS max_gap_days FROM (
      SELECT "grid:code", date_diff('day', lag(datetime) OVER (PARTITION BY "grid:code" ORDER BY datetime),
                                    datetime) AS gap FROM "sentinel-2-l2a") GROUP BY 1 ORDER BY 2 DESC LIMIT 10;
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from catalog.errors import EocatError, InvalidQuery
from catalog.parquet import duck
from catalog.parquet.export import MANIFEST, partition_files, read_manifest
from catalog.parquet.lake import Lake, is_remote

EXAMPLES = __doc__.split("Examples::", 1)[1] if __doc__ else ""


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lake_files(target: str | Path) -> dict[str, list[str]]:
    """Collection id -> the locations (paths or URIs) of its current files: the manifest's, or
    for a local directory without one (another tool's export), every ``collection=…`` file."""
    lake = Lake.open(target)
    manifest = read_manifest(lake)
    if manifest:
        files = partition_files(manifest)
        return {collection: [lake.url(f) for f in names] for collection, names in files.items() if names}
    if lake.remote:
        raise EocatError(f"no eocat lake at {lake.uri} (no {MANIFEST}; run: eocat export parquet {lake.uri})")
    root = Path(lake.root)
    if not root.is_dir():
        raise EocatError(f"no GeoParquet export at {target} (run: eocat export parquet {target})")
    found: dict[str, list[str]] = {}
    for directory in sorted(root.glob("collection=*")):
        names = sorted(str(p) for p in directory.rglob("*.parquet")) if directory.is_dir() else []
        if names:
            found[directory.name.split("=", 1)[1]] = names
    return found


def define_views(conn: duckdb.DuckDBPyConnection, files: dict[str, list[str]]) -> None:
    """One view per collection and ``items`` over them all."""
    every: list[str] = []
    for collection, names in files.items():
        every += names
        conn.execute(f"CREATE VIEW {_quote_identifier(collection)} AS SELECT * FROM {read_parquet_sql(names)}")
    conn.execute(f"CREATE VIEW items AS SELECT * FROM {read_parquet_sql(every)}")


def read_parquet_sql(names: list[str]) -> str:
    listing = ", ".join(_quote_literal(name) for name in names)
    return f"read_parquet([{listing}], hive_partitioning = true, union_by_name = true)"


def connect(target: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's views defined."""
    files = lake_files(target)
    if not files:
        raise EocatError(f"{target} holds no exported collection (run: eocat export parquet {target})")
    conn = duck.connect(remote=is_remote(target))
    try:
        define_views(conn, files)
    except duckdb.Error as exc:
        conn.close()
        raise EocatError(f"DuckDB cannot read the lake at {target}: {exc}") from None
    return conn


def run_sql(target: str | Path, sql: str) -> pa.Table:
    """Run one query over the lake; the result as an Arrow table (empty for statements)."""
    conn = connect(target)
    try:
        relation = conn.sql(sql)
        if relation is None:
            return pa.table({})
        return relation.to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidQuery(f"DuckDB: {exc}") from None
    finally:
        conn.close()


def manifest(target: str | Path) -> dict[str, Any]:
    """The lake's manifest (empty when there is none)."""
    return read_manifest(Lake.open(target))
