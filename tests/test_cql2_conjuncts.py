"""Which terms of a CQL2 filter an index carrying some properties can test on its own entries."""

from __future__ import annotations

from catalog.cql2sql import conjuncts_on, parse_filter

NAMES = {"eo:cloud_cover", "collection"}


def _kept(text: str) -> list[dict[str, object]]:
    return conjuncts_on(parse_filter(text), NAMES)


def test_top_level_terms_on_carried_properties_are_kept() -> None:
    kept = _kept("eo:cloud_cover < 20 AND platform = 'sentinel-2a' AND (collection = 'a' OR eo:cloud_cover IS NULL)")
    assert len(kept) == 2
    assert kept[0]["op"] == "<"
    assert kept[1]["op"] == "or"


def test_terms_reading_other_properties_or_geometry_or_time_are_left_out() -> None:
    assert _kept("platform = 'x'") == []
    assert _kept("eo:cloud_cover < 20 OR platform = 'x'") == []  # an OR is kept whole or not at all
    assert _kept("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))") == []
    assert _kept("T_AFTER(datetime, TIMESTAMP('2024-01-01T00:00:00Z'))") == []
    assert _kept("NOT (properties.eo:cloud_cover > 50)")[0]["op"] == "not"


def test_nested_ands_are_flattened() -> None:
    node = {
        "op": "and",
        "args": [
            {
                "op": "and",
                "args": [
                    {"op": "<", "args": [{"property": "eo:cloud_cover"}, 5]},
                    {"op": "=", "args": [{"property": "gsd"}, 10]},
                ],
            },
            {"op": "in", "args": [{"property": "collection"}, ["a", "b"]]},
        ],
    }
    assert [term["op"] for term in conjuncts_on(node, NAMES)] == ["<", "in"]
