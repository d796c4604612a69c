"""The CQL2 compiler: values and names are bound, never pasted; unusual names and patterns work."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.cql2sql import FilterCompiler, _like_to_glob, parse_filter
from catalog.errors import InvalidQuery
from catalog.geo import SpatialFilter
from catalog.search import Query, count, search
from catalog.store import Store
from tests.items import make_item


def compile_text(text: str | dict[str, Any]) -> tuple[str, list[Any]]:
    params: list[Any] = []

    def spatial(spatial: SpatialFilter, predicate: str, shared: list[Any]) -> str:
        shared.append(spatial.wkb)
        return f"spatial({predicate}, ?{len(shared)})"

    sql = FilterCompiler(spatial, params).compile(parse_filter(text))
    return sql, params


NAME = "we'ird\"name$.x"


def test_values_and_property_names_are_parameters() -> None:
    hostile = "x'); DROP TABLE items; --"
    sql, params = compile_text(
        {"op": "and", "args": [{"op": "=", "args": [{"property": NAME}, hostile]},
                               {"op": "<", "args": [{"property": "eo:cloud_cover"}, 12.5]}]}
    )  # fmt: skip
    assert "DROP" not in sql and "12.5" not in sql and "we'ird" not in sql
    assert hostile in params and 12.5 in params
    assert any(isinstance(p, str) and "we'ird" in p for p in params), "the JSON path is bound too"


def test_hostile_values_and_names_are_harmless_in_a_real_store(store: Store) -> None:
    store.upsert_items([make_item("a", properties={NAME: "x'); DROP TABLE items; --"}), make_item("b")])
    query = Query.parse(filter={"op": "=", "args": [{"property": NAME}, "x'); DROP TABLE items; --"]})
    assert [item["id"] for item in search(store, query).items] == ["a"]
    assert store.count_items() == 2


@pytest.mark.parametrize(
    ("pattern", "glob"),
    [("S2%", "S2*"), ("a_c", "a?c"), ("100\\%", "100%"), ("x\\_y", "x_y"), ("[*?]%", "[[][*][?][]]*")],
)
def test_like_patterns_translate_to_case_sensitive_globs(pattern: str, glob: str) -> None:
    assert _like_to_glob(pattern) == glob


def test_like_with_glob_metacharacters_matches_literally(store: Store) -> None:
    store.upsert_items([make_item("a*b[1]"), make_item("axb1"), make_item("A*B[1]")])
    assert [i["id"] for i in search(store, Query.parse(filter="id LIKE 'a*b[1]'")).items] == ["a*b[1]"]
    assert count(store, Query.parse(filter="CASEI(id) LIKE CASEI('a*b[1]')")) == 2


@pytest.mark.parametrize(
    "bad",
    ["eo:cloud_cover <", "foo(", "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))",
     '{"op": "nope", "args": []}', "T_INTERSECTS(datetime, TIMESTAMP('yesterday'))"],
)  # fmt: skip
def test_bad_filters_are_invalid_queries(store: Store, bad: str) -> None:
    with pytest.raises(InvalidQuery):
        count(store, Query.parse(filter=bad))
