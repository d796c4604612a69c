"""``eocat export parquet DIR|s3://bucket/prefix``: the catalogue as stac-geoparquet, partitioned,
incremental, atomic, to a local directory or an object store (:mod:`catalog.parquet.lake`).

Layout::

    DIR/_eocat_manifest.json                       what was exported (fingerprints, schemas, files)
    DIR/collection=<id>/year=<YYYY>/items.parquet   one file per partition
    DIR/collection=<id>/year=<YYYY>/month=<MM>/items.parquet   (collections with a year > 500k items)

On an object store the file of a partition is ``items-<token>.parquet``, a new name per version;
the manifest says which file is current (readers: :func:`partition_files`).

* One schema per collection (every partition of a collection has the same columns).
* Rows inside a partition are ordered along a Hilbert curve of the bbox centres, so a bbox
  predicate on the ``bbox`` covering column skips most row groups; a partition holds about
  :data:`TARGET_ROW_GROUPS` row groups (1,024 to 100,000 rows each: a few hundred KB to tens of
  MB compressed, one HTTP range request each for remote readers).
* A partition is written to ``items.parquet.tmp`` then renamed over ``items.parquet`` (object
  stores: a new object, then the manifest switch): a reader opens either the old or the new file,
  never a half-written one.
* Incremental: a partition is rewritten only when its fingerprint (item count, last write time
  and key sum in the store) or its collection's schema or document changed. Memory is bounded by
  a row group (items are streamed from SQLite in the order they are written).
* Partitions switch from years to months when a year of a collection holds more than
  :data:`MAX_PARTITION_ROWS` items: ~200 MB files, inside the 50-500 MB range the Planetary
  Computer settled on, and an incremental change rewrites at most that.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from catalog.backend import CatalogStore
from catalog.errors import EocatError
from catalog.parquet import schema as schemas
from catalog.parquet.convert import SchemaMismatch, infer_schema, to_table
from catalog.parquet.hilbert import hilbert_keys
from catalog.parquet.lake import Lake
from catalog.store import Store
from catalog.timeutil import following_month

MANIFEST = "_eocat_manifest.json"
FORMAT = 1  # bump when the file layout changes: everything is rewritten
FILE_NAME = "items.parquet"
MAX_PARTITION_ROWS = 500_000
TARGET_ROW_GROUPS = 32
MIN_ROW_GROUP_ROWS = 1_024
MAX_ROW_GROUP_ROWS = 100_000
PARSE_ROWS = 4_096  # items parsed from JSON at once (the Python strings of a few MB)
SAMPLE_ROWS = 2_000  # a first guess at the schema; items outside it trigger a full inference
ZSTD_LEVEL = 1  # measured on S1 items: level 1 wrote 2.4x faster than 6 and the file was no larger
STAC_GEOPARQUET_VERSION = "1.0.0"


@dataclass
class ExportReport:
    """What an export did."""

    directory: str
    items: int = 0  # items in the export
    written_items: int = 0  # items in the partitions written this time
    written: list[str] = field(default_factory=list)  # partition paths rewritten
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    schemas_inferred: list[str] = field(default_factory=list)  # collections whose schema was (re)built
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory, "items": self.items, "written_items": self.written_items,
            "written": self.written, "unchanged": self.unchanged, "removed": self.removed,
            "schemas_inferred": self.schemas_inferred, "seconds": round(self.seconds, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class _Partition:
    collection: str
    key: str  # "2023" or "2023-05"
    rows: int
    fingerprint: str | None  # None: not computed (full exports compute it while writing)

    @property
    def path(self) -> str:
        parts = [f"collection={self.collection}", f"year={self.key[:4]}"]
        if len(self.key) > 4:
            parts.append(f"month={self.key[5:7]}")
        return "/".join([*parts, FILE_NAME])

    @property
    def time_range(self) -> tuple[str, str]:
        last_month = f"{self.key}-12" if len(self.key) == 4 else self.key  # a year ends with its December
        return f"{self.key}-", f"{following_month(last_month)}-"


def _partitions(store: CatalogStore, wanted: set[str] | None, *, fingerprints: bool) -> dict[str, list[_Partition]]:
    """Partitions per collection from one pass over the collection/datetime index.

    With ``fingerprints`` (incremental runs) the pass also reads each row's write time, which
    means reading the table itself; a full export computes the fingerprints while it writes.
    """
    months: dict[str, list[tuple[str, int, str, int]]] = {}
    for summary in store.month_summaries(with_updated=fingerprints):
        if wanted is None or summary.collection in wanted:
            months.setdefault(summary.collection, []).append(
                (summary.month, summary.count, summary.last_updated, summary.key_sum)
            )
    result: dict[str, list[_Partition]] = {}
    for collection, entries in months.items():
        if "/" in collection or collection.startswith("."):
            raise EocatError(f"collection id {collection!r} cannot name a partition directory")
        years: dict[str, int] = {}
        for month, count, _, _ in entries:
            years[month[:4]] = years.get(month[:4], 0) + count
        monthly = max(years.values()) > MAX_PARTITION_ROWS
        groups: dict[str, list[tuple[int, str, int]]] = {}
        for month, count, last, pk_sum in entries:
            groups.setdefault(month if monthly else month[:4], []).append((count, last, pk_sum))
        result[collection] = []
        for key, parts in groups.items():
            count = sum(c for c, _, _ in parts)
            fingerprint = _fingerprint(count, max(u for _, u, _ in parts), sum(p for _, _, p in parts))
            result[collection].append(_Partition(collection, key, count, fingerprint if fingerprints else None))
    return result


def _fingerprint(count: int, last_updated: str, pk_sum: int) -> str:
    return f"{count}|{last_updated}|{pk_sum}"


def read_manifest(lake: Lake) -> dict[str, Any]:
    """The lake's manifest (empty when there is none, or of another format)."""
    data = lake.read_bytes(MANIFEST)
    try:
        manifest: dict[str, Any] = json.loads(data) if data is not None else {}
    except ValueError:
        return {}
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else {}


