"""The SQLite store: collections and items keyed by (collection, id), with an R*Tree.

Items are kept whole (compact JSON) so reading one back gives exactly what was stored;
columns beside it hold what queries need. Writes go in batches, one transaction each, so a
crash leaves every batch either fully stored or not at all; WAL lets readers run while a
writer writes. Upserting an existing item merges (:mod:`catalog.merge`).
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from catalog import geo
from catalog.checkpoints import FinishedWindow
from catalog.columns import HOT_PROPERTIES, hot_values
from catalog.errors import InvalidItem, NotFound
from catalog.merge import merge_collections, merge_items
from catalog.migrations import migrate
from catalog.sqlite import sqlite_utils
from catalog.timeutil import canonical_lenient, utc_now

if TYPE_CHECKING:
    from catalog.search import Query, SearchPage

BATCH_SIZE = 25_000  # items per transaction: fewer, larger commits rewrite index pages less often
MAX_REPORTED_ERRORS = 100

_ITEM_COLUMNS = (
    "id", "collection", "datetime", "start_datetime", "end_datetime", "minx", "miny", "maxx", "maxy",
    "content", "updated", *(hot.column for hot in HOT_PROPERTIES),
)  # fmt: skip
# New rows get explicit keys so their R*Tree entries go in with one executemany (measured 1.24x
# faster than a per-row trigger); changed rows are updated in place, a trigger moves their box.
_INSERT_SQL = f"INSERT INTO items (pk, {', '.join(_ITEM_COLUMNS)}) VALUES ({', '.join('?' * (len(_ITEM_COLUMNS) + 1))})"
_UPDATE_SQL = f"UPDATE items SET {', '.join(f'{name} = ?' for name in _ITEM_COLUMNS[2:])} WHERE pk = ?"
_RTREE_SQL = "INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?)"


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

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(f"{where}: {reason}")

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": self.rejected, "errors": self.errors, "collections_created": self.collections_created,
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


@dataclass
class _Row:
    key: tuple[str, str]
    values: tuple[Any, ...]  # column values; values[9] is the item's JSON text
    span_us: int

    @property
    def item(self) -> dict[str, Any]:
        """The item, parsed again from its JSON (only merges need it, so rows stay small)."""
        document: dict[str, Any] = orjson.loads(self.values[9])
        return document


def _item_row(item: Any, updated: str) -> _Row:
    """Validate an item and compute its column values; raise InvalidItem with the reason."""
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
    try:
        instant = canonical_lenient(properties.get("datetime"))
        start = canonical_lenient(properties.get("start_datetime"))
        end = canonical_lenient(properties.get("end_datetime"))
    except ValueError as exc:
        raise InvalidItem(f"item {item_id!r}: bad timestamp: {exc}") from None
    if instant is None and (start is None or end is None):
        raise InvalidItem(f"item {item_id!r} needs 'datetime' or both 'start_datetime' and 'end_datetime'")
    sort_time = instant or start
    assert sort_time is not None
    first = min(t for t in (start, instant) if t is not None)
    last = max(t for t in (end, instant) if t is not None)
    span_us = 0
    if first != last:
        span = datetime.fromisoformat(last[:-1]) - datetime.fromisoformat(first[:-1])
        span_us = int(span.total_seconds() * 1_000_000) + 1
    if "geometry" not in item:
        raise InvalidItem(f"item {item_id!r} has no 'geometry' (use null for none)")
    try:
        box = geo.item_bbox(item)
    except (ValueError, TypeError) as exc:
        raise InvalidItem(f"item {item_id!r}: bad geometry or bbox: {exc}") from None
    minx, miny, maxx, maxy = box if box is not None else (None, None, None, None)
    content = orjson.dumps(item).decode()
    values = (item_id, collection, sort_time, first, last, minx, miny, maxx, maxy, content, updated,
              *hot_values(properties))  # fmt: skip
    return _Row((item_id, collection), values, span_us)


class Store:
    """An eocat catalogue in one SQLite file. Use one Store per thread."""

    def __init__(self, path: str | Path, *, timeout: float = 60.0, cache_mib: int = 256) -> None:
        self.path = Path(path)
        self.location = str(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        # 16 KiB pages hold several 2-4 KiB items each (measured: bulk import 1.14x faster than 4 KiB);
        # it only takes effect on a new, empty file.
        self.conn.execute("PRAGMA page_size = 16384")
        self.db = sqlite_utils.Database(self.conn)
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            f"busy_timeout = {int(timeout * 1000)}",
            f"cache_size = {-1024 * cache_mib}",
            "mmap_size = 1073741824",
            "temp_store = MEMORY",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        geo.register_functions(self.conn)
        self.conn.create_function("eocat_timestamp", 1, _timestamp_udf, deterministic=True)
        self.schema_version = migrate(self.conn)
        self._collection_ids: set[str] | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections -----------------------------------------------------------------------
    def upsert_collection(self, collection: dict[str, Any], *, mode: Literal["merge", "replace"] = "merge") -> None:
        """Store a collection document; an existing one is merged (or replaced)."""
        if not isinstance(collection, dict) or collection.get("type") != "Collection":
            raise InvalidItem("not a STAC Collection (type must be 'Collection')")
        collection_id = collection.get("id")
        if not isinstance(collection_id, str) or not collection_id:
            raise InvalidItem("collection has no 'id'")
        with self.db.atomic():
            row = self.conn.execute("SELECT content FROM collections WHERE id = ?", [collection_id]).fetchone()
            document = collection
            if row is not None and mode == "merge":
                document = merge_collections(orjson.loads(row[0]), collection)
            self.conn.execute(
                "INSERT INTO collections (id, content, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated = excluded.updated",
                [collection_id, orjson.dumps(document).decode(), utc_now()],
            )
        self._collection_ids = None

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
        if self._collection_ids is None:
            self._collection_ids = {row[0] for row in self.conn.execute("SELECT id FROM collections")}
        return self._collection_ids

    def delete_collection(self, collection_id: str) -> int:
        """Delete a collection and its items; return the number of items deleted."""
        with self.db.atomic():
            deleted = self.conn.execute("DELETE FROM items WHERE collection = ?", [collection_id]).rowcount
            if self.conn.execute("DELETE FROM collections WHERE id = ?", [collection_id]).rowcount == 0:
                raise NotFound(f"collection {collection_id!r} not found")
        self._collection_ids = None
        return int(deleted)

    def refresh_extent(self, collection_id: str) -> None:
        """Recompute a collection's extent from its items (used for collections made from items)."""
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
        self.upsert_collection(document, mode="replace")

    # -- items -----------------------------------------------------------------------------
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

        Each entry is an item, a ``(where, item)`` pair naming its origin for error messages
        (e.g. ``"line 17"``), or a :class:`Rejected` record from a reader. An item whose
        collection is not stored yet brings it in: the document ``collections(id)`` returns
        (a harvester's), or else a placeholder reported in ``collections_created``.
        """
        report = report or WriteReport()
        with _gc_paused():
            self._upsert(items, mode, batch_size, report, collections or (lambda _: None))
        return report

    def _upsert(
        self,
        items: Iterable[dict[str, Any] | tuple[str, dict[str, Any]] | Rejected],
        mode: str,
        batch_size: int,
        report: WriteReport,
        collections: Callable[[str], dict[str, Any] | None],
    ) -> None:
        batch: dict[tuple[str, str], _Row] = {}
        updated = utc_now()
        for number, entry in enumerate(items, start=1):
            if isinstance(entry, Rejected):
                report.reject(entry.where, entry.reason)
                continue
            where, item = entry if isinstance(entry, tuple) else (f"item {number}", entry)
            try:
                row = _item_row(item, updated)
            except InvalidItem as exc:
                report.reject(where, str(exc))
                continue
            previous = batch.get(row.key)
            if previous is not None and mode == "merge":
                row = _item_row(merge_items(previous.item, item), updated)
            batch[row.key] = row
            if len(batch) >= batch_size:
                self._write_batch(list(batch.values()), mode, report, collections)
                batch = {}
                updated = utc_now()
        if batch:
            self._write_batch(list(batch.values()), mode, report, collections)

    def _write_batch(
        self, rows: list[_Row], mode: str, report: WriteReport, collections: Callable[[str], dict[str, Any] | None]
    ) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            existing = self._existing_rows([row.key for row in rows])
            inserts: list[tuple[Any, ...]] = []
            boxes: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            unchanged = 0
            next_pk = int(self.conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM items").fetchone()[0])
            for row in rows:
                found = existing.get(row.key)
                if found is None:
                    inserts.append((next_pk, *row.values))
                    minx, miny, maxx, maxy = row.values[5:9]
                    if minx is not None:  # unwrapped longitude across the antimeridian, see migrations
                        boxes.append((next_pk, minx, maxx + 360 if minx > maxx else maxx, miny, maxy))
                    next_pk += 1
                    continue
                pk, old = found
                if mode == "merge":
                    new = row.item
                    merged = merge_items(orjson.loads(old), new)
                    if merged != new:
                        row = _item_row(merged, row.values[10])
                if row.values[9] == old:
                    unchanged += 1
                else:
                    updates.append((*row.values[2:], pk))
            created = self._ensure_collections({row.key[1] for row in rows}, collections)
            self.conn.executemany(_INSERT_SQL, inserts)
            self.conn.executemany(_RTREE_SQL, boxes)
            self.conn.executemany(_UPDATE_SQL, updates)
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
        report.inserted += len(inserts)
        report.updated += len(updates)
        report.unchanged += unchanged
        report.collections_created.extend(created)

    def _existing_rows(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(pk, stored JSON) of the keys that are already stored."""
        wanted = set(keys)
        found: dict[tuple[str, str], tuple[int, str]] = {}
        ids = sorted({item_id for item_id, _ in keys})
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            rows = self.conn.execute(
                f"SELECT id, collection, pk, content FROM items WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            for item_id, collection, pk, content in rows:
                if (item_id, collection) in wanted:
                    found[(item_id, collection)] = (pk, content)
        return found

    def _ensure_collections(
        self, collection_ids: set[str], documents: Callable[[str], dict[str, Any] | None]
    ) -> list[str]:
        """Store the collections of new items; return those that got a placeholder document."""
        placeholders = []
        for collection_id in sorted(collection_ids - self.collection_ids()):
            document = documents(collection_id)
            if document is None:
                placeholders.append(collection_id)
                document = self._placeholder(collection_id)
            self.conn.execute(
                "INSERT INTO collections (id, content, updated) VALUES (?, ?, ?)",
                [collection_id, orjson.dumps(document).decode(), utc_now()],
            )
            self.collection_ids().add(collection_id)
        return placeholders

    @staticmethod
    def _placeholder(collection_id: str) -> dict[str, Any]:
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

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT content FROM items WHERE id = ? AND collection = ?", [item_id, collection_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"item {item_id!r} not found in collection {collection_id!r}")
        item: dict[str, Any] = orjson.loads(row[0])
        return item

    def delete_item(self, collection_id: str, item_id: str) -> None:
        with self.db.atomic():
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
        """Per collection and month of the sort datetime: item count, key sum (and last write)."""
        updated = "max(updated)" if with_updated else "''"
        rows = self.conn.execute(
            f"SELECT collection, substr(datetime, 1, 7), count(*), {updated}, sum(pk) FROM items "
            "GROUP BY collection, substr(datetime, 1, 7) ORDER BY 1, 2"
        ).fetchall()
        return [MonthSummary(str(c), str(m), int(n), str(u or ""), int(k)) for c, m, n, u, k in rows]

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

    def item_texts(self, keys: Sequence[int]) -> dict[int, str]:
        """Stored JSON text of the items with these store keys (missing keys are absent)."""
        rows = self.conn.execute(
            "SELECT pk, content FROM items WHERE pk IN (SELECT value FROM json_each(?))", [orjson.dumps(list(keys))]
        ).fetchall()
        return {int(pk): _text(content) for pk, content in rows}

    def sample_item_texts(self, collection: str, size: int) -> list[str]:
        """About ``size`` stored JSON texts spread over a collection (schema inference)."""
        total = self.count_items(collection)
        step = max(1, total // max(size, 1))
        rows = self.conn.execute(
            "SELECT content FROM items WHERE collection = ? AND pk % ? = 0 LIMIT ?", [collection, step, size]
        )
        return [_text(row[0]) for row in rows]

    def iter_item_texts(self, collection: str, chunk: int = 20_000) -> Iterator[list[str]]:
        """Every stored JSON text of a collection, in chunks (bounded memory)."""
        cursor = self.conn.execute("SELECT content FROM items WHERE collection = ?", [collection])
        while rows := cursor.fetchmany(chunk):
            yield [_text(row[0]) for row in rows]

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
        with self.db.atomic():
            self.conn.execute(
                "INSERT OR REPLACE INTO harvest_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, query, window.start, window.end, window.expected, window.received,
                 window.rejected, utc_now()],
            )  # fmt: skip

    def reset_windows(self, source: str, query: str) -> None:
        with self.db.atomic():
            self.conn.execute("DELETE FROM harvest_windows WHERE source = ? AND query = ?", [source, query])

    def watermark(self, source: str, query: str) -> str | None:
        row = self.conn.execute(
            "SELECT watermark FROM harvest_watermarks WHERE source = ? AND query = ?", [source, query]
        ).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, source: str, query: str, value: str) -> None:
        with self.db.atomic():
            self.conn.execute("INSERT OR REPLACE INTO harvest_watermarks VALUES (?, ?, ?)", [source, query, value])

    # -- planner statistics ----------------------------------------------------------------
    def max_span_us(self) -> int:
        """Longest (end - start) of any stored item, in microseconds: bounds datetime ranges."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'max_span_us'").fetchone()
        return int(row[0]) if row else 0

    def rtree_hits(self, boxes: Sequence[geo.Box], cap: int) -> int:
        """How many R*Tree entries the boxes hit, counting no further than ``cap``."""
        total = 0
        for minx, miny, maxx, maxy in boxes:
            row = self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM items_rtree WHERE minx <= ? AND maxx >= ? "
                "AND miny <= ? AND maxy >= ? LIMIT ?)",
                [maxx, minx, maxy, miny, cap - total],
            ).fetchone()
            total += int(row[0])
            if total >= cap:
                break
        return total

    def optimize(self) -> None:
        """Refresh the query planner's statistics (cheap; run after large imports)."""
        self.conn.execute("PRAGMA analysis_limit = 1000")
        self.conn.execute("ANALYZE")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk writes.

    Parsed JSON holds no reference cycles, so reference counting frees everything anyway; with
    thousands of item dicts alive per batch the collector would otherwise rescan them over and
    over (measured: bulk import 2-3x slower with it running).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _text(content: Any) -> str:
    """An item's stored JSON text."""
    return str(content)


def _timestamp_udf(value: Any) -> str | None:
    try:
        return canonical_lenient(value)
    except ValueError:
        return None
