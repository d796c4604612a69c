"""GeoParquet benchmark: export speed vs stac-geoparquet and rustac, and DuckDB row-group pruning.

Contenders write the same N generated items as stac-geoparquet, each in its own subprocess:

* ``eocat``           -- ``catalog.parquet.export_parquet`` from the catalogue store (the query
  benchmark's cached store) into hive partitions, Hilbert-ordered, zstd(1), full rewrite.
* ``stac_geoparquet`` -- ``stac_geoparquet.arrow.parse_stac_ndjson_to_parquet`` on the NDJSON file
  (its defaults: a schema-inference pass, then 65,536-item chunks; one file).
* ``rustac``          -- the ``rustac translate items.ndjson out.parquet`` CLI (Rust; its defaults:
  snappy, 150k-row row groups; one file).

Both peers fail on the generator's empty JSON objects (``"scopes": {}`` in the burst items' auth
schemes: "Parquet does not support writing empty structs"), so they get a copy of the NDJSON
without that empty member; eocat exports the items as stored, empty objects included.

The query part runs DuckDB over our export and over each peer's file with the same predicates
(``bbox.xmin <= E AND bbox.xmax >= W AND …`` plus a 30-day datetime window, the way GeoParquet
1.1 readers filter on the covering column) and reports, from the files' row-group statistics
(the zone maps DuckDB prunes with), how many row groups each query has to read.

    python -m bench.parquet [--sizes 100k,1M] [--quick] [--queries 20]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log

CONTENDERS = ("eocat", "stac_geoparquet", "rustac")
# rustac translate holds every item in memory (2.8 GiB peak at 100k items here), so larger sets go to it
# in files of this many items, one output file each; the time is the sum.
RUSTAC_CHUNK = 100_000
TARGET_ITEMS_PER_S = 30_000
TARGET_ROW_GROUP_FRACTION = 0.10
QUERY_COLLECTION = "sentinel-2-l2a"
QUERY_HALF_SIZE_DEG = 1.0
QUERY_DAYS = 30


def peer_source(n: int) -> Path:
    """The NDJSON data set without empty JSON objects (which neither peer can write), cached."""
    source = common.dataset(n)
    path = source.with_name(source.stem + "-peers.ndjson")
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(source, "rb") as src, open(tmp, "wb") as dst:
            for line in src:
                dst.write(line.replace(b',"scopes":{}', b""))
        tmp.replace(path)
    return path


# -- children --------------------------------------------------------------------------------------


def _child(name: str, source: Path, db: Path, out: Path) -> dict[str, Any]:
    if name == "eocat":
        from catalog.parquet import export_parquet
        from catalog.store import Store

        with common.MemorySampler() as sampler:
            store = Store(db)
            started = time.perf_counter()
            report = export_parquet(store, out, full=True)
            seconds = time.perf_counter() - started
            store.close()
        return {"items": report.items, "seconds": seconds, **sampler.report()}
    if name == "stac_geoparquet":
        from stac_geoparquet.arrow import parse_stac_ndjson_to_parquet

        with common.MemorySampler() as sampler:
            started = time.perf_counter()
            parse_stac_ndjson_to_parquet(source, out / "items.parquet")
            seconds = time.perf_counter() - started
        return {"items": common.count_lines(source), "seconds": seconds, **sampler.report()}
    rustac = Path(sys.executable).parent / "rustac"
    chunks = _split(source, RUSTAC_CHUNK, out.parent / (out.name + "-input"))
    started = time.perf_counter()
    for number, chunk in enumerate(chunks):
        target = out / ("items.parquet" if len(chunks) == 1 else f"items-{number:03d}.parquet")
        subprocess.run([str(rustac), "translate", str(chunk), str(target)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"items": common.count_lines(source), "seconds": seconds, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "cpu_user_s": round(usage.ru_utime, 3), "cpu_sys_s": round(usage.ru_stime, 3)}  # fmt: skip


def _split(source: Path, lines: int, directory: Path) -> list[Path]:
    """The NDJSON file itself, or (above ``lines`` items) copies of ``lines`` items each (untimed)."""
    if common.count_lines(source) <= lines:
        return [source]
    directory.mkdir(parents=True, exist_ok=True)
    chunks: list[Path] = []
    with open(source, "rb") as stream:
        while True:
            block = [line for _, line in zip(range(lines), stream, strict=False)]
            if not block:
                break
            chunks.append(directory / f"part-{len(chunks):03d}.ndjson")
            chunks[-1].write_bytes(b"".join(block))
    return chunks


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.parquet --child")
    parser.add_argument("--child", choices=CONTENDERS, required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(json.dumps(_child(args.child, args.source, args.db, args.out)))


# -- queries ---------------------------------------------------------------------------------------------


def make_queries(db: Path, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Boxes of 2 x 2 degrees and 30-day windows around random items of the query collection."""
    import sqlite3

    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT minx, miny, maxx, maxy, datetime FROM items WHERE collection = ? AND minx <= maxx ORDER BY pk",
        [QUERY_COLLECTION],
    ).fetchall()
    conn.close()
    rng = random.Random(seed)
    queries = []
    for minx, miny, maxx, maxy, when in rng.sample(rows, min(count, len(rows))):
        x, y = (minx + maxx) / 2, (miny + maxy) / 2
        t = datetime.fromisoformat(when.replace("Z", "+00:00"))
        half, days = QUERY_HALF_SIZE_DEG, timedelta(days=QUERY_DAYS / 2)
        queries.append({"bbox": [x - half, y - half, x + half, y + half], "start": t - days, "end": t + days})
    return queries


