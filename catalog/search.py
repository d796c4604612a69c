"""One query model, compiled to SQL, used by the CLI, the Python API and the STAC API.

A :class:`Query` holds validated parameters (``Query.parse`` builds one from CLI/HTTP-style
values). :func:`search` returns one page with keyset tokens; :func:`iter_items` walks every
page; :func:`count` is exact. Pages never use OFFSET: a token carries the sort key of the
last row, so paging stays fast and stable while other rows are inserted.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson

from catalog.columns import HOT_BY_NAME
from catalog.cql2sql import FilterCompiler, parse_filter, property_json_sql
from catalog.errors import InvalidQuery, NotFound
from catalog.geo import Box, SpatialFilter, parse_bbox
from catalog.timeutil import MAX_TIME, MIN_TIME, format_canonical, parse_canonical, parse_interval

if TYPE_CHECKING:
    from catalog.backend import CatalogStore
    from catalog.store import Store

# Above this many R*Tree hits a spatial filter is applied row by row along the sort order
# instead of collecting every candidate first (see bench/ for the measurement behind it).
INDEX_PROBE_CAP = 4000
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
            SpatialFilter.from_geojson(geometry)  # validate now, fail with 400
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
        if self.bbox is not None:
            return SpatialFilter.from_bbox(self.bbox)
        if self.intersects is not None:
            return SpatialFilter.from_geojson(self.intersects)
        return None


@dataclass
class SearchPage:
    items: list[dict[str, Any]]
    next_token: str | None = None
    prev_token: str | None = None
    matched: int | None = None


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


# -- compilation -------------------------------------------------------------------------------


class _Compiled:
    """WHERE clause and parameters for one query against one store."""

    def __init__(self, store: Store, query: Query) -> None:
        self.store = store
        self.params: list[Any] = []
        self.where: list[str] = []
        if query.ids:
            # STAC API 1.0: ids are one filter among the others, all applied together (they no
            # longer override the rest, as they did before 1.0.0-beta.1).
            self.where.append(f"id IN ({self._bind_list(query.ids)})")
        if query.collections:
            self.where.append(f"collection IN ({self._bind_list(query.collections)})")
        spatial = query.spatial()
        if spatial is not None:
            self.where.append(self.spatial_sql(spatial, "intersects", self.params))
        if query.datetime is not None:
            self.where.extend(self._datetime_terms(*query.datetime))
        if query.filter is not None:
            self.where.append(FilterCompiler(self.spatial_sql, self.params).compile(query.filter))

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return f"?{len(self.params)}"

    def _bind_list(self, values: Sequence[Any]) -> str:
        return ", ".join(self.bind(value) for value in values)

    def _datetime_terms(self, start: str, end: str) -> list[str]:
        terms = [f"start_datetime <= {self.bind(end)}", f"end_datetime >= {self.bind(start)}"]
        # datetime lies within [start_datetime, end_datetime], whose length is at most max_span:
        # a redundant range on the indexed datetime column lets the sort index drive the scan.
        span = timedelta(microseconds=self.store.max_span_us())
        if start != MIN_TIME:
            terms.append(f"datetime >= {self.bind(_shift(start, -span))}")
        if end != MAX_TIME:
            terms.append(f"datetime <= {self.bind(_shift(end, span))}")
        return terms

    def spatial_sql(self, spatial: SpatialFilter, predicate: str, params: list[Any]) -> str:
        """Index prefilter plus exact shapely test; shared with CQL2 spatial operators."""
        assert params is self.params
        boxes = spatial.index_boxes()
        exact = f"eocat_spatial('{predicate}', json_extract(content, '$.geometry'), {self.bind(spatial.wkb)})"
        if predicate == "intersects" and spatial.rectangles:
            inside = " OR ".join(
                f"(minx <= maxx AND minx >= {self.bind(x0)} AND maxx <= {self.bind(x1)} "
                f"AND miny >= {self.bind(y0)} AND maxy <= {self.bind(y1)})"
                for x0, y0, x1, y1 in spatial.rectangles
            )
            exact = f"({inside} OR {exact})"
        if self.store.rtree_hits(boxes, INDEX_PROBE_CAP) < INDEX_PROBE_CAP:
            lookups = " UNION ALL ".join(
                f"SELECT pk FROM items_rtree WHERE minx <= {self.bind(x1)} AND maxx >= {self.bind(x0)} "
                f"AND miny <= {self.bind(y1)} AND maxy >= {self.bind(y0)}"
                for x0, y0, x1, y1 in boxes
            )
            prefilter = f"pk IN ({lookups})"
        else:
            unwrapped_maxx = "(CASE WHEN minx > maxx THEN maxx + 360 ELSE maxx END)"
            prefilter = (
                "("
                + " OR ".join(
                    f"(minx <= {self.bind(x1)} AND {unwrapped_maxx} >= {self.bind(x0)} "
                    f"AND miny <= {self.bind(y1)} AND maxy >= {self.bind(y0)})"
                    for x0, y0, x1, y1 in boxes
                )
                + ")"
            )
        return f"({prefilter} AND {exact})"

    def where_sql(self, extra: Sequence[str] = ()) -> str:
        terms = [*self.where, *extra]
        return " WHERE " + " AND ".join(terms) if terms else ""


def _shift(canonical: str, delta: timedelta) -> str:
    moment = parse_canonical(canonical)
    try:
        return format_canonical(moment + delta)
    except OverflowError:
        return MIN_TIME if delta < timedelta(0) else MAX_TIME


def _sort_expression(key: SortKey, compiled: _Compiled) -> str:
    name = key.field.removeprefix("properties.")
    if name in _COLUMN_FIELDS:
        return name
    hot = HOT_BY_NAME.get(name)
    if hot is not None:
        return hot.column
    return property_json_sql(name, compiled.bind)


def _sort_signature(sortby: tuple[SortKey, ...]) -> str:
    text = ",".join(("-" if key.descending else "+") + key.field for key in sortby)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _encode_token(direction: str, values: list[Any], pk: int, signature: str) -> str:
    payload = orjson.dumps({"d": direction, "v": values, "pk": pk, "s": signature})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_token(token: str, signature: str) -> tuple[str, list[Any], int]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        direction, values, pk, sig = payload["d"], payload["v"], int(payload["pk"]), payload["s"]
    except (ValueError, KeyError, TypeError):
        raise InvalidQuery("invalid paging token: pass the token of a previous page unchanged") from None
    if sig != signature or direction not in ("next", "prev"):
        raise InvalidQuery("the paging token belongs to a different sort order: start again without it")
    return direction, list(values), pk


def _after(
    expressions: list[tuple[str, bool]], values: list[Any], pk: int, compiled: _Compiled, nulls_last: bool
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


def sqlite_count(store: Store, query: Query) -> int:
    compiled = _Compiled(store, query)
    row = store.conn.execute("SELECT count(*) FROM items" + compiled.where_sql(), compiled.params).fetchone()
    return int(row[0])


def sqlite_count_upto(store: Store, query: Query, cap: int) -> int | None:
    compiled = _Compiled(store, query)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM items{compiled.where_sql()} LIMIT {compiled.bind(cap)})"
    number = int(store.conn.execute(sql, compiled.params).fetchone()[0])
    return number if number < cap else None


def sqlite_search(store: Store, query: Query, *, with_count: bool = False) -> SearchPage:
    compiled = _Compiled(store, query)
    signature = _sort_signature(query.sortby)
    expressions = [(_sort_expression(key, compiled), key.descending) for key in query.sortby]
    direction, keyset = "next", []
    if query.token:
        direction, values, pk = _decode_token(query.token, signature)
        if len(values) != len(expressions):
            raise InvalidQuery("invalid paging token: pass the token of a previous page unchanged")
        travel = [(expr, desc != (direction == "prev")) for expr, desc in expressions]
        keyset = [_after(travel, values, pk, compiled, nulls_last=direction == "next")]
    travel = [(expr, desc != (direction == "prev")) for expr, desc in expressions]
    pk_desc = travel[0][1]
    order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}{_nulls(expr, desc, direction)}" for expr, desc in travel)
    order += f", pk {'DESC' if pk_desc else 'ASC'}"
    key_columns = "".join(f", {expr}" for expr, _ in expressions)
    sql = (
        f"SELECT pk, content{key_columns} FROM items{compiled.where_sql(keyset)} "
        f"ORDER BY {order} LIMIT {compiled.bind(query.limit + 1)}"
    )
    rows = store.conn.execute(sql, compiled.params).fetchall()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if direction == "prev":
        rows.reverse()
    items = [apply_fields(orjson.loads(row[1]), query.fields) for row in rows]
    page = SearchPage(items)
    if rows:
        first, last = rows[0], rows[-1]
        has_next = more if direction == "next" else True
        has_prev = bool(query.token) if direction == "next" else more
        if has_next:
            page.next_token = _encode_token("next", list(last[2:]), last[0], signature)
        if has_prev:
            page.prev_token = _encode_token("prev", list(first[2:]), first[0], signature)
    if with_count:
        page.matched = sqlite_count(store, replace(query, token=None))
    return page


def iter_items(store: CatalogStore, query: Query, *, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching item in sort order, paging by keyset under the hood."""
    current = replace(query, limit=page_size, token=None)
    while True:
        page = search(store, current)
        yield from page.items
        if page.next_token is None:
            return
        current = replace(current, token=page.next_token)
