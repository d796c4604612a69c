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

Results stream in sort order (ties by collection, id); there are no paging tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from catalog.cql2sql import FilterCompiler, _property_name
from catalog.errors import InvalidQuery
from catalog.geo import Box, SpatialFilter
from catalog.parquet import duck
from catalog.parquet.lake import is_remote
from catalog.parquet.reader import batch_items
from catalog.parquet.sql import lake_files, read_parquet_sql
from catalog.search import Query, apply_fields
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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class LakeCatalog:
    """A read-only catalogue over a lake: ``collection_ids``, ``count``, ``iter_items``."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        self.files = lake_files(target)
        self.conn = duck.connect(remote=is_remote(target))
        # The catalogue's CQL2 compiler casts non-timestamp properties compared with timestamps.
        self.conn.execute("CREATE MACRO eocat_timestamp(x) AS TRY_CAST(x AS TIMESTAMPTZ)")

    def close(self) -> None:
        self.conn.close()

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
        row = self._execute(f"SELECT count(*) FROM {source}{compiled.where_sql()}", compiled.params).fetchone()
        return int(row[0]) if row else 0

    def iter_items(self, query: Query) -> Iterator[dict[str, Any]]:
        """Every matching item, in the query's sort order."""
        found = self._source(query)
        if found is None:
            return
        source, columns = found
        compiled = _LakeSql(columns, query)
        select = ", ".join(_quote(name) for name in columns if name not in _PARTITION_COLUMNS)
        order = [f"{compiled.sort_sql(key.field)} {'DESC' if key.descending else 'ASC'} NULLS LAST"
                 for key in query.sortby]  # fmt: skip
        sql = f"SELECT {select} FROM {source}{compiled.where_sql()} ORDER BY {', '.join([*order, 'collection', 'id'])}"
        reader = self._execute(sql, compiled.params).to_arrow_reader(BATCH_ROWS)
        geometry = ["geometry"] if "geometry" in columns else []
        for batch in reader:
            for item in batch_items(batch, geometry):
                if item is not None:
                    yield apply_fields(item, query.fields)

    def _execute(self, sql: str, params: list[Any]) -> duckdb.DuckDBPyConnection:
        try:
            return self.conn.execute(sql, params)
        except duckdb.Error as exc:
            raise InvalidQuery(f"DuckDB: {exc}") from None


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
        if _property_name(node) == "datetime":
            return self.owner.column("start_datetime"), self.owner.column("end_datetime")
        return super()._interval(node)

    def _array(self, op: str, args: list[Any]) -> str:
        name = _property_name(args[0])
        values = args[1]
        if name is None or not isinstance(values, list):
            raise InvalidQuery(f"{op} needs a property and an array literal")
        column = self._property(name)
        literal = "[" + ", ".join(self._bind(value) for value in values) + "]"
        if op == "a_equals":
            return f"({column} = {literal})"
        if op == "a_contains":
            return f"list_has_all({column}, {literal})"
        if op == "a_containedby":
            return f"({column} IS NOT NULL AND list_has_all({literal}, {column}))"
        return f"list_has_any({column}, {literal})"
