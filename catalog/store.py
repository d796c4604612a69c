"""The SQLite store: collections and items keyed by (collection, id), with an R*Tree.

Items are kept whole (compact JSON) so reading one back gives exactly what was stored;
columns beside it hold what queries need. Writes go in batches, one transaction each, so a
crash leaves every batch either fully stored or not at all; WAL lets readers run while a
writer writes. Upserting an existing item merges (:mod:`catalog.merge`).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

import orjson
import pystac

from catalog import geo, grid
from catalog.bodies import Bodies
from catalog.checkpoints import FinishedWindow
from catalog.columns import EPOCH as _EPOCH
from catalog.columns import HOT_PROPERTIES, geometry_wkb, hot_values
from catalog.errors import InvalidItem, NotACatalogue, NotFound, StoreBusy
from catalog.gc_pause import gc_paused
from catalog.merge import merge_collections, merge_items
from catalog.migrations import (
    GRID_INDEXES,
    KEY_INDEX,
    KEY_INDEX_SQL,
    bring_up,
    fill_rtree,
    key_index_missing,
    mark_rtree_pending,
    migrate,
    rtree_pending,
)
from catalog.pystac_io import collection_dict, item_dicts
from catalog.sqlite import binder, sqlite_utils
from catalog.timeutil import MAX_TIME, MIN_TIME, canonical_lenient, following_month, span_us, utc_now
from catalog.validate import NO_DUPLICATE_CHECK, duplicate_note, validated

if TYPE_CHECKING:
    from catalog.search import Query, SearchPage

BATCH_SIZE = 4_000  # items per transaction: larger commits rewrite index pages less often, but hold more
# Items per transaction in a bulk load (3M items, with the R*Tree deferred but the key index still
# written as items came: 250 s to load with 4,000, 218 s with 16,000; 386 s before).
BULK_BATCH_SIZE = 16_000
BULK_CHECKPOINT_PAGES = 8_000  # WAL pages between checkpoints in a bulk load (125 MiB; measured at 200k
# items: 24% fewer bytes written, 7% faster, same RSS)
# Page cache while writing: memory stays flat however many items come in. A smaller one makes the R*Tree
# fill spill its pages again and again (10M items: 187 s and 29 GiB written with 64 MiB, 240 s and 99 GiB
# with 16).
WRITE_CACHE_MIB = 64
# Index builds and the R*Tree fill after a bulk load: SQLite sizes each sort buffer from the page cache
# and sorts on helper threads. Small buffers sorted faster and in less memory (1M items, every index
# and the fill: 12.1-12.5 s and 203 MiB peak with 64 MiB and no threads, 8.6-10.4 s and 91 MiB with
# 4 MiB and two; 10M items, the widest index: 23.1 s and +64 MiB against 12.8 s and +17 MiB).
SORT_CACHE_MIB = 4
SORT_THREADS = 2
ASIDE_INTERVAL_S = 0.25  # how often long_writes folds the log into the file
ASIDE_WAL_BYTES = 64 * 2**20
ASIDE_CHECKPOINT_PAGES = 32_000  # past this many WAL pages (500 MiB) commits fold it themselves again
MAX_REPORTED_ERRORS = 100
_T = TypeVar("_T")
_DAY_MARGIN = 1e-3  # days around a time range probed in the R*Tree (its float32 boxes round outwards too)

_ITEM_COLUMNS = (
    "id", "collection", "datetime", "start_datetime", "end_datetime", "minx", "miny", "maxx", "maxy",
    "content", "geometry", "updated", *(hot.column for hot in HOT_PROPERTIES),
)  # fmt: skip
# New rows get explicit keys so their R*Tree entries go in with one executemany (measured 1.24x
# faster than a per-row trigger); changed rows are updated in place, a trigger moves their entry.
_INSERT_SQL = f"INSERT INTO items (pk, {', '.join(_ITEM_COLUMNS)}) VALUES ({', '.join('?' * (len(_ITEM_COLUMNS) + 1))})"
_UPDATE_SQL = f"UPDATE items SET {', '.join(f'{name} = ?' for name in _ITEM_COLUMNS[2:])} WHERE pk = ?"
_RTREE_SQL = "INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass
class Rejected:
    """An input record that could not be read; passed through to the write report."""

    where: str
    reason: str


@dataclass
class WriteReport:
    """What an upsert did. ``errors`` holds the first messages, each naming where the record was."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    collections_created: list[str] = field(default_factory=list)
    repaired: int = 0  # stored after a faithful repair (catalog.validate)
    duplicates: int = 0  # ids seen again in the same input (merged into the first, as upserts are)
    notes: list[str] = field(default_factory=list)  # the first repairs and duplicates, each with where

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(f"{where}: {reason}")

    def repair(self, where: str, what: str) -> None:
        self.repaired += 1
        self._note(f"repaired {where}: {what}")

    def duplicate(self, where: str, what: str) -> None:
        self.duplicates += 1
        self._note(f"duplicate {where}: {what}")

    def _note(self, message: str) -> None:
        if len(self.notes) < MAX_REPORTED_ERRORS:
            self.notes.append(message)

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": self.rejected, "errors": self.errors, "collections_created": self.collections_created,
            "repaired": self.repaired, "duplicates": self.duplicates, "notes": self.notes,
        }  # fmt: skip


@dataclass(frozen=True)
class MonthSummary:
    """Items of one collection whose sort datetime falls in one month (``YYYY-MM``)."""

    collection: str
    month: str
    count: int
    last_updated: str  # "" unless asked for (it means reading the table, not just an index)
    key_sum: int  # sum of the items' store keys: changes when items are replaced


@dataclass
class PartitionKeys:
    """Store keys, ids and boxes of the items of one collection in a time range (for exports)."""

    keys: list[int]
    ids: list[str]
    boxes: list[tuple[float | None, float | None, float | None, float | None]]
    last_updated: str


