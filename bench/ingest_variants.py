"""What-if ingest: where does eocat's import time go? Each variant tweaks a *copy of the behaviour*
at run time (monkeypatching or schema changes on the fresh benchmark store, never the catalog/
source) and runs ``import_files`` in its own subprocess, like ``bench.ingest``.

Variants (combine with ``+``, e.g. ``gc+nohot``):

* ``base``        -- unchanged eocat
* ``gc``          -- cyclic GC disabled during the import (``gc.disable()``; items are acyclic dicts)
* ``nohot``       -- the 12 hot-property indexes dropped
* ``partialhot``  -- hot-property indexes recreated as partial indexes ``WHERE col IS NOT NULL``
* ``noupdated``   -- the ``items_updated`` index dropped
* ``nodatetime``  -- the ``items_datetime`` index dropped (``collection, datetime`` kept)
* ``nolookup``    -- no per-batch lookup of existing rows (valid here only because the store is empty)
* ``batch10k``    -- 10,000 items per transaction instead of 2,000
* ``deferidx``    -- every secondary index dropped before the import and re-created after it (timed)
* ``wal10k``      -- ``PRAGMA wal_autocheckpoint = 10000`` (checkpoint every ~40 MiB, not every ~4 MiB)
* ``selhot``      -- only the selective hot-property indexes kept (grid:code, s1 burst ids, orbits), as
  partial indexes; the low-cardinality ones (cloud cover, platform, constellation, orbit state,
  instrument mode, polarizations, product type) dropped -- they stay columns, filtered without JSON
* ``thread``      -- a writer thread runs ``_write_batch`` for batch k while the caller parses and
  validates batch k+1 (sqlite3 releases the GIL inside SQLite, so two cores overlap)
* ``direct``      -- new rows inserted with explicit pks and their R*Tree entries written by one
  ``executemany`` in the same transaction; the AFTER INSERT trigger dropped (UPDATE/DELETE triggers kept)
* ``txn50k``      -- one transaction per 25 batches (50,000 items) instead of one per batch
* ``sync``        -- no writer thread: batches written inline by the caller (eocat's ``_BatchWriter``
  replaced), to see what the thread buys
* ``mp``          -- a prototype of parsing in a second *process*: one worker turns chunks of 2000
  NDJSON lines into row tuples (``orjson.loads`` + ``_item_row``), the main process only writes
  (no GIL shared). Valid only for a fresh store (no merge with existing rows; rejects not reported)
* ``page16k``     -- a 16 KiB page size (the file is created with it before the store opens it)
* ``nommap``      -- ``PRAGMA mmap_size = 0`` (no memory-mapped reads: file pages leave the RSS)
* ``sqlite``      -- the plain executemany + R*Tree peer from ``bench.ingest``, for reference

    python -m bench.ingest_variants --sizes 100k --variants base,gc,nohot,gc+nohot+nolookup
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log

KNOWN = {
    "base", "gc", "nohot", "partialhot", "noupdated", "nodatetime", "nolookup", "batch10k", "deferidx",
    "wal10k", "selhot", "thread", "direct", "txn50k", "page16k", "nommap", "sync", "mp", "sqlite",
}  # fmt: skip
SELECTIVE_HOT = {"grid:code", "s1:full_burst_id", "s1:relative_burst_id", "sat:relative_orbit", "sat:absolute_orbit"}
_WRITE_EXTRA: tuple[Any, ...] = ()  # extra positional arguments Store._write_batch wants (set in _child)
DEFAULT = (
    "base,gc,nolookup,nohot,selhot,noupdated,wal10k,batch10k,deferidx,thread,"
    "gc+selhot+noupdated+wal10k,gc+selhot+noupdated+wal10k+thread,sqlite"
)


def _child(variant: str, source: Path, db: Path) -> dict[str, Any]:
    tweaks = set(variant.split("+"))
    if tweaks == {"sqlite"}:
        from bench.ingest import _child_sqlite

        return {**_child_sqlite(source, db, None), "index_s": 0.0}
    from catalog import store as store_module
    from catalog.columns import HOT_PROPERTIES
    from catalog.ingest import import_files
    from catalog.store import Store

    global _WRITE_EXTRA
    if "collections" in inspect.signature(Store._write_batch).parameters:
        _WRITE_EXTRA = (lambda _: None,)  # newer stores take a collection-document callback
    if "nolookup" in tweaks:
        store_module.Store._existing_contents = lambda self, keys: {}  # type: ignore[method-assign]
    if "batch10k" in tweaks:
        original = store_module.Store.upsert_items

        def upsert_items(self: Any, items: Any, **kw: Any) -> Any:
            kw.setdefault("batch_size", 10_000)
            return original(self, items, **kw)

        store_module.Store.upsert_items = upsert_items  # type: ignore[method-assign]
    if "thread" in tweaks:
        store_module.Store.upsert_items = _threaded_upsert_items  # type: ignore[method-assign]
    if "sync" in tweaks:
        store_module._BatchWriter = _SyncWriter  # type: ignore[attr-defined, misc]
    has_trigger = "items_rtree_insert" in inspect.getsource(importlib.import_module("catalog.migrations"))
    if "direct" in tweaks and has_trigger:  # newer stores already fill the R*Tree directly
        store_module.Store._write_batch = _direct_write_batch  # type: ignore[method-assign]
    if "page16k" in tweaks:
        import sqlite3

        created = sqlite3.connect(str(db))
        created.execute("PRAGMA page_size = 16384")
        created.execute("PRAGMA journal_mode = WAL")
        created.close()
    with common.MemorySampler() as sampler:
        store = Store(db)
        if "nommap" in tweaks:
            store.conn.execute("PRAGMA mmap_size = 0")
        try:
            from eocat import samples

            for collection in samples.collections():
                store.upsert_collection(collection)
        except (ImportError, AttributeError):
            pass
        conn = store.conn
        hot_indexes = [f"items_{hot.column}" for hot in HOT_PROPERTIES]
        if "nohot" in tweaks or "partialhot" in tweaks:
            for name in hot_indexes:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        if "partialhot" in tweaks:
            for hot in HOT_PROPERTIES:
                conn.execute(f"CREATE INDEX items_{hot.column} ON items ({hot.column}) WHERE {hot.column} IS NOT NULL")
        if "selhot" in tweaks:
            for hot in HOT_PROPERTIES:
                conn.execute(f"DROP INDEX IF EXISTS items_{hot.column}")
                if hot.name in SELECTIVE_HOT:
                    conn.execute(
                        f"CREATE INDEX items_{hot.column} ON items ({hot.column}) WHERE {hot.column} IS NOT NULL"
                    )
        if "wal10k" in tweaks:
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
        if "noupdated" in tweaks:
            conn.execute("DROP INDEX IF EXISTS items_updated")
        if "nodatetime" in tweaks:
            conn.execute("DROP INDEX IF EXISTS items_datetime")
        deferred: list[str] = []
        if "deferidx" in tweaks:
            deferred = [
                sql
                for (sql,) in conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL"
                )
            ]
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL"
            ).fetchall():
                conn.execute(f"DROP INDEX {name}")
        if "direct" in tweaks and has_trigger:
            conn.execute("DROP TRIGGER items_rtree_insert")
        if "txn50k" in tweaks:
            store.conn = _GroupCommit(conn, 25)  # type: ignore[assignment]
        if "gc" in tweaks:
            gc.disable()
        started = time.perf_counter()
        report = _mp_import(store, source) if "mp" in tweaks else import_files(store, [source])
        imported = time.perf_counter()
        if deferred:
            conn.execute("BEGIN")
            for sql in deferred:
                conn.execute(sql)
            conn.execute("COMMIT")
        indexed = time.perf_counter()
        if "txn50k" in tweaks:
            store.conn.flush()  # type: ignore[attr-defined]
        store.close()
        closed = time.perf_counter()
        gc.enable()
    return {
        "items": report.inserted + report.updated,
        "rejected": report.rejected,
        "import_s": imported - started,
        "index_s": indexed - imported,
        "total_s": closed - started,
        **sampler.report(),
    }


def _stamp() -> str:
    """The store's 'updated' timestamp, whatever the store module currently calls its helper."""
    from catalog import store as store_module

    for name in ("utc_now", "_now"):
        helper = getattr(store_module, name, None)
        if helper is not None:
            return str(helper())
    from catalog.timeutil import utc_now

    return str(utc_now())


