"""The product set with its indexes: candidate narrowing by bisect, filter evaluation, ordering, result cache."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from emulators.cdse.product import ORDERABLE, PRODUCT_SCHEMA, Product
from emulators.odata import Node, Range, compile_filter, equals_of, parse_filter, range_of

OrderBy = tuple[tuple[str, bool], ...]  # ((key, descending), …)
_SECONDARY = ("ContentDate/End", "PublicationDate", "ModificationDate", "OriginDate")
_NONE = -(1 << 62)


class _Index:
    """Sorted values of one property with the primary positions they belong to."""

    def __init__(self, values: list[int], positions: list[int]) -> None:
        self.values = values
        self.positions = positions

    def span(self, r: Range) -> tuple[int, int]:
        lo = 0
        hi = len(self.values)
        if r.lo is not None:
            lo = (bisect_left if r.lo_inclusive else bisect_right)(self.values, r.lo)
        if r.hi is not None:
            hi = (bisect_right if r.hi_inclusive else bisect_left)(self.values, r.hi)
        return lo, max(lo, hi)


class ProductStore:
    """Products sorted by (ContentDate/Start, Id); thread-safe for concurrent queries and rare mutations."""

    def __init__(self, products: Iterable[Product] = (), cache_size: int = 64) -> None:
        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[str, OrderBy], list[int]] = OrderedDict()
        self._cache_size = cache_size
        self._build(list(products))

    # -- building
    def _build(self, products: list[Product]) -> None:
        ids: dict[str, Product] = {}
        for p in products:
            if p.id in ids:
                raise ValueError(f"duplicate product Id {p.id}")
            ids[p.id] = p
        products.sort(key=lambda p: (p.sort_start, p.id))
        by_collection: dict[str, list[int]] = {}
        for i, p in enumerate(products):
            by_collection.setdefault(p.collection, []).append(i)
        starts = [p.sort_start for p in products]
        self.products = products
        self.by_id = {p.id: i for i, p in enumerate(products)}
        self._start = _Index(starts, list(range(len(products))))
        self._collection = {c: _Index([starts[i] for i in pos], pos) for c, pos in by_collection.items()}
        self._max_duration = max(
            ((p.end - p.start) for p in products if p.start is not None and p.end is not None), default=0
        )
        self._secondary: dict[str, _Index] = {}
        self._by_name: dict[str, int] | None = None
        self._by_asset: dict[str, int] | None = None
        self._cache.clear()

    def replace(self, products: Iterable[Product]) -> None:
        """Swap in a new product set (indexes rebuilt, cached results dropped)."""
        with self._lock:
            self._build(list(products))

    def __len__(self) -> int:
        return len(self.products)

    @property
    def collections(self) -> list[str]:
        """Collections present in the product set."""
        return sorted(self._collection)

    def get(self, product_id: str) -> Product | None:
        """The product with this Id (case-insensitive), or None."""
        pos = self.by_id.get(product_id.lower())
        return None if pos is None else self.products[pos]

    def by_name(self, name: str) -> Product | None:
        """The product with this Name, or None."""
        with self._lock:
            if self._by_name is None:
                self._by_name = {p.name: i for i, p in enumerate(self.products)}
            pos = self._by_name.get(name)
        return None if pos is None else self.products[pos]

    def by_asset(self, asset_id: str) -> Product | None:
        """The product owning the asset (quicklook) with this Id, or None (index built on first use)."""
        with self._lock:
            if self._by_asset is None:
                self._by_asset = {a.lower(): i for i, p in enumerate(self.products) for a in p.asset_ids()}
            pos = self._by_asset.get(asset_id.lower())
        return None if pos is None else self.products[pos]

    # -- querying
    def query(self, filter_text: str | None, orderby: OrderBy = ()) -> list[int]:
        """Positions of matching products in response order; raises FilterError for a bad filter.

        Without ``orderby`` the order is (ContentDate/Start, Id); with it, each key then Id ascending.
        """
        key = (filter_text or "", orderby)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            products = self.products
        node = parse_filter(filter_text) if filter_text else None
        matches = self._match(node) if node is not None else list(range(len(products)))
        ordered = self._order(matches, orderby)
        with self._lock:
            if products is self.products:
                self._cache[key] = ordered
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return ordered

    def _match(self, node: Node) -> list[int]:
        predicate = compile_filter(node, PRODUCT_SCHEMA)
        products = self.products
        candidates = self._candidates(node)
        return [i for i in candidates if predicate(products[i])]

    def _candidates(self, node: Node) -> Sequence[int]:
        colls = equals_of(node, "Collection/Name")
        if colls is not None and len(colls) != 1:
            return []
        index = self._start
        if colls:
            found = self._collection.get(next(iter(colls)))
            if found is None:
                return []
            index = found
        r = _start_range(node, self._max_duration)
        lo, hi = index.span(r)
        best: Sequence[int] = index.positions[lo:hi]
        for path in _SECONDARY:
            r2 = range_of(node, path)
            if not r2.bounded:
                continue
            sec = self._secondary_index(path)
            a, b = sec.span(r2)
            if b - a < len(best):
                best = sorted(sec.positions[a:b])
        return best

    def _secondary_index(self, path: str) -> _Index:
        with self._lock:
            if path not in self._secondary:
                get = PRODUCT_SCHEMA.fields[path].get
                pairs = sorted((v if (v := get(p)) is not None else _NONE, i) for i, p in enumerate(self.products))
                self._secondary[path] = _Index([v for v, _ in pairs], [i for _, i in pairs])
            return self._secondary[path]

    def _order(self, matches: list[int], orderby: OrderBy) -> list[int]:
        if not orderby or orderby == (("ContentDate/Start", False),):
            return matches  # already (Start, Id) ascending
        products = self.products
        out = sorted(matches, key=lambda i: products[i].id)
        for key, desc in reversed(orderby):
            get = ORDERABLE[key]
            out.sort(key=lambda i: _sortable(get(products[i])), reverse=desc)
        return out

    def render(self, positions: Sequence[int], expand: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Records for positions returned by :meth:`query`."""
        products = self.products
        return [products[i].render(expand) for i in positions]


def _sortable(value: int | None) -> int:
    return _NONE if value is None else value


def _start_range(node: Node, max_duration: int) -> Range:
    """Bounds on ContentDate/Start, including those implied by ContentDate/End (Start <= End <= Start + max)."""
    r = range_of(node, "ContentDate/Start")
    end = range_of(node, "ContentDate/End")
    lo, lo_inc, hi, hi_inc = r.lo, r.lo_inclusive, r.hi, r.hi_inclusive
    if end.hi is not None and (hi is None or end.hi < hi):
        hi, hi_inc = end.hi, end.hi_inclusive
    if end.lo is not None:
        implied = end.lo - max_duration
        if lo is None or implied > lo:
            lo, lo_inc = implied, True
    return Range(lo, lo_inc, hi, hi_inc)
