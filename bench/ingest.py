"""Ingest benchmark: N items from an NDJSON file into a fresh store, eocat vs a plain-sqlite3 peer.

Contenders (each in its own subprocess, so peak memory is that contender's alone):

* ``eocat``   -- ``catalog.ingest.import_files(store, [path])`` into a fresh ``catalog.store.Store``
  (collections upserted first, untimed, as a harvest would have them); files of 48 MiB or more are
  parsed, validated and compressed by one worker process per CPU (their CPU and memory are reported).
  This includes validation, timestamp canonicalisation, bbox, hot-property columns, merging of ids read again, the
  (id, collection) unique index, the datetime/updated/hot-property indexes and the R*Tree.
* ``sqlite``  -- the peer: ``orjson.loads`` each line, then ``sqlite3.executemany`` into a minimal table
  ``(pk, id, collection, datetime, minx, miny, maxx, maxy, content)`` plus an R*Tree filled in the same
  transaction, 2000 rows per transaction, same PRAGMAs (WAL, synchronous=NORMAL). No validation,
  no secondary indexes, no upsert. orjson (not ``json``) keeps the comparison about the store, not
  the parser.

The NDJSON file is read once before the runs so both start with it in the page cache.

    python -m bench.ingest [--sizes 100k,1M] [--quick] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log

CONTENDERS = ("eocat", "sqlite")
PEER_BATCH = 2000


# -- children ----------------------------------------------------------------------------------------


class ChildrenMemory:
    """Peak summed resident memory of this process's children (the import's worker processes), sampled."""

    def __init__(self, interval: float = 0.1) -> None:
        import threading

        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import os

        total = 0
        for task in os.listdir("/proc/self/task"):
            try:
                children = Path(f"/proc/self/task/{task}/children").read_text().split()
            except OSError:
                continue
            for pid in children:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        self.peak_kib = max(self.peak_kib, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ChildrenMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _child_eocat(source: Path, db: Path, profile: Path | None) -> dict[str, Any]:
    from catalog.ingest import import_files
    from catalog.store import Store

    try:
        from eocat import samples

        collections = list(samples.collections())
    except (ImportError, AttributeError):
        collections = []

    import resource

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with common.MemorySampler() as sampler, ChildrenMemory() as workers:
        store = Store(db)
        for collection in collections:
            store.upsert_collection(collection)
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        report = import_files(store, [source])
        imported = time.perf_counter()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        store.close()
        closed = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "items": report.inserted + report.updated,
        "rejected": report.rejected,
        "errors": report.errors[:5],
        "import_s": imported - started,
        "total_s": closed - started,
        **sampler.report(),
        # the import's worker processes (none for files below catalog.ingest_pipeline.MIN_BYTES)
        "workers_cpu_s": round(
            children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime, 3
        ),
        "workers_peak_rss_mib": round(workers.peak_kib / 1024, 1),
    }


def _child_sqlite(source: Path, db: Path, profile: Path | None) -> dict[str, Any]:
    import sqlite3

    import orjson

    with common.MemorySampler() as sampler:
        conn = sqlite3.connect(str(db), isolation_level=None)
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "cache_size = -262144",
            "mmap_size = 1073741824",
            "temp_store = MEMORY",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(
            "CREATE TABLE items (pk INTEGER PRIMARY KEY, id TEXT NOT NULL, collection TEXT NOT NULL, "
            "datetime TEXT, minx REAL, miny REAL, maxx REAL, maxy REAL, content TEXT NOT NULL)"
        )
        conn.execute("CREATE VIRTUAL TABLE items_rtree USING rtree(pk, minx, maxx, miny, maxy)")
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        pk = 0
        rows: list[tuple[Any, ...]] = []
        boxes: list[tuple[Any, ...]] = []

        def flush() -> None:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?)", boxes)
            conn.execute("COMMIT")
            rows.clear()
            boxes.clear()

        with open(source, "rb") as stream:
            for line in stream:
                if not line.strip():
                    continue
                item = orjson.loads(line)
                if item.get("type") != "Feature":
                    continue
                pk += 1
                properties = item["properties"]
                bbox = item.get("bbox")
                if bbox is None:
                    bbox = _geometry_bounds(item.get("geometry"))
                if bbox is not None and len(bbox) == 6:
                    bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
                minx, miny, maxx, maxy = bbox if bbox is not None else (None, None, None, None)
                when = properties.get("datetime") or properties.get("start_datetime")
                rows.append(
                    (pk, item["id"], item["collection"], when, minx, miny, maxx, maxy, orjson.dumps(item).decode())
                )
                if minx is not None and maxx is not None:
                    boxes.append((pk, minx, maxx + 360 if minx > maxx else maxx, miny, maxy))
                if len(rows) >= PEER_BATCH:
                    flush()
        if rows:
            flush()
        imported = time.perf_counter()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        conn.close()
        closed = time.perf_counter()
    return {
        "items": pk,
        "rejected": 0,
        "errors": [],
        "import_s": imported - started,
        "total_s": closed - started,
        **sampler.report(),
    }


def _geometry_bounds(geometry: Any) -> list[float] | None:
    if geometry is None:
        return None
    import orjson
    import shapely

    shape = shapely.from_geojson(orjson.dumps(geometry).decode())
    return None if shape.is_empty else list(shape.bounds)


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.ingest --child")
    parser.add_argument("--child", choices=CONTENDERS, required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    run = _child_eocat if args.child == "eocat" else _child_sqlite
    result = run(args.source, args.db, args.profile)
    import json

    print(json.dumps(result))


# -- driver ------------------------------------------------------------------------------------------


def run_size(n: int, *, repeat: int = 1, profile: bool = False) -> dict[str, Any]:
    source = common.dataset(n)
    lines = common.count_lines(source)
    common.warm_file(source)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    for round_number in range(repeat):
        # Alternate the order between rounds so neither contender always runs on a warmer machine.
        order = CONTENDERS if round_number % 2 == 0 else tuple(reversed(CONTENDERS))
        for name in order:
            db = common.fresh_path(f"ingest-{name}-{common.size_label(n)}.db")
            args = ["--child", name, "--source", str(source), "--db", str(db)]
            if profile:
                prof = common.WORK / f"profile-ingest-{name}-{common.size_label(n)}.prof"
                args += ["--profile", str(prof)]
            log(f"ingest {common.size_label(n)}: {name} (round {round_number + 1}/{repeat}) ...")
            result = common.run_child("bench.ingest", args)
            result["db_mib"] = round(common.file_size(db) / 2**20, 1)
            result["items_per_s"] = round(result["items"] / result["total_s"], 1)
            log(
                f"  {result['items']:,} items in {result['total_s']:.2f} s = {result['items_per_s']:,.0f}/s "
                f"(cpu {result['cpu_user_s']:.1f} user + {result['cpu_sys_s']:.1f} sys"
                f" + {result.get('workers_cpu_s', 0):.1f} in workers), "
                f"peak RSS {result['peak_rss_mib']:.0f} MiB (anon {result['peak_anon_mib']:.0f} MiB)"
                f" + workers {result.get('workers_peak_rss_mib', 0):.0f} MiB"
            )
            runs[name].append(result)
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    best = {name: max(results, key=lambda r: r["items_per_s"]) for name, results in runs.items()}
    return {
        "n": n,
        "source": str(source.relative_to(common.ROOT)),
        "source_lines": lines,
        "source_mib": round(source.stat().st_size / 2**20, 1),
        "best": best,
        "runs": runs,
        "ratio_eocat_over_sqlite": round(best["eocat"]["items_per_s"] / best["sqlite"]["items_per_s"], 3),
    }


TARGET_ITEMS_PER_S = 30_000
TARGET_MEMORY_MIB = 1024


def default_repeat(n: int) -> int:
    """Best of 2 up to 100k items (cheap, and one run can land on a busy moment); 1M runs once."""
    return 2 if n <= 100_000 else 1


def run(sizes: list[int], *, repeat: int | None = None, profile: bool = False, echo: bool = True) -> dict[str, Any]:
    results = [run_size(n, repeat=repeat or default_repeat(n), profile=profile) for n in sizes]
    largest = results[-1]["best"]["eocat"] if results else None
    payload = {
        "benchmark": "ingest",
        "machine": common.machine_facts(),
        "method": {
            "contenders": {
                "eocat": "catalog.ingest.import_files into a fresh Store (collections pre-created, untimed); "
                "files of 48 MiB or more are prepared by one worker process per CPU (catalog.ingest_pipeline)",
                "sqlite": "orjson.loads + sqlite3.executemany into a minimal table + R*Tree in the same "
                "transaction, 2000 rows/transaction, WAL + synchronous=NORMAL",
            },
            "timing": "wall clock from first line read to connection closed (WAL checkpoint included); "
            "best of `repeat` runs",
            "memory": "each contender in its own subprocess; peak_rss = VmHWM (includes file-backed "
            "pages such as SQLite's mmap), peak_anon = sampled max RssAnon (heap); workers_peak_rss = sampled "
            "max of the summed VmRSS of eocat's import workers; cpu includes the workers'",
            "repeat": repeat or {common.size_label(n): default_repeat(n) for n in sizes},
        },
        "sizes": results,
        "targets": {
            "ingest_items_per_s": {
                "target": TARGET_ITEMS_PER_S,
                "measured": [{"n": r["n"], "items_per_s": r["best"]["eocat"]["items_per_s"]} for r in results],
                "met": all(r["best"]["eocat"]["items_per_s"] >= TARGET_ITEMS_PER_S for r in results),
            },
            "import_memory_mib": {
                "target": TARGET_MEMORY_MIB,
                "n": results[-1]["n"] if results else None,
                "peak_rss_mib": largest["peak_rss_mib"] if largest else None,
                "peak_anon_mib": largest["peak_anon_mib"] if largest else None,
                "met": bool(largest and largest["peak_rss_mib"] < TARGET_MEMORY_MIB),
            },
        },
    }
    common.write_result("ingest", payload)
    if echo:
        print(summary(payload))
    return payload


def summary(payload: dict[str, Any]) -> str:
    rows = []
    for result in payload["sizes"]:
        for name in CONTENDERS:
            best = result["best"][name]
            rows.append(
                [
                    common.size_label(result["n"]),
                    name,
                    best["items"],
                    round(best["total_s"], 2),
                    round(best["cpu_user_s"] + best["cpu_sys_s"] + best.get("workers_cpu_s", 0), 2),
                    best["items_per_s"],
                    best["peak_rss_mib"],
                    best.get("workers_peak_rss_mib", 0),
                    best["peak_anon_mib"],
                    best["db_mib"],
                    result["ratio_eocat_over_sqlite"] if name == "eocat" else None,
                ]
            )
    headers = ["size", "contender", "items", "wall s", "cpu s (all)", "items/s", "peak RSS MiB", "workers RSS MiB",
               "peak anon MiB", "db MiB", "eocat/peer"]  # fmt: skip
    targets = payload["targets"]
    lines = [
        "Ingest (NDJSON -> store, own subprocess each)",
        common.table(rows, headers),
        f"target >= {TARGET_ITEMS_PER_S:,} items/s: {'met' if targets['ingest_items_per_s']['met'] else 'MISSED'}; "
        f"memory < {TARGET_MEMORY_MIB} MiB at {common.size_label(targets['import_memory_mib']['n'] or 0)}: "
        f"{'met' if targets['import_memory_mib']['met'] else 'MISSED'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--child" in argv:
        child_main(argv)
        return
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=common.parse_sizes, help="item counts, e.g. 100k,1M")
    parser.add_argument("--quick", action="store_true", help="10k items: a smoke run")
    parser.add_argument("--repeat", type=int, help="runs per contender, best kept (default 2 to 100k, 1 above)")
    parser.add_argument("--profile", action="store_true", help="cProfile each child into bench/work/")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(common.QUICK_SIZES if args.quick else common.DEFAULT_SIZES)
    common.QUICK = args.quick
    with common.exclusive_run():
        run(sizes, repeat=args.repeat, profile=args.profile)


if __name__ == "__main__":
    main()
