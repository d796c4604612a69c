"""Schema and migrations of the SQLite store.

``PRAGMA user_version`` counts the numbered migrations applied; each runs in its own
transaction. Hot-property columns (:mod:`catalog.columns`) are reconciled on every open:
a new entry in that table adds, backfills and (if it is selective) indexes its column.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable

from catalog.columns import ENTRY_PROPERTIES, HOT_PROPERTIES
from catalog.sqlite import sqlite_utils


def _m001_initial(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.table("collections").create(
        {"id": str, "content": str, "updated": str}, pk="id", not_null={"content", "updated"}
    )
    db.execute(
        """
        CREATE TABLE items (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            collection TEXT NOT NULL,
            datetime TEXT NOT NULL,        -- canonical UTC; properties.datetime or start_datetime
            start_datetime TEXT NOT NULL,  -- earliest of start_datetime and datetime
            end_datetime TEXT NOT NULL,    -- latest of end_datetime and datetime
            minx REAL, miny REAL, maxx REAL, maxy REAL,  -- RFC 7946: minx > maxx across the antimeridian
            content TEXT NOT NULL,         -- the item as stored, compact JSON
            updated TEXT NOT NULL,         -- when this row was last written
            UNIQUE (id, collection)
        )
        """
    )
    # R*Tree over longitude unwrapped to [-180, 540): an item crossing the antimeridian spans
    # minx .. maxx + 360, so every item is one box and a query tests itself and itself + 360°.
    db.execute("CREATE VIRTUAL TABLE items_rtree USING rtree(pk, minx, maxx, miny, maxy)")
    # Inserts add their R*Tree entries themselves (catalog.store, one executemany per batch);
    # updates and deletes keep the index in step through these triggers.
    db.execute(
        """
        CREATE TRIGGER items_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy ON items BEGIN
            DELETE FROM items_rtree WHERE pk = old.pk;
            INSERT INTO items_rtree SELECT new.pk, new.minx,
                CASE WHEN new.minx > new.maxx THEN new.maxx + 360 ELSE new.maxx END, new.miny, new.maxy
                WHERE new.minx IS NOT NULL;
        END
        """
    )
    db.execute(
        "CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN DELETE FROM items_rtree WHERE pk = old.pk; END"
    )
    # The bbox columns ride along in the sort indexes: when an area is too large for the R*Tree to
    # pay off, the scan along datetime tests the box on index entries and reads only matching rows.
    db.table("items").create_index(["datetime", "minx", "miny", "maxx", "maxy"], index_name="items_datetime")
    db.table("items").create_index(
        ["collection", "datetime", "minx", "miny", "maxx", "maxy"], index_name="items_collection_datetime"
    )


def _m002_harvest_state(db: sqlite_utils.Database) -> None:
    # Windows of a harvest that are completely stored, per source and query fingerprint: an
    # interrupted harvest resumes with the rest. Watermarks remember incremental re-harvests.
    db.execute(
        """
        CREATE TABLE harvest_windows (
            source TEXT NOT NULL,
            query TEXT NOT NULL,          -- fingerprint of the harvest's filters
            start TEXT NOT NULL,          -- canonical UTC, inclusive
            end TEXT NOT NULL,            -- canonical UTC, exclusive
            expected INTEGER,             -- what the upstream counted for the window
            received INTEGER NOT NULL,    -- distinct records received
            rejected INTEGER NOT NULL,
            finished TEXT NOT NULL,
            PRIMARY KEY (source, query, start, end)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE harvest_watermarks (
            source TEXT NOT NULL,
            query TEXT NOT NULL,
            watermark TEXT NOT NULL,      -- upstream modification time the next --since-last starts from
            PRIMARY KEY (source, query)
        )
        """
    )


# The R*Tree has time (days since 1970, the item's [start, end]) and the collection (its rowid in
# `collections`) as dimensions beside the unwrapped box, so one probe narrows by area, window and
# collection at once; float32 coordinates are rounded outwards by SQLite, exact tests follow.
_RTREE_DDL = "CREATE VIRTUAL TABLE items_rtree USING rtree(pk, minx, maxx, miny, maxy, mint, maxt, minc, maxc)"
_RTREE_ROW = """
    SELECT {p}.pk, {p}.minx, CASE WHEN {p}.minx > {p}.maxx THEN {p}.maxx + 360 ELSE {p}.maxx END, {p}.miny, {p}.maxy,
        julianday({p}.start_datetime) - 2440587.5, julianday({p}.end_datetime) - 2440587.5, c.rowid, c.rowid
    FROM collections c WHERE c.id = {p}.collection AND {p}.minx IS NOT NULL
"""

# Every item's R*Tree entry, for INSERT INTO items_rtree (m003, fill_rtree).
_RTREE_BACKFILL = _RTREE_ROW.format(p="items").replace("FROM collections c", "FROM items, collections c")


def _m003_compact_bodies_time_index(db: sqlite_utils.Database) -> None:
    """Item bodies as zstd frames with per-collection dictionaries, WKB geometry, a 4D R*Tree.

    An existing catalogue is converted in place (one pass over its items, inside the migration's
    transaction); the space freed inside the file is reused by later writes (VACUUM returns it).
    """
    from catalog.bodies import TRAIN_MAX_SAMPLES, Bodies
    from catalog.columns import geometry_wkb

    conn = db.conn
    db.execute(
        "CREATE TABLE item_dictionaries "
        "(id INTEGER PRIMARY KEY, collection TEXT NOT NULL UNIQUE, content BLOB NOT NULL)"
    )
    db.execute("ALTER TABLE items ADD COLUMN geometry BLOB")  # WKB, for exact spatial tests
    db.execute("DROP TRIGGER items_rtree_update")
    db.execute("DROP TRIGGER items_rtree_delete")
    db.execute("DROP TABLE items_rtree")
    db.execute(_RTREE_DDL)
    db.execute(
        "CREATE TRIGGER items_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy, start_datetime, end_datetime "
        "ON items BEGIN DELETE FROM items_rtree WHERE pk = old.pk; "
        f"INSERT INTO items_rtree {_RTREE_ROW.format(p='new')}; END"
    )
    db.execute(
        "CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN DELETE FROM items_rtree WHERE pk = old.pk; END"
    )
    bodies = Bodies(conn)
    collections = [row[0] for row in conn.execute("SELECT DISTINCT collection FROM items")]
    for collection in collections:
        samples = conn.execute(
            "SELECT content FROM items WHERE collection = ? LIMIT ?", [collection, TRAIN_MAX_SAMPLES]
        )
        bodies.train(collection, [str(row[0]).encode() for row in samples])
    conn.create_function("eocat_encode", 2, lambda collection, text: bodies.encode(collection, str(text).encode()))
    conn.create_function("eocat_wkb", 1, lambda text: geometry_wkb([None if text is None else text.encode()])[0])
    db.execute(
        "UPDATE items SET geometry = eocat_wkb(json_extract(content, '$.geometry')), "
        "content = eocat_encode(collection, content) WHERE typeof(content) = 'text'"
    )
    db.execute(f"INSERT INTO items_rtree {_RTREE_BACKFILL}")


def _m004_grid_cell(db: sqlite_utils.Database) -> None:
    """The item's grid cell (:mod:`catalog.grid`), a virtual column: only its index (CORE_INDEXES) stores it."""
    from catalog.grid import CELL_SQL

    db.execute(f"ALTER TABLE items ADD COLUMN cell INTEGER GENERATED ALWAYS AS ({CELL_SQL}) VIRTUAL")


def _m005_collection_spans(db: sqlite_utils.Database) -> None:
    """Each collection's longest item span, where the store kept one for all (meta ``max_span_us``).

    A window is padded by the span of the collections a query can match: daily frames of one
    collection no longer widen every Sentinel-2 window by a day. Filled from the stored items (one
    pass over those that last: start and end differ).
    """
    from catalog.timeutil import parse_canonical, span_us

    db.execute("CREATE TABLE collection_spans (collection TEXT PRIMARY KEY, span_us INTEGER NOT NULL) WITHOUT ROWID")
    spans: dict[str, int] = {}
    rows = db.execute("SELECT collection, start_datetime, end_datetime FROM items WHERE start_datetime != end_datetime")
    for collection, first, last in rows:
        spans[collection] = max(spans.get(collection, 0), span_us(parse_canonical(first), parse_canonical(last)))
    db.conn.executemany("INSERT INTO collection_spans (collection, span_us) VALUES (?, ?)", list(spans.items()))
    db.execute("DELETE FROM meta WHERE key = 'max_span_us'")


# The items' key, (id, collection), as a named unique index: a bulk load drops it like the others and
# builds it after (catalog.store.Store.bulk_load). Kept as it went in, it grew the load's commits with
# the store: each batch of random ids rewrote thousands of its pages (3M items: 1.5 s of commits for
# the first 500k, 10.4 s for the last; without it 0.8 s each).
KEY_INDEX = "items_key"
KEY_INDEX_SQL = f"CREATE UNIQUE INDEX {KEY_INDEX} ON items (id, collection)"
_INLINE_KEY = "sqlite_autoindex_items_1"  # the index of m001's inline UNIQUE (id, collection)
_INLINE_KEY_SQL = re.compile(r",((?:\s|--[^\n]*\n)*)UNIQUE \(id, collection\)")


def key_index_missing(conn: sqlite3.Connection) -> bool:
    """Whether the items have no unique key index: a bulk load dropped it (writes then look up no stored
    rows; :meth:`catalog.store.Store.bulk_load` merges repeated keys and builds it)."""
    found = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND name IN (?, ?)",
        [KEY_INDEX, _INLINE_KEY],
    ).fetchone()[0]
    return not found