def partition_files(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Collection id -> relative paths of its current partition files, from a manifest."""
    return {
        collection: [entry.get("file", path) for path, entry in sorted(document.get("partitions", {}).items())]
        for collection, document in sorted(manifest.get("collections", {}).items())
    }


def _sample_schema(store: CatalogStore, collection: str, count: int) -> pa.Schema:
    return schemas.normalize_raw(infer_schema(store.sample_item_texts(collection, SAMPLE_ROWS)))


def _full_schema(store: CatalogStore, collection: str, *, timestamps: bool) -> pa.Schema:
    """Infer over every item of the collection, chunk by chunk, and unify."""
    found: list[pa.Schema] = []
    for chunk in store.iter_item_texts(collection, chunk=PARSE_ROWS):
        try:
            found.append(schemas.normalize_raw(infer_schema(chunk), timestamps=timestamps))
        except SchemaMismatch as exc:
            raise EocatError(f"collection {collection!r}: items do not fit one Arrow schema: {exc}") from None
    try:
        return schemas.normalize_raw(schemas.unify(found), timestamps=timestamps)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise EocatError(f"collection {collection!r}: a property has conflicting types across items: {exc}") from None


def _geo_metadata(bounds: list[float] | None) -> dict[str, Any]:
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": [],
        "edges": "planar",
        "covering": {"bbox": {key: ["bbox", key] for key in ("xmin", "ymin", "xmax", "ymax")}},
    }
    if bounds is not None:
        column["bbox"] = bounds
    return {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}


def _row_group_rows(count: int) -> int:
    return int(min(MAX_ROW_GROUP_ROWS, max(MIN_ROW_GROUP_ROWS, -(-count // TARGET_ROW_GROUPS))))


def _ordered_keys(store: CatalogStore, partition: _Partition) -> tuple[np.ndarray, np.ndarray, str]:
    """Primary keys of a partition in Hilbert order (ties by id), their boxes (n, 4), and the
    partition's fingerprint. Read in chunks into compact arrays (ids as bytes): ~60 bytes an item."""
    start, end = partition.time_range
    keys: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    boxes: list[np.ndarray] = []
    last_updated = ""
    for found in store.partition_key_chunks(partition.collection, start, end):
        keys.append(np.array(found.keys, dtype=np.int64))
        ids.append(np.array([item_id.encode() for item_id in found.ids]))
        boxes.append(np.array(found.boxes, dtype=np.float64).reshape(-1, 4))  # None -> nan
        last_updated = max(last_updated, found.last_updated)
    if not keys:
        return np.zeros(0, np.int64), np.zeros((0, 4)), _fingerprint(0, "", 0)
    pks, box = np.concatenate(keys), np.concatenate(boxes)
    order = np.lexsort((np.concatenate(ids), hilbert_keys(box[:, 0], box[:, 1], box[:, 2], box[:, 3])))
    return pks[order], box[order], _fingerprint(len(pks), last_updated, int(pks.sum()))


def _bounds(boxes: np.ndarray) -> list[float] | None:
    valid = boxes[~np.isnan(boxes[:, 0])]
    if not len(valid):
        return None
    if (valid[:, 0] > valid[:, 2]).any():  # something crosses the antimeridian
        return [-180.0, float(valid[:, 1].min()), 180.0, float(valid[:, 3].max())]
    return [float(valid[:, 0].min()), float(valid[:, 1].min()), float(valid[:, 2].max()), float(valid[:, 3].max())]


def _row_group(
    store: CatalogStore, pks: np.ndarray, boxes: np.ndarray, raw_schema: pa.Schema, out_schema: pa.Schema
) -> pa.Table:
    """One row group's items as Arrow, parsed :data:`PARSE_ROWS` at a time: the item JSON held in
    Python at once stays small whatever the row group size."""
    parts = [
        to_table(list(_contents(store, pks[at : at + PARSE_ROWS])), boxes[at : at + PARSE_ROWS], raw_schema,
                 out_schema)
        for at in range(0, len(pks), PARSE_ROWS)
    ]  # fmt: skip
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _contents(store: CatalogStore, pks: np.ndarray) -> Iterator[str]:
    """Item JSON of the keys, in the given order (looked up by primary key)."""
    found = store.item_texts(pks.tolist())
    return (found[int(pk)] for pk in pks)


def write_partition(
    store: CatalogStore, partition: _Partition, raw_schema: pa.Schema, collection_doc: dict[str, Any], lake: Lake
) -> tuple[str, str]:
    """Write a new version of one partition; return its fingerprint and file (raises SchemaMismatch).

    The file becomes visible whole or not at all (:meth:`Lake.publish`)."""
    pks, boxes, fingerprint = _ordered_keys(store, partition)
    out_schema = schemas.file_schema(raw_schema).with_metadata({
        b"geo": orjson.dumps(_geo_metadata(_bounds(boxes))),
        b"stac-geoparquet": orjson.dumps({
            "version": STAC_GEOPARQUET_VERSION, "collections": {partition.collection: collection_doc},
        }),
    })  # fmt: skip
    file = lake.partition_file(partition.path)
    step = _row_group_rows(len(pks))
    published = False
    try:
        with lake.open_output(file) as sink, pq.ParquetWriter(
            sink, out_schema, compression="zstd", compression_level=ZSTD_LEVEL, write_statistics=True,
            write_page_index=True, use_dictionary=False,  # measured: dictionaries made files larger and slower
        ) as writer, ThreadPoolExecutor(1) as pool:  # fmt: skip
            # The writer encodes one row group (GIL released) while the next one is parsed.
            pending: Future[None] | None = None
            for start in range(0, len(pks), step):
                chunk = pks[start : start + step]
                table = _row_group(store, chunk, boxes[start : start + step], raw_schema, out_schema)
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_table, table, row_group_size=len(chunk))
                del table
                _release_memory()
            if pending is not None:
                pending.result()
        lake.publish(file)
        published = True
    finally:
        if not published:
            lake.discard(file)
    return fingerprint, file


