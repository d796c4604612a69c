"""Brute-force evaluation of queries in plain Python + shapely: the ground truth for search tests.

Deliberately independent of catalog/: no SQL, no index, timestamps parsed with datetime, CQL2
evaluated by the ``cql2`` package's own ``matches`` except for temporal operators, whose item
side is the item's time range (eocat's documented semantics).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cql2
import shapely
from shapely.geometry import box, shape


def ts(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def time_range(item: dict[str, Any]) -> tuple[datetime, datetime]:
    props = item["properties"]
    moments = [ts(props[key]) for key in ("datetime", "start_datetime", "end_datetime") if props.get(key)]
    return min(moments), max(moments)


def bbox_geometry(bbox: list[float]) -> Any:
    if len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    minx, miny, maxx, maxy = bbox
    if minx > maxx:
        return shapely.union(box(minx, miny, 180, maxy), box(-180, miny, maxx, maxy))
    return box(minx, miny, maxx, maxy)


def matches_geometry(item: dict[str, Any], query_geometry: Any) -> bool:
    return item.get("geometry") is not None and shape(item["geometry"]).intersects(query_geometry)


def matches_datetime(item: dict[str, Any], start: datetime | None, end: datetime | None) -> bool:
    first, last = time_range(item)
    return (end is None or first <= end) and (start is None or last >= start)


def matches_interval_text(item: dict[str, Any], interval: str) -> bool:
    if "/" not in interval:
        moment = ts(interval)
        return matches_datetime(item, moment, moment)
    start_text, end_text = interval.split("/")
    start = None if start_text in ("", "..") else ts(start_text)
    end = None if end_text in ("", "..") else ts(end_text)
    return matches_datetime(item, start, end)


def matches_filter(item: dict[str, Any], expr: cql2.Expr) -> bool:
    return bool(expr.matches(item))