def _m006_named_key_index(db: sqlite_utils.Database) -> None:
    """The key as a named index (an inline UNIQUE cannot be dropped), in a store without items.

    A store with items keeps its inline constraint: only a load into an empty store drops the index,
    and dropping the constraint means copying every row (a 10M-item file would double in size).
    """
    conn = db.conn
    if conn.execute("SELECT 1 FROM items LIMIT 1").fetchone() is None:
        table = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone()[0]
        table, count = _INLINE_KEY_SQL.subn(r"\1", table)
        if count:
            dependants = conn.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'items' AND type IN ('index', 'trigger') "
                "AND sql IS NOT NULL"
            ).fetchall()
            conn.execute("DROP TABLE items")  # empty: nothing to copy (its indexes and triggers go with it)
            for sql in (table, *(row[0] for row in dependants)):
                conn.execute(sql)
    if key_index_missing(conn):
        conn.execute(KEY_INDEX_SQL)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m001_initial,
    _m002_harvest_state,
    _m003_compact_bodies_time_index,
    _m004_grid_cell,
    _m005_collection_spans,
    _m006_named_key_index,
]


# The sort indexes of _m001 and the grid indexes of _m004, by name: built on open when missing or
# when their columns differ from these (a bulk load drops them while it runs and builds them after;
# one that was killed leaves them to the next open). The grid indexes carry the bbox, the collection
# and the hot properties marked ``in_entries``, so a probe filters on index entries alone; so does a
# walk along the collection-datetime index. The datetime index carries the bbox and the collection:
# a walk over all collections reads, in the window's padding for long items, only the rows of the
# collections whose items last (catalog.search._pad_terms). The second grid index serves probes for given
# collections, which in a coarse cell would otherwise read every other collection's entries of the
# window (10M items, a 1-degree box over the archive: 22,653 entries of a 16-degree cell read for
# none of Sentinel-2).
_ENTRY_COLUMNS = [hot.column for hot in ENTRY_PROPERTIES]
CORE_INDEXES: dict[str, list[str]] = {
    "items_datetime": ["datetime", "collection", "minx", "miny", "maxx", "maxy"],
    "items_collection_datetime": ["collection", "datetime", "minx", "miny", "maxx", "maxy", *_ENTRY_COLUMNS],
    "items_cell": ["cell", "datetime", "collection", "minx", "miny", "maxx", "maxy", *_ENTRY_COLUMNS],
    "items_cell_collection": ["cell", "collection", "datetime", "minx", "miny", "maxx", "maxy", *_ENTRY_COLUMNS],
}
GRID_INDEXES = ("items_cell", "items_cell_collection")