def _release_memory() -> None:
    """Give freed memory back to the system: the C library's heap (item texts, Arrow buffers of the
    system pool; malloc_trim) and mimalloc's caches (Arrow's own C++ allocations)."""
    pa.system_memory_pool().release_unused()
    pa.mimalloc_memory_pool().release_unused()


def _doc_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def export_parquet(
    store: CatalogStore, directory: str | Path, *, collections: list[str] | None = None, full: bool = False,
    jobs: int | None = None,
) -> ExportReport:  # fmt: skip
    """Export (or bring up to date) the catalogue's items as stac-geoparquet under ``directory``
    (a local path or an object-store URI such as ``s3://bucket/prefix``, see :mod:`catalog.parquet.lake`).

    ``jobs`` partitions are written at once (default: one per CPU), each by a thread with its own
    SQLite connection; Arrow's JSON parser, shapely and the Parquet writer release the GIL.
    The manifest is switched once every partition is written; files it no longer names
    (replaced objects, leftovers of an interrupted export) are deleted after that.
    """
    started = time.perf_counter()
    lake = Lake.open(directory)
    lake.prepare()
    report = ExportReport(lake.uri)
    manifest = read_manifest(lake)  # with --full too: its partitions that no longer exist get removed
    before: dict[str, Any] = manifest.get("collections", {})
    wanted = set(collections) if collections else None
    if wanted:
        missing = wanted - store.collection_ids()
        if missing:
            raise EocatError(f"no such collection(s): {', '.join(sorted(missing))}")
    existing = lake.files()
    reader = _reader(store)
    # mimalloc (pyarrow's default) keeps freed memory in per-thread caches; the C library's
    # allocator gives it back (measured at 100k items: peak RSS 338 -> 269 MiB, no slower).
    arrow_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        partitions = _partitions(reader, wanted, fingerprints=not full and bool(before))
        plans = [_plan(reader, existing, collection, partitions[collection], before.get(collection), report, full=full)
                 for collection in sorted(partitions)]  # fmt: skip
        _write_all(reader, lake, plans, report, jobs or min(4, os.cpu_count() or 1))
    finally:
        pa.set_memory_pool(arrow_pool)
        if reader is not store:
            reader.close()
    after: dict[str, Any] = {cid: entry for cid, entry in before.items() if wanted is not None and cid not in wanted}
    for plan in plans:
        after[plan.collection] = _finish(plan, report)
    for collection, entry in before.items():  # collections gone from the store (or from the selection)
        if collection not in after:
            report.removed.extend(sorted(entry.get("partitions", {})))
    report.items = sum(sum(p["rows"] for p in entry["partitions"].values()) for entry in after.values())
    document = {"format": FORMAT, "collections": after}
    if document != manifest:
        lake.write_bytes(MANIFEST, json.dumps(document, indent=1).encode())  # the switch
    referenced = {file for files in partition_files(document).values() for file in files}
    for file in sorted(existing - referenced):
        if _OUR_FILE.search(file) and file.startswith("collection="):
            lake.delete(file)
    report.seconds = time.perf_counter() - started
    return report