def _prepare_chunk(lines: list[bytes], updated: str) -> list[tuple[Any, ...]]:
    import orjson

    from catalog import store as store_module

    gc.disable()  # as eocat does during bulk writes; the worker holds only acyclic JSON
    prepared = []
    for line in lines:
        row = store_module._item_row(orjson.loads(line), updated)
        prepared.append((row.key, row.values, row.span_us))
    return prepared


def _make_row(key: Any, values: Any, span: int) -> Any:
    """A ``catalog.store._Row`` whatever its current fields (older versions also held the item dict)."""
    import dataclasses

    from catalog import store as store_module

    names = {f.name for f in dataclasses.fields(store_module._Row)}
    extra = {"item": None} if "item" in names else {}
    return store_module._Row(key=key, values=values, span_us=span, **extra)


def _mp_import(store: Any, source: Path, batch_size: int = 2000) -> Any:
    """Prototype: parse/validate in one worker process, write in this one (fresh stores only)."""
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    from catalog import store as store_module

    report = store_module.WriteReport()
    updated = _stamp()

    def chunks() -> Any:
        lines: list[bytes] = []
        with open(source, "rb") as stream:
            for line in stream:
                if line.strip():
                    lines.append(line)
                    if len(lines) >= batch_size:
                        yield lines
                        lines = []
        if lines:
            yield lines

    with ProcessPoolExecutor(max_workers=1) as pool:
        pending: deque[Any] = deque()
        for lines in chunks():
            pending.append(pool.submit(_prepare_chunk, lines, updated))
            if len(pending) >= 3:
                rows = [_make_row(key, values, span) for key, values, span in pending.popleft().result()]
                store._write_batch(rows, "merge", report, *_WRITE_EXTRA)
        while pending:
            rows = [_make_row(key, values, span) for key, values, span in pending.popleft().result()]
            store._write_batch(rows, "merge", report, *_WRITE_EXTRA)
    return report


