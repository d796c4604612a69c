"""Bringing a PostgreSQL database to pgstac's schema plus eocat's own tables (idempotent).

``pypgstac migrate`` installs or upgrades pgstac to the version of the installed ``pypgstac``
package (the pin). eocat's hot properties (:mod:`catalog.columns`) are registered in
``pgstac.queryables`` with their types, so filters compare them as numbers or text and pgstac
indexes the selective ones on every partition. Harvest checkpoints live in schema ``eocat``.
A read-only database (a hot standby) that is already set up is only checked, never written.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg

from catalog.columns import HOT_PROPERTIES
from catalog.errors import EocatError

SCHEMA_LOCK = 0x6E0CA7  # advisory lock key: one process sets the schema up at a time
EOCAT_SCHEMA_VERSION = 1

_EOCAT_TABLES = """
CREATE SCHEMA IF NOT EXISTS eocat;
CREATE TABLE IF NOT EXISTS eocat.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS eocat.harvest_windows (
    source text NOT NULL, query text NOT NULL, start text NOT NULL, "end" text NOT NULL,
    expected bigint, received bigint NOT NULL, rejected bigint NOT NULL, updated text NOT NULL,
    PRIMARY KEY (source, query, start, "end")
);
-- store keys of items (kept in pgstac's items.private, stable across updates; the export uses them)
CREATE SEQUENCE IF NOT EXISTS eocat.item_keys;
CREATE TABLE IF NOT EXISTS eocat.harvest_watermarks (
    source text NOT NULL, query text NOT NULL, watermark text NOT NULL, PRIMARY KEY (source, query)
);
"""


def pgstac_version() -> str:
    from pypgstac.version import __version__

    return str(__version__)


def _installed(conn: psycopg.Connection[Any]) -> tuple[str | None, int | None]:
    """(pgstac version, eocat schema version) of the database; None where absent."""
    version = None
    if conn.execute("SELECT to_regproc('pgstac.get_version') IS NOT NULL").fetchone() == (True,):
        row = conn.execute("SELECT pgstac.get_version()").fetchone()
        version = row[0] if row else None
    eocat = None
    if conn.execute("SELECT to_regclass('eocat.meta') IS NOT NULL").fetchone() == (True,):
        row = conn.execute("SELECT value FROM eocat.meta WHERE key = 'schema_version'").fetchone()
        eocat = int(row[0]) if row else None
    return version, eocat


def hot_queryables() -> list[tuple[str, dict[str, Any], str | None, str | None]]:
    """(name, JSON schema, property_wrapper, index type) of every hot property."""
    rows: list[tuple[str, dict[str, Any], str | None, str | None]] = []
    for hot in HOT_PROPERTIES:
        if hot.is_array:
            definition: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
            wrapper = "to_text_array"
        elif hot.sqltype == "REAL":
            definition, wrapper = {"type": "number"}, "to_float"
        elif hot.sqltype == "INTEGER":
            # to_float, not pgstac's to_int (which floors): a comparison with 2.5 must not match 2
            definition, wrapper = {"type": "integer"}, "to_float"
        else:
            definition, wrapper = {"type": "string"}, "to_text"
        rows.append((hot.name, definition, wrapper, "BTREE" if hot.indexed and not hot.is_array else None))
    return rows


def ensure_schema(url: str, conn: psycopg.Connection[Any]) -> None:
    """Install/upgrade pgstac and eocat's tables when needed (serialised by an advisory lock)."""
    wanted = pgstac_version()
    if _installed(conn) == (wanted, EOCAT_SCHEMA_VERSION):
        return
    if conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,):
        raise EocatError(f"the database is a read-only standby without pgstac {wanted}: set up the primary first")
    conn.execute("SELECT pg_advisory_lock(%s)", [SCHEMA_LOCK])
    try:
        version, eocat = _installed(conn)
        if version != wanted:
            _migrate(url)
        if eocat != EOCAT_SCHEMA_VERSION:
            with conn.transaction():
                conn.execute(_EOCAT_TABLES)
                for name, definition, wrapper, index in hot_queryables():
                    conn.execute(
                        "SELECT pgstac.upsert_queryable(%s, %s::jsonb, %s, %s)",
                        [name, orjson.dumps(definition).decode(), wrapper, index],
                    )
                conn.execute(
                    "INSERT INTO eocat.meta VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(EOCAT_SCHEMA_VERSION)],
                )
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [SCHEMA_LOCK])


def _migrate(url: str) -> None:
    from pypgstac.db import PgstacDB
    from pypgstac.migrate import Migrate

    db = PgstacDB(dsn=url)
    try:
        Migrate(db).run_migration()
    finally:
        if db.connection is not None:  # checked out of the pool, so pool.close() would leave it open
            db.connection.close()
        db.close()
