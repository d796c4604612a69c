"""Syntax tree of a ``$filter`` expression (immutable dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

# Literal kinds: "string", "int", "float", "datetime" (µs since epoch), "bool", "null", "guid", "geography".
Node = Any  # Compare | And | Or | Not | Call | Intersects | Any_ | Literal (bare boolean) | Path (bare boolean)


@dataclass(frozen=True)
class Literal:
    """A constant: ``value`` already converted (datetimes to µs, geography to a shapely geometry)."""

    value: Any
    kind: str
    text: str = ""
    position: int = 0


@dataclass(frozen=True)
class Path:
    """A property path such as ``ContentDate/Start`` or, inside a lambda, ``att/Value``."""

    segments: tuple[str, ...]
    position: int = 0

    @property
    def text(self) -> str:
        """The path as written, segments joined by ``/``."""
        return "/".join(self.segments)


@dataclass(frozen=True)
class Compare:
    """``left op right`` with ``op`` one of eq ne gt ge lt le (normalised so that ``left`` is the path)."""

    op: str
    left: Path
    right: Literal
    position: int = 0


@dataclass(frozen=True)
class And:
    """Conjunction of two or more terms."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more terms."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Negation."""

    item: Node


@dataclass(frozen=True)
class Call:
    """A string function: ``contains``, ``startswith`` or ``endswith`` of a path and a string literal."""

    name: str
    path: Path
    arg: Literal
    position: int = 0


@dataclass(frozen=True)
class Intersects:
    """``OData.CSC.Intersects(area=geography'SRID=4326;…')``: footprint intersects ``geometry``."""

    geometry: BaseGeometry
    argument: str  # "area", "Footprint", "footprint" or "" (positional)
    position: int = 0


@dataclass(frozen=True)
class Any_:
    """``<collection>[/<cast>]/any(var: body)``; ``body`` is None for ``any()``."""

    collection: str
    cast: str | None  # e.g. "StringAttribute" from OData.CSC.StringAttribute
    var: str
    body: Node | None
    position: int = 0
