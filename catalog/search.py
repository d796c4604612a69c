"""One query model, compiled to SQL, used by the CLI, the Python API and the STAC API.

A :class:`Query` holds validated parameters (``Query.parse`` builds one from CLI/HTTP-style
values). :func:`search` returns one page with keyset tokens; :func:`iter_items` walks every
page; :func:`count` is exact. Pages never use OFFSET: a token carries the sort key of the
last row, so paging stays fast and stable while other rows are inserted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy
import orjson
import shapely

from catalog import grid
from catalog.columns import ENTRY_PROPERTIES, HOT_BY_NAME, index_days
from catalog.cql2sql import FilterCompiler, conjuncts_on, parse_filter, property_json_sql
from catalog.errors import InvalidQuery, NotFound
from catalog.gc_pause import gc_paused
from catalog.geo import Box, SpatialFilter, boxes_meet_sql, parse_bbox
from catalog.sqlite import binder
from catalog.timeutil import MAX_TIME, MIN_TIME, format_canonical, parse_canonical, parse_interval

if TYPE_CHECKING:
    from catalog.backend import CatalogStore
    from catalog.store import Store

_COLUMN_FIELDS = ("id", "collection", "datetime", "start_datetime", "end_datetime")


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Fields:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


DEFAULT_SORT = (SortKey("datetime", descending=True),)


@dataclass(frozen=True)
class Query:
    """Validated search parameters. Build it with :meth:`parse` from loosely typed input."""

    ids: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    bbox: Box | None = None
    intersects: dict[str, Any] | None = None
    datetime: tuple[str, str] | None = None  # canonical, inclusive
    filter: dict[str, Any] | None = None  # CQL2 JSON
    sortby: tuple[SortKey, ...] = DEFAULT_SORT
    fields: Fields | None = None
    limit: int = 10
    token: str | None = None
    #: bbox or intersects, parsed and prepared once; the compiler, the planner and the API reuse it
    area: SpatialFilter | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.area is None and self.bbox is not None:
            object.__setattr__(self, "area", SpatialFilter.from_bbox(self.bbox))
        elif self.area is None and self.intersects is not None:
            object.__setattr__(self, "area", SpatialFilter.from_geojson(self.intersects))

    @classmethod
    def parse(
        cls,
        *,
        ids: str | Sequence[str] | None = None,
        collections: str | Sequence[str] | None = None,
        bbox: str | Sequence[float] | None = None,
        intersects: str | dict[str, Any] | None = None,
        datetime: str | None = None,
        filter: str | dict[str, Any] | None = None,
        filter_lang: str | None = None,
        sortby: str | Sequence[str] | Sequence[dict[str, str]] | None = None,
        fields: str | dict[str, Sequence[str]] | None = None,
        limit: int | str | None = None,
        token: str | None = None,
    ) -> Query:
        """Validate STAC-style parameters (GET strings or POST JSON values); raise InvalidQuery."""
        if bbox is not None and intersects is not None:
            raise InvalidQuery("bbox and intersects cannot be used together: give one of them")
        geometry: dict[str, Any] | None = None
        if intersects is not None:
            geometry = orjson.loads(intersects) if isinstance(intersects, str) else intersects
            if not isinstance(geometry, dict):
                raise InvalidQuery("intersects must be a GeoJSON geometry object")
        return cls(
            ids=_split(ids),
            collections=_split(collections),
            bbox=parse_bbox(bbox) if bbox is not None and bbox != "" else None,
            intersects=geometry,
            datetime=parse_interval(datetime) if datetime else None,
            filter=parse_filter(filter, filter_lang) if filter not in (None, "") else None,
            sortby=_parse_sortby(sortby),
            fields=_parse_fields(fields),
            limit=_parse_limit(limit),
            token=token or None,
        )

    def spatial(self) -> SpatialFilter | None:
        return self.area


@dataclass
class SearchPage:
    items: list[dict[str, Any]]
    next_token: str | None = None
    prev_token: str | None = None
    matched: int | None = None
    #: spatial queries: how many index candidates the area has, when the planner saw them all
    candidates: int | None = None
    #: the backend's judgement that counting every match costs about what this page did (the API
    #: then reports ``numberMatched``); SQLite says no for areas with too many index candidates
    count_is_cheap: bool = True


def _split(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(part).strip() for part in parts if str(part).strip())


def _parse_limit(limit: int | str | None) -> int:
    if limit is None or limit == "":
        return 10
    try:
        number = int(limit)
    except (TypeError, ValueError):
        raise InvalidQuery(f"invalid limit {limit!r}: expected a positive integer") from None
    if number < 1:
        raise InvalidQuery(f"invalid limit {limit!r}: expected a positive integer")
    return number


def _parse_sortby(value: str | Sequence[str] | Sequence[dict[str, str]] | None) -> tuple[SortKey, ...]:
    if not value:
        return DEFAULT_SORT
    entries: list[Any] = value.split(",") if isinstance(value, str) else list(value)
    keys: list[SortKey] = []
    for entry in entries:
        if isinstance(entry, dict):
            name = str(entry.get("field", "")).strip()
            direction = str(entry.get("direction", "asc")).lower()
            if direction not in ("asc", "desc"):
                raise InvalidQuery(f"invalid sort direction {direction!r}: use asc or desc")
            keys.append(SortKey(name, direction == "desc"))
            continue
        text = str(entry).strip()
        if not text:
            continue
        descending = text.startswith("-")
        name = text.lstrip("+-").strip()
        keys.append(SortKey(name, descending))
    for key in keys:
        _check_sort_field(key.field)
    return tuple(keys) or DEFAULT_SORT


def _check_sort_field(name: str) -> None:
    if not name:
        raise InvalidQuery("empty sort field")
    if "\x00" in name:
        raise InvalidQuery(f"invalid sort field {name!r}: NUL bytes are not allowed")
    if name in ("geometry", "bbox", "assets", "links", "type", "stac_version", "properties"):
        raise InvalidQuery(f"cannot sort by {name!r}: sort by id, collection, datetime or a property")


def _parse_fields(value: str | dict[str, Sequence[str]] | None) -> Fields | None:
    if not value:
        return None
    if isinstance(value, dict):
        return Fields(tuple(value.get("include") or ()), tuple(value.get("exclude") or ()))
    include, exclude = [], []
    for part in value.split(","):
        part = part.strip()
        if part.startswith("-"):
            exclude.append(part[1:])
        elif part:
            include.append(part.lstrip("+"))
    return Fields(tuple(include), tuple(exclude))


# -- compilation (from the query alone) ---------------------------------------------------------


class Compiled:
    """WHERE terms and parameters of a query, compiled without a store.

    The top-level area is compiled to its exact test only; which index finds the candidates (the
    R*Tree, in time slabs or whole, or a scan along the sort order) is decided by the planner,
    which may look at the store's statistics.
    """

    def __init__(self, query: Query) -> None:
        self.query = query
        self.params: list[Any] = []
        self.where: list[str] = []
        if query.ids:
            # STAC API 1.0: ids are one filter among the others, all applied together (they no
            # longer override the rest, as they did before 1.0.0-beta.1).
            self.where.append(f"id IN ({self._bind_list(query.ids)})")
        if query.collections:
            self.where.append(f"collection IN ({self._bind_list(query.collections)})")
        if query.datetime is not None:
            start, end = query.datetime
            self.where += [f"start_datetime <= {self.bind(end)}", f"end_datetime >= {self.bind(start)}"]
        if query.filter is not None:
            self.where.append(FilterCompiler(self._filter_spatial_sql, self.params).compile(query.filter))
        # The top-level area's exact test runs in Python on the candidates in sort order (see
        # _exact_rows): a bbox inside a query rectangle matches outright, others go to shapely.
        self.inside = self.inside_sql(query.area) if query.area is not None else "0"

    def copy(self) -> Compiled:
        """A copy to add plan-specific terms to."""
        clone = object.__new__(Compiled)
        clone.query, clone.params, clone.where = self.query, list(self.params), list(self.where)
        clone.inside = self.inside
        return clone

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return f"?{len(self.params)}"

    def _bind_list(self, values: Sequence[Any]) -> str:
        return ", ".join(self.bind(value) for value in values)

    def inside_sql(self, spatial: SpatialFilter) -> str:
        """True for items whose bbox lies inside one of the area's rectangles (they match for sure)."""
        if not spatial.rectangles:
            return "0"
        return (
            "("
            + " OR ".join(
                f"(minx <= maxx AND minx >= {self.bind(x0)} AND maxx <= {self.bind(x1)} "
                f"AND miny >= {self.bind(y0)} AND maxy <= {self.bind(y1)})"
                for x0, y0, x1, y1 in spatial.rectangles
            )
            + ")"
        )

    def exact_sql(self, spatial: SpatialFilter, predicate: str) -> str:
        """The exact test in SQL: a bbox inside a query rectangle matches outright, others go to shapely."""
        exact = f"eocat_spatial('{predicate}', geometry, {self.bind(spatial.wkb)})"
        if predicate == "intersects" and spatial.rectangles:
            exact = f"({self.inside_sql(spatial)} OR {exact})"
        return exact

    def box_sql(self, spatial: SpatialFilter) -> str:
        """Bbox-column overlap with the area's index boxes (no R*Tree: usable under OR and NOT)."""
        return boxes_meet_sql(spatial.index_boxes(), self.bind)

    def _filter_spatial_sql(self, spatial: SpatialFilter, predicate: str, params: list[Any]) -> str:
        """CQL2 spatial operators: bbox columns, then the exact test."""
        assert params is self.params
        return f"({self.box_sql(spatial)} AND {self.exact_sql(spatial, predicate)})"

    def where_sql(self, extra: Sequence[str] = ()) -> str:
        terms = [*self.where, *extra]
        return " WHERE " + " AND ".join(terms) if terms else ""


