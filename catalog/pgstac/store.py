"""PgstacStore: the :class:`~catalog.backend.CatalogStore` interface over a pgstac database.

Writes. A batch is one transaction: it takes a transaction-level advisory lock per collection
it touches (in sorted order, so two writers can never wait on each other in a cycle), reads the
stored versions of its keys, merges them with eocat's rule (:mod:`catalog.merge`) in Python,
deletes the rows that change and loads the batch through pypgstac's ``Loader`` (dehydration,
partition creation and bounds, COPY). Writers of different collections run in parallel;
writers of one collection take turns batch by batch. That is the order pgstac's own loader
needs anyway (it locks the partition it loads, and parallel loaders of one partition are what
pgstac's deadlock reports are about), and it makes the read-merge-write of a key atomic, so
concurrent harvesters never lose each other's assets. A new collection gets
``partition_trunc = 'month'`` before its first item is loaded.

Reads. Searches compile the :class:`~catalog.search.Query` to pgstac's search JSON (CQL2 JSON
filter) and let pgstac's ``stac_search_to_where`` write the WHERE clause; eocat adds keyset
paging on top (see :mod:`catalog.pgstac.search`). Nothing on the read path writes, so a hot
standby serves searches: opening a standby only checks the schema (:mod:`catalog.pgstac.schema`),
and every write method refuses at once with one clear error (``read_only``) instead of failing
half-way inside PostgreSQL.

Credentials never appear in the URL: libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import gc
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
from hydraters import hydrate
from psycopg.types.json import Jsonb, set_json_loads

from catalog.checkpoints import FinishedWindow
from catalog.errors import EocatError, InvalidItem, NotFound
from catalog.merge import merge_collections, merge_items
from catalog.pgstac.schema import ensure_schema
from catalog.store import MonthSummary, PartitionKeys, is_placeholder, placeholder_collection
from catalog.timeutil import canonical_lenient, format_canonical, utc_now

PARTITION_TRUNCS = ("month", "year")  # what pgstac offers; month keeps busy collections' partitions small
# the columns of one stored item that hydrate() turns back into the item (see PgstacStore.hydrate)
ITEM_COLUMNS = "items.id, items.collection, st_asgeojson(items.geometry, 20)::text, items.content::text"
BATCH_SIZE = 5_000  # items per transaction (pgstac's loader COPYs a partition's share at once)


def redact_url(url: str) -> str:
    """The URL without a password (for messages and ``location``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.password is not None:
        raise EocatError(
            f"{redact_url(url)}: do not put the password in the URL (it ends up in shell history and logs); "
            "set PGPASSWORD or use ~/.pgpass"
        )


def _prefix_time(prefix: str) -> str:
    """A timestamp text prefix (``2024-``, ``2024-06-``) as the instant it starts."""
    parts = prefix.rstrip("-").split("-")
    year, month = parts[0], parts[1] if len(parts) > 1 else "01"
    return f"{year}-{month}-01T00:00:00Z"


def _placeholder(collection_id: str) -> dict[str, Any]:
    return placeholder_collection(collection_id)


def _loader_class() -> type[Any]:
    """pypgstac's Loader, comparing timestamps as timestamps when it widens partition bounds.

    The loader decides whether a partition's datetime constraints must grow by comparing the
    item's timestamp *text* with the bounds it read back (``isoformat()``); ``…T05:00:00Z`` then
    sorts after ``…T05:00:00.500000+00:00`` and a load into an existing partition fails its
    CHECK constraint. Giving the loader the row's timestamps in the same isoformat (the item
    itself is stored unchanged) makes the text order the time order.
    """
    from pypgstac.load import Loader

    class UtcLoader(Loader):
        def _partition_update(self, item: dict[str, Any]) -> str:
            for key in ("datetime", "end_datetime"):
                canonical = canonical_lenient(item[key]) or ""
                item[key] = datetime.fromisoformat(canonical.replace("Z", "+00:00")).isoformat()
            name: str = super()._partition_update(item)
            return name

    return UtcLoader


class _NoPool:
    """pypgstac's PgstacDB insists on a pool; the loader runs on the store's own connection."""

    def check(self) -> None:  # pragma: no cover - only called after an OperationalError
        pass


class PgstacStore:
    """An eocat catalogue in a pgstac database. Use one instance per thread."""

    def __init__(self, url: str, *, connect_timeout: int = 30, partition_trunc: str | None = None) -> None:
        _check_url(url)
        self.partition_trunc = partition_trunc or os.environ.get("EOCAT_PGSTAC_PARTITION", "month")
        if self.partition_trunc not in PARTITION_TRUNCS:
            raise EocatError(
                f"EOCAT_PGSTAC_PARTITION must be one of {', '.join(PARTITION_TRUNCS)}, not {self.partition_trunc!r}"
            )
        self.url = url
        self.location = redact_url(url)
        #: pgstac's WHERE clause per search document (catalog.pgstac.search.where_sql; it only reads the catalogue)
        self.where_cache: OrderedDict[str, str] = OrderedDict()
        try:
            self.conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout, application_name="eocat"
            )
        except psycopg.OperationalError as exc:
            raise EocatError(f"cannot connect to {self.location}: {str(exc).strip()}") from None
        try:
            #: a hot standby (in recovery): searches only, writes go to the primary
            self.read_only = self.conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            ensure_schema(url, self.conn)
        except BaseException:
            self.conn.close()
            raise
        self.conn.execute("SET search_path TO pgstac, public")
        # No parallel workers for eocat's statements: they read a page (LIMIT) or count up to a cap,
        # where starting workers costs more than it saves, and an API's concurrent clients already
        # keep the cores busy (measured: a count capped at 10,000 over 2,000 intersects matches 66 -> 6 ms
        # on 2 busy cores).
        # Exact counts (search --count) get the server's setting back (search.count).
        self.conn.execute("SET max_parallel_workers_per_gather = 0")
        set_json_loads(orjson.loads, self.conn)
        self._base_items: dict[tuple[str, int | None], dict[str, Any]] = {}
        self._key_index: dict[int, tuple[str, str]] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PgstacStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self) -> None:
        if self.read_only:
            raise EocatError(
                f"{self.location} is a read-only hot standby (pg_is_in_recovery): "
                "run write commands (import, harvest, fetch, migrate) against the primary"
            )

    # -- collections -----------------------------------------------------------------------
    def upsert_collection(self, collection: Any, *, mode: Literal["merge", "replace"] = "merge") -> None:
        """Store a collection document (a dict or a ``pystac.Collection``); an existing one is merged (or replaced)."""
        from catalog.pystac_io import collection_dict

        self._writable()
        collection = collection_dict(collection)
        if not isinstance(collection, dict) or collection.get("type") != "Collection":
            raise InvalidItem("not a STAC Collection (type must be 'Collection')")
        collection_id = collection.get("id")
        if not isinstance(collection_id, str) or not collection_id:
            raise InvalidItem("collection has no 'id'")
        with self.conn.transaction():
            self._lock_collections([collection_id])
            row = self.conn.execute("SELECT content FROM collections WHERE id = %s", [collection_id]).fetchone()
            if row is None:
                self._create_collection(collection)
            else:
                document = merge_collections(row[0], collection) if mode == "merge" else collection
                self.conn.execute("SELECT update_collection(%s)", [Jsonb(document)])
        self._base_items.clear()

    def _create_collection(self, document: dict[str, Any]) -> None:
        """Insert a collection and set its partitioning before any item arrives (pgstac's advice)."""
        self.conn.execute("SELECT create_collection(%s)", [Jsonb(document)])
        self.conn.execute(
            "UPDATE collections SET partition_trunc = %s WHERE id = %s", [self.partition_trunc, document["id"]]
        )

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT content FROM collections WHERE id = %s", [collection_id]).fetchone()
        if row is None:
            raise NotFound(f"collection {collection_id!r} not found")
        document: dict[str, Any] = row[0]
        return document

    def collections(self) -> list[dict[str, Any]]:
        return [row[0] for row in self.conn.execute("SELECT content FROM collections ORDER BY id")]

    def collection_ids(self) -> set[str]:
        """Read each time (one small indexed query): another process, e.g. a harvester writing to the
        primary of this standby, may add collections while a long-running API process reads."""
        return {row[0] for row in self.conn.execute("SELECT id FROM collections")}

    def hydrate(self, item_id: str, collection_id: str, geometry: str, content: str) -> dict[str, Any]:
        """A stored row back to the STAC item (pgstac stores items without what the collection's
        base item holds; hydration is done here rather than in SQL: measured several times faster)."""
        document = orjson.loads(content)
        tag = document.pop("pgstac:base_item", None)
        key = (collection_id, int(tag) if tag is not None else None)
        base = self._base_items.get(key)
        if base is None:
            row = self.conn.execute("SELECT collection_base_item(%s, %s)::text", list(key)).fetchone()
            base = orjson.loads(row[0]) if row and row[0] else {}
            self._base_items[key] = base
        item = {"id": item_id, "geometry": orjson.loads(geometry), "collection": collection_id, "type": "Feature"}
        item.update(document)
        result: dict[str, Any] = hydrate(base, item)
        return result

    def delete_collection(self, collection_id: str) -> int:
        """Delete a collection and its items; return the number of items deleted."""
        self._writable()
        with self.conn.transaction():
            self._lock_collections([collection_id])
            if self.conn.execute("SELECT 1 FROM collections WHERE id = %s", [collection_id]).fetchone() is None:
                raise NotFound(f"collection {collection_id!r} not found")
            deleted = self.count_items(collection_id)
            self.conn.execute("SELECT delete_collection(%s)", [collection_id])
        self._base_items.clear()
        return deleted

    def refresh_extent(self, collection_id: str) -> None:
        """Recompute a collection's extent from its items."""
        row = self.conn.execute(
            "SELECT st_xmin(e), st_ymin(e), st_xmax(e), st_ymax(e), lo, hi FROM ("
            "SELECT st_extent(geometry) AS e, min(datetime) AS lo, max(end_datetime) AS hi "
            "FROM items WHERE collection = %s) s",
            [collection_id],
        ).fetchone()
        if row is None or row[4] is None:
            return
        minx, miny, maxx, maxy, start, end = row
        document = self.get_collection(collection_id)
        document["extent"] = {
            "spatial": {"bbox": [[minx, miny, maxx, maxy]]},
            "temporal": {"interval": [[format_canonical(start), format_canonical(end)]]},
        }
        self.upsert_collection(document, mode="replace")

    def item_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT collection, count(*) FROM items GROUP BY collection")
        return {str(collection): int(number) for collection, number in rows}

    # -- items -----------------------------------------------------------------------------
    @contextmanager
    def long_writes(self) -> Iterator[None]:
        """A long run of upserts follows: PostgreSQL's own checkpointer already works aside."""
        yield

    def upsert_items(
        self,
        items: Iterable[Any],
        *,
        mode: Literal["merge", "replace"] = "merge",
        batch_size: int = BATCH_SIZE,
        report: Any = None,
        collections: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> Any:
        """Insert or update items in batches (one transaction each); bad records are counted, not fatal."""
        from catalog.pystac_io import item_dicts
        from catalog.store import Rejected, WriteReport, item_row
        from catalog.validate import validated

        self._writable()
        report = report or WriteReport()
        documents = collections or (lambda _: None)
        items = validated(item_dicts(items), lambda name: documents(name) or self._stored_collection(name), report)
        batch: dict[tuple[str, str], dict[str, Any]] = {}
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for number, entry in enumerate(items, start=1):
                if isinstance(entry, Rejected):
                    report.reject(entry.where, entry.reason)
                    continue
                where, item = entry if isinstance(entry, tuple) else (f"item {number}", entry)
                try:
                    item_row(item)  # the one validity rule of both backends (after catalog.validate)
                    if item.get("geometry") is None:
                        raise InvalidItem(f"item {item['id']!r} has no geometry (pgstac stores only located items)")
                except InvalidItem as exc:
                    report.reject(where, str(exc))
                    continue
                key = (item["collection"], item["id"])
                previous = batch.get(key)
                batch[key] = merge_items(previous, item) if previous is not None and mode == "merge" else item
                if len(batch) >= batch_size:
                    self._write_batch(batch, mode, report, documents)
                    batch = {}
            if batch:
                self._write_batch(batch, mode, report, documents)
        finally:
            if was_enabled:
                gc.enable()
        return report

    def _stored_collection(self, collection_id: str) -> dict[str, Any] | None:
        try:
            return self.get_collection(collection_id)
        except NotFound:
            return None

    def _lock_collections(self, collection_ids: Iterable[str]) -> None:
        for collection_id in sorted(set(collection_ids)):
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["eocat/" + collection_id])

    def _write_batch(
        self,
        batch: dict[tuple[str, str], dict[str, Any]],
        mode: str,
        report: Any,
        documents: Callable[[str], dict[str, Any] | None],
    ) -> None:
        by_collection: dict[str, list[str]] = {}
        for collection_id, item_id in batch:
            by_collection.setdefault(collection_id, []).append(item_id)
        created: list[str] = []
        with self.conn.transaction():
            self._lock_collections(by_collection)
            known = dict(self.conn.execute("SELECT id, content FROM collections WHERE id = ANY(%s)",
                                           [list(by_collection)]).fetchall())  # fmt: skip
            for collection_id in sorted(by_collection):
                document = documents(collection_id)
                if collection_id not in known:
                    if document is None:
                        created.append(collection_id)
                    self._create_collection(document or _placeholder(collection_id))
                elif document is not None and is_placeholder(known[collection_id]):
                    # a writer's own document replaces a placeholder made up earlier (as on SQLite)
                    self.conn.execute("SELECT update_collection(%s)", [Jsonb(document)])
                    self._base_items.clear()
            stored = self._stored(by_collection)
            fresh = [key for key in batch if key not in stored]
            new_keys = iter(self._new_store_keys(len(fresh)))
            now = utc_now()
            to_load: list[dict[str, Any]] = []
            stale: dict[str, list[str]] = {}
            inserted = updated = unchanged = 0
            for key, item in batch.items():
                found = stored.get(key)
                if found is None:
                    inserted += 1
                    to_load.append({**item, "private": {"key": next(new_keys), "updated": now}})
                    continue
                old, store_key = found
                new = merge_items(old, item) if mode == "merge" else item
                if new == old:
                    unchanged += 1
                    continue
                updated += 1
                to_load.append({**new, "private": {"key": store_key, "updated": now}})
                stale.setdefault(key[0], []).append(key[1])
            for collection_id, ids in stale.items():
                self.conn.execute("DELETE FROM items WHERE collection = %s AND id = ANY(%s)", [collection_id, ids])
            if to_load:
                self._load(to_load)
        report.inserted += inserted
        report.updated += updated
        report.unchanged += unchanged
        report.collections_created.extend(created)

    def _stored(self, by_collection: dict[str, list[str]]) -> dict[tuple[str, str], tuple[dict[str, Any], int]]:
        """The stored (hydrated) versions of the given keys, with their store keys."""
        found: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}
        for collection_id, ids in by_collection.items():
            rows = self.conn.execute(
                f"SELECT {ITEM_COLUMNS}, (private->>'key')::bigint FROM items WHERE collection = %s AND id = ANY(%s)",
                [collection_id, ids],
            )
            for row in rows:
                found[(collection_id, row[0])] = (self.hydrate(*row[:4]), row[4])
        return found

    def _new_store_keys(self, number: int) -> list[int]:
        if not number:
            return []
        rows = self.conn.execute("SELECT nextval('eocat.item_keys') FROM generate_series(1, %s)", [number])
        return [int(row[0]) for row in rows]

    def _load(self, items: list[dict[str, Any]]) -> None:
        """Bulk-load new rows through pypgstac's loader, on this connection and transaction."""
        from pypgstac.db import PgstacDB
        from pypgstac.load import Methods

        db = PgstacDB(dsn=None, pool=_NoPool(), connection=self.conn)  # type: ignore[arg-type]
        _loader_class()(db).load_items(iter(items), insert_mode=Methods.insert, chunksize=len(items))

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE collection = %s AND id = %s", [collection_id, item_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"item {item_id!r} not found in collection {collection_id!r}")
        return self.hydrate(*row)

    def delete_item(self, collection_id: str, item_id: str) -> None:
        self._writable()
        with self.conn.transaction():
            self._lock_collections([collection_id])
            cursor = self.conn.execute("DELETE FROM items WHERE collection = %s AND id = %s", [collection_id, item_id])
        if cursor.rowcount == 0:
            raise NotFound(f"item {item_id!r} not found in collection {collection_id!r}")

    def count_items(self, collection_id: str | None = None) -> int:
        if collection_id is None:
            row = self.conn.execute("SELECT count(*) FROM items").fetchone()
        else:
            row = self.conn.execute("SELECT count(*) FROM items WHERE collection = %s", [collection_id]).fetchone()
        return int(row[0]) if row else 0

    # -- bulk reads (the GeoParquet export) -------------------------------------------------
    # Store keys live in items.private (assigned from a sequence, kept across updates), like
    # SQLite's row keys; partition_keys remembers where each key lives so item_texts can use
    # pgstac's per-partition id index.
    def month_summaries(self, *, with_updated: bool = False) -> list[MonthSummary]:
        """Per collection and month of the sort datetime: item count, key sum (and last write)."""
        updated = "coalesce(max(private->>'updated'), '')" if with_updated else "''"
        rows = self.conn.execute(
            f"SELECT collection, to_char(datetime AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*), {updated}, "
            "coalesce(sum((private->>'key')::bigint), 0) FROM items GROUP BY 1, 2 ORDER BY 1, 2"
        )
        return [MonthSummary(str(c), str(m), int(n), str(u), int(k)) for c, m, n, u, k in rows]

    def partition_keys(self, collection: str, start: str, end: str) -> PartitionKeys:
        """Keys, ids and boxes of a collection's items with ``start <= datetime < end`` (text prefixes)."""
        rows = self.conn.execute(
            "SELECT (private->>'key')::bigint, id, coalesce(private->>'updated', ''), content->'bbox', "
            "st_xmin(geometry), st_ymin(geometry), st_xmax(geometry), st_ymax(geometry) FROM items "
            "WHERE collection = %s AND datetime >= %s::timestamptz AND datetime < %s::timestamptz",
            [collection, _prefix_time(start), _prefix_time(end)],
        ).fetchall()
        boxes: list[tuple[float | None, float | None, float | None, float | None]] = []
        for row in rows:
            self._key_index[int(row[0])] = (collection, row[1])
            bbox = row[3]
            if isinstance(bbox, list) and len(bbox) in (4, 6):
                half = len(bbox) // 2
                boxes.append((bbox[0], bbox[1], bbox[half], bbox[half + 1]))
            else:
                boxes.append((row[4], row[5], row[6], row[7]))
        return PartitionKeys(
            [int(r[0]) for r in rows], [r[1] for r in rows], boxes, max((r[2] for r in rows), default="")
        )

    def partition_key_chunks(
        self, collection: str, start: str, end: str, chunk: int = 50_000
    ) -> Iterator[PartitionKeys]:
        """:meth:`partition_keys` in chunks of at most ``chunk`` items (the export's interface)."""
        keys = self.partition_keys(collection, start, end)
        for offset in range(0, len(keys.keys), chunk):
            yield PartitionKeys(
                keys.keys[offset : offset + chunk], keys.ids[offset : offset + chunk],
                keys.boxes[offset : offset + chunk], keys.last_updated,
            )  # fmt: skip

    def item_texts(self, keys: Sequence[int]) -> dict[int, str]:
        """Stored JSON text of the items with these store keys (missing keys are absent)."""
        wanted: dict[str, list[str]] = {}
        unknown = []
        for key in keys:
            where = self._key_index.get(int(key))
            if where is None:
                unknown.append(int(key))
            else:
                wanted.setdefault(where[0], []).append(where[1])
        found: dict[int, str] = {}
        select = f"SELECT {ITEM_COLUMNS}, (private->>'key')::bigint FROM items"
        queries: list[tuple[str, list[Any]]] = [
            (f"{select} WHERE collection = %s AND id = ANY(%s)", [c, ids]) for c, ids in wanted.items()
        ]
        if unknown:
            queries.append((f"{select} WHERE (private->>'key')::bigint = ANY(%s)", [unknown]))
        for statement, params in queries:
            for row in self.conn.execute(statement.encode(), params):
                found[int(row[4])] = orjson.dumps(self.hydrate(*row[:4])).decode()
        return found

    def sample_item_texts(self, collection: str, size: int) -> list[str]:
        """About ``size`` stored JSON texts spread over a collection (schema inference)."""
        total = self.count_items(collection)
        step = max(1, total // max(size, 1))
        rows = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE collection = %s AND (private->>'key')::bigint %% %s = 0 LIMIT %s",
            [collection, step, size],
        )
        return [orjson.dumps(self.hydrate(*row)).decode() for row in rows]

    def iter_item_texts(self, collection: str, chunk: int = 20_000) -> Iterator[list[str]]:
        """Every stored JSON text of a collection, in chunks (bounded memory: a server-side cursor)."""
        with psycopg.connect(self.url, autocommit=False) as reader, reader.cursor(name="eocat_items") as cursor:
            reader.execute("SET search_path TO pgstac, public")
            cursor.itersize = chunk
            cursor.execute(f"SELECT {ITEM_COLUMNS} FROM items WHERE collection = %s", [collection])
            while rows := cursor.fetchmany(chunk):
                yield [orjson.dumps(self.hydrate(*row)).decode() for row in rows]

    # -- search ----------------------------------------------------------------------------
    def search_page(self, query: Any, *, with_count: bool = False) -> Any:
        from catalog.pgstac.search import search_page

        return search_page(self, query, with_count=with_count)

    def count(self, query: Any) -> int:
        from catalog.pgstac.search import count

        return count(self, query)

    def count_upto(self, query: Any, cap: int) -> int | None:
        from catalog.pgstac.search import count_upto

        return count_upto(self, query, cap)

    # -- harvest checkpoints ---------------------------------------------------------------
    def finished_windows(self, source: str, query: str) -> list[FinishedWindow]:
        rows = self.conn.execute(
            'SELECT start, "end", expected, received, rejected FROM eocat.harvest_windows '
            "WHERE source = %s AND query = %s ORDER BY start",
            [source, query],
        )
        return [FinishedWindow(*row) for row in rows]

    def finish_window(self, source: str, query: str, window: FinishedWindow) -> None:
        self._writable()
        self.conn.execute(
            "INSERT INTO eocat.harvest_windows VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            'ON CONFLICT (source, query, start, "end") DO UPDATE SET expected = excluded.expected, '
            "received = excluded.received, rejected = excluded.rejected, updated = excluded.updated",
            [source, query, window.start, window.end, window.expected, window.received, window.rejected, utc_now()],
        )

    def reset_windows(self, source: str, query: str) -> None:
        self._writable()
        self.conn.execute("DELETE FROM eocat.harvest_windows WHERE source = %s AND query = %s", [source, query])

    def watermark(self, source: str, query: str) -> str | None:
        row = self.conn.execute(
            "SELECT watermark FROM eocat.harvest_watermarks WHERE source = %s AND query = %s", [source, query]
        ).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, source: str, query: str, value: str) -> None:
        self._writable()
        self.conn.execute(
            "INSERT INTO eocat.harvest_watermarks VALUES (%s, %s, %s) "
            "ON CONFLICT (source, query) DO UPDATE SET watermark = excluded.watermark",
            [source, query, value],
        )

    # -- maintenance -----------------------------------------------------------------------
    def optimize(self) -> None:
        """Refresh planner statistics after large loads."""
        self._writable()
        self.conn.execute("ANALYZE items")
