"""The eocat catalogue: the SQLite store and everything that reads it.

Knows STAC; knows no provider. Entry points: :class:`catalog.store.Store` and
:func:`catalog.search.search`.
"""

from catalog.errors import EocatError, InvalidQuery, NotFound
from catalog.search import Query, SearchPage, search
from catalog.store import Store

__all__ = ["EocatError", "InvalidQuery", "NotFound", "Query", "SearchPage", "Store", "search"]