class _SyncWriter:
    """Stand-in for eocat's ``_BatchWriter`` that writes each batch in the caller's thread."""

    def __init__(self, write: Any) -> None:
        self._write = write

    def __enter__(self) -> _SyncWriter:
        return self

    def submit(self, rows: Any) -> None:
        self._write(rows)

    def __exit__(self, *exc: object) -> None:
        return None


class _GroupCommit:
    """A connection wrapper that turns every ``every`` batch transactions into one."""

    def __init__(self, conn: Any, every: int) -> None:
        self._conn = conn
        self._every = every
        self._batches = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("BEGIN"):
            return None if self._conn.in_transaction else self._conn.execute(sql, *args)
        if sql == "COMMIT":
            self._batches += 1
            return self._conn.execute(sql) if self._batches % self._every == 0 else None
        return self._conn.execute(sql, *args)

    def flush(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")


def _direct_write_batch(self: Any, rows: list[Any], mode: str, report: Any, *extra: Any) -> None:
    """``Store._write_batch`` that inserts new rows with explicit pks and fills the R*Tree directly."""
    import orjson

    from catalog import store as store_module
    from catalog.merge import merge_items

    columns = store_module._ITEM_COLUMNS
    insert_sql = f"INSERT INTO items (pk, {', '.join(columns)}) VALUES ({', '.join('?' * (len(columns) + 1))})"
    self.conn.execute("BEGIN IMMEDIATE")
    try:
        existing = self._existing_contents([row.key for row in rows])
        new_rows: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        inserted = updated = unchanged = 0
        for row in rows:
            old = existing.get(row.key)
            if old is None:
                inserted += 1
                new_rows.append(row.values)
                continue
            if mode == "merge":
                merged = merge_items(orjson.loads(old), row.item)
                if merged is not row.item and merged != row.item:
                    row = store_module._item_row(merged, row.values[10])
            if row.values[9] == old:
                unchanged += 1
                continue
            updated += 1
            changed.append(row.values)
        created = self._ensure_collections({row.key[1] for row in rows}, *extra)
        if new_rows:
            # The write lock is held (BEGIN IMMEDIATE), so nobody else can take these pks.
            first = self.conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM items").fetchone()[0]
            self.conn.executemany(insert_sql, [(first + i, *values) for i, values in enumerate(new_rows)])
            self.conn.executemany(
                "INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?)",
                [
                    (first + i, v[5], v[7] + 360 if v[5] > v[7] else v[7], v[6], v[8])
                    for i, v in enumerate(new_rows)
                    if v[5] is not None
                ],
            )
        if changed:
            self.conn.executemany(store_module._UPSERT_SQL, changed)  # the UPDATE trigger keeps the R*Tree right
        span = max(row.span_us for row in rows)
        if span > self.max_span_us():
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('max_span_us', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [str(span)],
            )
        self.conn.execute("COMMIT")
    except BaseException:
        self.conn.execute("ROLLBACK")
        self._collection_ids = None
        raise
    report.inserted += inserted
    report.updated += updated
    report.unchanged += unchanged
    report.collections_created.extend(created)


def _threaded_upsert_items(
    self: Any, items: Any, *, mode: str = "merge", batch_size: int = 2000, report: Any = None
) -> Any:
    """``Store.upsert_items`` with the writes on a second thread (a prototype: same batching and merge)."""
    import queue
    import threading

    from catalog import store as store_module
    from catalog.errors import InvalidItem
    from catalog.merge import merge_items

    report = report or store_module.WriteReport()
    pending: queue.Queue[Any] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        while (rows := pending.get()) is not None:
            if not failure:
                try:
                    self._write_batch(rows, mode, report)
                except BaseException as exc:  # re-raised by the caller
                    failure.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    batch: dict[Any, Any] = {}
    updated = _stamp()
    try:
        for number, entry in enumerate(items, start=1):
            if isinstance(entry, store_module.Rejected):
                report.reject(entry.where, entry.reason)
                continue
            where, item = entry if isinstance(entry, tuple) else (f"item {number}", entry)
            try:
                row = store_module._item_row(item, updated)
            except InvalidItem as exc:
                report.reject(where, str(exc))
                continue
            previous = batch.get(row.key)
            if previous is not None and mode == "merge":
                row = store_module._item_row(merge_items(previous.item, row.item), updated)
            batch[row.key] = row
            if len(batch) >= batch_size:
                pending.put(list(batch.values()))
                batch = {}
                updated = _stamp()
        if batch:
            pending.put(list(batch.values()))
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return report


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_variants", description=__doc__.split("\n")[0])
    parser.add_argument("--child")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--sizes", type=common.parse_sizes, default=[100_000])
    parser.add_argument("--variants", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.source, args.db)))
        return
    with common.exclusive_run():
        _drive(args)