def compile_query(query: Query) -> Compiled:
    """SQL for a query, from the query alone."""
    return Compiled(query)


# -- planning (may consult the store's statistics and its R*Tree) --------------------------------------

# A spatial query whose index probe yields at most this many candidates reads them all and sorts;
# more, and a datetime-sorted page is read in time slabs from its end, each slab probed alone. Grid
# probes are cheap, so a datetime-sorted page of the grid goes to slabs past GRID_WHOLE_CAP already
# (measured at 10M items, limit 100: a 1-5 degree box over 1-6 years 12.6 ms with 2,000, 5.7 with 200).
CANDIDATE_CAP = 2000
GRID_WHOLE_CAP = 200
_SLAB_SHRINK = 8.0  # a slab with too many candidates is cut to 1/8th
_SLAB_GROW_MAX = 16.0
_DAY_MARGIN = 1e-3  # days: the R*Tree's float32 boxes are rounded outwards anyway
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _days(canonical: str) -> float:
    return index_days(canonical)


def _canonical_days(days: float) -> str:
    try:
        return format_canonical(_EPOCH + timedelta(days=days))
    except OverflowError:
        return MIN_TIME if days < 0 else MAX_TIME


# A query area is looked up in the grid index (catalog.grid) when it spans at most this many cells
# (each an index seek); larger areas, where most items in the window match anyway, use the R*Tree.
# Measured at 1M items: a 20-degree box (about 1,000 cells) probes a year in 1.4 ms through the grid
# and 4-6 ms through the R*Tree; a continent (about 3,000 cells) is faster in the R*Tree.
GRID_MAX_CELLS = 2000


