"""Spatial side of queries: bbox and GeoJSON parsing, R*Tree boxes, exact tests in SQLite.

Longitudes follow RFC 7946: geometries crossing the antimeridian are split, and their bbox has
``minx > maxx``. The R*Tree stores such an item as ``minx .. maxx + 360`` (see
:mod:`catalog.migrations`), so a query box ``[a, b]`` is looked up as ``[a, b]`` and
``[a + 360, b + 360]``. Index hits are candidates; an item whose bbox lies inside a query
rectangle matches without more ado, the others are tested exactly by shapely in a SQLite
function on the stored WKB against the query geometry, parsed and prepared once per query.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from catalog.errors import InvalidQuery

Box = tuple[float, float, float, float]  # minx, miny, maxx, maxy
_MAX_INDEX_BOXES = 8


def parse_bbox(values: Sequence[Any] | str) -> Box:
    """Validate a STAC bbox (4 or 6 numbers, as a list or comma-separated text) into a 2D box.

    ``minx > maxx`` is allowed and means the box crosses the antimeridian.
    """
    parts = [part.strip() for part in values.split(",")] if isinstance(values, str) else list(values)
    try:
        numbers = [float(part) for part in parts]
    except (TypeError, ValueError):
        raise InvalidQuery(f"invalid bbox {values!r}: expected 4 or 6 numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    elif len(numbers) != 4:
        raise InvalidQuery(f"invalid bbox {values!r}: expected 4 or 6 numbers, got {len(numbers)}")
    minx, miny, maxx, maxy = numbers
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidQuery(f"invalid bbox {values!r}: numbers must be finite")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidQuery(f"invalid bbox {values!r}: longitudes must be within [-180, 180]")
    if not (-90 <= miny <= maxy <= 90):
        raise InvalidQuery(f"invalid bbox {values!r}: latitudes must be within [-90, 90] with south <= north")
    return minx, miny, maxx, maxy


def bbox_parts(box: Box) -> list[Box]:
    """Split an antimeridian-crossing box into its two halves; other boxes are returned as is."""
    minx, miny, maxx, maxy = box
    if minx > maxx:
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [box]


def parse_geometry(geojson: dict[str, Any] | str) -> BaseGeometry:
    """Parse a GeoJSON geometry for ``intersects`` / ``s_intersects``; 400 when it is unusable."""
    text = geojson if isinstance(geojson, str) else orjson.dumps(geojson).decode()
    try:
        geometry = shapely.from_geojson(text)
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise InvalidQuery(f"invalid GeoJSON geometry: {exc}") from None
    if geometry is None or geometry.is_empty:
        raise InvalidQuery("invalid GeoJSON geometry: it is empty")
    if not geometry.is_valid:
        raise InvalidQuery(f"invalid GeoJSON geometry: {shapely.is_valid_reason(geometry)}")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidQuery(
            "invalid GeoJSON geometry: coordinates outside [-180, 180] x [-90, 90]; "
            "split geometries that cross the antimeridian (RFC 7946 §3.1.9)"
        )
    return geometry


@dataclass(frozen=True)
class SpatialFilter:
    """A query geometry, parsed once, with what the index and the exact test need."""

    geometry: BaseGeometry
    rectangles: tuple[Box, ...]  # set when the geometry is exactly these boxes (bbox queries)
    wkb: bytes = b""  # the geometry as WKB: how the exact test in SQL names it

    def __post_init__(self) -> None:
        if not self.wkb:
            object.__setattr__(self, "wkb", bytes(shapely.to_wkb(self.geometry)))

    @property
    def prepared(self) -> BaseGeometry:
        """The geometry, prepared for repeated predicate tests (shapely keeps it prepared)."""
        shapely.prepare(self.geometry)
        return self.geometry

    @classmethod
    def from_bbox(cls, box: Box) -> SpatialFilter:
        parts = bbox_parts(box)
        geometry = shapely.union_all([shapely.box(*part) for part in parts])
        return cls(geometry, tuple(parts))

    @classmethod
    def from_geojson(cls, geojson: dict[str, Any] | str) -> SpatialFilter:
        return cls(parse_geometry(geojson), ())

    def index_boxes(self) -> list[Box]:
        """Boxes (in the R*Tree's unwrapped longitude) whose hits are the candidates."""
        parts = list(getattr(self.geometry, "geoms", [self.geometry]))
        boxes = [part.bounds for part in parts] if len(parts) <= _MAX_INDEX_BOXES else [self.geometry.bounds]
        unwrapped: list[Box] = []
        for minx, miny, maxx, maxy in boxes:
            unwrapped.append((minx, miny, maxx, maxy))
            unwrapped.append((minx + 360, miny, maxx + 360, maxy))
        return unwrapped


@lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> BaseGeometry:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


_PREDICATES = {
    "intersects": lambda query, item: query.intersects(item),
    "within": lambda query, item: query.contains(item),  # item within query
    "contains": lambda query, item: query.within(item),  # item contains query
    "equals": lambda query, item: query.equals(item),
}


def _spatial_udf(op: str, geometry_wkb: bytes | None, query_wkb: bytes) -> int:
    if geometry_wkb is None:
        return 0
    try:
        item = shapely.from_wkb(geometry_wkb)
    except (shapely.errors.GEOSException, ValueError):
        return 0
    return int(bool(_PREDICATES[op](_prepared(query_wkb), item)))


#: An item's bbox maxx in the spatial indexes' unwrapped longitude (maxx + 360 across the antimeridian).
UNWRAPPED_MAXX_SQL = "(CASE WHEN minx > maxx THEN maxx + 360 ELSE maxx END)"


def boxes_meet_sql(boxes: Sequence[Box], bind: Callable[[Any], str]) -> str:
    """SQL true when the bbox columns meet one of the (unwrapped) boxes; ``bind`` returns a value's placeholder."""
    return (
        "("
        + " OR ".join(
            f"(minx <= {bind(x1)} AND {UNWRAPPED_MAXX_SQL} >= {bind(x0)} AND miny <= {bind(y1)} AND maxy >= {bind(y0)})"
            for x0, y0, x1, y1 in boxes
        )
        + ")"
    )


def register_functions(conn: sqlite3.Connection) -> None:
    """Register ``eocat_spatial(op, geometry_wkb, query_wkb)`` on a connection."""
    conn.create_function("eocat_spatial", 3, _spatial_udf, deterministic=True)


def item_bbox(item: dict[str, Any]) -> Box | None:
    """The 2D bbox of a stored item: its own ``bbox`` if present, else computed from the geometry."""
    bbox = item.get("bbox")
    if bbox is not None:
        if not isinstance(bbox, list) or len(bbox) not in (4, 6):
            raise ValueError(f"bbox must be 4 or 6 numbers, got {bbox!r}")
        if len(bbox) == 6:
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        minx, miny, maxx, maxy = map(float, bbox)
        if not (miny <= maxy):
            raise ValueError(f"bbox south {miny} is north of north {maxy}")
        return minx, miny, maxx, maxy
    geometry = item.get("geometry")
    if geometry is None:
        return None
    shape = shapely.from_geojson(orjson.dumps(geometry).decode())
    if shape.is_empty:
        return None
    bounds: Box = tuple(float(value) for value in shape.bounds)  # type: ignore[assignment]
    return bounds