def _opens_own_connections(store: CatalogStore) -> bool:
    """Whether the export reads through connections of its own (a SQLite file) or through the store
    as given (an in-memory SQLite catalogue, or pgstac)."""
    return isinstance(store, Store) and str(store.path) != ":memory:"


def _reader(store: CatalogStore) -> CatalogStore:
    """A connection of the export's own: the items are read once, in index order, so a small page
    cache will do and memory-mapped pages would only swell the RSS (SQLite's defaults: 256 MiB, 1 GiB)."""
    if not isinstance(store, Store) or not _opens_own_connections(store):
        return store
    return Store(store.path, cache_mib=8, mmap_mib=0)


# What an export writes: items.parquet, items-<token>.parquet (object stores), and their .tmp files.
_OUR_FILE = re.compile(r"/items(-[0-9a-f]+)?\.parquet(\.tmp)?$")


@dataclass
class _Plan:
    collection: str
    document: dict[str, Any]
    doc_hash: str
    partitions: list[_Partition]
    old_parts: dict[str, Any]
    raw_schema: pa.Schema
    todo: list[_Partition]
    done: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (fingerprint, file) written
    attempts: int = 0


def _plan(
    store: CatalogStore, existing: set[str], collection: str, partitions: list[_Partition],
    previous: dict[str, Any] | None, report: ExportReport, *, full: bool = False,
) -> _Plan:  # fmt: skip
    """What to write for a collection: the partitions that changed (all with ``full``), and the schema."""
    document = store.get_collection(collection)
    doc_hash = _doc_hash(document)
    old_parts: dict[str, Any] = (previous or {}).get("partitions", {})
    reuse = not full and previous is not None and previous.get("document") == doc_hash and "schema" in previous
    raw_schema = schemas.deserialize(previous["schema"]) if reuse and previous else None
    if raw_schema is None:
        raw_schema = _sample_schema(store, collection, sum(p.rows for p in partitions))
        report.schemas_inferred.append(collection)

    def stale(partition: _Partition) -> bool:
        old = old_parts.get(partition.path)
        return not reuse or old is None or old["fingerprint"] != partition.fingerprint or (
            old.get("file", partition.path) not in existing)  # fmt: skip

    todo = [p for p in partitions if stale(p)]
    return _Plan(collection, document, doc_hash, partitions, old_parts, raw_schema, todo)