@dataclass
class Probe:
    """What the spatial indexes need for a query: boxes, collections and the grid cells to read."""

    boxes: list[Box]
    collections: tuple[int, int] | None  # min and max number (the R*Tree's); None: any collection
    names: tuple[str, ...] = ()  # the collections by name (the grid index's)
    cells: list[int] | None = None  # the grid cells to read; None: use the R*Tree
    empty: bool = False  # the query names no stored collection
    entries: tuple[str, tuple[Any, ...]] = ("", ())  # the filter's terms the grid entries test (SQL, values)


def _probe(store: Store, query: Query) -> Probe | None:
    if query.area is None:
        return None
    numbers: tuple[int, int] | None = None
    if query.collections:
        found = store.collection_numbers(query.collections)
        if not found:
            return Probe([], None, empty=True)
        numbers = (min(found), max(found))
    boxes = query.area.index_boxes()
    levels = store.grid_levels()
    if levels is not None and grid.cells_count(boxes, levels) <= GRID_MAX_CELLS:
        cells = grid.query_cells(boxes, levels)
        return Probe(boxes, numbers, query.collections, cells, entries=_entries_filter(store, query))
    if not store.rtree_ready():  # a bulk load is filling it: scan (_scan_terms)
        return None
    return Probe(boxes, numbers, query.collections)


# Properties the entries of the grid and collection-datetime indexes carry (catalog.migrations.CORE_INDEXES).
_ENTRY_PROPERTY_NAMES = {"collection", *(hot.name for hot in ENTRY_PROPERTIES)}


def _entries_filter(store: Store, query: Query) -> tuple[str, tuple[Any, ...]]:
    """The query filter's terms on properties the grid entries carry, and the window's padding terms
    (:func:`_pad_terms`), as SQL numbered from ?1: a probe tests them on the entries it reads, so a
    filtered page reads the rows of matching items only."""
    params: list[Any] = []
    terms = []
    conjuncts = conjuncts_on(query.filter, _ENTRY_PROPERTY_NAMES) if query.filter is not None else []
    if conjuncts:
        terms.append(FilterCompiler(_no_spatial_terms, params).compile({"op": "and", "args": conjuncts}))
    terms += _pad_terms(store, query, binder(params))
    return " AND ".join(terms), tuple(params)


def _no_spatial_terms(spatial: SpatialFilter, predicate: str, params: list[Any]) -> str:
    raise AssertionError("conjuncts_on keeps no spatial operator")


#: An index candidate: its key and, when the index knows it (the grid's), its sort datetime.
Candidate = tuple[int, str | None]


def _candidates(store: Store, probe: Probe, window: tuple[str, str], cap: int) -> list[Candidate] | None:
    """The items that may match the probe and whose sort datetime may lie in ``window`` (canonical,
    inclusive); None when there are more than ``cap``."""
    if probe.cells is not None:
        return store.grid_candidates(probe.cells, probe.boxes, probe.names, window, cap, probe.entries)  # type: ignore[return-value]
    days = (_days(window[0]), _days(window[1]))
    pks = store.rtree_candidates(probe.boxes, probe.collections, days, cap)
    return None if pks is None else [(pk, None) for pk in pks]


def _read_candidates(
    base: Compiled,
    found: list[Candidate],
    terms: Callable[[Compiled], list[str]],
    travel: list[tuple[str, bool]],
    token_values: list[Any] | None,
    token_pk: int | None,
    wanted: int,
    run: Any,
) -> list[Any]:
    """The first ``wanted`` matching rows among the candidates (and ``terms(statement)``), in travel order.

    Candidates with their sort datetime are read in that order, a few at a time (a page of a long
    window reads about its own length in rows, not every candidate); others all at once.
    """
    if not found:
        return []
    if travel[0][0] != "datetime" or found[0][1] is None:
        statement = base.copy()
        pks = orjson.dumps([pk for pk, _ in found]).decode()
        among = f"pk IN (SELECT value FROM json_each({statement.bind(pks)}))"
        return run(statement, [among, *terms(statement)], wanted, by_key=True)
    descending = travel[0][1]
    ordered = found[::-1] if descending else found
    if token_values is not None and token_values[0] is not None and token_pk is not None:
        edge = (str(token_values[0]), token_pk)  # skip what lies before the token (run's keyset drops it too)
        ordered = [c for c in ordered if ((c[1], c[0]) < edge if descending else (c[1], c[0]) > edge)]
    rows: list[Any] = []
    start, size = 0, 2 * wanted
    while start < len(ordered) and len(rows) < wanted:
        statement = base.copy()
        pks = orjson.dumps([pk for pk, _ in ordered[start : start + size]]).decode()
        chunk = [f"pk IN (SELECT value FROM json_each({statement.bind(pks)}))", *terms(statement)]
        rows += run(statement, chunk, wanted - len(rows), by_key=True)
        start, size = start + size, size * 4
    return rows


