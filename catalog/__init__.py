"""The eocat catalogue: stores (SQLite, pgstac) and everything that reads them. Knows STAC; knows no provider.

The public surface is what this package exports (``__all__``); every other module is internal and may
change without notice::

    from catalog import Query, Store, search, open_store

    store = open_store("data/eocat.db")                       # or Store(path), or "postgresql://…"
    page = search(store, Query.parse(collections="sentinel-2-l2a", bbox=[5, 45, 6, 46], limit=20))
    for item in page.items:                                   # plain dicts, the fast path
        ...
    store.upsert_items(items)                                 # dicts or pystac Items / ItemCollections

pystac objects in and out: :mod:`catalog.pystac_io` (``search`` → ``pystac.ItemCollection``,
``get_collection`` → ``pystac.Collection``). Materializing assets: :mod:`catalog.fetch`. The STAC
vocabulary eocat writes (version, extension URIs, auth schemes): :mod:`catalog.stac`. The HTTP layer
providers build on: :mod:`catalog.http`.
"""

from catalog.backend import CatalogStore, open_store
from catalog.errors import EocatError, InvalidItem, InvalidQuery, NotFound
from catalog.ingest import import_files
from catalog.search import Query, SearchPage, count, iter_items, search
from catalog.store import Store, WriteReport

__all__ = [
    "CatalogStore",
    "EocatError",
    "InvalidItem",
    "InvalidQuery",
    "NotFound",
    "Query",
    "SearchPage",
    "Store",
    "WriteReport",
    "count",
    "import_files",
    "iter_items",
    "open_store",
    "search",
]
