"""What-if query: the benchmark's 50 queries on the cached eocat store and on a modified *copy* of it.

Variants (applied to a copy under ``bench/work/``; the catalog/ source is never touched):

* ``base``   -- the store as eocat built it
* ``cover_pk`` -- the same with ``pk`` right after ``datetime`` (index order = ORDER BY, no sorter)
* ``cover``  -- ``items_collection_datetime`` and ``items_datetime`` rebuilt as covering indexes that
  also hold start/end datetime, the bbox columns and ``p_eo_cloud_cover``, so rows that fail those
  tests are rejected from the index without reading the ~3 KB table row (SQLite defers the table
  seek until a column outside the index is needed)

Each variant runs the query set ``rounds`` times in a fresh process order (base, variant, base, ...);
per-query median and overall median/p95/max are reported, plus how many queries return the same ids.

    python -m bench.query_variants --size 1M [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench import common, query
from bench.common import log

VARIANTS: dict[str, tuple[str, ...]] = {}
VARIANTS["cover"] = (
    "DROP INDEX IF EXISTS items_collection_datetime",
    "DROP INDEX IF EXISTS items_datetime",
    "CREATE INDEX items_collection_datetime ON items "
    "(collection, datetime, start_datetime, end_datetime, minx, miny, maxx, maxy, p_eo_cloud_cover)",
    "CREATE INDEX items_datetime ON items "
    "(datetime, collection, start_datetime, end_datetime, minx, miny, maxx, maxy, p_eo_cloud_cover)",
)
# The same with pk right after datetime, so the index order is the ORDER BY (datetime, pk): no sorter.
VARIANTS["cover_pk"] = (
    "DROP INDEX IF EXISTS items_collection_datetime",
    "DROP INDEX IF EXISTS items_datetime",
    "CREATE INDEX items_collection_datetime ON items "
    "(collection, datetime, pk, start_datetime, end_datetime, minx, miny, maxx, maxy, p_eo_cloud_cover)",
    "CREATE INDEX items_datetime ON items "
    "(datetime, pk, collection, start_datetime, end_datetime, minx, miny, maxx, maxy, p_eo_cloud_cover)",
)


def make_copy(source: Path, variant: str) -> Path:
    target = common.WORK / f"exp-{variant}-{source.name}"
    if target.exists():
        return target
    size = source.name.split("-")[1]  # eocat-<size>-<data hash>-<code hash>.db
    for stale in common.WORK.glob(f"exp-{variant}-eocat-{size}-*"):  # copies of stores built by older code
        stale.unlink()
    log(f"copying {source.name} for variant {variant} ...")
    tmp = common.fresh_path(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    conn = sqlite3.connect(str(tmp))
    conn.execute("PRAGMA cache_size = -262144")
    started = time.perf_counter()
    for sql in VARIANTS[variant]:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    log(f"  indexes built in {time.perf_counter() - started:.1f} s")
    tmp.replace(target)
    return target


def measure(path: Path, queries: list[query.BenchQuery], rounds: int) -> tuple[dict[str, list[float]], dict]:
    engine = query.Eocat(path)
    engine.prepare(queries)
    ids = {q.name: engine.run(q) for q in queries}  # warm-up
    times: dict[str, list[float]] = {q.name: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            seconds, _ = common.timed(lambda q=q: engine.run(q))
            times[q.name].append(seconds)
    engine.close()
    return times, ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query_variants", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=common.parse_sizes, default=[1_000_000])
    parser.add_argument("--variants", default="cover,cover_pk")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with common.exclusive_run():
        _drive(args)


def _drive(args: argparse.Namespace) -> None:
    n = args.size[0]
    source = common.dataset(n)
    base_path = query.build_eocat(n, source, rebuild=False)
    naive_path, _ = query.build_peers(n, source, rebuild=False)
    naive = query.Naive(naive_path)
    queries = query.make_queries(naive.conn)
    naive.close()
    results: list[dict[str, Any]] = []
    base_times, base_ids = measure(base_path, queries, args.rounds)
    for variant in ["base", *[v.strip() for v in args.variants.split(",") if v.strip()]]:
        if variant == "base":
            times, ids = base_times, base_ids
        else:
            times, ids = measure(make_copy(base_path, variant), queries, args.rounds)
        flat = [t for values in times.values() for t in values]
        per_query = {name: round(statistics.median(values) * 1000, 3) for name, values in times.items()}
        results.append(
            {
                "variant": variant,
                **common.summarize_ms(flat),
                "same_ids_as_base": sum(ids[q.name] == base_ids[q.name] for q in queries),
                "slowest": sorted(per_query.items(), key=lambda kv: -kv[1])[:8],
                "per_query_median_ms": per_query,
            }
        )
    common.write_result(
        f"query_variants-{common.size_label(n)}",
        {"benchmark": "query_variants", "machine": common.machine_facts(), "n": n, "results": results},
    )
    rows = [
        [r["variant"], r["median_ms"], r["p95_ms"], r["max_ms"], r["same_ids_as_base"], len(queries)] for r in results
    ]
    print(common.table(rows, ["variant", "median ms", "p95 ms", "max ms", "same ids", "queries"]))
    for r in results:
        print(f"{r['variant']} slowest: " + ", ".join(f"{name} {ms:.1f}" for name, ms in r["slowest"][:5]))


if __name__ == "__main__":
    main()