def _stat(metadata: Any, group: int, column: int) -> tuple[Any, Any] | None:
    stats = metadata.row_group(group).column(column).statistics
    if stats is None or not stats.has_min_max:
        return None
    return stats.min, stats.max


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def row_groups_read(path: Path, query: dict[str, Any], *, use_time: bool, collection: str | None) -> tuple[int, int]:
    """(row groups whose statistics overlap the query, row groups) of one file."""
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    index = {name: names.index(name) for name in ("bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax", "datetime")}
    collection_index = names.index("collection") if collection and "collection" in names else None
    west, south, east, north = query["bbox"]
    hits = 0
    for group in range(metadata.num_row_groups):
        xmin, ymin = _stat(metadata, group, index["bbox.xmin"]), _stat(metadata, group, index["bbox.ymin"])
        xmax, ymax = _stat(metadata, group, index["bbox.xmax"]), _stat(metadata, group, index["bbox.ymax"])
        ok = not (xmin and xmin[0] > east) and not (xmax and xmax[1] < west)
        ok = ok and not (ymin and ymin[0] > north) and not (ymax and ymax[1] < south)
        if ok and use_time:
            span = _stat(metadata, group, index["datetime"])
            ok = not span or not (_as_utc(span[0]) > query["end"] or _as_utc(span[1]) < query["start"])
        if ok and collection_index is not None:
            span = _stat(metadata, group, collection_index)
            ok = not span or span[0] <= collection <= span[1]
        hits += ok
    return hits, metadata.num_row_groups


def _duckdb_sql(source: str, query: dict[str, Any], *, collection_filter: bool) -> str:
    west, south, east, north = query["bbox"]
    where = [
        f"bbox.xmin <= {east}", f"bbox.xmax >= {west}", f"bbox.ymin <= {north}", f"bbox.ymax >= {south}",
        f"datetime >= TIMESTAMPTZ '{query['start'].isoformat()}'",
        f"datetime <= TIMESTAMPTZ '{query['end'].isoformat()}'",
    ]  # fmt: skip
    if collection_filter:
        where.append(f"collection = '{QUERY_COLLECTION}'")
    return f"SELECT count(*) FROM read_parquet({source}) WHERE {' AND '.join(where)}"


def run_queries(outputs: dict[str, Path], db: Path, count: int, rounds: int) -> dict[str, Any]:
    import duckdb

    queries = make_queries(db, count)
    results: dict[str, Any] = {}
    for name, out in outputs.items():
        ours = name == "eocat"
        files = sorted((out / f"collection={QUERY_COLLECTION}").rglob("*.parquet") if ours else out.glob("*.parquet"))
        source = (f"'{out}/collection={QUERY_COLLECTION}/**/*.parquet', hive_partitioning = true" if ours
                  else f"'{out}/*.parquet'")  # fmt: skip
        conn = duckdb.connect()
        conn.execute("SET threads = 2")
        counts, times, read_total, groups_total, partition_fractions, bbox_fractions = [], [], 0, 0, [], []
        for query in queries:
            sql = _duckdb_sql(source, query, collection_filter=not ours)
            best = float("inf")
            for _ in range(rounds):
                started = time.perf_counter()
                value = conn.execute(sql).fetchone()
                best = min(best, time.perf_counter() - started)
            counts.append(int(value[0]) if value else 0)
            times.append(best)
            for path in files:
                hit, total = row_groups_read(path, query, use_time=True, collection=None if ours else QUERY_COLLECTION)
                bbox_hit, _ = row_groups_read(path, query, use_time=False, collection=None)
                read_total += hit
                groups_total += total
                if bbox_hit and total:
                    bbox_fractions.append(bbox_hit / total)
                if hit and total:
                    partition_fractions.append(hit / total)
        conn.close()
        results[name] = {
            "files": len(files),
            "row_groups_per_file": round(groups_total / len(queries) / max(1, len(files)), 1),
            "row_groups_read_per_query": round(read_total / len(queries), 2),
            "row_groups_total": groups_total // len(queries),
            "fraction_read": round(read_total / max(1, groups_total), 4),
            "bbox_only_fraction_of_touched_file_mean": round(statistics.fmean(bbox_fractions), 4) if bbox_fractions
            else None,
            "bbox_datetime_fraction_of_touched_file_mean": round(statistics.fmean(partition_fractions), 4)
            if partition_fractions else None,
            "duckdb_median_ms": round(statistics.median(times) * 1000, 2),
            "matches": sum(counts),
            "_counts": counts,
        }  # fmt: skip
    reference = results["eocat"].pop("_counts")
    for name in outputs:
        if name != "eocat":
            results[name]["same_counts_as_eocat"] = results[name].pop("_counts") == reference
    return {"queries": len(queries), "bbox_deg": 2 * QUERY_HALF_SIZE_DEG, "days": QUERY_DAYS,
            "collection": QUERY_COLLECTION, "results": results}  # fmt: skip


