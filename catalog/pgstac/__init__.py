"""The pgstac backend: an eocat catalogue in PostgreSQL + PostGIS, in pgstac's schema.

``eocat --db postgresql://user@host/db`` opens it (see :func:`catalog.backend.open_store`).
The schema is pgstac's (installed and upgraded by ``pypgstac migrate``, version pinned by the
``pypgstac`` package), so stac-fastapi-pgstac and every other pgstac tool read the same
database; eocat adds only its harvest checkpoints, in a schema of its own (``eocat``).
"""

from catalog.pgstac.store import PgstacStore, redact_url

__all__ = ["PgstacStore", "redact_url"]
