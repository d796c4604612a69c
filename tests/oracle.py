"""Brute-force evaluation of queries in plain Python + shapely: the ground truth for search tests.

Deliberately independent of catalog/: no SQL, no index, timestamps parsed with datetime, CQL2
evaluated by a small interpreter of its JSON form with SQL's three-valued logic (a missing
property makes a comparison unknown, and NOT unknown is unknown); temporal rules are
written out per test, with the item's time range as its side (eocat's documented semantics).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

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


# -- an independent CQL2 evaluator with SQL's three-valued logic (None = unknown) ------------


def _value(item: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict):
        if "property" in node:
            name = node["property"].removeprefix("properties.")
            if name in ("id", "collection"):
                return item.get(name)
            if name == "geometry":
                return shape(item["geometry"]) if item.get("geometry") else None
            value = item["properties"].get(name)
            return ts(value) if name in ("datetime", "start_datetime", "end_datetime") and value else value
        if "timestamp" in node:
            return ts(node["timestamp"])
        if "date" in node:
            return ts(node["date"] + "T00:00:00Z")
        if "type" in node and "coordinates" in node:
            return shape(node)
        if node.get("op") == "casei":
            value = _value(item, node["args"][0])
            return value.lower() if isinstance(value, str) else value
    if isinstance(node, list):
        return [_value(item, element) for element in node]
    return node


def _like(value: str, pattern: str) -> bool:
    regex, chars = "", iter(pattern)
    for char in chars:
        if char == "\\":
            regex += re.escape(next(chars, "\\"))
        elif char == "%":
            regex += ".*"
        elif char == "_":
            regex += "."
        else:
            regex += re.escape(char)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def evaluate(item: dict[str, Any], node: Any) -> bool | None:
    """Evaluate CQL2 JSON (non-temporal operators) on an item; None means unknown."""
    op, args = node["op"].lower(), node.get("args", [])
    if op == "and":
        results = [evaluate(item, arg) for arg in args]
        return False if False in results else (None if None in results else True)
    if op == "or":
        results = [evaluate(item, arg) for arg in args]
        return True if True in results else (None if None in results else False)
    if op == "not":
        result = evaluate(item, args[0])
        return None if result is None else not result
    if op == "isnull":
        return _value(item, args[0]) is None
    values = [_value(item, arg) for arg in args]
    if op in ("a_equals", "a_contains", "a_containedby", "a_overlaps"):
        have, want = values
        if have is None:
            return None
        return {
            "a_equals": have == want,
            "a_contains": set(want) <= set(have),
            "a_containedby": set(have) <= set(want),
            "a_overlaps": bool(set(have) & set(want)),
        }[op]
    if op.startswith("s_"):
        geometry, other = values
        if geometry is None:
            return None
        return {"s_intersects": geometry.intersects, "s_disjoint": geometry.disjoint,
                "s_within": geometry.within, "s_contains": geometry.contains}[op](other)  # fmt: skip
    if any(value is None for value in values[:1]) or (op != "in" and None in values):
        return None
    first = values[0]
    if op == "like":
        return _like(first, values[1])
    if op == "in":
        return first in values[1]
    if op == "between":
        return values[1] <= first <= values[2]
    second = values[1]
    return {"=": first == second, "<>": first != second, "<": first < second, "<=": first <= second,
            ">": first > second, ">=": first >= second}[op]  # fmt: skip


def matches_cql2(item: dict[str, Any], filter_json: dict[str, Any]) -> bool:
    return evaluate(item, filter_json) is True