def _drive(args: argparse.Namespace) -> None:
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for variant in variants:
        unknown = set(variant.split("+")) - KNOWN
        if unknown:
            raise SystemExit(f"unknown variant part(s) {sorted(unknown)}; known: {sorted(KNOWN)}")
    results: list[dict[str, Any]] = []
    for n in args.sizes:
        source = common.dataset(n)
        common.warm_file(source)
        base_rate = None
        for variant in variants:
            best: dict[str, Any] | None = None
            for _ in range(args.repeat):
                db = common.fresh_path(f"variant-{common.size_label(n)}.db")
                log(f"{common.size_label(n)} {variant} ...")
                result = common.run_child(
                    "bench.ingest_variants", ["--child", variant, "--source", str(source), "--db", str(db)]
                )
                result["items_per_s"] = round(result["items"] / result["total_s"], 1)
                result["db_mib"] = round(common.file_size(db) / 2**20, 1)
                for suffix in ("", "-wal", "-shm"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
                if best is None or result["items_per_s"] > best["items_per_s"]:
                    best = result
            assert best is not None
            if variant == "base":
                base_rate = best["items_per_s"]
            best["vs_base"] = round(best["items_per_s"] / base_rate, 2) if base_rate else None
            results.append({"n": n, "variant": variant, **best})
            log(f"  {best['items_per_s']:,.0f} items/s, total {best['total_s']:.2f} s")
    name = "ingest_variants-" + "-".join(common.size_label(n) for n in args.sizes)
    common.write_result(name, {"benchmark": "ingest_variants", "machine": common.machine_facts(), "results": results})
    rows = [
        [
            common.size_label(r["n"]),
            r["variant"],
            round(r["import_s"], 2),
            round(r["index_s"], 2),
            round(r["total_s"], 2),
            round(r["cpu_user_s"], 2),
            round(r["cpu_sys_s"], 2),
            r["written_mib"],
            r["items_per_s"],
            r["vs_base"],
            r["peak_rss_mib"],
            r["peak_anon_mib"],
            r["db_mib"],
        ]
        for r in results
    ]
    headers = ["size", "variant", "import s", "index s", "total s", "user s", "sys s", "written MiB", "items/s",
               "vs base", "peak RSS MiB", "peak anon MiB", "db MiB"]  # fmt: skip
    print(common.table(rows, headers))


if __name__ == "__main__":
    main()