# -- driver ------------------------------------------------------------------------------------------------


def _du_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*.parquet")) / 2**20, 1)


def run_size(n: int, *, queries: int, rounds: int) -> dict[str, Any]:
    from bench.query import build_eocat

    source = common.dataset(n)
    db = build_eocat(n, source, rebuild=False)
    peers = peer_source(n)
    common.warm_file(peers)
    runs: dict[str, dict[str, Any]] = {}
    outputs: dict[str, Path] = {}
    for name in CONTENDERS:
        out = common.WORK / "tmp" / f"parquet-{name}-{common.size_label(n)}"
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(out.parent / (out.name + "-input"), ignore_errors=True)
        log(f"parquet {common.size_label(n)}: {name} ...")
        result = common.run_child("bench.parquet", ["--child", name, "--source", str(peers), "--db", str(db),
                                                     "--out", str(out)])  # fmt: skip
        result["items_per_s"] = round(result["items"] / result["seconds"], 1)
        result["output_mib"] = _du_mib(out)
        log(f"  {result['items']:,} items in {result['seconds']:.2f} s = {result['items_per_s']:,.0f}/s, "
            f"{result['output_mib']} MiB, peak RSS {result.get('peak_rss_mib', 0):.0f} MiB "
            f"(anon {result.get('peak_anon_mib', '-')} MiB)")  # fmt: skip
        runs[name] = result
        outputs[name] = out
    log(f"parquet {common.size_label(n)}: DuckDB bbox+datetime queries ...")
    query_results = run_queries(outputs, db, queries, rounds)
    fastest_peer = max(runs[name]["items_per_s"] for name in CONTENDERS if name != "eocat")
    return {
        "n": n, "exports": runs, "queries": query_results,
        "speedup_vs_fastest_peer": round(runs["eocat"]["items_per_s"] / fastest_peer, 2),
    }  # fmt: skip


def run(sizes: list[int], *, queries: int = 20, rounds: int = 2, echo: bool = True) -> dict[str, Any]:
    results = [run_size(n, queries=queries, rounds=rounds) for n in sizes]
    largest = results[-1]
    ours = largest["queries"]["results"]["eocat"]
    payload = {
        "benchmark": "parquet",
        "machine": common.machine_facts(),
        "method": __doc__.split("\n\n")[1:4] if __doc__ else [],
        "sizes": results,
        "targets": {
            "parquet_export_items_per_s": {
                "target": TARGET_ITEMS_PER_S,
                "measured": [
                    {
                        "n": r["n"],
                        "items_per_s": r["exports"]["eocat"]["items_per_s"],
                        "x_fastest_peer": r["speedup_vs_fastest_peer"],
                    }
                    for r in results
                ],
                "met": all(r["exports"]["eocat"]["items_per_s"] >= TARGET_ITEMS_PER_S for r in results),
            },
            "parquet_bbox_row_groups_fraction": {
                "target": TARGET_ROW_GROUP_FRACTION,
                "n": largest["n"],
                "bbox_only_mean": ours["bbox_only_fraction_of_touched_file_mean"],
                "bbox_datetime_mean": ours["bbox_datetime_fraction_of_touched_file_mean"],
                "met": (ours["bbox_only_fraction_of_touched_file_mean"] or 1) <= TARGET_ROW_GROUP_FRACTION,
            },
        },
    }
    common.write_result("parquet", payload)
    if echo:
        print(summary(payload))
    return payload


def summary(payload: dict[str, Any]) -> str:
    rows = []
    for size in payload["sizes"]:
        for name, result in size["exports"].items():
            q = size["queries"]["results"][name]
            rows.append([common.size_label(size["n"]), name, result["items_per_s"], result["seconds"],
                         result["output_mib"], result.get("peak_rss_mib"), q["row_groups_read_per_query"],
                         q["row_groups_total"], q["bbox_only_fraction_of_touched_file_mean"],
                         q["duckdb_median_ms"]])  # fmt: skip
    headers = ["n", "writer", "items/s", "s", "MiB", "peak RSS MiB", "RG read/query", "RG total",
               "bbox RG frac/file", "duckdb ms"]  # fmt: skip
    return "GeoParquet export and DuckDB bbox+datetime queries\n" + common.table(rows, headers)


def main(argv: list[str] | None = None) -> None:
    common.sized_bench_main("python -m bench.parquet", __doc__ or "", argv, run, child_main)


if __name__ == "__main__":
    main()