def _time_bounds(store: Store, query: Query) -> tuple[str, str]:
    """The query's window clamped to the stored items' sort datetimes (widened by the longest span of the
    collections it names, of all when none)."""
    low, high = store.datetime_range()
    span = timedelta(microseconds=store.max_span_us(query.collections))
    if query.datetime is not None:
        start, end = query.datetime
        low, high = max(low, _shift(start, -span)), min(high, _shift(end, span))
    return low, high


def _shift(canonical: str, delta: timedelta) -> str:
    moment = parse_canonical(canonical)
    try:
        return format_canonical(moment + delta)
    except OverflowError:
        return MIN_TIME if delta < timedelta(0) else MAX_TIME


def _sort_expression(key: SortKey, compiled: Compiled) -> str:
    name = key.field.removeprefix("properties.")
    if name in _COLUMN_FIELDS:
        return name
    hot = HOT_BY_NAME.get(name)
    if hot is not None:
        return hot.column
    return property_json_sql(name, compiled.bind)


def sort_signature(sortby: tuple[SortKey, ...]) -> str:
    """A short hash of the sort order, carried in paging tokens (a token is only valid for its own order)."""
    text = ",".join(("-" if key.descending else "+") + key.field for key in sortby)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def encode_token(direction: str, values: list[Any], pk: int, signature: str) -> str:
    """An opaque keyset paging token (every backend's): direction, the edge row's sort values and tie-breaker."""
    payload = orjson.dumps({"d": direction, "v": values, "pk": pk, "s": signature})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(token: str, signature: str) -> tuple[str, list[Any], int]:
    """The direction, sort values and tie-breaker of a token from :func:`encode_token`; 400 if foreign."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        direction, values, pk, sig = payload["d"], payload["v"], int(payload["pk"]), payload["s"]
    except (ValueError, KeyError, TypeError):
        raise InvalidQuery("invalid paging token: pass the token of a previous page unchanged") from None
    if sig != signature or direction not in ("next", "prev"):
        raise InvalidQuery("the paging token belongs to a different sort order: start again without it")
    return direction, list(values), pk


def _after(
    expressions: list[tuple[str, bool]], values: list[Any], pk: int, compiled: Compiled, nulls_last: bool
) -> str:
    """SQL true for rows strictly after the given key in the travel order.

    NULLs come last in the requested order, so first when walking it backwards (``prev``).
    """
    descending_pk = expressions[0][1] if expressions else False
    if _never_null(expressions) and all(desc == descending_pk for _, desc in expressions):
        # Row values let SQLite start the index scan right at the key.
        columns = ", ".join([expr for expr, _ in expressions] + ["pk"])
        bound = ", ".join([compiled.bind(value) for value in values] + [compiled.bind(pk)])
        return f"(({columns}) {'<' if descending_pk else '>'} ({bound}))"
    clause = f"pk {'<' if descending_pk else '>'} {compiled.bind(pk)}"
    for (expr, desc), value in reversed(list(zip(expressions, values, strict=True))):
        comparison = "<" if desc else ">"
        if value is None:
            greater = "0" if nulls_last else f"{expr} IS NOT NULL"
            equal = f"{expr} IS NULL"
        else:
            marker = compiled.bind(value)
            greater = f"{expr} {comparison} {marker}"
            if nulls_last:
                greater = f"({greater} OR {expr} IS NULL)"
            equal = f"{expr} = {marker}"
        clause = f"({greater} OR ({equal} AND {clause}))"
    return clause


def _nulls(expression: str, descending: bool, direction: str) -> str:
    """NULLs come last in the requested order, so first when walking it backwards."""
    if expression in _COLUMN_FIELDS:
        return ""
    return " NULLS FIRST" if direction == "prev" else " NULLS LAST"


def _never_null(expressions: list[tuple[str, bool]]) -> bool:
    return all(expr in _COLUMN_FIELDS for expr, _ in expressions)


def apply_fields(item: dict[str, Any], fields: Fields | None) -> dict[str, Any]:
    """Apply the fields extension: keep ``include`` paths (all when empty), then drop ``exclude``."""
    if fields is None:
        return item
    result: dict[str, Any]
    if fields.include:
        result = {}
        for path in fields.include:
            _copy_path(item, result, path.split("."))
    else:
        result = orjson.loads(orjson.dumps(item))
    for path in fields.exclude:
        if path not in fields.include:
            _drop_path(result, path.split("."))
    return result


def _copy_path(source: dict[str, Any], target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head not in source:
        return
    if not rest:
        target[head] = source[head]
    elif isinstance(source[head], dict):
        _copy_path(source[head], target.setdefault(head, {}), rest)


def _drop_path(target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        target.pop(head, None)
    elif isinstance(target.get(head), dict):
        _drop_path(target[head], rest)


# -- execution ---------------------------------------------------------------------------------


def check_collections(store: CatalogStore, query: Query) -> None:
    """Raise NotFound when the query names collections the catalogue does not have."""
    missing = sorted(set(query.collections) - store.collection_ids())
    if missing:
        known = ", ".join(sorted(store.collection_ids())) or "none yet"
        raise NotFound(f"unknown collection(s): {', '.join(missing)} (known: {known})")


def count(store: CatalogStore, query: Query) -> int:
    """The exact number of items matching the query (ignoring limit and token)."""
    return store.count(query)


def count_upto(store: CatalogStore, query: Query, cap: int) -> int | None:
    """The exact match count when it is below ``cap`` (cheap: stops counting there), else None."""
    return store.count_upto(query, cap)


def search(store: CatalogStore, query: Query, *, with_count: bool = False) -> SearchPage:
    """One page of results in sort order, with keyset tokens for the next and previous page."""
    return store.search_page(query, with_count=with_count)


# The table clause for rows looked up by a list of keys: SQLite would otherwise walk a sort index, or a
# collection's index that carries the filter, through the whole window to skip a step.
BY_KEY = "items NOT INDEXED"


def _index_terms(store: Store, compiled: Compiled, probe: Probe | None) -> tuple[str, list[str]] | None:
    """The table clause and terms that let an index drive a full evaluation: candidates' keys (from the
    grid or the R*Tree, looked up by key), grid cells, or a datetime range.

    None when the query cannot match anything. The table clause names the index: given the keys and a
    collection, SQLite would otherwise walk the collection's whole index (it carries the filter too).
    """
    query = compiled.query
    if probe is not None:
        if probe.empty:
            return None
        low, high = _time_bounds(store, query)
        if low > high:
            return None
        # the page's own probe first (remembered when it just ran: a page and its count probe once)
        page_cap = _whole_cap(probe, by_datetime=True)
        found = _candidates(store, probe, (low, high), page_cap)
        if found is None and page_cap < CANDIDATE_CAP:
            found = _candidates(store, probe, (low, high), CANDIDATE_CAP)
        if found is not None:
            pks = orjson.dumps([pk for pk, _ in found]).decode()
            return BY_KEY, [f"pk IN (SELECT value FROM json_each({compiled.bind(pks)}))"]
        if probe.cells is not None and query.area is not None:
            cells = compiled.bind(orjson.dumps(probe.cells).decode())
            index = "items_cell_collection" if probe.names else "items_cell"
            return f"items INDEXED BY {index}", [
                f"cell IN (SELECT value FROM json_each({cells}))",
                f"datetime >= {compiled.bind(low)}",
                f"datetime <= {compiled.bind(high)}",
                compiled.box_sql(query.area),
                *_pad_terms(store, query, compiled.bind),
            ]
        return BY_KEY, [_rtree_sql(compiled, probe, (_days(low), _days(high)))]
    return "items", _scan_terms(store, compiled)


def _rtree_sql(compiled: Compiled, probe: Probe, days: tuple[float, float]) -> str:
    """``pk IN (R*Tree lookup)`` for the probe's boxes, collections and time range."""
    parts = []
    for minx, miny, maxx, maxy in probe.boxes:
        part = (
            f"minx <= {compiled.bind(maxx)} AND maxx >= {compiled.bind(minx)} AND miny <= {compiled.bind(maxy)} "
            f"AND maxy >= {compiled.bind(miny)} AND mint <= {compiled.bind(days[1] + _DAY_MARGIN)} "
            f"AND maxt >= {compiled.bind(days[0] - _DAY_MARGIN)}"
        )
        if probe.collections is not None:
            part += (
                f" AND minc <= {compiled.bind(probe.collections[1])} AND maxc >= {compiled.bind(probe.collections[0])}"
            )
        parts.append(f"SELECT pk FROM items_rtree WHERE {part}")
    return f"pk IN ({' UNION ALL '.join(parts)})"