class ItemRow(NamedTuple):
    """One item ready to be written: its key columns and its JSON text (a tuple: cheap to send between processes)."""

    id: str
    collection: str
    datetime: str  # canonical UTC, the sort time
    start: str  # earliest of start_datetime and datetime
    end: str  # latest of end_datetime and datetime
    box: geo.Box | None
    text: bytes | None  # the item as stored (compact JSON); None when ``body`` holds it (see Store._text)
    wkb: bytes | None  # the geometry as WKB
    hot: list[Any]
    span_us: int
    days: tuple[float, float]  # start and end on the R*Tree's time axis
    body: bytes | None = None  # text compressed already (by an import worker), else None

    @property
    def key(self) -> tuple[str, str]:
        return self.id, self.collection


def item_row(item: Any, wkb: bytes | None = None) -> ItemRow:
    """Validate an item and compute its column values; raise InvalidItem with the reason.

    ``wkb`` is the geometry's WKB when validation built it already (None: compute it here)."""
    if not isinstance(item, dict):
        raise InvalidItem("not a JSON object")
    if item.get("type") != "Feature":
        raise InvalidItem(f"type must be 'Feature', got {item.get('type')!r}")
    item_id, collection = item.get("id"), item.get("collection")
    if not isinstance(item_id, str) or not item_id:
        raise InvalidItem("missing or empty 'id'")
    if not isinstance(collection, str) or not collection:
        raise InvalidItem(f"item {item_id!r} has no 'collection'")
    properties = item.get("properties")
    if not isinstance(properties, dict):
        raise InvalidItem(f"item {item_id!r} has no 'properties' object")
    raw = properties.get("datetime")
    raw_start, raw_end = properties.get("start_datetime"), properties.get("end_datetime")
    try:
        instant = canonical_lenient(raw)
        # often the same text as datetime: canonicalised once
        start = instant if raw_start == raw and raw is not None else canonical_lenient(raw_start)
        end = instant if raw_end == raw and raw is not None else canonical_lenient(raw_end)
    except ValueError as exc:
        raise InvalidItem(f"item {item_id!r}: bad timestamp: {exc}") from None
    if instant is None and (start is None or end is None):
        raise InvalidItem(f"item {item_id!r} needs 'datetime' or both 'start_datetime' and 'end_datetime'")
    sort_time = instant or start
    assert sort_time is not None
    first = instant if start is None or (instant is not None and instant < start) else start
    last = instant if end is None or (instant is not None and instant > end) else end
    assert first is not None and last is not None
    first_time = datetime.fromisoformat(first[:-1])
    last_time = first_time if first == last else datetime.fromisoformat(last[:-1])
    days = ((first_time - _EPOCH).total_seconds() / 86400.0, (last_time - _EPOCH).total_seconds() / 86400.0)
    if "geometry" not in item:
        raise InvalidItem(f"item {item_id!r} has no 'geometry' (use null for none)")
    try:
        box = geo.item_bbox(item)
    except (ValueError, TypeError) as exc:
        raise InvalidItem(f"item {item_id!r}: bad geometry or bbox: {exc}") from None
    geometry = item["geometry"]
    if geometry is None:
        wkb = None
    elif wkb is None:
        wkb = geometry_wkb([orjson.dumps(geometry)])[0]
    return ItemRow(
        item_id, collection, sort_time, first, last, box, orjson.dumps(item), wkb, hot_values(properties),
        span_us(first_time, last_time), days,
    )  # fmt: skip


RowEntry = tuple[str, ItemRow] | Rejected  # what upsert_rows writes


def item_rows(
    entries: Iterable[tuple[str, dict[str, Any], bytes | None] | tuple[str, dict[str, Any]] | Rejected],
) -> Iterator[RowEntry]:
    """``(where, row)`` of validated entries (``validated(..., wkb=True)``), or why not (``Rejected``)."""
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, Rejected):
            yield entry
            continue
        if entry.__class__ is not tuple:  # not even a JSON object
            entry = (f"item {number}", entry)  # type: ignore[assignment]
        try:
            row = item_row(entry[1], entry[2] if len(entry) == 3 else None)
        except InvalidItem as exc:
            yield Rejected(entry[0], str(exc))
            continue
        yield entry[0], row


