"""``eocat search --lake``: the catalogue's :class:`~catalog.search.Query` answered from a GeoParquet lake.

For read-only users who have the lake (a directory or ``s3://…``) but no catalogue file. The
query becomes DuckDB SQL over the files the lake's manifest names, with the catalogue's
semantics:

* ``datetime`` overlaps the item's whole time range (``start_datetime`` .. ``end_datetime``, or
  the instant), the ``datetime`` sort key is the instant or the range start — as the SQLite
  store's columns;
* spatial filters (``bbox``, antimeridian-crossing boxes, ``intersects``, CQL2 ``s_*``) test the
  bbox covering columns first — DuckDB skips row groups whose ``bbox.ymin``/``ymax``/… statistics
  rule them out — then the exact geometry with the spatial extension;
* CQL2 goes through the catalogue's compiler (:class:`~catalog.cql2sql.FilterCompiler`) with the
  lake's columns: properties are top-level columns; arrays are lists.

Results come in sort order, ties broken by (collection, id) in the direction of the first sort
key — as the pgstac store does (SQLite breaks ties by insertion order, which a lake does not
keep). :meth:`LakeCatalog.search_page` pages like the catalogue: keyset tokens (the sort values
of the last row, then its collection and id), never OFFSET, ``prev`` tokens walk back; so
``catalog.search.search`` and ``iter_items`` work on a lake as on a store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from catalog.cql2sql import FilterCompiler, property_name
from catalog.errors import InvalidQuery
from catalog.geo import Box, SpatialFilter
from catalog.parquet import duck
from catalog.parquet.lake import is_remote
from catalog.parquet.reader import batch_items
from catalog.parquet.sql import lake_files, read_parquet_sql
from catalog.search import Query, SearchPage, apply_fields, decode_token, encode_token, sort_signature
from catalog.timeutil import MAX_TIME, MIN_TIME

# The SQLite store's time columns from the lake's: the instant (or the range start), and the range.
_TIME_SQL = {
    "datetime": ("coalesce", ("datetime", "start_datetime")),
    "start_datetime": ("least", ("start_datetime", "datetime")),
    "end_datetime": ("greatest", ("end_datetime", "datetime")),
}
_PARTITION_COLUMNS = ("year", "month")
_MAX_BOXES = 8
BATCH_ROWS = 1000
_KEY = "__eocat_key"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class LakeCatalog:
    """A read-only catalogue over a lake: ``collection_ids``, ``count``, ``search_page``, ``iter_items``
    (the read side of :class:`~catalog.backend.CatalogStore`), and ``select_sql`` for analytics."""

    def __init__(self, target: str | Path, *, memory_limit: str | None = None) -> None:
        self.target = str(target)
        self.files = lake_files(target)
        self.conn = duck.connect(remote=is_remote(target))
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        if memory_limit:  # beyond it DuckDB spills to a private temporary directory (or says it cannot)
            self._spill = tempfile.TemporaryDirectory(prefix="eocat-duckdb-")
            try:
                self.conn.execute(f"SET memory_limit = {duck.literal(memory_limit)}")
            except duckdb.Error as exc:
                self.close()
                raise InvalidQuery(f"invalid memory limit {memory_limit!r}: {exc}") from None
            self.conn.execute(f"SET temp_directory = {duck.literal(self._spill.name)}")
        # The catalogue's CQL2 compiler casts non-timestamp properties compared with timestamps.
        self.conn.execute("CREATE MACRO eocat_timestamp(x) AS TRY_CAST(x AS TIMESTAMPTZ)")

    def close(self) -> None:
        self.conn.close()
        if self._spill is not None:
            self._spill.cleanup()

    def __enter__(self) -> LakeCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collection_ids(self) -> set[str]:
        return set(self.files)

    def _source(self, query: Query) -> tuple[str, dict[str, str]] | None:
        """The FROM clause over the files of the queried collections, and its columns."""
        wanted = query.collections or tuple(self.files)
        names = [name for collection in wanted for name in self.files.get(collection, [])]
        if not names:
            return None
        source = read_parquet_sql(names)
        try:
            described = self.conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        except duckdb.Error as exc:
            raise InvalidQuery(f"DuckDB cannot read the lake at {self.target}: {exc}") from None
        return source, {row[0]: row[1] for row in described}

    def count(self, query: Query) -> int:
        """The number of matching items."""
        found = self._source(query)
        if found is None:
            return 0
        source, columns = found
        compiled = _LakeSql(columns, query)
        row = self.execute(f"SELECT count(*) FROM {source}{compiled.where_sql()}", compiled.params).fetchone()
        return int(row[0]) if row else 0

    def iter_items(self, query: Query) -> Iterator[dict[str, Any]]:
        """Every matching item, in the query's sort order (one streamed query; ``limit`` and ``token`` ignored)."""
        found = self._source(query)
        if found is None:
            return
        plan = _Plan(found[1], replace(query, token=None))
        reader = self.execute(plan.select_sql(found[0]), plan.compiled.params).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield from self._items(batch, plan, query)

    def search_page(self, query: Query, *, with_count: bool = False) -> SearchPage:
        """One page (``query.limit`` items after ``query.token``) with keyset tokens, like the catalogue's."""
        found = self._source(query)
        if found is None:
            return SearchPage([], matched=0 if with_count else None)
        plan = _Plan(found[1], query)
        sql = plan.select_sql(found[0], limit=query.limit + 1)
        rows = self.execute(sql, plan.compiled.params).to_arrow_table().to_batches()
        items = [item for batch in rows for item in self._items(batch, plan, query, keys=True)]
        more = len(items) > query.limit
        items = items[: query.limit]
        if plan.backwards:
            items.reverse()
        page = SearchPage([item for item, _ in items])
        if items:
            has_next = more if not plan.backwards else True
            has_prev = bool(query.token) if not plan.backwards else more
            if has_next:
                page.next_token = encode_token("next", items[-1][1], 0, plan.signature)
            if has_prev:
                page.prev_token = encode_token("prev", items[0][1], 0, plan.signature)
        if with_count:
            page.matched = self.count(query)
        return page

    def select_sql(self, query: Query, fields: dict[str, str]) -> tuple[str, list[Any]] | None:
        """``SELECT <field> AS <alias>, … FROM <the lake> WHERE <query>`` and its parameters (``?1``…;
        None when no file is selected). Fields are item fields as in the query language (``datetime``
        is the instant or the range start, a missing property NULL); ``geometry`` is the WKB column."""
        found = self._source(query)
        if found is None:
            return None
        source, columns = found
        compiled = _LakeSql(columns, query)
        select = ", ".join(f"{compiled.column(name)} AS {_quote(alias)}" for alias, name in fields.items())
        return f"SELECT {select} FROM {source}{compiled.where_sql()}", compiled.params

    def count_upto(self, query: Query, cap: int) -> int | None:
        number = self.count(query)
        return number if number < cap else None

    def _items(self, batch: Any, plan: _Plan, query: Query, *, keys: bool = False) -> Iterator[Any]:
        """The batch's items (fields applied), with their keyset values when ``keys``."""
        names = [name for name in batch.schema.names if not name.startswith(_KEY)]
        items = batch_items(batch.select(names), ["geometry"] if "geometry" in names else [])
        values = batch.select(plan.key_names).to_pylist() if keys else None
        for index, item in enumerate(items):
            if item is None:
                continue
            item = apply_fields(item, query.fields)
            yield (item, [_token_value(v) for v in values[index].values()]) if values is not None else item

    def execute(self, sql: str, params: list[Any]) -> duckdb.DuckDBPyConnection:
        """Run SQL on the lake's connection; DuckDB's errors become InvalidQuery."""
        try:
            return self.conn.execute(sql, params)
        except duckdb.Error as exc:
            raise InvalidQuery(f"DuckDB: {exc}") from None