# Meta key set while a bulk load leaves the R*Tree empty (catalog.store.Store.bulk_load): its entries
# are made after, in one ordered pass (fill_rtree); a load killed half-way leaves the fill to the next open.
RTREE_PENDING = "rtree_pending"


def rtree_pending(conn: sqlite3.Connection) -> bool:
    """Whether the R*Tree still waits for a bulk load's entries (searches then scan the bbox columns)."""
    return conn.execute("SELECT 1 FROM meta WHERE key = ?", [RTREE_PENDING]).fetchone() is not None


def mark_rtree_pending(conn: sqlite3.Connection) -> None:
    """Leave the R*Tree to :func:`fill_rtree`: writes skip it, searches scan the bbox columns."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", [RTREE_PENDING])


def fill_rtree(conn: sqlite3.Connection) -> None:
    """Make every item's R*Tree entry in one pass, in grid-cell and time order; clear RTREE_PENDING.

    The entries are packed into full nodes in that order (:mod:`catalog.rtree_pack`), so neighbouring
    items share nodes: against entries inserted as a load brings them (random in space), probes of
    the same R*Tree read a tenth of the nodes (3M items, 60 boxes of 0.1-60 degrees over a day to five
    years: 56 against 541 ms, measured with entries inserted in this order). Runs in the caller's
    transaction; replaces entries triggers made meanwhile.
    """
    from catalog.rtree_pack import pack

    pack(conn, "items_rtree", 4, conn.execute(f"{_RTREE_BACKFILL} ORDER BY items.cell, items.datetime"))
    conn.execute("DELETE FROM meta WHERE key = ?", [RTREE_PENDING])


def _item_columns(db: sqlite_utils.Database) -> set[str]:
    """The items table's columns, generated ones too (``table.columns`` leaves those out)."""
    return {row[1] for row in db.execute("PRAGMA table_xinfo(items)")}


