"""Sentinel-1 style inventories of an area of interest: which tracks cover it, how completely, when.

Items are grouped by (orbit direction, relative orbit, polarization combination). Inside a group
the items of one pass (same absolute orbit, or the same UTC day when that is unknown) are merged:
their footprints' union is intersected with the AOI. Coverage is the ratio of areas in the
cylindrical equal-area plane (x = lon, y = sin lat), so it is an area ratio on the sphere, not
in degrees. A date has *full* coverage when the merged pass covers at least
:data:`FULL_COVERAGE` of the AOI. The *best* group for a time series has the most fully covered
dates (then the highest mean coverage, then the most dates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from catalog.timeutil import canonical_lenient

FULL_COVERAGE = 0.999
_POL_ORDER = ("HH", "HV", "VV", "VH")
EARTH_RADIUS_KM = 6371.0088


def equal_area(geometry: BaseGeometry) -> BaseGeometry:
    """Lon/lat degrees -> cylindrical equal-area plane (radians of lon, sin of lat)."""
    return shapely.transform(geometry, lambda xy: np.column_stack([np.radians(xy[:, 0]), np.sin(np.radians(xy[:, 1]))]))


def area_km2(geometry: BaseGeometry) -> float:
    return float(equal_area(geometry).area) * EARTH_RADIUS_KM**2


def polarization_key(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "-"
    ordered = sorted({str(v).upper() for v in value}, key=lambda p: (_POL_ORDER.index(p) if p in _POL_ORDER else 9, p))
    return "+".join(ordered)


@dataclass
class Pass:
    """The items of one group acquired in one pass, merged."""

    date: str  # UTC day of the first item, YYYY-MM-DD
    start: str  # its instant, canonical (YYYY-MM-DDTHH:MM:SS.ffffffZ)
    coverage: float
    item_ids: list[str]
    platforms: list[str]
    footprint: BaseGeometry  # union of the footprints (lon/lat)

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date, "start": self.start, "coverage": round(self.coverage, 6),
                "items": len(self.item_ids), "item_ids": self.item_ids, "platforms": self.platforms}  # fmt: skip


@dataclass
class Group:
    orbit_state: str
    relative_orbit: int | None
    polarizations: str
    collections: list[str] = field(default_factory=list)
    passes: list[Pass] = field(default_factory=list)

    @property
    def label(self) -> str:
        orbit = "-" if self.relative_orbit is None else f"{self.relative_orbit:03d}"
        return f"{self.orbit_state} {orbit} {self.polarizations}"

    @property
    def full_dates(self) -> list[str]:
        return [p.date for p in self.passes if p.coverage >= FULL_COVERAGE]

    @property
    def mean_coverage(self) -> float:
        return sum(p.coverage for p in self.passes) / len(self.passes) if self.passes else 0.0

    def rank(self) -> tuple[Any, ...]:
        return (-len(self.full_dates), -round(self.mean_coverage, 9), -len(self.passes), self.label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "orbit_state": self.orbit_state, "relative_orbit": self.relative_orbit,
            "polarizations": self.polarizations, "collections": self.collections, "dates": len(self.passes),
            "full_coverage_dates": self.full_dates, "mean_coverage": round(self.mean_coverage, 6),
            "acquisitions": [p.as_dict() for p in self.passes],
        }  # fmt: skip


@dataclass
class Inventory:
    aoi: BaseGeometry
    groups: list[Group]
    items: int

    @property
    def best(self) -> Group | None:
        return self.groups[0] if self.groups else None

    def as_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "aoi": {"bbox": list(self.aoi.bounds), "area_km2": round(area_km2(self.aoi), 3)},
            "items": self.items,
            "full_coverage_threshold": FULL_COVERAGE,
            "best": None if best is None else {
                "orbit_state": best.orbit_state, "relative_orbit": best.relative_orbit,
                "polarizations": best.polarizations, "full_coverage_dates": len(best.full_dates),
            },
            "groups": [group.as_dict() for group in self.groups],
        }  # fmt: skip


def compute(items: Iterable[dict[str, Any]], aoi: BaseGeometry) -> Inventory:
    """Group the items, merge passes and measure each pass's coverage of the AOI."""
    aoi_area = equal_area(aoi).area
    if aoi_area <= 0:
        raise ValueError("the AOI has no area")
    passes: dict[tuple[Any, ...], dict[Any, list[tuple[dict[str, Any], BaseGeometry]]]] = {}
    collections: dict[tuple[Any, ...], set[str]] = {}
    count = 0
    for item in items:
        geometry = item.get("geometry")
        properties = item.get("properties") or {}
        when = properties.get("datetime") or properties.get("start_datetime")
        if not geometry or not isinstance(when, str):
            continue
        shape = shapely.from_geojson(_dumps(geometry))
        if not shapely.intersects(shape, aoi):
            continue
        count += 1
        orbit = properties.get("sat:relative_orbit")
        key = (str(properties.get("sat:orbit_state") or "-"), orbit if isinstance(orbit, int) else None,
               polarization_key(properties.get("sar:polarizations")))  # fmt: skip
        absolute = properties.get("sat:absolute_orbit")
        pass_key = (properties.get("platform"), absolute) if isinstance(absolute, int) else when[:10]
        passes.setdefault(key, {}).setdefault(pass_key, []).append((item, shape))
        collections.setdefault(key, set()).add(str(item.get("collection", "")))
    groups = []
    for key, by_pass in passes.items():
        group = Group(*key, collections=sorted(collections[key]))
        for members in by_pass.values():
            members.sort(key=lambda m: (_when(m[0]), m[0].get("id", "")))
            footprint = shapely.union_all([shape for _, shape in members])
            covered = equal_area(shapely.intersection(footprint, aoi)).area
            first = _when(members[0][0])
            group.passes.append(Pass(
                date=first[:10], start=first, coverage=min(1.0, covered / aoi_area),
                item_ids=[str(m[0].get("id")) for m in members],
                platforms=sorted({str(m[0]["properties"].get("platform", "")) for m in members} - {""}),
                footprint=footprint,
            ))  # fmt: skip
        group.passes.sort(key=lambda p: (p.start, p.item_ids))
        groups.append(group)
    groups.sort(key=Group.rank)
    return Inventory(aoi, groups, count)


