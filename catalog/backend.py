"""The store interface: what every catalogue backend offers to everything above it.

Two backends implement it: :class:`catalog.store.Store` (SQLite, the embedded default) and the
pgstac store (PostgreSQL + PostGIS, ``postgresql://`` URLs). Harvesters, the fetch layer, the
STAC API, the Parquet export and the CLI talk to this interface only; :func:`open_store` picks the
backend from the ``--db`` value.

Contract (both backends are tested against the same suite):

- **Items** are stored whole and read back byte-for-byte as given (after eocat's merge rule).
  ``upsert_items`` takes dicts, ``(where, item)`` pairs or :class:`~catalog.store.Rejected`
  records, writes in batches (each batch all-or-nothing), merges an item that already exists
  (:mod:`catalog.merge`: a burst harvested from CDSE then ASF is one item with both sets of
  assets) and counts bad records in the returned report instead of raising. Concurrent writers
  (other processes) never lose each other's assets: the read-merge-write of one key is atomic.
- **Search** takes the one :class:`~catalog.search.Query` model and returns a
  :class:`~catalog.search.SearchPage` with opaque keyset tokens; ``count`` is exact and
  ``count_upto`` stops counting at ``cap`` (None when the cap is reached).
- **Checkpoints** of harvests (finished windows and watermarks) live in the catalogue, so a
  resumed harvest on any machine sees them.
- **Errors**: :class:`~catalog.errors.NotFound` for a missing collection or item,
  :class:`~catalog.errors.InvalidItem` / :class:`~catalog.errors.InvalidQuery` for bad input.

Library users normally call :func:`catalog.search.search` / ``count`` / ``iter_items`` with a
store; those delegate to the methods below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from catalog.checkpoints import FinishedWindow
    from catalog.search import Query, SearchPage
    from catalog.store import MonthSummary, PartitionKeys, WriteReport

PGSTAC_SCHEMES = ("postgresql://", "postgres://")


@runtime_checkable
class CatalogStore(Protocol):
    """One eocat catalogue, whatever holds it. Use one instance per thread."""

    #: a display name for messages (a file path, or a URL without its password)
    location: str

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None: ...
    def __enter__(self) -> CatalogStore: ...
    def __exit__(self, *exc: object) -> None: ...

    # -- collections ---------------------------------------------------------------------------
    def upsert_collection(self, collection: dict[str, Any], *, mode: Literal["merge", "replace"] = "merge") -> None: ...
    def get_collection(self, collection_id: str) -> dict[str, Any]: ...
    def collections(self) -> list[dict[str, Any]]: ...
    def collection_ids(self) -> set[str]: ...
    def delete_collection(self, collection_id: str) -> int: ...
    def refresh_extent(self, collection_id: str) -> None: ...
    def item_counts(self) -> dict[str, int]:
        """Items per collection (collections without items may be absent)."""
        ...

    # -- items ---------------------------------------------------------------------------------
    def upsert_items(
        self,
        items: Iterable[Any],
        *,
        mode: Literal["merge", "replace"] = "merge",
        batch_size: int = ...,
        report: WriteReport | None = None,
        collections: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> WriteReport: ...
    def long_writes(self) -> AbstractContextManager[None]:
        """A long run of upserts follows (a harvest): the store may arrange its housekeeping for it."""
        ...

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]: ...
    def delete_item(self, collection_id: str, item_id: str) -> None: ...
    def count_items(self, collection_id: str | None = None) -> int: ...

    # -- search --------------------------------------------------------------------------------
    def search_page(self, query: Query, *, with_count: bool = False) -> SearchPage: ...
    def count(self, query: Query) -> int: ...
    def count_upto(self, query: Query, cap: int) -> int | None: ...

    # -- harvest checkpoints -------------------------------------------------------------------
    def finished_windows(self, source: str, query: str) -> list[FinishedWindow]: ...
    def finish_window(self, source: str, query: str, window: FinishedWindow) -> None: ...
    def reset_windows(self, source: str, query: str) -> None: ...
    def watermark(self, source: str, query: str) -> str | None: ...
    def set_watermark(self, source: str, query: str, value: str) -> None: ...

    # -- bulk reads (the GeoParquet export) ------------------------------------------------------
    def month_summaries(self, *, with_updated: bool = False) -> list[MonthSummary]:
        """Per collection and month (``YYYY-MM``) of the sort datetime: count, key sum, last write."""
        ...

    def partition_keys(self, collection: str, start: str, end: str) -> PartitionKeys:
        """Keys, ids and boxes of a collection's items with ``start <= datetime < end``."""
        ...

    def partition_key_chunks(
        self, collection: str, start: str, end: str, chunk: int = 50_000
    ) -> Iterator[PartitionKeys]:
        """:meth:`partition_keys` in chunks of at most ``chunk`` items (bounded memory)."""
        ...

    def item_texts(self, keys: Sequence[int]) -> dict[int, str]:
        """The stored JSON text of the items with these keys."""
        ...

    def sample_item_texts(self, collection: str, size: int) -> list[str]:
        """About ``size`` JSON texts spread over a collection."""
        ...

    def iter_item_texts(self, collection: str, chunk: int = 20_000) -> Iterator[list[str]]:
        """Every JSON text of a collection, in chunks."""
        ...

    # -- maintenance ---------------------------------------------------------------------------
    def optimize(self) -> None:
        """Refresh planner statistics after large loads (cheap)."""
        ...


def is_pgstac(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(PGSTAC_SCHEMES)


def open_store(target: str | Path, *, must_exist: bool = False) -> CatalogStore:
    """Open the catalogue named by a ``--db`` value: a ``postgresql://`` URL or a SQLite path.

    ``must_exist`` (read-only commands) raises :class:`~catalog.errors.NotFound` instead of
    creating an empty catalogue for a mistyped path.
    """
    if is_pgstac(target):
        from catalog.pgstac import PgstacStore  # type: ignore[import-not-found,unused-ignore]

        store: CatalogStore = PgstacStore(str(target))
        return store
    from catalog.errors import NotFound
    from catalog.store import Store

    path = Path(target)
    if must_exist and str(target) != ":memory:" and not path.is_file():
        raise NotFound(f"no catalogue at {path} (give --db PATH or set EOCAT_DB; `eocat import` creates one)")
    return Store(path)
