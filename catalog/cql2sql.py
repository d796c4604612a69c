"""CQL2 (text or JSON) compiled to SQLite SQL with bound parameters.

Parsing and validation are the ``cql2`` package's; this module walks its JSON form and emits SQL
over the ``items`` table. Values are always bound parameters; property names become bound
JSON paths, never SQL text.

Semantics worth knowing:
- ``datetime`` in temporal operators is the item's whole time range (``start_datetime`` ..
  ``end_datetime`` when it has one), as in the ``datetime`` search parameter.
- Timestamp comparisons are made on canonical UTC text, so ``Z``/``+00:00`` and fractional
  precision do not matter.
- ``like`` is case-sensitive (as CQL2 says), compiled to ``GLOB``.
- Spatial operators use the R*Tree as a prefilter and shapely for the exact test.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from typing import Any

import cql2
import orjson

from catalog.columns import HOT_BY_NAME
from catalog.errors import InvalidQuery
from catalog.geo import SpatialFilter, parse_bbox
from catalog.timeutil import MAX_TIME, MIN_TIME, canonical_lenient

# SQL for a spatial filter, provided by the search planner (it decides index use).
SpatialSql = Callable[[SpatialFilter, str, list[Any]], str]

_COMPARISONS = {"=": "=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SPATIAL = {"s_intersects", "s_disjoint", "s_within", "s_contains", "s_equals"}
_ARRAY = {"a_equals", "a_contains", "a_containedby", "a_overlaps"}
_TIME_PROPERTIES = ("datetime", "start_datetime", "end_datetime")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_filter(filter_: str | dict[str, Any], lang: str | None = None) -> dict[str, Any]:
    """Parse and validate a CQL2 filter (text or JSON) into its JSON form.

    Text filters are memoised: validation costs ~13 ms, and a paged walk repeats the same filter.
    """
    if isinstance(filter_, str):
        return copy.deepcopy(_parse_text_filter(filter_, lang))
    return _parse_filter(filter_, lang)


@functools.lru_cache(maxsize=256)
def _parse_text_filter(filter_: str, lang: str | None) -> dict[str, Any]:
    return _parse_filter(filter_, lang)


def _parse_filter(filter_: str | dict[str, Any], lang: str | None) -> dict[str, Any]:
    if lang not in (None, "cql2-text", "cql2-json"):
        raise InvalidQuery(f"unsupported filter-lang {lang!r}: use cql2-text or cql2-json")
    try:
        if isinstance(filter_, dict):
            expr = cql2.Expr(filter_)
        elif lang == "cql2-json" or (lang is None and filter_.lstrip().startswith("{")):
            expr = cql2.Expr(orjson.loads(filter_))
        else:
            expr = cql2.Expr(filter_)
        expr.validate()
    except Exception as exc:
        raise InvalidQuery(f"invalid CQL2 filter: {_one_line(str(exc), filter_)}") from None
    result: dict[str, Any] = expr.to_json()
    _check_property_names(result)
    return result


_PEST_POSITION = re.compile(r"-->\s*(\d+):(\d+)")


def _one_line(message: str, filter_: Any) -> str:
    """cql2's multi-line parser report (position, caret, expectation) as one line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "malformed"
    position = _PEST_POSITION.search(lines[0])
    if position is None:
        return "; ".join(lines)
    expected = next((line.lstrip("= ").strip() for line in lines if line.startswith("=")), "syntax error")
    line_no, column = int(position.group(1)), int(position.group(2))
    text = filter_.splitlines()[line_no - 1] if isinstance(filter_, str) and filter_.splitlines() else ""
    near = f" near {text[column - 1 : column + 19]!r}" if text[column - 1 :].strip() else " at the end"
    return f"at line {line_no}, column {column}{near}: {expected}"


def _check_property_names(node: Any) -> None:
    """Refuse property names the catalogue cannot look up (a NUL byte ends SQLite's JSON keys)."""
    if isinstance(node, dict):
        name = node.get("property")
        if isinstance(name, str) and "\x00" in name:
            raise InvalidQuery(f"invalid property name {name!r} in CQL2 filter: NUL bytes are not allowed")
        for value in node.values():
            _check_property_names(value)
    elif isinstance(node, list):
        for value in node:
            _check_property_names(value)