def _scan_terms(store: Store, compiled: Compiled) -> list[str]:
    """Terms of a query no spatial index serves (it has no area, or the R*Tree is being filled)."""
    area = compiled.query.area
    return ([] if area is None else [compiled.box_sql(area)]) + _datetime_terms(store, compiled)


def _datetime_terms(store: Store, compiled: Compiled) -> list[str]:
    # datetime lies within [start_datetime, end_datetime], whose length is at most max_span: a
    # redundant range on the indexed datetime column lets the sort index drive the scan.
    query = compiled.query
    if query.datetime is None:
        return []
    terms = _window_terms(query.datetime, store.max_span_us(query.collections), compiled.bind)
    return terms + _pad_terms(store, query, compiled.bind)


def _window_terms(window: tuple[str, str], span_us: int, bind: Callable[[Any], str]) -> list[str]:
    """``datetime`` within the window widened by ``span_us`` on each side (an open side: no term)."""
    start, end = window
    span = timedelta(microseconds=span_us)
    terms = []
    if start != MIN_TIME:
        terms.append(f"datetime >= {bind(_shift(start, -span))}")
    if end != MAX_TIME:
        terms.append(f"datetime <= {bind(_shift(end, span))}")
    return terms


# Collections whose items last longer than this (daily or monthly composites) are the only ones read
# in the part of a window's padding beyond it, when a query does not name collections.
SHORT_SPAN_US = 3600 * 10**6


def _pad_terms(store: Store, query: Query, bind: Callable[[Any], str]) -> list[str]:
    """For a window over all collections: a term on index entries (the datetime, cell and collection-datetime
    indexes carry the collection) that keeps, beyond the short collections' padding, only the entries of the
    collections whose items last long. The window is padded by the longest span of all (a day of daily
    frames), and without it each page would read the rows of a day of Sentinel entries around the window
    only to find they do not reach into it."""
    if query.collections or query.datetime is None:
        return []
    spans = store.collection_spans()
    long = [name for name, span in spans.items() if span > SHORT_SPAN_US]
    if not long:
        return []
    short = [span for span in spans.values() if span <= SHORT_SPAN_US]
    window = _window_terms(query.datetime, max(short, default=0), bind)  # binds nothing when empty
    if not window:
        return []
    names = ", ".join(bind(name) for name in long)
    # "+collection": not a term SQLite may answer from another index (it keeps the sort index's scan)
    return [f"({' AND '.join(window)} OR +collection IN ({names}))"]


