"""The pgstac backend beside SQLite, on the same generated items: ingest rate, size, query shapes.

* **ingest** -- ``catalog.ingest.import_files`` of the NDJSON into a fresh SQLite ``Store`` and into
  a fresh ``PgstacStore`` (a throwaway local PostgreSQL 15 + PostGIS cluster, fsync off as for
  every throwaway cluster here; pgstac's monthly partitions, eocat's hot-property indexes).
  Items/s, and bytes per item (SQLite file; pgstac: items partitions with their indexes, and
  the index share).
* **shapes** -- the query generator of :mod:`bench.shapes` (boxes 0.1°..continent and across the
  antimeridian x windows 1 day..archive x with/without collection + cloud filter): one limit-100
  page (default sort, datetime desc) and one exact count per query on each backend through the
  public API (``catalog.search``). Medians per shape; the count and the page's item set must be the
  same on both backends (ties at the page boundary may order differently: reported, 0 expected).

    python -m bench.pgstac [--size 20k] [--placements 2] [--rounds 2] [--partition month|year]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from bench import common
from bench.common import log

LIMIT = 100


def _pg_sizes(store: Any) -> dict[str, int]:
    row = store.conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0) "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'r' "
        "AND c.relnamespace = 'pgstac'::regnamespace AND c.relname LIKE '\\_items\\_%'"
    ).fetchone()
    return {"total": int(row[0]), "indexes": int(row[1])}


def ingest(n: int, cluster: Any, partition: str) -> dict[str, Any]:
    from catalog.ingest import import_files
    from catalog.pgstac import PgstacStore
    from catalog.store import Store
    from eocat import samples

    source = common.dataset(n)
    common.warm_file(source)
    results: dict[str, Any] = {}
    sqlite_path = common.fresh_path(f"pgstac-bench-sqlite-{common.size_label(n)}.db")
    with Store(sqlite_path) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        started = time.perf_counter()
        report = import_files(store, [source])
        seconds = time.perf_counter() - started
        store.optimize()
    results["sqlite"] = {"seconds": round(seconds, 2), "items_per_s": round(n / seconds), "inserted": report.inserted,
                         "bytes_per_item": round(common.file_size(sqlite_path) / n, 1)}  # fmt: skip
    url = cluster.fresh_catalogue(f"bench_{common.size_label(n).lower()}")
    with PgstacStore(url, partition_trunc=partition) as pg:
        for collection in samples.collections():
            pg.upsert_collection(collection)
        started = time.perf_counter()
        report = import_files(pg, [source])  # type: ignore[arg-type]  # typed Store; takes any CatalogStore
        seconds = time.perf_counter() - started
        pg.optimize()
        sizes = _pg_sizes(pg)
        partitions = pg.conn.execute("SELECT count(*) FROM partitions_view").fetchone()[0]  # type: ignore[index]
    results["pgstac"] = {
        "seconds": round(seconds, 2), "items_per_s": round(n / seconds), "inserted": report.inserted,
        "bytes_per_item": round(sizes["total"] / n, 1), "index_bytes_per_item": round(sizes["indexes"] / n, 1),
        "partitions": int(partitions), "partition_trunc": partition,
    }  # fmt: skip
    for name, entry in results.items():
        log(f"ingest {common.size_label(n)} {name}: {entry['items_per_s']:,} items/s, {entry['bytes_per_item']} B/item")
    return {"sqlite_path": str(sqlite_path), "url": url, **results}


def shapes(n: int, sqlite_path: str, url: str, *, placements: int, rounds: int) -> dict[str, Any]:
    from bench import shapes as shape_bench
    from catalog.pgstac import PgstacStore
    from catalog.search import Query, count, search
    from catalog.store import Store

    naive_path, _ = shape_bench.build_peers(n, common.dataset(n), False)
    rtree = shape_bench.NaiveRtree(shape_bench.build_naive_rtree(n, naive_path))
    queries = shape_bench.make_queries(rtree.conn, placements)
    rtree.close()
    stores: dict[str, Any] = {"sqlite": Store(sqlite_path), "pgstac": PgstacStore(url)}
    parsed = [
        Query.parse(
            collections=",".join(q.collections) or None, bbox=",".join(str(v) for v in q.bbox), datetime=q.datetime,
            filter=f"eo:cloud_cover < {shape_bench.CLOUD_MAX}" if q.cloud else None, limit=LIMIT,
        )
        for q in queries
    ]  # fmt: skip
    mismatches = []
    for query, parsed_query in zip(queries, parsed, strict=True):
        counts = {name: count(store, parsed_query) for name, store in stores.items()}
        pages = {name: search(store, parsed_query).items for name, store in stores.items()}
        ids = {name: {(i["collection"], i["id"]) for i in page} for name, page in pages.items()}
        if counts["sqlite"] != counts["pgstac"] or (ids["sqlite"] != ids["pgstac"] and counts["sqlite"] <= LIMIT):
            mismatches.append({"shape": query.shape.name, "bbox": query.bbox, "datetime": query.datetime, **counts})
    times: dict[str, dict[str, list[float]]] = {}
    for number in range(rounds):
        log(f"shapes {common.size_label(n)}: round {number + 1}/{rounds} ({len(queries)} queries x 2 backends)")
        for query, parsed_query in zip(queries, parsed, strict=True):
            entry = times.setdefault(query.shape.name, {})
            for name, store in stores.items():
                started = time.perf_counter()
                search(store, parsed_query)
                entry.setdefault(name, []).append(time.perf_counter() - started)
                started = time.perf_counter()
                count(store, parsed_query)
                entry.setdefault(f"{name}_count", []).append(time.perf_counter() - started)
    for store in stores.values():
        store.close()
    per_shape = {
        shape: {engine: round(1000 * statistics.median(values), 2) for engine, values in entries.items()}
        for shape, entries in times.items()
    }
    overall = {
        engine: round(statistics.median([v[engine] for v in per_shape.values()]), 2)
        for engine in ("sqlite", "pgstac", "sqlite_count", "pgstac_count")
    }
    worst = {engine: max(v[engine] for v in per_shape.values()) for engine in ("sqlite", "pgstac")}
    log(f"shapes: median of shape medians {overall}; worst shape {worst}; {len(mismatches)} mismatches")
    return {
        "queries": len(queries), "mismatches": mismatches[:20], "mismatch_count": len(mismatches),
        "median_of_shape_medians_ms": overall, "worst_shape_median_ms": worst, "per_shape_median_ms": per_shape,
    }  # fmt: skip


def run(n: int, *, placements: int = 2, rounds: int = 2, partition: str = "month") -> dict[str, Any]:
    from catalog.pgstac.cluster import LocalCluster

    started = time.perf_counter()
    cluster = LocalCluster(settings={"shared_buffers": "512MB", "work_mem": "32MB"}).start()
    try:
        loaded = ingest(n, cluster, partition)
        shape_results = shapes(n, loaded.pop("sqlite_path"), loaded.pop("url"), placements=placements, rounds=rounds)
    finally:
        cluster.stop()
    payload = {
        "benchmark": "pgstac",
        "machine": common.machine_facts(),
        "items": n,
        "ingest": loaded,
        "shapes": shape_results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    common.write_result("pgstac", payload)
    return payload


def summary(payload: dict[str, Any]) -> str:
    ingest_rows = [[name, e["items_per_s"], e["bytes_per_item"], e.get("index_bytes_per_item", "")]
                   for name, e in payload["ingest"].items()]  # fmt: skip
    overall = payload["shapes"]["median_of_shape_medians_ms"]
    worst = payload["shapes"]["worst_shape_median_ms"]
    shape_rows = [
        ["sqlite", overall["sqlite"], worst["sqlite"], overall["sqlite_count"]],
        ["pgstac", overall["pgstac"], worst["pgstac"], overall["pgstac_count"]],
    ]
    return (
        f"pgstac vs SQLite, {common.size_label(payload['items'])} items\n"
        + common.table(ingest_rows, ["backend", "ingest items/s", "bytes/item", "index bytes/item"])
        + f"\nquery shapes ({payload['shapes']['queries']} queries, {payload['shapes']['mismatch_count']} mismatches)\n"
        + common.table(shape_rows, ["backend", "page median ms", "worst shape ms", "count median ms"])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pgstac", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=common.parse_sizes, help="item count (default 20k)")
    parser.add_argument("--placements", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--partition", choices=("month", "year"), default="month")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    n = (args.size or [20_000])[0]
    with common.exclusive_run():
        payload = run(n, placements=args.placements, rounds=args.rounds, partition=args.partition)
    print(summary(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
