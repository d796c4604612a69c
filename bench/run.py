"""Run every benchmark (the ``make bench`` entry point) and print one summary.

    python -m bench.run                     # 100k and 1M items (the reported numbers; ~15 min cold)
    python -m bench.run --quick             # 10k items, a smoke run (< 1 min once data is cached)
    python -m bench.run --sizes 100k --only query

Writes ``bench/results/ingest.json``, ``query.json``, ``walk.json``, ``harvest.json``, ``parquet.json``,
``fetch.json``, ``api.json``, ``shapes.json``, ``lake.json``, ``pgstac.json`` and
``summary.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench import api, common, fetch, harvest, ingest, lake, query, shapes
from bench import parquet as parquet_bench
from bench import pgstac as pgstac_bench


def main(argv: list[str] | None = None) -> int:
    with common.exclusive_run():
        return _main(argv)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=common.parse_sizes, help="item counts, e.g. 100k,1M (default)")
    parser.add_argument("--quick", action="store_true", help="10k items, one round: checks that it all works")
    parser.add_argument(
        "--only",
        default="ingest,query,shapes,harvest,parquet,fetch,api,lake,pgstac",
        help="comma-separated: ingest, query (includes walk), shapes (every query shape), harvest, parquet, fetch, "
        "api, lake, pgstac",
    )
    parser.add_argument("--repeat", type=int, help="ingest runs per contender, best kept (default 2 to 100k, 1 above)")
    parser.add_argument("--rounds", type=int, help="timed passes over the query set per engine")
    parser.add_argument("--no-walk", action="store_true", help="skip the keyset walk")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached query stores")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sizes = args.sizes or list(common.QUICK_SIZES if args.quick else common.DEFAULT_SIZES)
    common.QUICK = args.quick
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    started = time.perf_counter()
    common.log(f"sizes {', '.join(common.size_label(n) for n in sizes)}; free disk {common.disk_free_gib():.0f} GiB")
    for n in sizes:  # generate up front, so the timed parts never include generation
        common.dataset(n)

    outputs: list[str] = []
    targets: dict[str, Any] = {}
    if "ingest" in only:
        payload = ingest.run(sizes, repeat=args.repeat, echo=False)
        outputs.append(ingest.summary(payload))
        targets.update(payload["targets"])
    if "query" in only:
        payload, walk_payload = query.run(
            sizes,
            rounds=args.rounds or (1 if args.quick else 3),
            rebuild=args.rebuild,
            do_walk=not args.no_walk,
            echo=False,
        )
        outputs.append(query.summary(payload, walk_payload))
        targets.update(payload["targets"])
        if walk_payload:
            targets.update(walk_payload["targets"])
    if "shapes" in only:  # issue 13: every query shape, reported per shape, peers and oracle in the same run
        shapes_payload = shapes.run(
            sizes, placements=1 if args.quick else 3, rounds=args.rounds or (1 if args.quick else 3)
        )
        outputs.append(shapes.summary(shapes_payload))
        targets.update(shapes_payload["targets"])
    if "harvest" in only:
        harvest_payload = harvest.measure(20_000 if args.quick else 100_000)
        common.write_result(
            "harvest", {"benchmark": "harvest", "machine": common.machine_facts(), "runs": [harvest_payload]}
        )
        outputs.append(harvest.summary([harvest_payload]))
        targets.update(harvest_payload["targets"])
    if "fetch" in only:  # issue 5: >= 1 GiB fetch vs curl, RSS
        fetch_payload = fetch.run(400_000_000 if args.quick else 2_200_000_000, rounds=1 if args.quick else 3)
        outputs.append(fetch.summary(fetch_payload))
        targets.update(fetch_payload["targets"])
    if "api" in only:  # the STAC API against stac-fastapi-pgstac, at the smallest size (pgstac loads slowly)
        api_payload = api.run(min(sizes), requests=800 if args.quick else 3200)
        outputs.append(api.summary(api_payload))
        targets.update(api_payload["targets"])
    if "parquet" in only:  # GeoParquet export vs stac-geoparquet and rustac, DuckDB row groups (issue 7)
        payload = parquet_bench.run(sizes, queries=10 if args.quick else 20, rounds=1 if args.quick else 2, echo=False)
        outputs.append(parquet_bench.summary(payload))
        targets.update(payload["targets"])
    if "pgstac" in only:  # issue 15: the pgstac backend beside SQLite (ingest, size, query shapes)
        pg_payload = pgstac_bench.run(10_000 if args.quick else 100_000, placements=1 if args.quick else 2)
        outputs.append(pgstac_bench.summary(pg_payload))
    if "lake" in only:  # issue 16: export to S3 (moto) vs a directory, DuckDB spatial queries over S3
        payload = lake.run(sizes, queries=10 if args.quick else 20, rounds=1 if args.quick else 2, echo=False)
        outputs.append(lake.summary(payload))
        targets.update(payload["targets"])
    elapsed = time.perf_counter() - started
    common.write_result(
        "summary",
        {
            "machine": common.machine_facts(),
            "sizes": sizes,
            "quick": args.quick,
            "elapsed_s": round(elapsed, 1),
            "targets": targets,
        },
    )
    print()
    print("\n\n".join(outputs))
    print()
    print("Targets:")
    for name, target in targets.items():
        print(f"  {name}: {'met' if target.get('met') else 'MISSED'}  {_brief(target)}")
    print(f"(all benchmarks: {elapsed:.0f} s)")
    return 0


def _brief(target: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in target.items() if k != "met")


if __name__ == "__main__":
    raise SystemExit(main())
