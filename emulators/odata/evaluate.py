"""Compile a filter tree against a schema into a fast predicate (closures, no per-call dispatch)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from emulators.odata.ast import And, Any_, Call, Compare, Intersects, Node, Not, Or, Path
from emulators.odata.errors import FilterError
from emulators.odata.parser import parse_filter

Predicate = Callable[[Any], bool]
Attr = tuple[str, str, Any]  # (Name, ValueType, value with DateTimeOffset as µs)

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
# Which literal kinds a property kind accepts.
_ACCEPTS = {
    "string": ("string", "guid"),
    "guid": ("string", "guid"),
    "int": ("int", "float"),
    "number": ("int", "float"),
    "datetime": ("datetime",),
    "bool": ("bool",),
}
# Attribute ValueType -> (property kind, allowed operators); after the CDSE documentation.
ATTRIBUTE_TYPES = {
    "String": ("string", ("eq",)),
    "Boolean": ("bool", ("eq",)),
    "Integer": ("number", ("eq", "lt", "le", "gt", "ge")),
    "Double": ("number", ("eq", "lt", "le", "gt", "ge")),
    "DateTimeOffset": ("datetime", ("eq", "lt", "le", "gt", "ge")),
}
_LITERAL_TO_TYPES = {
    "string": ("String",),
    "guid": ("String",),
    "int": ("Integer", "Double"),
    "float": ("Integer", "Double"),
    "datetime": ("DateTimeOffset",),
    "bool": ("Boolean",),
}


@dataclass(frozen=True)
class Field:
    """A filterable property: ``kind`` in string/guid/int/number/datetime/bool; ``get`` reads it (None = absent)."""

    kind: str
    get: Callable[[Any], Any]


@dataclass(frozen=True)
class Schema:
    """What an entity set offers to ``$filter``.

    ``attributes``/``attribute`` read the ``Attributes`` collection (all, or one by name) and
    ``footprint`` returns ``(bbox, lazy geometry)`` for ``OData.CSC.Intersects``.
    """

    fields: Mapping[str, Field]
    attributes: Callable[[Any], Iterable[Attr]] | None = None
    attribute: Callable[[Any, str], tuple[str, Any] | None] | None = None
    footprint: Callable[[Any], tuple[tuple[float, float, float, float], Callable[[], BaseGeometry]] | None] | None = (
        None
    )
    collection_names: tuple[str, ...] = ("Attributes", "attributes")


def compile_filter(node: Node | str, schema: Schema) -> Predicate:
    """A predicate for ``node`` (or filter text); raises :class:`FilterError` for unknown properties or bad types."""
    if isinstance(node, str):
        node = parse_filter(node)
    return _Compiler(schema).compile(node)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_kind(kind: str, value: Any) -> bool:
    if kind in ("string", "guid"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("number", "int"):
        return _number(value)
    if kind == "datetime":
        return isinstance(value, int) and not isinstance(value, bool)
    return False


class _Compiler:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def compile(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self.compile(n) for n in node.items]
            return lambda e: all(p(e) for p in parts)
        if isinstance(node, Or):
            parts = [self.compile(n) for n in node.items]
            return lambda e: any(p(e) for p in parts)
        if isinstance(node, Not):
            inner = self.compile(node.item)
            return lambda e: not inner(e)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Intersects):
            return self.intersects(node)
        if isinstance(node, Any_):
            return self.any_(node)
        if isinstance(node, Path):
            fld = self.field(node)
            if fld.kind != "bool":
                raise FilterError(f"Invalid $filter: {node.text} is not a boolean property")
            get = fld.get
            return lambda e: get(e) is True
        raise FilterError(f"Invalid $filter: unsupported expression {node!r}")

    def field(self, path: Path) -> Field:
        fld = self.schema.fields.get(path.text)
        if fld is None:
            known = ", ".join(sorted(self.schema.fields))
            raise FilterError(f"Invalid $filter: unknown property {path.text!r} (filterable: {known})")
        return fld

    def compare(self, node: Compare) -> Predicate:
        fld = self.field(node.left)
        lit = node.right
        op = _OPS[node.op]
        get = fld.get
        if lit.kind == "null":
            if node.op == "eq":
                return lambda e: get(e) is None
            if node.op == "ne":
                return lambda e: get(e) is not None
            raise FilterError(f"Invalid $filter: null can only be compared with eq or ne ({node.left.text})")
        if lit.kind not in _ACCEPTS.get(fld.kind, ()):
            raise FilterError(
                f"Invalid $filter: {node.left.text} is a {fld.kind} property and cannot be compared with {lit.text!r}"
            )
        value = lit.value
        if fld.kind == "guid":
            value = str(value).lower()
        kind = fld.kind

        def check(e: Any) -> bool:
            got = get(e)
            return got is not None and _same_kind(kind, got) and op(got, value)

        return check

    def call(self, node: Call) -> Predicate:
        fld = self.field(node.path)
        if fld.kind not in ("string", "guid"):
            raise FilterError(f"Invalid $filter: {node.name}() needs a string property, not {node.path.text}")
        get = fld.get
        needle = node.arg.value
        method = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[node.name]

        def check(e: Any) -> bool:
            got = get(e)
            return isinstance(got, str) and bool(method(got, needle))

        return check

    def intersects(self, node: Intersects) -> Predicate:
        footprint = self.schema.footprint
        if footprint is None:
            raise FilterError("Invalid $filter: OData.CSC.Intersects is not supported on this entity set")
        area = node.geometry
        prepared = prep(area)
        ax0, ay0, ax1, ay1 = area.bounds

        def check(e: Any) -> bool:
            fp = footprint(e)
            if fp is None:
                return False
            (x0, y0, x1, y1), geometry = fp
            if x0 > ax1 or x1 < ax0 or y0 > ay1 or y1 < ay0:
                return False
            return bool(prepared.intersects(geometry()))

        return check

    # -- Attributes/OData.CSC.<T>Attribute/any(v: v/Name eq 'x' and v/Value op literal)
    def any_(self, node: Any_) -> Predicate:
        if node.collection not in self.schema.collection_names or self.schema.attributes is None:
            raise FilterError(f"Invalid $filter: unknown collection {node.collection!r} for any()")
        casts = [node.cast] if node.cast else []
        type_of = _type_from_cast
        if node.cast and type_of(node.cast) is None:
            raise FilterError(f"Invalid $filter: unknown attribute type OData.CSC.{node.cast}")
        attributes = self.schema.attributes
        if node.body is None:
            wanted = type_of(node.cast) if node.cast else None
            return lambda e: any(wanted is None or t == wanted for _, t, _v in attributes(e))
        name, rest = _split_name_test(node.body, node.var)
        body = self._lambda_body(rest if name is not None else node.body, node.var, casts)
        wanted = type_of(node.cast) if node.cast else None
        lookup = self.schema.attribute
        if name is not None and lookup is not None:

            def check_one(e: Any) -> bool:
                found = lookup(e, name)
                if found is None:
                    return False
                vtype, value = found
                return (wanted is None or vtype == wanted) and body((name, vtype, value))

            return check_one

        def check_all(e: Any) -> bool:
            return any((wanted is None or a[1] == wanted) and body(a) for a in attributes(e))

        return check_all

    def _lambda_body(self, node: Node | None, var: str, casts: list[str]) -> Callable[[Attr], bool]:
        if node is None:
            return lambda a: True
        if isinstance(node, And):
            parts = [self._lambda_body(n, var, casts) for n in node.items]
            return lambda a: all(p(a) for p in parts)
        if isinstance(node, Or):
            parts = [self._lambda_body(n, var, casts) for n in node.items]
            return lambda a: any(p(a) for p in parts)
        if isinstance(node, Not):
            inner = self._lambda_body(node.item, var, casts)
            return lambda a: not inner(a)
        if isinstance(node, Compare):
            return self._lambda_compare(node, var, casts)
        if isinstance(node, Call):
            segs = node.path.segments
            if len(segs) == 2 and segs[0] == var and segs[1] == "Name":
                method = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}
                fn, needle = method[node.name], node.arg.value
                return lambda a: bool(fn(a[0], needle))
        raise FilterError(f"Invalid $filter: unsupported expression inside any(): {node!r}")

    def _lambda_compare(self, node: Compare, var: str, casts: list[str]) -> Callable[[Attr], bool]:
        segs = node.left.segments
        if not segs or segs[0] != var:
            raise FilterError(
                f"Invalid $filter: inside any({var}: …) paths must start with {var}/, got {node.left.text}"
            )
        lit = node.right
        op = _OPS[node.op]
        rest = segs[1:]
        if rest == ("Name",):
            if lit.kind != "string" or node.op not in ("eq", "ne"):
                raise FilterError(f"Invalid $filter: {node.left.text} must be compared with eq and a string")
            value = lit.value
            return lambda a: op(a[0], value)
        cast = None
        if len(rest) == 2 and rest[1] == "Value":
            cast = _cast_of(rest[0])
            if cast is None:
                raise FilterError(f"Invalid $filter: unknown type cast in {node.left.text}")
        elif rest != ("Value",):
            raise FilterError(f"Invalid $filter: unknown attribute property {node.left.text} (use Name or Value)")
        all_casts = [*casts, *([cast] if cast else [])]
        types = {_type_from_cast(c) for c in all_casts}
        if len(types) > 1:
            raise FilterError(f"Invalid $filter: conflicting attribute types {sorted(t or '?' for t in types)}")
        vtype = types.pop() if types else None
        if vtype is None:
            if lit.kind == "null":
                raise FilterError("Invalid $filter: attribute values cannot be compared with null")
            candidates = _LITERAL_TO_TYPES[lit.kind]
        else:
            candidates = (vtype,)
            if lit.kind not in _ACCEPTS[ATTRIBUTE_TYPES[vtype][0]]:
                raise FilterError(f"Invalid $filter: a {vtype}Attribute value cannot be compared with {lit.text!r}")
        for t in candidates:
            if node.op not in ATTRIBUTE_TYPES[t][1]:
                allowed = " ".join(ATTRIBUTE_TYPES[t][1])
                raise FilterError(
                    f"Invalid $filter: operator '{node.op}' is not allowed on {t}Attribute values (allowed: {allowed})"
                )
        value = lit.value
        kinds = {t: ATTRIBUTE_TYPES[t][0] for t in candidates}

        def check(a: Attr) -> bool:
            kind = kinds.get(a[1])
            return kind is not None and _same_kind(kind, a[2]) and op(a[2], value)

        return check


def _type_from_cast(cast: str | None) -> str | None:
    """``StringAttribute`` -> ``String``."""
    if not cast or not cast.endswith("Attribute"):
        return None
    name = cast[: -len("Attribute")]
    return name if name in ATTRIBUTE_TYPES else None


def _cast_of(segment: str) -> str | None:
    prefix = "OData.CSC."
    if segment.startswith(prefix) and _type_from_cast(segment[len(prefix) :]):
        return segment[len(prefix) :]
    return None


def _split_name_test(body: Node, var: str) -> tuple[str | None, Node | None]:
    """Find ``var/Name eq 'x'`` among the top-level ``and`` terms: (``x``, remaining body) or (None, None)."""
    items = body.items if isinstance(body, And) else (body,)
    for i, item in enumerate(items):
        if (
            isinstance(item, Compare)
            and item.op == "eq"
            and item.left.segments == (var, "Name")
            and item.right.kind == "string"
        ):
            rest = items[:i] + items[i + 1 :]
            if not rest:
                return item.right.value, None
            return item.right.value, rest[0] if len(rest) == 1 else And(rest)
    return None, None
