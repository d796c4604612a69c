"""Queryables generated from collection summaries and the hot-property table."""

from __future__ import annotations

from typing import Any

from catalog.api.params import parse_params
from catalog.api.queryables import queryables, sortables


def collection(summaries: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Collection", "id": "c", "summaries": summaries}


def test_summaries_become_enums_and_ranges_merged_across_collections() -> None:
    first = collection({"platform": ["sentinel-2b", "sentinel-2a"], "eo:cloud_cover": {"minimum": 0, "maximum": 80},
                        "instruments": ["msi"], "gsd": [10]})  # fmt: skip
    second = collection({"platform": ["sentinel-1a"], "eo:cloud_cover": {"minimum": 5, "maximum": 100},
                         "instruments": ["sar"], "mixed": [1, "a"]})  # fmt: skip
    document = queryables([first, second], "http://x/queryables", "all")
    properties = document["properties"]
    assert document["$id"] == "http://x/queryables" and document["additionalProperties"] is True
    assert properties["platform"] == {"type": "string", "enum": ["sentinel-1a", "sentinel-2a", "sentinel-2b"]}
    # whole numbers in a summary do not make a REAL column integer; ranges widen
    assert properties["eo:cloud_cover"] == {"type": "number", "minimum": 0, "maximum": 100}
    assert properties["instruments"] == {"type": "array", "items": {"type": "string", "enum": ["msi", "sar"]}}
    assert "gsd" not in properties and "mixed" not in properties
    # hot properties are queryable even when no collection summarises them
    assert properties["s1:relative_burst_id"] == {"type": "integer"}
    assert properties["geometry"]["$ref"].endswith("Geometry.json")


def test_one_collection_keeps_its_own_enum() -> None:
    only = queryables([collection({"sat:orbit_state": ["descending", "ascending"]})], "u", "t")["properties"]
    assert only["sat:orbit_state"] == {"type": "string", "enum": ["ascending", "descending"]}


def test_sortables_exclude_arrays() -> None:
    properties = sortables("u", "t")["properties"]
    assert {"id", "datetime", "eo:cloud_cover"} <= set(properties)
    assert "sar:polarizations" not in properties


def test_lenient_cql2_forms_and_capped_limit() -> None:
    query = parse_params({"limit": 50_000, "filter": {"op": "and", "args": [
        {"op": "between", "args": [{"property": "eo:cloud_cover"}, [0, 50]]}]}})  # fmt: skip
    assert query.limit == 10_000
    assert query.filter == {"op": "between", "args": [{"property": "eo:cloud_cover"}, 0, 50]}
    assert parse_params({"filter": {"op": "and", "args": []}}).filter is None
