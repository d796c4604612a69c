"""``eocat sql``: DuckDB over a GeoParquet export, with one view per collection.

Views: ``"<collection id>"`` (e.g. ``"sentinel-2-l2a"``; quote ids with dashes) over that
collection's files, and ``items`` over all of them (columns united by name). Hive partition
columns ``year`` (and ``month`` where used) come along, so ``WHERE year = 2023`` prunes files;
``bbox.xmin``/``bbox.ymin``/… predicates prune row groups (DuckDB does not push down
``ST_Intersects`` on GeoParquet, so filter on the covering columns explicitly). Examples::

    -- items per month
    SELECT date_trunc('month', datetime) AS month, count(*) FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1;
    -- cloud-cover distribution in 10 % bins
    SELECT floor("eo:cloud_cover" / 10) * 10 AS bin, count(*) FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1;
    -- revisit gaps per S2 tile (days between consecutive acquisitions)
    SELECT "grid:code", max(gap) AS max_gap_days FROM (
      SELECT "grid:code", date_diff('day', lag(datetime) OVER (PARTITION BY "grid:code" ORDER BY datetime),
                                    datetime) AS gap FROM "sentinel-2-l2a") GROUP BY 1 ORDER BY 2 DESC LIMIT 10;
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from catalog.errors import EocatError, InvalidQuery
from catalog.parquet.export import MANIFEST

EXAMPLES = __doc__.split("Examples::", 1)[1] if __doc__ else ""


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_collections(directory: Path) -> list[str]:
    """Collection ids of an export (from its ``collection=…`` directories)."""
    return sorted(
        p.name.split("=", 1)[1] for p in directory.glob("collection=*") if p.is_dir() and any(p.rglob("*.parquet"))
    )


def connect(directory: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the export's views defined."""
    root = Path(directory)
    if not root.is_dir():
        raise EocatError(f"no GeoParquet export at {root} (run: eocat export parquet {root})")
    collections = export_collections(root)
    if not collections:
        raise EocatError(f"{root} holds no exported collection (run: eocat export parquet {root})")
    conn = duckdb.connect()
    globs = []
    for collection in collections:
        glob = str(root / f"collection={collection}" / "**" / "*.parquet")
        globs.append(glob)
        conn.execute(
            f"CREATE VIEW {_quote_identifier(collection)} AS SELECT * FROM read_parquet("
            f"{_quote_literal(glob)}, hive_partitioning = true, union_by_name = true)"
        )
    listing = ", ".join(_quote_literal(glob) for glob in globs)
    conn.execute(
        f"CREATE VIEW items AS SELECT * FROM read_parquet([{listing}], hive_partitioning = true, union_by_name = true)"
    )
    return conn


def run_sql(directory: str | Path, sql: str) -> pa.Table:
    """Run one query over the export; the result as an Arrow table (empty for statements)."""
    conn = connect(directory)
    try:
        relation = conn.sql(sql)
        if relation is None:
            return pa.table({})
        return relation.to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidQuery(f"DuckDB: {exc}") from None
    finally:
        conn.close()


def manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return document