def property_name(node: Any) -> str | None:
    if isinstance(node, dict) and set(node) == {"property"}:
        name = str(node["property"])
        return name.removeprefix("properties.")
    return None


# Operators whose SQL reads nothing but their operands (no geometry, no item time range, no JSON arrays).
_PLAIN_OPS = {
    "and",
    "or",
    "not",
    "like",
    "between",
    "in",
    "isnull",
    "casei",
    "accenti",
    "+",
    "-",
    "*",
    "/",
    *_COMPARISONS,
}


def conjuncts_on(node: dict[str, Any], names: set[str]) -> list[dict[str, Any]]:
    """The filter's top-level AND terms that read only the named properties through plain operators.

    Together they are a weaker filter, true for every item the whole filter matches, so an index
    whose entries carry those properties can test them before any row is read.
    """
    terms = [node]
    while any(_op(term) == "and" for term in terms):
        terms = [part for term in terms for part in (term["args"] if _op(term) == "and" else [term])]
    return [term for term in terms if _reads_only(term, names)]


def _op(node: Any) -> str | None:
    return str(node["op"]).lower() if isinstance(node, dict) and "op" in node else None


def _reads_only(node: Any, names: set[str]) -> bool:
    if isinstance(node, list):
        return all(_reads_only(item, names) for item in node)
    if not isinstance(node, dict):
        return True
    name = property_name(node)
    if name is not None:
        return name in names
    if "op" in node:
        return _op(node) in _PLAIN_OPS and _reads_only(node.get("args", []), names)
    return False  # a temporal or spatial literal (timestamp, date, interval, bbox, geometry)


