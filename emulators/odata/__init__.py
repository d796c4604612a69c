"""An OData ``$filter`` parser and evaluator: the subset CDSE and its clients use (Products, Bursts, …).

Parse once, compile against a :class:`Schema` that says which properties exist and how to read them
from an entity, then call the predicate::

    node = parse_filter("Collection/Name eq 'SENTINEL-2' and ContentDate/Start lt 2024-01-01")
    match = compile_filter(node, schema)
    hits = [e for e in entities if match(e)]

Errors in the text or against the schema raise :class:`FilterError` with a message meant for the
client (the emulator returns it as HTTP 400). :func:`conjuncts`, :func:`range_of` and
:func:`equals_of` read top-level ``and`` terms so a store can narrow candidates with its indexes
before evaluating the whole predicate.
"""

from emulators.odata.analysis import Range, conjuncts, equals_of, range_of
from emulators.odata.ast import (
    And,
    Any_,
    Call,
    Compare,
    Intersects,
    Literal,
    Node,
    Not,
    Or,
    Path,
)
from emulators.odata.errors import FilterError
from emulators.odata.evaluate import Attr, Field, Predicate, Schema, compile_filter
from emulators.odata.literals import format_datetime, parse_datetime
from emulators.odata.parser import parse_filter

__all__ = [
    "And",
    "Any_",
    "Attr",
    "Call",
    "Compare",
    "Field",
    "FilterError",
    "Intersects",
    "Literal",
    "Node",
    "Not",
    "Or",
    "Path",
    "Predicate",
    "Range",
    "Schema",
    "compile_filter",
    "conjuncts",
    "equals_of",
    "format_datetime",
    "parse_datetime",
    "parse_filter",
    "range_of",
]