def _when(item: dict[str, Any]) -> str:
    """The item's instant (or range start) in canonical form, so that text order is time order."""
    properties = item.get("properties") or {}
    text = str(properties.get("datetime") or properties.get("start_datetime") or "")
    try:
        return canonical_lenient(text) or ""
    except ValueError:
        return text


def _dumps(geometry: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(geometry).decode()


def to_arrow(inventory: Inventory) -> Any:
    """One row per pass (group columns, date, coverage, item ids, merged footprint as WKB) as GeoParquet-ready
    Arrow table (``geo`` metadata included)."""
    import orjson
    import pyarrow as pa

    rows = [(group, p) for group in inventory.groups for p in group.passes]
    footprints = [p.footprint for _, p in rows]
    bounds = shapely.bounds(np.array(footprints, dtype=object)) if rows else np.zeros((0, 4))
    table = pa.table({
        "orbit_state": pa.array([g.orbit_state for g, _ in rows], pa.string()),
        "relative_orbit": pa.array([g.relative_orbit for g, _ in rows], pa.int64()),
        "polarizations": pa.array([g.polarizations for g, _ in rows], pa.string()),
        "date": pa.array([p.date for _, p in rows], pa.string()),
        "start": pa.array([p.start for _, p in rows], pa.string()),
        "coverage": pa.array([p.coverage for _, p in rows], pa.float64()),
        "full": pa.array([p.coverage >= FULL_COVERAGE for _, p in rows], pa.bool_()),
        "item_ids": pa.array([p.item_ids for _, p in rows], pa.list_(pa.string())),
        "geometry": pa.array(list(shapely.to_wkb(np.array(footprints, dtype=object))) if rows else [], pa.binary()),
        "bbox": pa.StructArray.from_arrays(
            [pa.array(bounds[:, i], pa.float64()) for i in range(4)], names=["xmin", "ymin", "xmax", "ymax"]
        ),
    })  # fmt: skip
    geo = {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {
        "encoding": "WKB", "geometry_types": [],
        "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}}}}}  # fmt: skip
    return table.replace_schema_metadata({b"geo": orjson.dumps(geo)})