def sqlite_count(store: Store, query: Query) -> int:
    number = _count(store, query, None)
    assert number is not None
    return number


def sqlite_count_upto(store: Store, query: Query, cap: int) -> int | None:
    number = _count(store, query, cap)
    return number if number is not None and number < cap else None


def _count(store: Store, query: Query, cap: int | None) -> int | None:
    """Exact count, or (with ``cap``) None once ``cap`` matches are found."""
    compiled = compile_query(query).copy()
    probe = _probe(store, query)
    plan = _index_terms(store, compiled, probe)
    if plan is None:
        return 0
    table, terms = plan
    if query.area is None:
        limit = f" LIMIT {compiled.bind(cap)}" if cap is not None else ""
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {table}{compiled.where_sql(terms)}{limit})"
        return int(store.conn.execute(sql, compiled.params).fetchone()[0])
    sql = f"SELECT {compiled.inside}, geometry FROM {table}{compiled.where_sql(terms)}"
    cursor = store.conn.execute(sql, compiled.params)
    total = 0
    while chunk := cursor.fetchmany(_EXACT_CHUNK):
        total += int(_exact_mask(query.area, [row[0] for row in chunk], [row[1] for row in chunk]).sum())
        if cap is not None and total >= cap:
            return None
    return total


_EXACT_CHUNK = 256


def _exact_mask(area: SpatialFilter, inside: list[int], geometries: list[bytes | None]) -> Any:
    """Which rows really intersect the area: inside a rectangle, or by shapely on their WKB (vectorized)."""
    mask = numpy.array(inside, dtype=bool)
    todo = ~mask
    if todo.any():
        blobs = numpy.array(geometries, dtype=object)[todo]
        shapes = shapely.from_wkb(blobs, on_invalid="ignore")
        mask[todo] = shapely.intersects(area.prepared, shapes)
    return mask


def _exact_rows(area: SpatialFilter, cursor: sqlite3.Cursor, need: int) -> list[Any]:
    """The first ``need`` rows (pk, keys..., inside, geometry) of a sorted cursor that match the area exactly."""
    found: list[Any] = []
    while len(found) < need and (chunk := cursor.fetchmany(_EXACT_CHUNK)):
        mask = _exact_mask(area, [row[-2] for row in chunk], [row[-1] for row in chunk])
        found += [row for row, keep in zip(chunk, mask, strict=True) if keep]
    return found[:need]


def sqlite_search(store: Store, query: Query, *, with_count: bool = False) -> SearchPage:
    compiled = compile_query(query)
    signature = sort_signature(query.sortby)
    base = compiled.copy()
    expressions = [(_sort_expression(key, base), key.descending) for key in query.sortby]
    direction, keyset, token_values, token_pk = "next", [], None, None
    if query.token:
        direction, values, pk = decode_token(query.token, signature)
        if len(values) != len(expressions):
            raise InvalidQuery("invalid paging token: pass the token of a previous page unchanged")
        travel = [(expr, desc != (direction == "prev")) for expr, desc in expressions]
        keyset = [_after(travel, values, pk, base, nulls_last=direction == "next")]
        token_values, token_pk = values, pk
    travel = [(expr, desc != (direction == "prev")) for expr, desc in expressions]
    pk_desc = travel[0][1]
    order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}{_nulls(expr, desc, direction)}" for expr, desc in travel)
    order += f", pk {'DESC' if pk_desc else 'ASC'}"
    key_columns = "".join(f", {expr}" for expr, _ in expressions)
    probe = _probe(store, query)
    need = query.limit + 1

    def run(statement: Compiled, terms: list[str], wanted: int, by_key: bool = False) -> list[Any]:
        """(pk, key values...) of the first ``wanted`` matching rows in travel order.

        ``by_key``: the terms list the candidates' keys; the rows are looked up by key (SQLite would
        otherwise walk a sort index through the whole window to skip its sort step)."""
        where = statement.where_sql([*keyset, *terms])
        table = BY_KEY if by_key else "items"
        if query.area is None:
            sql = f"SELECT pk{key_columns} FROM {table}{where} ORDER BY {order} LIMIT {statement.bind(wanted)}"
            return store.conn.execute(sql, statement.params).fetchall()
        sql = f"SELECT pk{key_columns}, {statement.inside}, geometry FROM {table}{where} ORDER BY {order}"
        return [row[:-2] for row in _exact_rows(query.area, store.conn.execute(sql, statement.params), wanted)]

    candidates: int | None = None
    rows: list[Any] = []
    if probe is not None and probe.empty:
        pass
    elif probe is not None:
        rows, candidates = _search_spatial(store, base, probe, travel, (token_values, token_pk), need, run)
    else:
        rows = run(base, _scan_terms(store, base), need)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if direction == "prev":
        rows.reverse()
    bodies = store.item_bodies([row[0] for row in rows])
    with gc_paused():  # a page's items hold no reference cycles: spare the collector a few passes over them
        items = [apply_fields(orjson.loads(bodies[row[0]]), query.fields) for row in rows]
    cheap = query.area is None or (candidates is not None and candidates < CANDIDATE_CAP)
    page = SearchPage(items, candidates=candidates, count_is_cheap=cheap)
    if rows:
        first, last = rows[0], rows[-1]
        has_next = more if direction == "next" else True
        has_prev = bool(query.token) if direction == "next" else more
        if has_next:
            page.next_token = encode_token("next", list(last[1:]), last[0], signature)
        if has_prev:
            page.prev_token = encode_token("prev", list(first[1:]), first[0], signature)
    if with_count:
        page.matched = sqlite_count(store, replace(query, token=None))
    return page