class _Plan:
    """The ordered SELECT of one page (or of everything): sort keys, ties, keyset condition."""

    def __init__(self, columns: dict[str, str], query: Query) -> None:
        self.columns = columns
        self.compiled = compiled = _LakeSql(columns, query)
        self.signature = sort_signature(query.sortby)
        first_desc = query.sortby[0].descending
        self.keys = [(compiled.sort_sql(key.field), key.descending, compiled.sort_type(key.field))
                     for key in query.sortby]  # fmt: skip
        self.keys += [('"collection"', first_desc, "VARCHAR"), ('"id"', first_desc, "VARCHAR")]
        self.key_names = [f"{_KEY}{index}" for index in range(len(self.keys))]
        self.backwards = False
        if query.token:
            direction, values, _ = decode_token(query.token, self.signature)
            if len(values) != len(self.keys):
                raise InvalidQuery("invalid paging token: pass the token of a previous page unchanged")
            self.backwards = direction == "prev"
            compiled.where.append(self._after(values))

    def _travel(self) -> list[tuple[str, bool, str]]:
        return [(expr, desc != self.backwards, sqltype) for expr, desc, sqltype in self.keys]

    def _after(self, values: list[Any]) -> str:
        """SQL true for rows strictly after ``values`` in the travel order (NULLs last walking forward)."""
        clause = "FALSE"
        for (expr, desc, sqltype), value in reversed(list(zip(self._travel(), values, strict=True))):
            if value is None:
                greater = "FALSE" if not self.backwards else f"{expr} IS NOT NULL"
                equal = f"{expr} IS NULL"
            else:
                marker = f"CAST({self.compiled.bind(value)} AS {sqltype})"
                greater = f"{expr} {'<' if desc else '>'} {marker}"
                if not self.backwards:
                    greater = f"({greater} OR {expr} IS NULL)"
                equal = f"{expr} = {marker}"
            clause = f"({greater} OR ({equal} AND {clause}))"
        return clause

    def select_sql(self, source: str, limit: int | None = None) -> str:
        select = [_quote(name) for name in self.columns if name not in _PARTITION_COLUMNS]
        select += [f"{expr} AS {name}" for (expr, _, _), name in zip(self.keys, self.key_names, strict=True)]
        nulls = "NULLS FIRST" if self.backwards else "NULLS LAST"
        order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'} {nulls}" for expr, desc, _ in self._travel())
        sql = f"SELECT {', '.join(select)} FROM {source}{self.compiled.where_sql()} ORDER BY {order}"
        return sql if limit is None else f"{sql} LIMIT {int(limit)}"


