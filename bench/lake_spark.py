"""Spark vs ``eocat sql`` on the same local lake: items per collection per month, side by side.

The sample catalogue the tests use (6,000 generated items, seed 7) is exported to a temporary
lake; PySpark in local mode (``catalog.parquet.spark``: the README recipe) and ``eocat sql``
(DuckDB) count items per collection and month — everything, and the items of 2023 whose bbox
meets a box across the antimeridian (partition pruning plus the bbox covering terms). Prints a
markdown table per selection with both counts and whether they agree; exits 1 when any differ.

    python -m bench.lake_spark            # needs PySpark and Java (make spark)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from catalog.geo import bbox_parts

BBOX = (170.0, -40.0, -170.0, -10.0)  # crosses the antimeridian
YEAR = 2023
SAMPLE_SIZE, SEED = 6000, 7


def covering_sql(bbox: tuple[float, float, float, float]) -> str:
    """The bbox covering terms Spark's recipe applies, as DuckDB SQL."""
    crossing = "bbox.xmin > bbox.xmax"
    parts = " OR ".join(
        f"(bbox.ymin <= {n} AND bbox.ymax >= {s} AND (bbox.xmin <= {e} OR {crossing}) "
        f"AND (bbox.xmax >= {w} OR {crossing}))"
        for w, s, e, n in bbox_parts(bbox)
    )
    return f"bbox.ymin <= {bbox[3]} AND bbox.ymax >= {bbox[1]} AND ({parts})"


def build_lake(directory: Path) -> None:
    from catalog.parquet import export_parquet
    from catalog.store import Store
    from eocat import samples

    with Store(directory / "sample.db") as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        store.upsert_items(list(samples.generate_items(SAMPLE_SIZE, seed=SEED)), batch_size=500)
        export_parquet(store, directory / "parquet")


def sql_counts(lake: Path, where: str) -> dict[tuple[str, str], int]:
    from catalog.parquet.sql import run_sql

    table = run_sql(lake, f"SELECT collection, strftime(datetime, '%Y-%m') AS month, count(*) AS items "
                          f"FROM items WHERE {where} GROUP BY 1, 2")  # fmt: skip
    return {(row["collection"], row["month"]): row["items"] for row in table.to_pylist()}


def markdown(title: str, spark: dict[tuple[str, str], int], sql: dict[tuple[str, str], int], *, months: bool) -> str:
    """Both counts side by side: per (collection, month), or per collection with the months checked."""
    lines = [f"**{title}**", ""]
    if months:
        lines += ["| collection | month | Spark | eocat sql | same |", "|---|---|---:|---:|---|"]
        for key in sorted(spark.keys() | sql.keys()):
            a, b = spark.get(key), sql.get(key)
            lines.append(f"| {key[0]} | {key[1]} | {a if a is not None else '-'} | {b if b is not None else '-'} | "
                         f"{'yes' if a == b else 'NO'} |")  # fmt: skip
    else:
        lines += [
            "| collection | months | Spark items | eocat sql items | months that agree |",
            "|---|---:|---:|---:|---|",
        ]
        for collection in sorted({c for c, _ in spark.keys() | sql.keys()}):
            keys = {k for k in spark.keys() | sql.keys() if k[0] == collection}
            agree = sum(spark.get(k) == sql.get(k) for k in keys)
            lines.append(f"| {collection} | {len(keys)} | {sum(spark.get(k, 0) for k in keys)} | "
                         f"{sum(sql.get(k, 0) for k in keys)} | {agree}/{len(keys)} |")  # fmt: skip
    lines.append(f"| **total** | | {sum(spark.values())} | {sum(sql.values())} | "
                 f"{'all the same' if spark == sql else 'DIFFERENT'} |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    from catalog.parquet.spark import items_per_collection_month, read_lake, session

    with tempfile.TemporaryDirectory(prefix="eocat-spark-") as folder:
        build_lake(Path(folder))
        lake = Path(folder) / "parquet"
        spark = session()
        try:
            frame = read_lake(spark, lake)
            selections = [
                ("all items: per collection and month, summed per collection", items_per_collection_month(frame),
                 "true", False),
                (f"{YEAR}, bbox {','.join(f'{v:g}' for v in BBOX)} (across the antimeridian), per collection and month",
                 items_per_collection_month(frame, bbox=BBOX, years=[YEAR]),
                 f"year = {YEAR} AND {covering_sql(BBOX)}", True),
            ]  # fmt: skip
            same = True
            for title, result, where, months in selections:
                spark_counts = {(r["collection"], r["month"]): r["items"] for r in result.collect()}
                duck_counts = sql_counts(lake, where)
                same = same and spark_counts == duck_counts
                print(markdown(title, spark_counts, duck_counts, months=months) + "\n")
        finally:
            spark.stop()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
