"""Footprints: tilted rectangles along a ground track, split at the antimeridian (RFC 7946 bbox)."""

from __future__ import annotations

import math
from typing import Any

import antimeridian

from emulators.cdse.synthetic.geometry import KM_PER_DEG

_D2R = math.pi / 180.0


def offset(lat: float, lon: float, heading: float, along_km: float, right_km: float) -> tuple[float, float]:
    """Move ``along_km`` along ``heading`` and ``right_km`` to its right (local flat approximation)."""
    sh = math.sin(heading)
    ch = math.cos(heading)
    north = along_km * ch - right_km * sh
    east = along_km * sh + right_km * ch
    lat2 = lat + north / KM_PER_DEG
    lon2 = lon + east / (KM_PER_DEG * math.cos((lat + lat2) * 0.5 * _D2R))
    return lat2, (lon2 + 180.0) % 360.0 - 180.0


def quad(lat: float, lon: float, heading: float, along_km: float, across_km: float) -> list[list[float]]:
    """Closed CCW ring of a ``along_km`` x ``across_km`` rectangle centred on (lat, lon), tilted by
    ``heading``; longitudes are *not* wrapped (may leave [-180, 180]). Each corner's longitude span is
    widened by 1/cos(its latitude)."""
    sh = math.sin(heading)
    ch = math.cos(heading)
    ha = along_km * 0.5
    hw = across_km * 0.5
    # corner offsets (north, east) in km: rear-left, rear-right, front-right, front-left
    an, ae = ha * ch, ha * sh
    cn, ce = -hw * sh, hw * ch
    k = 1.0 / KM_PER_DEG
    cos = math.cos
    la0 = lat + (-an - cn) * k
    la1 = lat + (-an + cn) * k
    la2 = lat + (an + cn) * k
    la3 = lat + (an - cn) * k
    p0 = [round((lon + (-ae - ce) * k / cos(la0 * _D2R)) * 1e6) / 1e6, round(la0 * 1e6) / 1e6]
    p1 = [round((lon + (-ae + ce) * k / cos(la1 * _D2R)) * 1e6) / 1e6, round(la1 * 1e6) / 1e6]
    p2 = [round((lon + (ae + ce) * k / cos(la2 * _D2R)) * 1e6) / 1e6, round(la2 * 1e6) / 1e6]
    p3 = [round((lon + (ae - ce) * k / cos(la3 * _D2R)) * 1e6) / 1e6, round(la3 * 1e6) / 1e6]
    return [p0, p1, p2, p3, [p0[0], p0[1]]]


def footprint(ring: list[list[float]]) -> tuple[dict[str, Any], list[float]]:
    """GeoJSON geometry + RFC 7946 bbox for a closed CCW ring with possibly unwrapped longitudes."""
    lons = [p[0] for p in ring]
    lo = min(lons)
    hi = max(lons)
    if lo >= -180.0 and hi <= 180.0:
        lats = [p[1] for p in ring]
        return {"type": "Polygon", "coordinates": [ring]}, [lo, min(lats), hi, max(lats)]
    wrapped = [[round((x + 180.0) % 360.0 - 180.0, 6), y] for x, y in ring]
    fixed = antimeridian.fix_shape({"type": "Polygon", "coordinates": [wrapped]})
    # tuples -> lists; round away float noise (the crossing points have 7 decimals); bbox from the result
    geom = {
        "type": fixed["type"],
        "coordinates": [
            [[[round(x, 7), round(y, 7)] for x, y in ring] for ring in poly] for poly in fixed["coordinates"]
        ],
    }
    return geom, [float(v) for v in antimeridian.bbox(geom)]


def copy_geometry(geom: dict[str, Any]) -> dict[str, Any]:
    if geom["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [[[x, y] for x, y in r] for r in geom["coordinates"]]}
    return {
        "type": geom["type"],
        "coordinates": [[[[x, y] for x, y in r] for r in poly] for poly in geom["coordinates"]],
    }


def antimeridian_slots(count: int) -> set[int]:
    """Which entries of a location pool of ``count`` must cross the antimeridian (~0.5 %, at least
    one in pools of 20 or more, so that moderately sized samples always contain some)."""
    if count < 20:
        return set()
    n_am = max(1, round(0.005 * count))
    return {int((j + 0.5) * count / n_am) for j in range(n_am)}