def _write_all(store: CatalogStore, lake: Lake, plans: list[_Plan], report: ExportReport, jobs: int) -> None:
    """Write every planned partition; a collection whose items outgrow its schema is re-planned whole."""
    connections: list[CatalogStore] = []
    local = threading.local()
    lock = threading.Lock()
    in_memory = not _opens_own_connections(store)

    def connection() -> CatalogStore:
        if in_memory or jobs == 1:
            return store
        if not hasattr(local, "store"):
            local.store = _reader(store)
            with lock:
                connections.append(local.store)
        opened: Store = local.store
        return opened

    def write(plan: _Plan, partition: _Partition) -> tuple[str, str]:
        return write_partition(connection(), partition, plan.raw_schema, plan.document, lake)

    workers = 1 if in_memory else jobs
    try:
        with ThreadPoolExecutor(workers) as pool:
            pending = [plan for plan in plans if plan.todo]
            while pending:
                # Largest partitions first, so the last ones to finish are small.
                tasks = sorted(((plan, p) for plan in pending for p in plan.todo if p.path not in plan.done),
                               key=lambda task: -task[1].rows)  # fmt: skip
                futures = {pool.submit(write, plan, partition): (plan, partition) for plan, partition in tasks}
                failed: list[_Plan] = []
                error: BaseException | None = None
                for future in as_completed(futures):
                    plan, partition = futures[future]
                    try:
                        plan.done[partition.path] = future.result()
                    except SchemaMismatch:
                        if plan not in failed:
                            failed.append(plan)
                    except BaseException as exc:  # finish what runs, then raise the first error
                        error = error or exc
                if error is not None:
                    raise error
                for plan in failed:
                    _replan(store, plan, report)
                pending = failed
    finally:
        for opened in connections:
            opened.close()


def _replan(store: CatalogStore, plan: _Plan, report: ExportReport) -> None:
    """New fields or wider types: infer over everything; every partition gets the new schema (one
    schema per collection). A second failure means a timestamp field holds non-timestamps."""
    plan.attempts += 1
    if plan.attempts > 2:
        raise EocatError(f"collection {plan.collection!r}: items do not fit the inferred schema")
    plan.raw_schema = _full_schema(store, plan.collection, timestamps=plan.attempts == 1)
    if plan.collection not in report.schemas_inferred:
        report.schemas_inferred.append(plan.collection)
    plan.todo, plan.done = list(plan.partitions), {}


def _finish(plan: _Plan, report: ExportReport) -> dict[str, Any]:
    """The collection's manifest entry after writing its plan."""
    for partition in plan.partitions:
        if partition.path in plan.done:
            report.written.append(partition.path)
            report.written_items += partition.rows
        else:
            report.unchanged.append(partition.path)
    current = {p.path for p in plan.partitions}
    report.removed.extend(path for path in plan.old_parts if path not in current)
    partitions: dict[str, Any] = {}
    for p in plan.partitions:
        if p.path in plan.done:
            fingerprint, file = plan.done[p.path]
        else:
            fingerprint, file = p.fingerprint or "", plan.old_parts[p.path].get("file", p.path)
        partitions[p.path] = {"rows": p.rows, "fingerprint": fingerprint, "file": file}
    return {
        "document": plan.doc_hash,
        "schema": schemas.serialize(plan.raw_schema),
        "columns": schemas.describe(schemas.file_schema(plan.raw_schema)),
        "partitions": partitions,
    }
