"""The Spark recipe (catalog/parquet/spark.py, shown in the README): PySpark in local mode reads the lake,
filters on the bbox covering and the partitions, and counts items per collection per month — the same
numbers as ``eocat sql``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.parquet import export_parquet
from catalog.parquet.sql import run_sql
from catalog.store import Store

pyspark = pytest.importorskip("pyspark", reason="make spark installs PySpark and a Java runtime")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

BBOX = (170.0, -40.0, -170.0, -10.0)  # crosses the antimeridian
COVERING = (
    "bbox.ymin <= -10 AND bbox.ymax >= -40 AND ("
    "(bbox.ymin <= -10 AND bbox.ymax >= -40 AND (bbox.xmin <= 180 OR bbox.xmin > bbox.xmax) "
    " AND (bbox.xmax >= 170 OR bbox.xmin > bbox.xmax)) OR "
    "(bbox.ymin <= -10 AND bbox.ymax >= -40 AND (bbox.xmin <= -170 OR bbox.xmin > bbox.xmax) "
    " AND (bbox.xmax >= -180 OR bbox.xmin > bbox.xmax)))"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (make spark installs openjdk-17-jre-headless)")
    from catalog.parquet.spark import session

    opened = session()
    yield opened
    opened.stop()


@pytest.fixture(scope="module")
def lake(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("spark-lake")
    export_parquet(sample_store, directory)
    return directory


def _sql_counts(lake: Path, where: str) -> list[tuple[str, str, int]]:
    table = run_sql(lake, f"SELECT collection, strftime(datetime, '%Y-%m') AS month, count(*) AS items "
                          f"FROM items WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2")  # fmt: skip
    return [(row["collection"], row["month"], row["items"]) for row in table.to_pylist()]


def test_spark_counts_match_eocat_sql(spark: Any, lake: Path, sample_store: Store) -> None:
    from catalog.parquet.spark import items_per_collection_month, read_lake

    frame = read_lake(spark, lake)
    everything = [(r["collection"], r["month"], r["items"]) for r in items_per_collection_month(frame).collect()]
    assert everything == _sql_counts(lake, "true")
    assert sum(n for _, _, n in everything) == sample_store.count_items()

    filtered = items_per_collection_month(frame, bbox=BBOX, years=[2023])
    got = [(r["collection"], r["month"], r["items"]) for r in filtered.collect()]
    expected = _sql_counts(lake, f"year = 2023 AND {COVERING}")
    assert got == expected and 0 < sum(n for _, _, n in got) < sample_store.count_items()
    plan = filtered._jdf.queryExecution().executedPlan().toString()
    # partitions pruned, covering predicates pushed down to the Parquet reader (row-group statistics)
    assert re.search(r"PartitionFilters: \[[^\]]*year", plan) and re.search(r"PushedFilters: \[[^\]]*bbox\.ymin", plan)
