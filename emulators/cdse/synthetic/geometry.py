"""Footprints of synthetic products: tilted quadrilaterals on a local tangent plane, split at the antimeridian."""

from __future__ import annotations

import math
from typing import Any

from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

KM_PER_DEG = 111.32
Ring = list[tuple[float, float]]


def quad(lon: float, lat: float, heading: float, along_km: float, across_km: float, per_edge: int = 1) -> Ring:
    """Closed ring (lon may leave [-180, 180]) of a rectangle centred on (lon, lat), rotated to ``heading`` (deg).

    ``per_edge`` > 1 adds points along each edge (like the dense S3 footprints).
    """
    h = math.radians(heading)
    coslat = max(math.cos(math.radians(lat)), 0.05)
    corners = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]  # (across, along) fractions, counter-clockwise
    ring: Ring = []
    for k in range(4):
        a0, b0 = corners[k]
        a1, b1 = corners[(k + 1) % 4]
        for s in range(per_edge):
            f = s / per_edge
            x_km = (a0 + (a1 - a0) * f) * across_km
            y_km = (b0 + (b1 - b0) * f) * along_km
            east = x_km * math.cos(h) + y_km * math.sin(h)
            north = -x_km * math.sin(h) + y_km * math.cos(h)
            plat = min(max(lat + north / KM_PER_DEG, -89.9), 89.9)
            ring.append((lon + east / (KM_PER_DEG * coslat), plat))
    ring.append(ring[0])
    return ring


def cut_corner(ring: Ring, fraction: float) -> Ring:
    """Replace the first corner of a closed 5-point ring by two points: a partially covered tile."""
    (x0, y0), (x1, y1), _, (x3, y3) = ring[0], ring[1], ring[2], ring[3]
    p = (x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction)
    q = (x0 + (x3 - x0) * fraction, y0 + (y3 - y0) * fraction)
    return [p, *ring[1:4], q, p]


def parts(ring: Ring) -> list[Ring]:
    """The ring as one or more rings inside [-180, 180]: split in two when it crosses the antimeridian."""
    xs = [x for x, _ in ring]
    if min(xs) >= -180 and max(xs) <= 180:
        return [ring]
    shift = 360.0 if min(xs) < -180 else 0.0
    poly = Polygon([(x + shift, y) for x, y in ring])
    west = poly.intersection(box(-180, -90, 180, 90))
    east = affinity.translate(poly.intersection(box(180, -90, 540, 90)), xoff=-360)
    out: list[Ring] = []
    for piece in (west, east):
        for g in getattr(piece, "geoms", [piece]):
            if isinstance(g, Polygon) and not g.is_empty:
                out.append([(float(x), float(y)) for x, y in g.exterior.coords])
    return out


def rounded(rings: list[Ring], digits: int | None) -> list[Ring]:
    """Coordinates rounded to ``digits`` decimals (None keeps full precision)."""
    if digits is None:
        return rings
    return [[(round(x, digits), round(y, digits)) for x, y in r] for r in rings]


def bounds(rings: list[Ring]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) over all rings."""
    xs = [x for r in rings for x, _ in r]
    ys = [y for r in rings for _, y in r]
    return min(xs), min(ys), max(xs), max(ys)


def geometry(rings: list[Ring]) -> BaseGeometry:
    """A shapely Polygon (one ring) or MultiPolygon."""
    if len(rings) == 1:
        return Polygon(rings[0])
    return MultiPolygon([Polygon(r) for r in rings])


def wkt(rings: list[Ring], multi: bool) -> str:
    """CDSE's ``Footprint`` string: ``geography'SRID=4326;POLYGON ((x y, …))'`` (MULTIPOLYGON when asked/needed)."""
    body = [", ".join(f"{_fmt(x)} {_fmt(y)}" for x, y in r) for r in rings]
    if multi or len(rings) > 1:
        return "geography'SRID=4326;MULTIPOLYGON (" + ", ".join(f"(({b}))" for b in body) + ")'"
    return f"geography'SRID=4326;POLYGON (({body[0]}))'"


def _fmt(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def geojson(rings: list[Ring], multi: bool) -> dict[str, Any]:
    """CDSE's ``GeoFootprint`` (GeoJSON Polygon, or MultiPolygon when asked/needed)."""
    coords = [[[x, y] for x, y in r] for r in rings]
    if multi or len(rings) > 1:
        return {"type": "MultiPolygon", "coordinates": [[c] for c in coords]}
    return {"type": "Polygon", "coordinates": coords}
