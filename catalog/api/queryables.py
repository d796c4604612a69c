"""Queryables and sortables (JSON Schema) generated from the hot-property table and collection summaries.

Every collection's ``summaries`` become properties: a list of values is an ``enum`` (with the JSON
type of its values), a ``{"minimum", "maximum"}`` object a numeric range. Hot properties
(:mod:`catalog.columns`) are always queryable and sortable with their column type. ``eo:cloud_cover``
is a hot property, so it is queryable everywhere, as stac-api-validator's filter checks expect.
"""

from __future__ import annotations

from typing import Any

from catalog.columns import HOT_PROPERTIES

SCHEMA = "https://json-schema.org/draft/2019-09/schema"
_SQL_TYPES = {"REAL": "number", "INTEGER": "integer", "TEXT": "string"}
_CORE: dict[str, dict[str, Any]] = {
    "id": {"title": "Item ID", "type": "string"},
    "collection": {"title": "Collection ID", "type": "string"},
    "datetime": {"title": "Acquisition time", "type": "string", "format": "date-time"},
    "start_datetime": {"title": "Start of the acquisition", "type": "string", "format": "date-time"},
    "end_datetime": {"title": "End of the acquisition", "type": "string", "format": "date-time"},
    "geometry": {"title": "Footprint", "$ref": "https://geojson.org/schema/Geometry.json"},
}
_SORTABLE_CORE = ("id", "collection", "datetime", "start_datetime", "end_datetime")
# Summaries that describe the collection rather than one item's value.
# Item properties whose value is an array (summaries list their element values).
_ARRAYS = {"instruments", "providers", "sar:polarizations", "sar:beam_ids", "keywords"}
_NOT_QUERYABLE = {"gsd", "bands", "eo:bands", "raster:bands", "proj:code", "proj:epsg"}


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _hot_schema() -> dict[str, dict[str, Any]]:
    properties: dict[str, dict[str, Any]] = {}
    for hot in HOT_PROPERTIES:
        scalar = {"type": _SQL_TYPES[hot.sqltype]}
        properties[hot.name] = {"type": "array", "items": scalar} if hot.is_array else dict(scalar)
    properties["eo:cloud_cover"].update(minimum=0, maximum=100)
    return properties


def _summary_schema(name: str, summary: Any, known: dict[str, Any] | None) -> dict[str, Any] | None:
    """Schema of one summary; ``known`` is the hot-property schema of that name, if any."""
    is_array = name in _ARRAYS or bool(known and known.get("type") == "array")
    if isinstance(summary, dict) and ("minimum" in summary or "maximum" in summary):
        kind = _json_type(summary.get("minimum")) or _json_type(summary.get("maximum")) or "number"
        scalar: dict[str, Any] = {"type": kind}
        if "minimum" in summary and summary["minimum"] is not None:
            scalar["minimum"] = summary["minimum"]
        if "maximum" in summary and summary["maximum"] is not None:
            scalar["maximum"] = summary["maximum"]
    elif isinstance(summary, list) and summary:
        kinds = {_json_type(value) for value in summary}
        if len(kinds) != 1 or None in kinds:
            return None
        element_type = kinds.pop()
        values = sorted(summary) if element_type == "string" else summary
        scalar = {"type": element_type, "enum": values}
    else:
        return None
    if scalar["type"] == "integer" and known and (known.get("items") or known).get("type") == "number":
        scalar["type"] = "number"  # the column is REAL: whole numbers in a summary do not make it integer
    return {"type": "array", "items": scalar} if is_array else scalar


def _merge(into: dict[str, dict[str, Any]], name: str, schema: dict[str, Any]) -> None:
    """Union of two schemas of one property: enums are merged, ranges widened."""
    current = into.get(name)
    if current is None:
        into[name] = schema
        return
    have, new = current.get("items", current), schema.get("items", schema)
    if "enum" in have and "enum" in new:
        have["enum"] = sorted(set(have["enum"]) | set(new["enum"]), key=str)
    elif "enum" in have or "enum" in new:
        have.pop("enum", None)
    for bound, pick in (("minimum", min), ("maximum", max)):
        if bound in have and bound in new:
            have[bound] = pick(have[bound], new[bound])
        else:
            have.pop(bound, None)


def queryables(collections: list[dict[str, Any]], schema_id: str, title: str) -> dict[str, Any]:
    """The queryables of these collections (all of them for the global endpoint)."""
    properties: dict[str, dict[str, Any]] = {name: dict(value) for name, value in _CORE.items()}
    hot = _hot_schema()
    for collection in collections:
        for name, summary in sorted((collection.get("summaries") or {}).items()):
            if name in _NOT_QUERYABLE or name in _CORE:
                continue
            schema = _summary_schema(name, summary, hot.get(name))
            if schema is not None:
                _merge(properties, name, schema)
    for name, schema in hot.items():
        properties.setdefault(name, schema)
    return {
        "$schema": SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": True,
    }


def sortables(schema_id: str, title: str) -> dict[str, Any]:
    """Fields ``sortby`` accepts with an index behind them (any property sorts, these sort fast)."""
    properties = {name: {k: v for k, v in _CORE[name].items() if k != "format"} for name in _SORTABLE_CORE}
    for hot in HOT_PROPERTIES:
        if not hot.is_array:
            properties[hot.name] = {"type": _SQL_TYPES[hot.sqltype]}
    return {
        "$schema": SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": True,
    }