class FilterCompiler:
    """Compile one CQL2 JSON expression into SQL with numbered parameters (``?N``).

    ``params`` is shared with the rest of the query, so numbers continue where it left off.
    """

    def __init__(self, spatial_sql: SpatialSql, params: list[Any]) -> None:
        self.params = params
        self._spatial_sql = spatial_sql

    def compile(self, node: dict[str, Any]) -> str:
        return self._boolean(node)

    # -- values -------------------------------------------------------------------------
    def _bind(self, value: Any) -> str:
        if isinstance(value, bool):
            value = int(value)
        self.params.append(value)
        return f"?{len(self.params)}"

    def _property(self, name: str) -> str:
        if name in ("id", "collection", *_TIME_PROPERTIES):
            return name
        hot = HOT_BY_NAME.get(name)
        if hot is not None:
            return hot.column
        return property_json_sql(name, self._bind)

    def _is_time(self, node: Any) -> bool:
        return isinstance(node, dict) and ("timestamp" in node or "date" in node)

    def _scalar(self, node: Any, time_context: bool) -> str:
        """SQL for a scalar operand; ``time_context`` when the other side is a timestamp."""
        name = property_name(node)
        if name is not None:
            if time_context and name not in _TIME_PROPERTIES:
                return f"eocat_timestamp({self._property(name)})"
            return self._property(name)
        if isinstance(node, dict):
            if "timestamp" in node or "date" in node:
                return self._bind(_instant(node)[0])
            if node.get("op") == "casei":
                return f"lower({self._scalar(node['args'][0], time_context)})"
            if node.get("op") == "accenti":
                return self._scalar(node["args"][0], time_context)
            if node.get("op") in ("+", "-", "*", "/"):
                left, right = (self._scalar(arg, False) for arg in node["args"])
                return f"({left} {node['op']} {right})"
            raise InvalidQuery(f"unsupported CQL2 operand {orjson.dumps(node).decode()}")
        if isinstance(node, list):
            raise InvalidQuery("a CQL2 array is not allowed here")
        if time_context and isinstance(node, str):
            return self._bind(_time_literal(node))
        return self._bind(node)

    # -- predicates ---------------------------------------------------------------------
    def _boolean(self, node: Any) -> str:
        if isinstance(node, bool):
            return "1" if node else "0"
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidQuery(f"a CQL2 filter must be a predicate, got {orjson.dumps(node).decode()}")
        op = str(node["op"]).lower()
        args = node.get("args", [])
        if op in ("and", "or"):
            return "(" + f" {op.upper()} ".join(self._boolean(arg) for arg in args) + ")"
        if op == "not":
            return f"(NOT {self._boolean(args[0])})"
        if op in _COMPARISONS:
            time_context = any(self._is_time(arg) for arg in args) or any(
                property_name(arg) in _TIME_PROPERTIES for arg in args
            )
            left, right = (self._scalar(arg, time_context) for arg in args)
            return f"({left} {_COMPARISONS[op]} {right})"
        if op == "like":
            value = self._scalar(args[0], False)
            pattern = args[1]
            if isinstance(pattern, dict) and pattern.get("op") == "casei":
                return f"(lower({value}) GLOB {self._bind(_like_to_glob(str(pattern['args'][0]).lower()))})"
            if not isinstance(pattern, str):
                raise InvalidQuery("the pattern of LIKE must be a string")
            return f"({value} GLOB {self._bind(_like_to_glob(pattern))})"
        if op == "between":
            time_context = any(self._is_time(arg) for arg in args)
            value, low, high = (self._scalar(arg, time_context) for arg in args)
            return f"({value} BETWEEN {low} AND {high})"
        if op == "in":
            if not isinstance(args[1], list):
                raise InvalidQuery("the right side of IN must be a list")
            time_context = property_name(args[0]) in _TIME_PROPERTIES
            value = self._scalar(args[0], time_context)
            values = ", ".join(self._scalar(item, time_context) for item in args[1])
            return f"({value} IN ({values}))" if values else "0"
        if op == "isnull":
            return f"({self._scalar(args[0], False)} IS NULL)"
        if op in _SPATIAL:
            return self._spatial(op, args)
        if op == "anyinteracts":
            op = "t_intersects"
        if op in _TEMPORAL_RULES:
            return self._temporal(op, args)
        if op in _ARRAY:
            return self._array(op, args)
        raise InvalidQuery(f"unsupported CQL2 operator {node['op']!r}")

    def _spatial(self, op: str, args: list[Any]) -> str:
        names = [property_name(arg) for arg in args]
        if names[0] is None and names[1] is not None:
            args = [args[1], args[0]]
            op = {"s_within": "s_contains", "s_contains": "s_within"}.get(op, op)
            names = names[::-1]
        if names[0] != "geometry" or names[1] is not None:
            raise InvalidQuery(f"{op} needs the property 'geometry' and a geometry literal")
        literal = args[1]
        if isinstance(literal, dict) and "bbox" in literal:
            spatial = SpatialFilter.from_bbox(parse_bbox(literal["bbox"]))
        else:
            spatial = SpatialFilter.from_geojson(literal)
        predicate = {"s_intersects": "intersects", "s_disjoint": "intersects", "s_within": "within",
                     "s_contains": "contains", "s_equals": "equals"}[op]  # fmt: skip
        sql = self._spatial_sql(spatial, predicate, self.params)
        return f"(NOT {sql})" if op == "s_disjoint" else sql

    def _interval(self, node: Any) -> tuple[Any, Any]:
        """(start SQL, end SQL) of a temporal operand: an item property or a literal."""
        name = property_name(node)
        if name is not None:
            if name == "datetime":
                return "start_datetime", "end_datetime"
            column = self._property(name) if name in _TIME_PROPERTIES else f"eocat_timestamp({self._property(name)})"
            return column, column
        if isinstance(node, dict) and "interval" in node:
            bounds: list[Any] = []
            for index, end in enumerate(node["interval"]):
                if property_name(end) is not None:
                    bounds.append(self._interval(end)[index])
                elif end == "..":
                    bounds.append(_Deferred(self, MIN_TIME if index == 0 else MAX_TIME))
                else:
                    instant = _instant({"date": end} if _DATE.match(str(end)) else {"timestamp": end})
                    bounds.append(_Deferred(self, instant[index]))
            return bounds[0], bounds[1]
        if isinstance(node, dict) and ("timestamp" in node or "date" in node):
            start, end = _instant(node)
            return _Deferred(self, start), _Deferred(self, end)
        raise InvalidQuery(f"not a temporal operand: {orjson.dumps(node).decode()}")

    def _temporal(self, op: str, args: list[Any]) -> str:
        (s1, e1), (s2, e2) = self._interval(args[0]), self._interval(args[1])
        # Only the operands a rule uses get bound (str() of a _Deferred binds it).
        return "(" + _TEMPORAL_RULES[op].format(s1=s1, e1=e1, s2=s2, e2=e2) + ")"

    def _array_operands(self, op: str, args: list[Any]) -> tuple[str, list[Any]]:
        """The column and the literal values of an array operator (every dialect's first step)."""
        name = property_name(args[0])
        values = args[1]
        if name is None or not isinstance(values, list):
            raise InvalidQuery(f"{op} needs a property and an array literal")
        return self._property(name), values

    def _array(self, op: str, args: list[Any]) -> str:
        column, values = self._array_operands(op, args)
        if op == "a_equals":
            return f"({column} = {self._bind(orjson.dumps(values).decode())})"
        placeholders = ", ".join(self._bind(value) for value in values) or "NULL"
        if op == "a_contains":
            wanted = len(set(map(orjson.dumps, values)))
            return (
                f"((SELECT count(DISTINCT value) FROM json_each({column}) "
                f"WHERE value IN ({placeholders})) = {self._bind(wanted)})"
            )
        if op == "a_containedby":
            return (
                f"({column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each({column}) "
                f"WHERE value NOT IN ({placeholders})))"
            )
        return f"(EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({placeholders})))"