def _token_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


class _LakeSql:
    """WHERE clause and parameters for one query over one lake selection."""

    def __init__(self, columns: dict[str, str], query: Query) -> None:
        self.columns = columns
        self.params: list[Any] = []
        self.where: list[str] = []
        if query.ids:
            self.where.append(f"id IN ({', '.join(self.bind(v) for v in query.ids)})")
        if query.collections:
            self.where.append(f"collection IN ({', '.join(self.bind(v) for v in query.collections)})")
        spatial = query.spatial()
        if spatial is not None:
            self.where.append(self.spatial_sql(spatial, "intersects", self.params))
        if query.datetime is not None:
            start, end = query.datetime
            if end != MAX_TIME:
                self.where.append(f"{self.column('start_datetime')} <= CAST({self.bind(end)} AS TIMESTAMPTZ)")
            if start != MIN_TIME:
                self.where.append(f"{self.column('end_datetime')} >= CAST({self.bind(start)} AS TIMESTAMPTZ)")
        if query.filter is not None:
            self.where.append(_LakeFilterCompiler(self).compile(query.filter))

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return f"?{len(self.params)}"

    def column(self, name: str) -> str:
        """SQL for an item field: a time column as the store defines it, a lake column, else NULL."""
        if name.startswith("properties."):
            name = name[len("properties.") :]
        if name in _TIME_SQL:
            function, names = _TIME_SQL[name]
            present = [_quote(column) for column in names if column in self.columns]
            if len(present) > 1:
                return f"{function}({', '.join(present)})"
            return present[0] if present else "NULL"
        return _quote(name) if name in self.columns and name not in _PARTITION_COLUMNS else "NULL"

    def sort_sql(self, name: str) -> str:
        return self.column(name)

    def sort_type(self, name: str) -> str:
        """The SQL type of :meth:`sort_sql` (token values are cast back to it)."""
        name = name.removeprefix("properties.")
        if name in _TIME_SQL:
            return "TIMESTAMPTZ"
        return self.columns.get(name, "VARCHAR") if name not in _PARTITION_COLUMNS else "VARCHAR"

    def spatial_sql(self, spatial: SpatialFilter, predicate: str, params: list[Any]) -> str:
        """Covering-column terms (they prune row groups), then the exact test on the geometry."""
        assert params is self.params
        if "bbox" not in self.columns or "geometry" not in self.columns:
            return "FALSE"
        parts = list(getattr(spatial.geometry, "geoms", [spatial.geometry]))
        boxes: list[Box] = list(spatial.rectangles) or (
            [part.bounds for part in parts] if len(parts) <= _MAX_BOXES else [spatial.geometry.bounds])  # fmt: skip
        south, north = min(b[1] for b in boxes), max(b[3] for b in boxes)
        crossing = "bbox.xmin > bbox.xmax"  # an item crossing the antimeridian
        candidates = " OR ".join(
            f"(bbox.ymin <= {self.bind(y1)} AND bbox.ymax >= {self.bind(y0)} "
            f"AND (bbox.xmin <= {self.bind(x1)} OR {crossing}) AND (bbox.xmax >= {self.bind(x0)} OR {crossing}))"
            for x0, y0, x1, y1 in boxes
        )
        function = {"intersects": "ST_Intersects", "within": "ST_Within", "contains": "ST_Contains",
                    "equals": "ST_Equals"}[predicate]  # fmt: skip
        exact = f"{function}(ST_GeomFromWKB(geometry), ST_GeomFromWKB({self.bind(spatial.wkb)}))"
        if predicate == "intersects" and spatial.rectangles:
            inside = " OR ".join(
                f"(bbox.xmin <= bbox.xmax AND bbox.xmin >= {self.bind(x0)} AND bbox.xmax <= {self.bind(x1)} "
                f"AND bbox.ymin >= {self.bind(y0)} AND bbox.ymax <= {self.bind(y1)})"
                for x0, y0, x1, y1 in spatial.rectangles
            )
            exact = f"({inside} OR {exact})"
        return (f"(bbox.ymin <= {self.bind(north)} AND bbox.ymax >= {self.bind(south)} "
                f"AND ({candidates}) AND {exact})")  # fmt: skip

    def where_sql(self) -> str:
        return " WHERE " + " AND ".join(self.where) if self.where else ""


class _LakeFilterCompiler(FilterCompiler):
    """The catalogue's CQL2 compiler with the lake's columns (properties are columns, arrays lists)."""

    def __init__(self, owner: _LakeSql) -> None:
        super().__init__(owner.spatial_sql, owner.params)
        self.owner = owner

    def _property(self, name: str) -> str:
        return self.owner.column(name)

    def _interval(self, node: Any) -> tuple[Any, Any]:
        if property_name(node) == "datetime":
            return self.owner.column("start_datetime"), self.owner.column("end_datetime")
        return super()._interval(node)

    def _array(self, op: str, args: list[Any]) -> str:
        column, values = self._array_operands(op, args)
        literal = "[" + ", ".join(self._bind(value) for value in values) + "]"
        if op == "a_equals":
            return f"({column} = {literal})"
        if op == "a_contains":
            return f"list_has_all({column}, {literal})"
        if op == "a_containedby":
            return f"({column} IS NOT NULL AND list_has_all({literal}, {column}))"
        return f"list_has_any({column}, {literal})"