def _whole_cap(probe: Probe, *, by_datetime: bool) -> int:
    """How many candidates a page reads at once: past GRID_WHOLE_CAP, a datetime-sorted page of the grid
    walks the window in slabs (a grid slab costs a few index ranges; an R*Tree slab a tree walk)."""
    if probe.cells is not None and by_datetime:
        return min(GRID_WHOLE_CAP, CANDIDATE_CAP)
    return CANDIDATE_CAP


# A large area (the R*Tree's) in a large store is first read along the sort's datetime index (of
# given collections: the collection-datetime index), testing bbox columns and the filter's entry terms
# on the index entries, a budget of entries at a time: WALK_FIRST, then as many as the yield so far
# says the page still needs, up to WALK_MAX in all. Whatever the walk leaves of the window is read
# through the R*Tree (all candidates at once when few, else in time slabs). Measured at 10M items: a
# continent page 10-17 ms through R*Tree slabs, 4-8 ms along the datetime index; a sample of the
# window's density (the walk's former gate) cost 0.8 ms and misjudged areas whose items cluster in time.
WALK_FIRST = 4000
WALK_MAX = 40_000
# Smaller stores probe the R*Tree over the whole window first (cheap there): a page that sees every
# candidate lets the API count them (numberMatched).
WALK_MIN_ITEMS = 200_000


def _walks_first(store: Store) -> bool:
    """Whether the store is large enough for a large area's page to walk the datetime index first."""
    return store.last_key() >= WALK_MIN_ITEMS


@dataclass(frozen=True)
class _Span:
    """Sort datetimes a datetime-sorted walk reads: from ``near`` (where it starts; exclusive once the
    walk has read up to it) to ``far`` (inclusive), backwards when ``descending``."""

    near: str
    far: str
    descending: bool
    near_open: bool = False

    def terms(self, bind: Callable[[Any], str]) -> list[str]:
        near_op = ("<" if self.near_open else "<=") if self.descending else (">" if self.near_open else ">=")
        far_op = ">=" if self.descending else "<="
        return [f"datetime {near_op} {bind(self.near)}", f"datetime {far_op} {bind(self.far)}"]

    def bounds(self) -> tuple[str, str]:
        """(earliest, latest), inclusive."""
        return (self.far, self.near) if self.descending else (self.near, self.far)

    def empty(self) -> bool:
        earliest, latest = self.bounds()
        return earliest > latest

    def until(self, edge: str) -> _Span:
        """This span's part up to ``edge`` (inclusive)."""
        return replace(self, far=edge)

    def past(self, edge: str) -> _Span:
        """This span's part beyond ``edge``."""
        return replace(self, near=edge, near_open=True)