_TEMPORAL_RULES = {
    "t_intersects": "{s1} <= {e2} AND {e1} >= {s2}",
    "t_disjoint": "({s1} > {e2} OR {e1} < {s2})",
    "t_before": "{e1} < {s2}",
    "t_after": "{s1} > {e2}",
    "t_during": "{s1} > {s2} AND {e1} < {e2}",
    "t_contains": "{s1} < {s2} AND {e1} > {e2}",
    "t_equals": "{s1} = {s2} AND {e1} = {e2}",
    "t_starts": "{s1} = {s2} AND {e1} < {e2}",
    "t_startedby": "{s1} = {s2} AND {e1} > {e2}",
    "t_finishes": "{s1} > {s2} AND {e1} = {e2}",
    "t_finishedby": "{s1} < {s2} AND {e1} = {e2}",
    "t_meets": "{e1} = {s2}",
    "t_metby": "{s1} = {e2}",
    "t_overlaps": "{s1} < {s2} AND {e1} > {s2} AND {e1} < {e2}",
    "t_overlappedby": "{s1} > {s2} AND {s1} < {e2} AND {e1} > {e2}",
}


class _Deferred:
    """A value bound as a parameter only when its SQL text is first used."""

    def __init__(self, compiler: FilterCompiler, value: Any) -> None:
        self._compiler, self._value, self._marker = compiler, value, ""

    def __str__(self) -> str:
        if not self._marker:
            self._marker = self._compiler._bind(self._value)
        return self._marker

    def __format__(self, spec: str) -> str:
        return str(self)


_PATH_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def property_json_sql(name: str, bind: Callable[[Any], str]) -> str:
    """SQL reading ``properties[name]`` from the stored item, with the name as a parameter.

    SQLite JSON paths cannot escape a double quote, read a backslash as an escape and end at a NUL,
    so such (rare) names go through json_each, which compares the key as a value.
    """
    if _PATH_UNSAFE.search(name):
        return f"(SELECT value FROM json_each(eocat_item(content), '$.properties') WHERE key = {bind(name)})"
    path = '$.properties."' + name + '"'
    return f"json_extract(eocat_item(content), {bind(path)})"


def _time_literal(text: str) -> str:
    try:
        value = canonical_lenient(text)
    except ValueError:
        raise InvalidQuery(f"invalid timestamp {text!r} in CQL2 filter") from None
    if value is None:
        raise InvalidQuery("empty timestamp in CQL2 filter")
    return value


def _instant(node: dict[str, Any]) -> tuple[str, str]:
    """(start, end) of a timestamp or a date literal (a date covers its whole UTC day)."""
    if "date" in node:
        day = str(node["date"])
        if not _DATE.match(day):
            raise InvalidQuery(f"invalid date {day!r} in CQL2 filter")
        return f"{day}T00:00:00.000000Z", f"{day}T23:59:59.999999Z"
    value = _time_literal(str(node["timestamp"]))
    return value, value


def _like_to_glob(pattern: str) -> str:
    """Translate a CQL2 LIKE pattern (``%``, ``_``, ``\\`` escapes) to a case-sensitive GLOB."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "\\")
            out.append(f"[{escaped}]" if escaped in "*?[]" else escaped)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[]":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)
