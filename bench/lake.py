"""The GeoParquet lake on object storage: export to a local S3 endpoint vs a local directory, and
DuckDB spatial queries over the S3 lake.

* Export: ``catalog.parquet.export_parquet`` (full rewrite) of the query benchmark's cached store,
  each target in its own subprocess: a local directory, and ``s3://`` on moto's standalone server
  (``emulators/s3.py``, 127.0.0.1; in memory, so the network and the server's Python code are
  what a real endpoint adds, not disks). Items/s and peak RSS (VmHWM of the exporting process).
* Queries: 2°×2° boxes and 30-day windows around random Sentinel-2 items (``bench.parquet``'s
  generator); ``eocat sql``'s connection (spatial loaded offline from its wheel, httpfs for S3)
  runs ``count(*)`` with the bbox covering predicates, the datetime window and
  ``ST_Intersects(ST_GeomFromWKB(geometry), envelope)``, over the directory and over S3, and again
  without the covering predicates (``exact_only``: ``ST_Intersects`` is not pushed into the scan,
  so only the datetime statistics prune). Per query: wall time (best of the rounds), row groups
  whose statistics the predicates cannot rule out (what DuckDB reads), and the GETs the S3 server
  saw (ranged reads; DuckDB's block cache is off, so each query reads as a fresh reader). The
  counts are checked against the catalogue's own search of the same box and window.

    python -m bench.lake [--sizes 100k,1M] [--quick] [--queries 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log

TARGET_RSS_MIB = 400
QUERY_COLLECTION = "sentinel-2-l2a"


def _child(db: Path, target: str) -> dict[str, Any]:
    from catalog.parquet import export_parquet
    from catalog.store import Store

    with common.MemorySampler() as sampler:
        store = Store(db)
        started = time.perf_counter()
        report = export_parquet(store, target, full=True)
        seconds = time.perf_counter() - started
        store.close()
    return {"items": report.items, "partitions": len(report.written), "seconds": seconds, **sampler.report()}


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.lake --child")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(_child(args.db, args.target)))


def _sql(collection_view: str, query: dict[str, Any], *, covering: bool = True) -> str:
    """count(*) of the query; ``covering=False`` leaves out the bbox covering terms (only the exact
    ``ST_Intersects``, which DuckDB does not push into the scan, and the datetime window)."""
    west, south, east, north = query["bbox"]
    terms = [f"bbox.xmin <= {east}", f"bbox.xmax >= {west}", f"bbox.ymin <= {north}", f"bbox.ymax >= {south}"]
    return (
        f'SELECT count(*) FROM "{collection_view}" WHERE {" AND ".join(terms) + " AND " if covering else ""}'
        f"datetime >= TIMESTAMPTZ '{query['start'].isoformat()}' "
        f"AND datetime <= TIMESTAMPTZ '{query['end'].isoformat()}' "
        f"AND ST_Intersects(ST_GeomFromWKB(geometry), ST_MakeEnvelope({west}, {south}, {east}, {north}))"
    )


def _catalogue_count(db: Path, query: dict[str, Any]) -> int:
    from catalog.search import Query, count
    from catalog.store import Store

    west, south, east, north = query["bbox"]
    window = f"{query['start'].isoformat()}/{query['end'].isoformat()}".replace("+00:00", "Z")
    with Store(db) as store:
        return count(store, Query.parse(collections=QUERY_COLLECTION, bbox=[west, south, east, north],
                                        datetime=window))  # fmt: skip


def run_queries(targets: dict[str, str], local: Path, db: Path, server: Any, count: int, rounds: int) -> dict[str, Any]:
    """Each query over each target, with the bbox covering terms and without them (``exact_only``)."""
    from bench.parquet import make_queries, row_groups_read
    from catalog.parquet.sql import connect

    queries = make_queries(db, count)
    files = sorted((local / f"collection={QUERY_COLLECTION}").rglob("*.parquet"))

    def groups_read(query: dict[str, Any]) -> tuple[int, int]:
        per_file = [row_groups_read(path, query, use_time=True, collection=None) for path in files]
        return sum(hit for hit, _ in per_file), sum(n for _, n in per_file)

    read = [groups_read(q)[0] for q in queries]
    read_time_only = [groups_read({**q, "bbox": [-180, -90, 180, 90]})[0] for q in queries]
    total = groups_read(queries[0])[1] if queries else 0
    expected = [_catalogue_count(db, q) for q in queries]
    results: dict[str, Any] = {}
    per_query: list[dict[str, Any]] = [
        {"bbox": [round(v, 3) for v in q["bbox"]], "day": q["start"].date().isoformat(), "expected": e,
         "row_groups_read": r, "row_groups_read_exact_only": r0, "row_groups_total": total}
        for q, e, r, r0 in zip(queries, expected, read, read_time_only, strict=True)
    ]  # fmt: skip
    for name, target in targets.items():
        conn = connect(target)
        conn.execute("SET threads = 2")
        # every query reads what it needs from the lake, as a fresh reader would (no block cache between
        # queries; with it the second run of a query would GET nothing and hide what pruning saves)
        conn.execute("SET enable_external_file_cache = false")
        for variant, covering in (("", True), ("_exact_only", False)):
            times, counts, requests = [], [], []
            for index, query in enumerate(queries):
                sql = _sql(QUERY_COLLECTION, query, covering=covering)
                best, seen = float("inf"), 0
                for _ in range(rounds):
                    mark = server.mark() if name == "s3" else 0
                    started = time.perf_counter()
                    row = conn.execute(sql).fetchone()
                    best = min(best, time.perf_counter() - started)
                    if name == "s3":
                        seen = sum(r.method == "GET" for r in server.requests(mark))
                times.append(best)
                counts.append(int(row[0]) if row else 0)
                per_query[index][f"{name}{variant}_ms"] = round(best * 1000, 1)
                if name == "s3":
                    requests.append(seen)
                    per_query[index][f"s3{variant}_gets"] = seen
            result = {
                "median_ms": round(statistics.median(times) * 1000, 2),
                "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 2),
                "same_counts_as_catalogue": counts == expected,
                "matches": sum(counts),
            }
            if requests:
                result["http_gets_per_query_median"] = statistics.median(requests)
            results[name + variant] = result
        conn.close()
    return {
        "queries": len(queries), "collection": QUERY_COLLECTION, "files": len(files),
        "row_groups_total": total, "row_groups_read_per_query_mean": round(statistics.fmean(read), 2),
        "row_groups_read_per_query_max": max(read),
        "row_groups_read_exact_only_mean": round(statistics.fmean(read_time_only), 2),
        "results": results, "per_query": per_query,
    }  # fmt: skip


def run_size(n: int, server: Any, *, queries: int, rounds: int) -> dict[str, Any]:
    import shutil

    from bench.query import build_eocat

    db = build_eocat(n, common.dataset(n), rebuild=False)
    local = common.WORK / "tmp" / f"lake-{common.size_label(n)}"
    shutil.rmtree(local, ignore_errors=True)
    bucket = server.create_bucket()
    targets = {"directory": str(local), "s3": f"s3://{bucket}/lake-{common.size_label(n)}"}
    exports: dict[str, Any] = {}
    for name, target in targets.items():
        log(f"lake {common.size_label(n)}: export to {name} ...")
        result = common.run_child("bench.lake", ["--child", "--db", str(db), "--target", target])
        result["items_per_s"] = round(result["items"] / result["seconds"], 1)
        log(f"  {result['items']:,} items in {result['seconds']:.1f} s = {result['items_per_s']:,.0f}/s, "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB (anon {result['peak_anon_mib']:.0f} MiB)")  # fmt: skip
        exports[name] = result
    log(f"lake {common.size_label(n)}: DuckDB spatial queries over the directory and S3 ...")
    query_results = run_queries(targets, local, db, server, queries, rounds)
    return {"n": n, "exports": exports, "queries": query_results}


def run(sizes: list[int], *, queries: int = 20, rounds: int = 2, echo: bool = True) -> dict[str, Any]:
    from emulators import s3

    server = s3.start(common.WORK / "tmp")
    saved = {name: os.environ.get(name) for name in server.env()}
    os.environ.update(server.env())  # the children inherit the endpoint and the test credentials
    try:
        results = [run_size(n, server, queries=queries, rounds=rounds) for n in sizes]
    finally:
        s3.stop(server)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    peaks = [r["exports"][name]["peak_rss_mib"] for r in results for name in r["exports"]]
    payload = {
        "benchmark": "lake",
        "machine": common.machine_facts(),
        "method": __doc__.split("\n\n")[1:3] if __doc__ else [],
        "sizes": results,
        "targets": {
            "lake_export_peak_rss_mib": {
                "target": TARGET_RSS_MIB, "measured": max(peaks), "met": max(peaks) <= TARGET_RSS_MIB,
            },
            "lake_query_counts_match_catalogue": {
                "met": all(q["same_counts_as_catalogue"] for r in results for q in r["queries"]["results"].values())
            },
        },
    }  # fmt: skip
    common.write_result("lake", payload)
    if echo:
        print(summary(payload))
    return payload


def summary(payload: dict[str, Any]) -> str:
    rows = []
    for size in payload["sizes"]:
        q = size["queries"]
        for name, result in size["exports"].items():
            rows.append([common.size_label(size["n"]), name, result["items_per_s"], round(result["seconds"], 1),
                         round(result["peak_rss_mib"])])  # fmt: skip
    text = "GeoParquet lake: export to a directory vs S3 (moto)\n" + common.table(
        rows, ["n", "lake", "export items/s", "s", "peak RSS MiB"]
    )
    rows = []
    for size in payload["sizes"]:
        q = size["queries"]
        for name, query in q["results"].items():
            groups = q["row_groups_read_exact_only_mean"] if name.endswith("exact_only") else q[
                "row_groups_read_per_query_mean"]  # fmt: skip
            rows.append([common.size_label(size["n"]), name, query["median_ms"], query["p95_ms"],
                         query.get("http_gets_per_query_median", "-"), f"{groups}/{q['row_groups_total']}",
                         query["same_counts_as_catalogue"]])  # fmt: skip
    text += "\n\nDuckDB spatial count(*) per query (exact_only: without the bbox covering terms)\n" + common.table(
        rows, ["n", "lake", "median ms", "p95 ms", "S3 GETs/query", "row groups read/total", "= catalogue"]
    )
    last = payload["sizes"][-1]["queries"]["per_query"] if payload["sizes"] else []
    rows = [[i + 1, ",".join(f"{v:g}" for v in q["bbox"]), q["day"], q["expected"],
             f"{q['row_groups_read']}/{q['row_groups_total']}", q["directory_ms"], q["s3_ms"],
             q["s3_gets"], f"{q['row_groups_read_exact_only']}/{q['row_groups_total']}",
             q["s3_exact_only_ms"], q["s3_exact_only_gets"]] for i, q in enumerate(last)]  # fmt: skip
    text += "\n\nPer query, largest size\n" + common.table(
        rows, ["#", "bbox", "window start", "matches", "row groups", "dir ms", "S3 ms", "S3 GETs",
               "row groups (exact only)", "S3 ms (exact only)", "S3 GETs (exact only)"],
    )  # fmt: skip
    return text


def main(argv: list[str] | None = None) -> None:
    common.sized_bench_main("python -m bench.lake", __doc__ or "", argv, run, child_main)


if __name__ == "__main__":
    main()