def _walk_edge(store: Store, probe: Probe, span: _Span, budget: int) -> str | None:
    """The sort datetime of the ``budget``-th index entry a walk of ``span`` reads (each given collection
    reading its share of the budget along its own index); None when the span holds fewer entries."""
    order = "DESC" if span.descending else "ASC"
    params: list[Any] = []
    where = " AND ".join(span.terms(binder(params)))
    if not probe.names:
        sql = f"SELECT datetime FROM items INDEXED BY items_datetime WHERE {where} ORDER BY datetime {order}"
        edges = [store.conn.execute(f"{sql} LIMIT 1 OFFSET {budget - 1}", params).fetchone()]
    else:
        share = max(1, budget // len(probe.names))
        sql = (
            f"SELECT datetime FROM items INDEXED BY items_collection_datetime WHERE collection = ?{len(params) + 1} "
            f"AND {where} "
            f"ORDER BY datetime {order} LIMIT 1 OFFSET {share - 1}"
        )
        edges = [store.conn.execute(sql, [*params, name]).fetchone() for name in probe.names]
    found = [str(row[0]) for row in edges if row is not None]
    if not found:
        return None
    return max(found) if span.descending else min(found)


def _walk(
    store: Store, probe: Probe, span: _Span, window_edge: str, need: int, read: Any
) -> tuple[list[Any], _Span | None]:
    """Rows read along the sort index a budget of entries at a time, and the span left (None: done).

    The first budget counts from the query window's own near edge (``window_edge``): the entries before
    it, within the longest span of an item, only match items that span into the window, and a day of
    them at 10M items would spend the budget on few matches."""
    rows: list[Any] = []
    budget, spent = WALK_FIRST, 0
    counted = span
    if window_edge < span.near if span.descending else window_edge > span.near:
        counted = replace(span, near=window_edge, near_open=False)
    while True:
        edge = _walk_edge(store, probe, counted, budget)
        rows += read(span if edge is None else span.until(edge), need - len(rows))
        if len(rows) >= need or edge is None:
            return rows, None
        span, spent = span.past(edge), spent + budget
        counted = span
        if not rows:
            return rows, span
        # as many entries as the yield so far says the rest of the page needs, with a margin
        budget = max(WALK_FIRST, math.ceil(1.5 * spent * (need - len(rows)) / len(rows)))
        if spent + budget > WALK_MAX:
            return rows, span


def _search_spatial(
    store: Store,
    base: Compiled,
    probe: Probe,
    travel: list[tuple[str, bool]],
    token: tuple[list[Any] | None, int | None],
    need: int,
    run: Any,
) -> tuple[list[Any], int | None]:
    """Rows of a spatial query's page: along the sort index, all candidates at once, or time slab by time slab."""
    query = base.query
    token_values, token_pk = token
    low, high = _time_bounds(store, query)
    if low > high:
        return [], 0
    by_datetime, descending = travel[0][0] == "datetime", travel[0][1]
    span = _Span(high, low, True) if descending else _Span(low, high, False)  # what a datetime-sorted walk covers
    if by_datetime and token_values is not None and token_values[0] is not None:  # the token's side of the window
        edge = str(token_values[0])
        span = replace(span, near=min(high, edge) if descending else max(low, edge))

    def along_sort_index(part: _Span | None, wanted: int) -> list[Any]:
        """Rows read along the sort order's index (within ``part`` of the walk), testing bbox columns on its entries.

        The part's bounds replace the window's on the sort datetime (they lie within them): SQLite
        ranges the index scan on one bound per side and tests any other on every entry it reads."""
        statement = base.copy()
        assert query.area is not None
        if part is None:
            span_terms = _datetime_terms(store, statement)
        else:
            span_terms = [*part.terms(statement.bind), *_pad_terms(store, query, statement.bind)]
        return run(statement, [statement.box_sql(query.area), *span_terms], wanted)

    rows: list[Any] = []
    walked = by_datetime and probe.cells is None and not span.empty() and _walks_first(store)
    if walked:
        start, end = query.datetime or (MIN_TIME, MAX_TIME)
        rows, left = _walk(store, probe, span, end if descending else start, need, along_sort_index)
        if left is None:
            return rows, None
        span = left

    rest = functools.partial(_terms_of, span) if walked else _no_terms  # what the walk left of the window
    cap = _whole_cap(probe, by_datetime=by_datetime)
    whole = _candidates(store, probe, (low, high), cap)
    if whole is not None:  # few candidates: read them (in order when their datetimes are known), done
        found = _read_candidates(base, whole, rest, travel, token_values, token_pk, need - len(rows), run)
        return rows + found, len(whole)
    if not by_datetime:
        return along_sort_index(None, need), None
    return rows + _slabs(store, base, probe, span, need - len(rows), run, cap), None


def _slabs(store: Store, base: Compiled, probe: Probe, span: _Span, need: int, run: Any, cap: int) -> list[Any]:
    """Walk ``span`` from its near end in time slabs whose index probe stays within ``cap``.

    A slab holds the rows whose sort datetime lies in it; an item overlapping the slab in time is a
    candidate, so every such row is found. Slabs shrink when a probe is too big and grow with the
    observed yield, so a dense area costs a few small probes and a sparse one a few wide ones.
    """
    descending = span.descending
    low, high = (_days(edge) for edge in span.bounds())
    width = max(min((high - low) * (4 * need) / cap, _slab_days(store, base.query.area, cap)), 1e-3)
    rows: list[Any] = []
    edge, part = (high if descending else low), span  # the walk's moving edge, and what is left past it
    while len(rows) < need:
        far = max(low, edge - width) if descending else min(high, edge + width)
        final = far == (low if descending else high)
        slab = part if final else part.until(_canonical_days(far))
        pks = _candidates(store, probe, slab.bounds(), cap)
        if pks is None and width > 1e-4:
            width /= _SLAB_SHRINK
            continue
        if pks is None:  # a moment with more candidates than the cap: scan it along the bbox columns
            statement = base.copy()
            terms = [statement.box_sql(base.query.area) if base.query.area else "1", *slab.terms(statement.bind)]
            found = run(statement, terms, need - len(rows))
        else:
            travel = [("datetime", descending)]
            in_slab = functools.partial(_terms_of, slab)
            found = _read_candidates(base, pks, in_slab, travel, None, None, need - len(rows), run)
        rows += found
        if final:
            break
        growth = _SLAB_GROW_MAX if not found else max(1.0, min(_SLAB_GROW_MAX, 1.5 * (need - len(rows)) / len(found)))
        if pks is not None and len(pks) * growth > cap:
            growth = max(1.0, cap / max(len(pks), 1))
        width *= growth
        edge, part = far, part.past(slab.far)
    return rows


def _slab_days(store: Store, area: SpatialFilter | None, cap: int) -> float:
    """How many days of the store hold about half ``cap`` items in the area, were its items spread evenly
    over the globe and the archive: the first slab's width. A page then starts with a probe that most
    likely holds (and its successors grow from its yield) instead of a few that overflow and shrink
    (10M items, a 20-degree box over the archive: four probes of 0.5 ms overflowed)."""
    items = store.last_key()  # about the item count
    first, last = store.datetime_range()
    if items == 0 or first >= last:
        return math.inf
    share = min(1.0, area.geometry.area / (360.0 * 180.0)) if area is not None else 1.0
    per_day = items * max(share, 1e-9) / (_days(last) - _days(first))
    return cap / 2 / per_day


def _terms_of(span: _Span, statement: Compiled) -> list[str]:
    return span.terms(statement.bind)


def _no_terms(statement: Compiled) -> list[str]:
    return []


def iter_items(store: CatalogStore, query: Query, *, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching item in sort order, paging by keyset under the hood."""
    current = replace(query, limit=page_size, token=None)
    while True:
        page = search(store, current)
        yield from page.items
        if page.next_token is None:
            return
        current = replace(current, token=page.next_token)
