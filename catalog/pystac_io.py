"""pystac at the library boundary: Python users hand in and get back ``pystac`` objects.

Inside, eocat works on plain dicts (the fast path: parsed once with orjson, stored as given); this module
converts only where a user meets the catalogue::

    import pystac
    from catalog import Store, pystac_io

    store = Store("data/eocat.db")
    store.upsert_items(pystac.ItemCollection.from_file("items.json"))   # pystac objects or dicts
    found = pystac_io.search(store, collections="sentinel-2-l2a", bbox=[5, 45, 6, 46], limit=50)
    for item in found:                                                  # a pystac.ItemCollection
        print(item.id, item.datetime)
    s2 = pystac_io.get_collection(store, "sentinel-2-l2a")              # a pystac.Collection

Conversions never resolve or rewrite hrefs (``transform_hrefs=False``) and never migrate: what is stored
is what the user gave. pystac writes ``datetime`` in its own RFC 3339 spelling and drops empty
``summaries``; everything else survives a round trip unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pystac

if TYPE_CHECKING:
    from catalog.backend import CatalogStore
    from catalog.search import Query, SearchPage

__all__ = [
    "collection_dict",
    "collections",
    "get_collection",
    "item_collection",
    "item_dict",
    "item_dicts",
    "search",
    "search_all",
    "to_collection",
    "to_item",
]


def item_dict(item: Any) -> Any:
    """A STAC item as a plain dict: a ``pystac.Item`` is serialized; anything else passes through unchanged
    (dicts, and input the store's validation will reject with a reason)."""
    if isinstance(item, pystac.Item):
        return item.to_dict(include_self_link=False, transform_hrefs=False)
    return item


def item_dicts(items: Iterable[Any]) -> Iterator[Any]:
    """Items as dicts, expanding ``pystac.ItemCollection``s; other entries (dicts, ``(where, item)``
    pairs, rejected records) pass through untouched, so dict streams stay on the fast path."""
    if isinstance(items, pystac.ItemCollection):
        items = items.items
    for entry in items:
        if type(entry) is dict or type(entry) is tuple:  # the bulk paths: items and (where, item) pairs
            yield entry
        elif isinstance(entry, pystac.Item):
            yield entry.to_dict(include_self_link=False, transform_hrefs=False)
        elif isinstance(entry, pystac.ItemCollection):
            yield from item_dicts(entry.items)
        else:
            yield entry


def collection_dict(collection: Any) -> Any:
    """A STAC collection as a plain dict: a ``pystac.Collection`` is serialized; anything else passes
    through unchanged (validation is the store's)."""
    if isinstance(collection, pystac.Collection):
        return collection.to_dict(include_self_link=False, transform_hrefs=False)
    return collection


def to_item(item: dict[str, Any]) -> pystac.Item:
    """A ``pystac.Item`` of a stored item (the dict is not modified)."""
    return pystac.Item.from_dict(item, migrate=False)


def to_collection(collection: dict[str, Any]) -> pystac.Collection:
    """A ``pystac.Collection`` of a stored collection document (the dict is not modified)."""
    return pystac.Collection.from_dict(collection, migrate=False)


def item_collection(items: Iterable[dict[str, Any]] | SearchPage) -> pystac.ItemCollection:
    """A ``pystac.ItemCollection`` of item dicts or of a search page (the dicts are consumed: they become
    the items' fields without a copy)."""
    dicts: Iterable[dict[str, Any]] = items.items if hasattr(items, "items") else items
    return pystac.ItemCollection(
        [pystac.Item.from_dict(item, preserve_dict=False, migrate=False) for item in dicts], clone_items=False
    )


def _query(query: Query | None, params: dict[str, Any]) -> Query:
    from catalog.search import Query

    if query is not None and params:
        raise TypeError("pass either a Query or search parameters, not both")
    return query if query is not None else Query.parse(**params)


def search(store: CatalogStore, query: Query | None = None, **params: Any) -> pystac.ItemCollection:
    """One page of a search as a ``pystac.ItemCollection`` (``params`` as :class:`catalog.search.Query`'s:
    ``collections``, ``ids``, ``bbox``, ``intersects``, ``datetime``, ``filter``, ``sortby``, ``limit`` …)."""
    from catalog.search import search as search_page

    return item_collection(search_page(store, _query(query, params)))


def search_all(store: CatalogStore, query: Query | None = None, **params: Any) -> pystac.ItemCollection:
    """Every item a search matches (all pages) as one ``pystac.ItemCollection``."""
    from catalog.search import iter_items

    return item_collection(iter_items(store, _query(query, params)))


def get_collection(store: CatalogStore, collection_id: str) -> pystac.Collection:
    """A stored collection as a ``pystac.Collection``; :class:`catalog.errors.NotFound` if absent."""
    return to_collection(store.get_collection(collection_id))


def collections(store: CatalogStore) -> list[pystac.Collection]:
    """Every stored collection as a ``pystac.Collection``."""
    return [to_collection(document) for document in store.collections()]