class Store:
    """An eocat catalogue in one SQLite file. Use one Store per thread."""

    def __init__(self, path: str | Path, *, timeout: float = 60.0, cache_mib: int = 256, mmap_mib: int = 1024) -> None:
        """Open (or create) the catalogue. ``cache_mib`` is SQLite's page cache and ``mmap_mib`` its
        memory-mapped window: long one-pass readers (exports) keep both small so their RSS stays flat."""
        self.path = Path(path)
        self.location = str(path)
        self.timeout = timeout
        self._cache_mib, self._mmap_mib = cache_mib, mmap_mib
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:  # not a database at all, unreadable, or locked while migrating
            self.conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._busy() from None
            raise NotACatalogue(f"{self.location} is not an eocat catalogue ({exc})") from None
        self._memos: dict[str, tuple[tuple[int, int], Any]] = {}  # name: (file version, value), see _remembered
        self._collection_numbers: dict[str, int] = {}
        self._probe_memo: tuple[Any, Any] | None = None
        self._writes = 0  # this connection's own commits (data_version only sees other connections')

    def _open(self) -> None:
        """Check the file is a catalogue (or new), set the connection up and migrate the schema."""
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]  # reads the header
        if tables and self.conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            raise NotACatalogue(f"{self.location} is a SQLite database of something else, not an eocat catalogue")
        # 16 KiB pages hold several 2-4 KiB items each (measured: bulk import 1.14x faster than 4 KiB);
        # it only takes effect on a new, empty file.
        self.conn.execute("PRAGMA page_size = 16384")
        self.db = sqlite_utils.Database(self.conn)
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            f"busy_timeout = {int(self.timeout * 1000)}",
            f"cache_size = {-1024 * self._cache_mib}",
            f"mmap_size = {self._mmap_mib * 2**20}",
            "temp_store = MEMORY",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        geo.register_functions(self.conn)
        self.conn.create_function("eocat_timestamp", 1, _timestamp_udf, deterministic=True)
        with self._bounded_memory():  # a migration may rewrite every row or build an index
            self.schema_version = migrate(self.conn)
            self.bodies = Bodies(self.conn)
            # a bulk load killed before its end, or still running in another process, left it to build
            bring_up(self.conn, lambda: key_index_missing(self.conn), lambda: self._build_key_index(None))
        self.conn.create_function("eocat_item", 1, self.bodies.decode, deterministic=True)

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction that holds the write lock from its start (BEGIN IMMEDIATE).

        What it reads cannot change before it writes, so a read-modify-write (a merge, an extent)
        never loses another process's work. Writers queue for the lock; one waiting longer than the
        store's timeout gets :class:`StoreBusy` instead of SQLite's bare "database is locked".
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise self._busy() from None
        try:
            yield
            self.conn.execute("COMMIT")
            self._writes += 1
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            else:  # interrupted (Ctrl-C) once COMMIT was done: the batch is stored, the interrupt goes on
                self._writes += 1
            self._memos = {}  # they may hold what the transaction had written
            self._collection_numbers = {}
            raise

    def _busy(self) -> StoreBusy:
        return StoreBusy(
            f"another process has been writing to {self.location} for more than {self.timeout:g} s; "
            "run this again when it has finished"
        )

    # -- collections -----------------------------------------------------------------------
    def upsert_collection(
        self, collection: dict[str, Any] | pystac.Collection, *, mode: Literal["merge", "replace"] = "merge"
    ) -> None:
        """Store a collection document (a dict or a ``pystac.Collection``); an existing one is merged (or replaced)."""
        collection = collection_dict(collection)
        if not isinstance(collection, dict) or collection.get("type") != "Collection":
            raise InvalidItem("not a STAC Collection (type must be 'Collection')")
        collection_id = collection.get("id")
        if not isinstance(collection_id, str) or not collection_id:
            raise InvalidItem("collection has no 'id'")
        with self._writing():
            self._put_collection(collection_id, collection, mode)

    def _put_collection(self, collection_id: str, collection: dict[str, Any], mode: str) -> None:
        row = self.conn.execute("SELECT content FROM collections WHERE id = ?", [collection_id]).fetchone()
        document = collection
        if row is not None and mode == "merge":
            document = merge_collections(orjson.loads(row[0]), collection)
        self.conn.execute(
            "INSERT INTO collections (id, content, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated = excluded.updated",
            [collection_id, orjson.dumps(document).decode(), utc_now()],
        )

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT content FROM collections WHERE id = ?", [collection_id]).fetchone()
        if row is None:
            raise NotFound(f"collection {collection_id!r} not found")
        document: dict[str, Any] = orjson.loads(row[0])
        return document

    def collections(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT content FROM collections ORDER BY id").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def collection_ids(self) -> set[str]:
        return self._remembered(
            "collection_ids", lambda: {str(row[0]) for row in self.conn.execute("SELECT id FROM collections")}
        )

    def delete_collection(self, collection_id: str) -> int:
        """Delete a collection and its items; return the number of items deleted."""
        with self._writing():
            deleted = self.conn.execute("DELETE FROM items WHERE collection = ?", [collection_id]).rowcount
            self.conn.execute("DELETE FROM collection_spans WHERE collection = ?", [collection_id])
            if self.conn.execute("DELETE FROM collections WHERE id = ?", [collection_id]).rowcount == 0:
                raise NotFound(f"collection {collection_id!r} not found")
        self._collection_numbers = {}
        return int(deleted)

    def refresh_extent(self, collection_id: str) -> None:
        """Recompute a collection's extent from its items (used for collections made from items).

        Read and write are one transaction, so a concurrent writer's items are either all counted
        or written after (and that writer refreshes the extent itself)."""
        with self._writing():
            row = self.conn.execute(
                "SELECT min(minx), min(miny), max(maxx), max(maxy), min(start_datetime), max(end_datetime), "
                "max(minx > maxx) FROM items WHERE collection = ?",
                [collection_id],
            ).fetchone()
            if row[4] is None:
                return
            minx, miny, maxx, maxy, start, end, crosses = row
            bbox = [-180.0, miny, 180.0, maxy] if crosses else [minx, miny, maxx, maxy]
            document = self.get_collection(collection_id)
            document["extent"] = {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [[start, end]]}}
            self._put_collection(collection_id, document, "replace")

    # -- items -----------------------------------------------------------------------------
    @contextmanager
    def _bounded_memory(self, cache_mib: int = WRITE_CACHE_MIB, threads: int = 0) -> Iterator[None]:
        """Writes, migrations and index builds use a small page cache, no memory map, and sort on disk.

        Pages read through the map count in the process's resident set, so with it a bulk load's
        RSS grew with the file (1.5 GB at 1M items); the cache is capped the same way. Sorts (an
        index built over 10M items) spill to temporary files instead of memory (2.5 GB at 10M).
        SQLite sizes each sort buffer from the cache and sorts on ``threads`` helpers: a bulk load's
        index builds pass :data:`SORT_CACHE_MIB` and :data:`SORT_THREADS`.
        """
        names = ("mmap_size", "cache_size", "threads")
        mmap, cache, helpers = (self.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names)
        self.conn.execute("PRAGMA mmap_size = 0")
        self.conn.execute(f"PRAGMA cache_size = {-1024 * cache_mib}")
        self.conn.execute(f"PRAGMA threads = {threads}")
        self.conn.execute("PRAGMA temp_store = FILE")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA temp_store = MEMORY")
            self.conn.execute(f"PRAGMA threads = {int(helpers)}")
            self.conn.execute(f"PRAGMA mmap_size = {int(mmap)}")
            self.conn.execute(f"PRAGMA cache_size = {int(cache)}")

    @contextmanager
    def bulk_load(self, report: WriteReport | None = None) -> Iterator[None]:
        """A large load into an empty store: its indexes, the unique key's too, and the R*Tree are made
        after it, not during.

        Each batch would otherwise rewrite thousands of random index and R*Tree pages, more as they grow
        (3M items: commits and R*Tree inserts took 11 s for the first 500k items, 43 s for the
        last); built after the load, each index is one sorted pass and the R*Tree one ordered fill
        (:func:`catalog.migrations.fill_rtree`). Meanwhile writes look up no stored rows: an item read
        again in a later batch is stored twice and merged into the first at the end, as an upsert
        would have merged it (:meth:`_build_key_index`; ``report`` counts it as a duplicate, without
        its line). Readers get the same answers, slower: a search that would probe the R*Tree scans
        the bbox columns instead. A load that is killed loses nothing: the next open builds what is
        missing. A store with items is left as is. The WAL is copied into the file every
        :data:`BULK_CHECKPOINT_PAGES` pages instead of SQLite's 1,000.
        """
        if self.conn.execute("SELECT 1 FROM items LIMIT 1").fetchone() is not None:
            yield
            return
        with self._writing():
            indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in indexes:
                self.conn.execute(f"DROP INDEX {name}")
            mark_rtree_pending(self.conn)
        pages = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            # Another process opening the file may have done any of these already.
            with self._bounded_memory(SORT_CACHE_MIB, SORT_THREADS):  # memory stays flat: see _bounded_memory
                with self._writing():
                    if key_index_missing(self.conn):
                        self._build_key_index(report)
                with self._writing():
                    if rtree_pending(self.conn):
                        fill_rtree(self.conn)
                with self._writing():
                    for name, sql in indexes:
                        if name != KEY_INDEX:
                            self.conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))

    def _build_key_index(self, report: WriteReport | None) -> None:
        """Build the unique key index a bulk load dropped, first merging the rows of keys stored more
        than once (in the caller's transaction)."""
        self.conn.execute("SAVEPOINT key_index")
        try:
            self.conn.execute(KEY_INDEX_SQL)  # one sorted pass when no key repeats (the usual case)
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK TO key_index")
            self._merge_repeated_keys(report or WriteReport())
            self.conn.execute(KEY_INDEX_SQL)
        finally:
            self.conn.execute("RELEASE key_index")

    def _merge_repeated_keys(self, report: WriteReport) -> None:
        """Merge each item stored more than once into its first row, in the order they were written (what
        upserts one after another store), and delete the later rows."""
        rows = self.conn.execute(
            "SELECT pk, id, collection FROM items WHERE (id, collection) IN "
            "(SELECT id, collection FROM items GROUP BY id, collection HAVING count(*) > 1) "
            "ORDER BY id, collection, pk"
        ).fetchall()  # all read before any is written: repeated keys are rare, and three values each
        updated = utc_now()
        for (item_id, collection), group in itertools.groupby(rows, key=lambda row: (row[1], row[2])):
            first, *later = [pk for pk, _, _ in group]
            bodies = self.item_bodies([first, *later])
            merged, merged_row = orjson.loads(bodies[first]), None
            for pk in later:
                report.duplicate(f"item {item_id!r}", duplicate_note(collection, item_id))
                report.inserted -= 1
                try:
                    candidate = merge_items(merged, orjson.loads(bodies[pk]))
                    candidate_row = item_row(candidate)
                except InvalidItem as exc:
                    report.reject(f"item {item_id!r}", str(exc))  # as an upsert of it would be: not stored
                    continue
                if candidate == merged:
                    report.unchanged += 1
                else:
                    report.updated += 1
                    merged, merged_row = candidate, candidate_row
            self.conn.executemany("DELETE FROM items WHERE pk = ?", [[pk] for pk in later])
            if merged_row is not None:
                _, _, updates = self._encode([(merged_row, first)], updated, with_boxes=False)
                self.conn.executemany(_UPDATE_SQL, updates)

    def upsert_items(
        self,
        items: Iterable[dict[str, Any] | tuple[str, dict[str, Any]] | Rejected],
        *,
        mode: Literal["merge", "replace"] = "merge",
        batch_size: int = BATCH_SIZE,
        report: WriteReport | None = None,
        collections: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> WriteReport:
        """Insert or update items in batches; bad records are counted in the report, not fatal.

        Each entry is an item (a dict or a ``pystac.Item``; a ``pystac.ItemCollection`` may stand for
        ``items``), a ``(where, item)`` pair naming its origin for error messages
        (e.g. ``"line 17"``), or a :class:`Rejected` record from a reader. An item whose
        collection is not stored yet brings it in: the document ``collections(id)`` returns
        (a harvester's), or else a placeholder reported in ``collections_created``.
        """
        report = report or WriteReport()
        documents = collections or (lambda _: None)
        checked = validated(
            item_dicts(items),
            lambda name: documents(name) or self._stored_collection(name),
            report,
            wkb=True,
            duplicates=NO_DUPLICATE_CHECK,  # the writes note them (_upsert)
        )
        with gc_paused(), self._bounded_memory():
            self._upsert(item_rows(checked), mode, batch_size, report, documents)
        return report

    def upsert_rows(
        self,
        rows: Iterable[RowEntry],
        *,
        mode: Literal["merge", "replace"] = "merge",
        batch_size: int = BATCH_SIZE,
        report: WriteReport | None = None,
    ) -> WriteReport:
        """Write rows validated and made already (:func:`item_rows`, by import workers), in batches.

        A row may bring its body compressed already, with a dictionary this store holds."""
        report = report or WriteReport()
        with gc_paused(), self._bounded_memory():
            self._upsert(rows, mode, batch_size, report, lambda _: None)
        return report

    def _stored_collection(self, collection_id: str) -> dict[str, Any] | None:
        try:
            return self.get_collection(collection_id)
        except NotFound:
            return None

    def _upsert(
        self,
        rows: Iterable[RowEntry],
        mode: str,
        batch_size: int,
        report: WriteReport,
        collections: Callable[[str], dict[str, Any] | None],
    ) -> None:
        """Write the entries in batches, noting each item read again within them (a duplicate).

        An item read again in the same batch is merged into the batch's entry; one from an earlier
        batch is found stored with a key past the store's last key at the start (keys only grow, and
        an update keeps its key), so no set of every key read is kept: memory stays flat in the input.
        """
        batch: dict[tuple[str, str], tuple[str, ItemRow]] = {}  # key: (where it was first read, row)
        last_key = self.last_key()
        updated = utc_now()
        for entry in rows:
            if isinstance(entry, Rejected):
                report.reject(entry.where, entry.reason)
                continue
            where, row = entry
            key = row.key
            previous = batch.get(key)
            if previous is not None:
                report.duplicate(where, duplicate_note(row.collection, row.id))
                if mode == "merge":
                    try:
                        row = item_row(merge_items(self._item(previous[1]), self._item(row)))
                    except InvalidItem as exc:
                        report.reject(where, str(exc))
                        continue
                where = previous[0]
            batch[key] = (where, row)  # a merged row keeps the key
            if len(batch) >= batch_size:
                self._write_batch(list(batch.values()), mode, report, collections, updated, last_key)
                batch = {}
                updated = utc_now()
        if batch:
            self._write_batch(list(batch.values()), mode, report, collections, updated, last_key)

    def _write_batch(
        self,
        entries: list[tuple[str, ItemRow]],
        mode: str,
        report: WriteReport,
        collections: Callable[[str], dict[str, Any] | None],
        updated: str,
        last_key: int,
    ) -> None:
        """Write (where read, row) entries; a stored row past ``last_key`` (the store's last key before this
        write began) was written earlier in it: a duplicate."""
        rows = [row for _, row in entries]
        trained: list[str] = []
        try:
            with self._writing():
                # while a bulk load builds no key index, keys read again are merged after it (_build_key_index)
                existing = {} if key_index_missing(self.conn) else self._existing_rows([row.key for row in rows])
                changed: list[tuple[ItemRow, int | None]] = []  # (row, pk of the stored row it replaces)
                unchanged = 0
                again: list[tuple[str, ItemRow]] = []
                for where, row in entries:
                    found = existing.get(row.key)
                    if found is None:
                        changed.append((row, None))
                        continue
                    pk, old = found
                    if pk > last_key:
                        again.append((where, row))
                    if mode == "merge":
                        new = self._item(row)
                        merged = merge_items(orjson.loads(old), new)
                        if merged != new:
                            row = item_row(merged)
                    if self._text(row) == old:
                        unchanged += 1
                    else:
                        changed.append((row, pk))
                created = self._ensure_collections({row.collection for row in rows}, collections)
                trained = self._train_dictionaries([row for row, _ in changed])
                # a bulk load fills the R*Tree after it (bulk_load): its entries are not even made
                inserts, boxes, updates = self._encode(changed, updated, with_boxes=not rtree_pending(self.conn))
                self.conn.executemany(_INSERT_SQL, inserts)
                self.conn.executemany(_RTREE_SQL, boxes)
                self.conn.executemany(_UPDATE_SQL, updates)
                self._note_spans(rows)
        except BaseException:
            for collection in trained:
                self.bodies.forget(collection)
            raise
        for where, row in again:
            report.duplicate(where, duplicate_note(row.collection, row.id))
        report.inserted += len(inserts)
        report.updated += len(updates)
        report.unchanged += unchanged
        report.collections_created.extend(created)

    def _note_spans(self, rows: list[ItemRow]) -> None:
        """Raise the collections' longest item spans to those of ``rows`` (never lowered: an upper bound)."""
        spans: dict[str, int] = {}
        for row in rows:
            if row.span_us > spans.get(row.collection, 0):
                spans[row.collection] = row.span_us
        self.conn.executemany(
            "INSERT INTO collection_spans (collection, span_us) VALUES (?, ?) "
            "ON CONFLICT (collection) DO UPDATE SET span_us = max(span_us, excluded.span_us)",
            list(spans.items()),
        )

    def _text(self, row: ItemRow) -> bytes:
        """A row's JSON text (decompressed when a worker sent only its body)."""
        return row.text if row.text is not None else self.bodies.decode_bytes(row.body or b"")

    def _item(self, row: ItemRow) -> dict[str, Any]:
        """A row's item, parsed again from its JSON (only merges need it, so rows stay small)."""
        document: dict[str, Any] = orjson.loads(self._text(row))
        return document

    def _train_dictionaries(self, rows: list[ItemRow]) -> list[str]:
        """Train the dictionary of each collection that has none yet and enough new items in this batch."""
        samples: dict[str, list[bytes]] = {}
        if any(not self.bodies.has_dictionary(row.collection) for row in rows):
            self.bodies.reload()  # another writer may have trained it (we hold the write lock now)
        for row in rows:
            if not self.bodies.has_dictionary(row.collection):
                samples.setdefault(row.collection, []).append(self._text(row))
        return [collection for collection, texts in samples.items() if self.bodies.train(collection, texts)]

    def _encode(
        self, changed: list[tuple[ItemRow, int | None]], updated: str, *, with_boxes: bool
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Column values of new rows, their R*Tree entries (none unless ``with_boxes``), and values of
        changed rows."""
        numbers = self._collection_number
        next_pk = self.last_key() + 1
        inserts: list[tuple[Any, ...]] = []
        boxes: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        encode = self.bodies.encode
        for row, pk in changed:
            minx, miny, maxx, maxy = row.box if row.box is not None else (None, None, None, None)
            body = row.body if row.body is not None else encode(row.collection, self._text(row))
            values = (row.datetime, row.start, row.end, minx, miny, maxx, maxy, body, row.wkb, updated, *row.hot)
            if pk is not None:
                updates.append((*values, pk))
                continue
            inserts.append((next_pk, row.id, row.collection, *values))
            if with_boxes and row.box is not None:  # unwrapped longitude across the antimeridian, see migrations
                minx, miny, maxx, maxy = row.box
                number = numbers(row.collection)
                boxes.append((next_pk, minx, maxx + 360 if minx > maxx else maxx, miny, maxy, *row.days,
                              number, number))  # fmt: skip
            next_pk += 1
        return inserts, boxes, updates

    def _collection_number(self, collection_id: str) -> int:
        """The collection's number on the R*Tree's collection axis (its rowid)."""
        number = self._collection_numbers.get(collection_id)
        if number is None:
            row = self.conn.execute("SELECT rowid FROM collections WHERE id = ?", [collection_id]).fetchone()
            number = self._collection_numbers[collection_id] = int(row[0])
        return number

    def collection_numbers(self, collection_ids: Sequence[str]) -> list[int]:
        """Numbers of the named collections on the R*Tree's collection axis (unknown ones left out)."""
        marks = ", ".join("?" * len(collection_ids))
        rows = self.conn.execute(f"SELECT rowid FROM collections WHERE id IN ({marks})", list(collection_ids))
        return [int(row[0]) for row in rows]

    def _existing_rows(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, bytes]]:
        """(pk, stored JSON) of the keys that are already stored."""
        wanted = set(keys)
        found: dict[tuple[str, str], tuple[int, bytes]] = {}
        ids = sorted({item_id for item_id, _ in keys})
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            rows = self.conn.execute(
                f"SELECT id, collection, pk, content FROM items WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            for item_id, collection, pk, content in rows:
                if (item_id, collection) in wanted:
                    found[(item_id, collection)] = (pk, self.bodies.decode_bytes(content))
        return found

    def _ensure_collections(
        self, collection_ids: set[str], documents: Callable[[str], dict[str, Any] | None]
    ) -> list[str]:
        """Store the collections of new items; return those that got a placeholder document.

        A document the writer brings (a harvester's) replaces a placeholder made up earlier, by this
        or another process, so which of two concurrent writers came first does not matter."""
        placeholders = []
        for collection_id in sorted(collection_ids):
            document = documents(collection_id)
            if collection_id not in self.collection_ids():
                cursor = self.conn.execute(  # another process may have created it since the cache was read
                    "INSERT INTO collections (id, content, updated) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    [collection_id, orjson.dumps(document or self._placeholder(collection_id)).decode(), utc_now()],
                )
                self.collection_ids().add(collection_id)
                if cursor.rowcount == 1:
                    if document is None:
                        placeholders.append(collection_id)
                    continue
            if document is not None:
                row = self.conn.execute("SELECT content FROM collections WHERE id = ?", [collection_id]).fetchone()
                if row is not None and is_placeholder(orjson.loads(row[0])):
                    self._put_collection(collection_id, document, "replace")
        return placeholders

    @staticmethod
    def _placeholder(collection_id: str) -> dict[str, Any]:
        return placeholder_collection(collection_id)

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT content FROM items WHERE id = ? AND collection = ?", [item_id, collection_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"item {item_id!r} not found in collection {collection_id!r}")
        item: dict[str, Any] = orjson.loads(self.bodies.decode_bytes(row[0]))
        return item

    def delete_item(self, collection_id: str, item_id: str) -> None:
        with self._writing():
            cursor = self.conn.execute("DELETE FROM items WHERE id = ? AND collection = ?", [item_id, collection_id])
        if cursor.rowcount == 0:
            raise NotFound(f"item {item_id!r} not found in collection {collection_id!r}")

    def item_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT collection, count(*) FROM items GROUP BY collection").fetchall()
        return {str(collection): int(number) for collection, number in rows}

    def count_items(self, collection_id: str | None = None) -> int:
        if collection_id is None:
            return int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])
        sql = "SELECT count(*) FROM items WHERE collection = ?"
        return int(self.conn.execute(sql, [collection_id]).fetchone()[0])

    # -- bulk reads (exports) ---------------------------------------------------------------
    def month_summaries(self, *, with_updated: bool = False) -> list[MonthSummary]:
        """Per collection and month of the sort datetime: item count, key sum (and last write).

        A walk along the (collection, datetime) index, one range per month that has items and one
        seek to the next: a GROUP BY on the month would sort every item (10M: 6.7 s and, with
        temporary storage in memory, 1 GB of RSS; this walk 0.9 s and 20 MiB)."""
        updated = "max(updated)" if with_updated else "''"
        summary_sql = (
            f"SELECT count(*), {updated}, sum(pk) FROM items WHERE collection = ? AND datetime >= ? AND datetime < ?"
        )
        next_sql = "SELECT min(datetime) FROM items WHERE collection = ? AND datetime >= ?"
        found: list[MonthSummary] = []
        for collection in sorted(self.collection_ids()):
            at = self.conn.execute(next_sql, [collection, ""]).fetchone()[0]
            while at is not None:
                month, following = at[:7], following_month(at[:7])
                count, last, key_sum = self.conn.execute(summary_sql, [collection, month, following]).fetchone()
                found.append(MonthSummary(str(collection), month, int(count), str(last or ""), int(key_sum)))
                at = self.conn.execute(next_sql, [collection, following]).fetchone()[0]
        return found

    def partition_keys(self, collection: str, start: str, end: str) -> PartitionKeys:
        """Keys, ids and boxes of a collection's items with ``start <= datetime < end`` (text prefixes)."""
        rows = self.conn.execute(
            "SELECT pk, id, updated, minx, miny, maxx, maxy FROM items "
            "WHERE collection = ? AND datetime >= ? AND datetime < ?",
            [collection, start, end],
        ).fetchall()
        return PartitionKeys(
            [row[0] for row in rows],
            [row[1] for row in rows],
            [row[3:7] for row in rows],
            max((row[2] for row in rows), default=""),
        )

    def partition_key_chunks(
        self, collection: str, start: str, end: str, chunk: int = 50_000
    ) -> Iterator[PartitionKeys]:
        """:meth:`partition_keys` in chunks of at most ``chunk`` items (bounded memory for big partitions)."""
        cursor = self.conn.execute(
            "SELECT pk, id, updated, minx, miny, maxx, maxy FROM items "
            "WHERE collection = ? AND datetime >= ? AND datetime < ?",
            [collection, start, end],
        )
        while rows := cursor.fetchmany(chunk):
            yield PartitionKeys(
                [row[0] for row in rows], [row[1] for row in rows], [row[3:7] for row in rows],
                max((row[2] for row in rows), default=""),
            )  # fmt: skip

    def item_texts(self, keys: Sequence[int]) -> dict[int, str]:
        """Stored JSON text of the items with these store keys (missing keys are absent)."""
        rows = self.conn.execute(
            "SELECT pk, content FROM items WHERE pk IN (SELECT value FROM json_each(?))", [orjson.dumps(list(keys))]
        ).fetchall()
        return {int(pk): self.bodies.decode(content) for pk, content in rows}

    def item_bodies(self, keys: Sequence[int]) -> dict[int, bytes]:
        """Stored JSON (bytes) of the items with these store keys: what a search page parses."""
        rows = self.conn.execute(
            "SELECT pk, content FROM items WHERE pk IN (SELECT value FROM json_each(?))", [orjson.dumps(list(keys))]
        ).fetchall()
        return {int(pk): self.bodies.decode_bytes(content) for pk, content in rows}

    def sample_item_texts(self, collection: str, size: int) -> list[str]:
        """About ``size`` stored JSON texts spread over a collection (schema inference)."""
        total = self.count_items(collection)
        step = max(1, total // max(size, 1))
        rows = self.conn.execute(
            "SELECT content FROM items WHERE collection = ? AND pk % ? = 0 LIMIT ?", [collection, step, size]
        )
        return [self.bodies.decode(row[0]) for row in rows]

    def iter_item_texts(self, collection: str, chunk: int = 20_000) -> Iterator[list[str]]:
        """Every stored JSON text of a collection, in chunks (bounded memory)."""
        cursor = self.conn.execute("SELECT content FROM items WHERE collection = ?", [collection])
        while rows := cursor.fetchmany(chunk):
            yield [self.bodies.decode(row[0]) for row in rows]

    # -- search (the compiler lives in catalog.search) ---------------------------------------
    def search_page(self, query: Query, *, with_count: bool = False) -> SearchPage:
        from catalog.search import sqlite_search

        return sqlite_search(self, query, with_count=with_count)

    def count(self, query: Query) -> int:
        from catalog.search import sqlite_count

        return sqlite_count(self, query)

    def count_upto(self, query: Query, cap: int) -> int | None:
        from catalog.search import sqlite_count_upto

        return sqlite_count_upto(self, query, cap)

    # -- harvest checkpoints ---------------------------------------------------------------
    def finished_windows(self, source: str, query: str) -> list[FinishedWindow]:
        rows = self.conn.execute(
            "SELECT start, end, expected, received, rejected FROM harvest_windows "
            "WHERE source = ? AND query = ? ORDER BY start",
            [source, query],
        ).fetchall()
        return [FinishedWindow(*row) for row in rows]

    def finish_window(self, source: str, query: str, window: FinishedWindow) -> None:
        with self._writing():
            self.conn.execute(
                "INSERT OR REPLACE INTO harvest_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, query, window.start, window.end, window.expected, window.received,
                 window.rejected, utc_now()],
            )  # fmt: skip

    def reset_windows(self, source: str, query: str) -> None:
        with self._writing():
            self.conn.execute("DELETE FROM harvest_windows WHERE source = ? AND query = ?", [source, query])

    def watermark(self, source: str, query: str) -> str | None:
        row = self.conn.execute(
            "SELECT watermark FROM harvest_watermarks WHERE source = ? AND query = ?", [source, query]
        ).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, source: str, query: str, value: str) -> None:
        with self._writing():
            self.conn.execute("INSERT OR REPLACE INTO harvest_watermarks VALUES (?, ?, ?)", [source, query, value])

    # -- planner statistics ----------------------------------------------------------------
    def last_key(self) -> int:
        """The largest item key, 0 when empty. Keys only grow (an update keeps its key), so it is about
        the number of items stored, read from the end of the table without counting."""
        return int(self.conn.execute("SELECT coalesce(max(pk), 0) FROM items").fetchone()[0])

    def max_span_us(self, collections: Sequence[str] = ()) -> int:
        """Longest (end - start) of a stored item of ``collections`` (none: of any), in microseconds: it bounds
        how far before and after a window a matching item's sort datetime may lie."""
        spans = self.collection_spans()
        return max(spans.values() if not collections else (spans.get(name, 0) for name in collections), default=0)

    def collection_spans(self) -> Mapping[str, int]:
        """The longest item span (microseconds) of each collection with items that last (instants: left out)."""
        return self._remembered(
            "collection_spans",
            lambda: {str(name): int(span) for name, span in self.conn.execute("SELECT * FROM collection_spans")},
        )

    def datetime_range(self) -> tuple[str, str]:
        """The smallest and largest sort datetime stored (MAX_TIME, MIN_TIME when empty)."""
        return self._remembered("datetime_range", self._read_datetime_range)

    def _read_datetime_range(self) -> tuple[str, str]:
        low = self.conn.execute("SELECT min(datetime) FROM items").fetchone()[0]
        high = self.conn.execute("SELECT max(datetime) FROM items").fetchone()[0]
        return (MAX_TIME, MIN_TIME) if low is None else (str(low), str(high))

    def _remembered(self, name: str, read: Callable[[], _T]) -> _T:
        """``read()``, remembered until the file changes: statistics the planner consults on every page
        (a page asks for the spans and the datetime range several times)."""
        version = self._file_version()
        memo = self._memos.get(name)
        if memo is None or memo[0] != version:
            memo = self._memos[name] = (version, read())
        value: _T = memo[1]
        return value

    def rtree_candidates(
        self, boxes: Sequence[geo.Box], collections: tuple[int, int] | None, days: tuple[float, float], cap: int
    ) -> list[int] | None:
        """Keys of the items whose R*Tree entry meets a box, the collection range and the time range.

        None when there are more than ``cap``. The last answer is remembered until the file changes,
        so a page and its count (the API's ``numberMatched``) probe once.
        """
        terms = "minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? AND mint <= ? AND maxt >= ?"
        params: list[Any] = []
        parts = []
        for minx, miny, maxx, maxy in boxes:
            part = terms
            params += [maxx, minx, maxy, miny, days[1] + _DAY_MARGIN, days[0] - _DAY_MARGIN]
            if collections is not None:
                part += " AND minc <= ? AND maxc >= ?"
                params += [collections[1], collections[0]]
            parts.append(f"SELECT pk FROM items_rtree WHERE {part}")
        # UNION ALL streams (UNION would build the whole set before LIMIT); an item found by two
        # boxes counts twice here, which only makes the cap a little stricter.
        sql = " UNION ALL ".join(parts) + f" LIMIT {int(cap) + 1}"
        key = ("rtree", tuple(boxes), collections, days, cap)
        return self._probe(key, sql, params, cap, lambda rows: list(dict.fromkeys(row[0] for row in rows)))

    def rtree_ready(self) -> bool:
        """Whether the R*Tree holds every item (not while a bulk load leaves it to fill after)."""
        return self._remembered("rtree_ready", lambda: not rtree_pending(self.conn))

    def grid_levels(self) -> tuple[int, ...] | None:
        """The grid levels (:mod:`catalog.grid`) that hold items; None while a grid index is missing."""
        return self._remembered("grid_levels", self._read_grid_levels)

    def _read_grid_levels(self) -> tuple[int, ...] | None:
        marks = ", ".join("?" * len(GRID_INDEXES))
        found = self.conn.execute(f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})", GRID_INDEXES)
        if found.fetchone()[0] != len(GRID_INDEXES):
            return None
        return tuple(
            level
            for level in range(grid.LEVELS)
            if self.conn.execute(
                "SELECT 1 FROM items INDEXED BY items_cell WHERE cell >= ? AND cell < ? LIMIT 1",
                grid.level_range(level),
            ).fetchone()
        )

    def grid_candidates(
        self,
        cells: Sequence[int],
        boxes: Sequence[geo.Box],
        collections: Sequence[str],
        window: tuple[str, str],
        cap: int,
        entries: tuple[str, tuple[Any, ...]] = ("", ()),
    ) -> list[tuple[int, str]] | None:
        """(key, sort datetime) of the items of the grid cells whose bbox meets a box and whose sort datetime
        lies in ``window`` (canonical, inclusive), in (datetime, key) order, from index entries alone; None
        when there are more than ``cap``. ``entries``: one more term on the entries' columns (SQL with
        parameters numbered from ?1, and their values), e.g. a filter on cloud cover."""
        sql_filter, params = entries[0], list(entries[1])
        bind = binder(params)

        terms = [f"cell IN (SELECT value FROM json_each({bind(orjson.dumps(list(cells)).decode())}))"]
        if collections:  # seek each cell's entries of each collection in the twin index
            terms.append(f"collection IN ({', '.join(bind(collection) for collection in collections)})")
        terms += [f"datetime >= {bind(window[0])}", f"datetime <= {bind(window[1])}", geo.boxes_meet_sql(boxes, bind)]
        if sql_filter:
            terms.append(sql_filter)
        index = "items_cell_collection" if collections else "items_cell"
        sql = f"SELECT pk, datetime FROM items INDEXED BY {index} WHERE {' AND '.join(terms)} LIMIT {int(cap) + 1}"
        key = ("grid", tuple(cells), tuple(boxes), tuple(collections), window, cap, entries)
        return self._probe(key, sql, params, cap, lambda rows: sorted(rows, key=lambda row: (row[1], row[0])))

    def _probe(self, key: Any, sql: str, params: list[Any], cap: int, shape: Callable[[list[Any]], Any]) -> Any:
        """Run an index probe (None past ``cap`` rows, else ``shape(rows)``), or answer from the last
        one when neither it nor the file changed."""
        version = self._file_version()
        if self._probe_memo is not None and self._probe_memo[0] == (key, version):
            return self._probe_memo[1]
        rows = self.conn.execute(sql, params).fetchall()
        found = None if len(rows) > cap else shape(rows)
        self._probe_memo = ((key, version), found)
        return found

    def _file_version(self) -> tuple[int, int]:
        """Changes whenever the file does: another connection's commits (data_version) or this one's."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self._writes

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file and truncate it (before copying the file)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def long_writes(self) -> Iterator[None]:
        """A long run of upserts follows (a harvest): meanwhile the write-ahead log is folded into the
        file by a thread of its own, not by commits.

        Into a store of 1M items each new item dirties about five 16 KiB pages of scattered index
        entries, and a commit that crossed SQLite's checkpoint threshold waited while they were
        copied into the file and synced: 3.8 of the 5.3 s that 20k items took in batches of 1,000,
        and the copying is I/O (a 1.7 GB log folded in 2.0 s with 0.3 s of CPU). A passive
        checkpoint from another connection does the same while the writer goes on (it blocks
        neither readers nor the writer): 3,575-4,151 items/s -> 5,338-5,745. Should it fall
        behind, commits fold the log themselves again past :data:`ASIDE_CHECKPOINT_PAGES`; the log
        file is cut back to :data:`ASIDE_WAL_BYTES` whenever it starts over.
        """
        if self.location == ":memory:":
            yield
            return
        pages = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        limit = self.conn.execute("PRAGMA journal_size_limit").fetchone()[0]
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {ASIDE_CHECKPOINT_PAGES}")
        self.conn.execute(f"PRAGMA journal_size_limit = {ASIDE_WAL_BYTES}")
        stop = threading.Event()

        def fold() -> None:
            conn = sqlite3.connect(self.location, timeout=self.timeout, isolation_level=None)
            try:
                while not stop.wait(ASIDE_INTERVAL_S):
                    with contextlib.suppress(sqlite3.OperationalError):  # busy: the next round, or a commit, does it
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()

        folder = threading.Thread(target=fold, name="eocat-checkpoints", daemon=True)
        folder.start()
        try:
            yield
        finally:
            stop.set()
            folder.join()
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            self.conn.execute(f"PRAGMA journal_size_limit = {int(limit)}")

    def optimize(self) -> None:
        """Refresh the query planner's statistics (cheap; run after large imports)."""
        with self._bounded_memory():
            self.conn.execute("PRAGMA analysis_limit = 1000")
            self.conn.execute("ANALYZE")


def placeholder_collection(collection_id: str) -> dict[str, Any]:
    """The document eocat makes up for a collection whose items came without one."""
    return {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": collection_id,
        "description": f"Created by eocat for imported items of collection {collection_id!r}.",
        "license": "other",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [],
    }


def is_placeholder(document: dict[str, Any]) -> bool:
    """Whether a collection document is one eocat made up (its extent is computed from its items)."""
    return document.get("description") == placeholder_collection(str(document.get("id")))["description"]


def _timestamp_udf(value: Any) -> str | None:
    try:
        return canonical_lenient(value)
    except ValueError:
        return None