def _item_indexes(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """The items table's indexes and their columns."""
    return {index.name: index.columns for index in db.table("items").indexes}


def _sync_hot_columns(db: sqlite_utils.Database) -> None:
    existing = _item_columns(db)
    for hot in HOT_PROPERTIES:  # columns first: a backfill then rewrites no index entries
        if hot.column not in existing:
            db.execute(f"ALTER TABLE items ADD COLUMN {hot.column} {hot.sqltype}")
            path = f'$.properties."{hot.name}"'
            # json_extract returns arrays as compact JSON text, the same form hot_values writes.
            db.execute(f"UPDATE items SET {hot.column} = json_extract(eocat_item(content), ?)", [path])
            existing.add(hot.column)
    indexes = _item_indexes(db)
    for name, columns in CORE_INDEXES.items():
        if name in indexes and indexes[name] != columns:
            db.execute(f"DROP INDEX {name}")
            del indexes[name]
        # a column a later migration adds is skipped: SQLite would index the quoted name as a string
        if name not in indexes and existing.issuperset(columns):
            db.table("items").create_index(columns, index_name=name)
    for hot in HOT_PROPERTIES:
        index = f"items_{hot.column}"
        if hot.indexed and index not in indexes:
            db.table("items").create_index([hot.column], index_name=index)
        elif not hot.indexed and index in indexes:
            db.execute(f"DROP INDEX {index}")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the store's schema up to date; return the schema version."""
    db = sqlite_utils.Database(conn)
    version = _schema_version(conn)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        # asked under the lock too: another process opening the same new file may have migrated meanwhile
        bring_up(conn, functools.partial(_behind, conn, number), functools.partial(_apply, db, number, migration))
    from catalog.bodies import Bodies

    conn.create_function("eocat_item", 1, Bodies(conn).decode, deterministic=True)
    bring_up(conn, lambda: _hot_columns_differ(db), lambda: _sync_hot_columns(db))
    bring_up(conn, lambda: rtree_pending(conn), lambda: fill_rtree(conn))
    return len(MIGRATIONS)


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _behind(conn: sqlite3.Connection, number: int) -> bool:
    return _schema_version(conn) < number


def _apply(db: sqlite_utils.Database, number: int, migration: Callable[[sqlite_utils.Database], None]) -> None:
    migration(db)
    db.execute(f"PRAGMA user_version = {number}")


def bring_up(conn: sqlite3.Connection, needed: Callable[[], bool], run: Callable[[], None]) -> None:
    """``run()`` in a write transaction when ``needed()``, asked again under the write lock (another
    process opening the same file may have done it while this one waited)."""
    if not needed():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if needed():
            run()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _hot_columns_differ(db: sqlite_utils.Database) -> bool:
    existing = _item_columns(db)
    indexes = _item_indexes(db)
    return any(indexes.get(name) != columns for name, columns in CORE_INDEXES.items()) or any(
        hot.column not in existing or (f"items_{hot.column}" in indexes) != hot.indexed for hot in HOT_PROPERTIES
    )
