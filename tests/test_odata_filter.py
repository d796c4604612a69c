"""The OData $filter parser and evaluator alone (no HTTP): grammar, literals, errors, use with another schema."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from emulators.odata import (
    And,
    Any_,
    Compare,
    Field,
    FilterError,
    Intersects,
    Not,
    Or,
    Schema,
    compile_filter,
    format_datetime,
    parse_datetime,
    parse_filter,
    range_of,
)


def _dt(text: str) -> int:
    return parse_datetime(text)


ENTITIES = [
    {
        "Name": "S2A_MSIL2A_20230104T101421_N0509_R022_T32TQM_20230104T131503.SAFE",
        "Start": _dt("2023-01-04T10:14:21.024Z"),
        "Online": True,
        "Size": 800,
        "attrs": [("cloudCover", "Double", 12.5), ("productType", "String", "S2MSI2A"), ("flag", "Boolean", True)],
        "geom": shapely.box(10, 45, 11, 46),
    },
    {
        "Name": "S1A_IW_GRDH_1SDV_20230105T053000_20230105T053025_046612_059644_1A2B_COG.SAFE",
        "Start": _dt("2023-01-05T05:30:00.123456Z"),
        "Online": False,
        "Size": 0,
        "attrs": [("orbitNumber", "Integer", 46612), ("processingDate", "DateTimeOffset", _dt("2023-01-05T07:00:00Z"))],
        "geom": shapely.box(179, -20, 180, -18),
    },
    {"Name": "AUX", "Start": None, "Online": True, "Size": 5, "attrs": [], "geom": None},
]


def _footprint(e: dict[str, Any]) -> Any:
    g = e["geom"]
    return None if g is None else (g.bounds, lambda: g)


SCHEMA = Schema(
    fields={
        "Name": Field("string", lambda e: e["Name"]),
        "ContentDate/Start": Field("datetime", lambda e: e["Start"]),
        "Online": Field("bool", lambda e: e["Online"]),
        "ContentLength": Field("int", lambda e: e["Size"]),
    },
    attributes=lambda e: e["attrs"],
    attribute=lambda e, n: next(((t, v) for a, t, v in e["attrs"] if a == n), None),
    footprint=_footprint,
)


def names(text: str) -> list[str]:
    match = compile_filter(text, SCHEMA)
    return [e["Name"][:3] for e in ENTITIES if match(e)]


def test_precedence_not_and_or() -> None:
    node = parse_filter("not Online eq true or Name eq 'a' and ContentLength gt 1")
    assert isinstance(node, Or)
    assert isinstance(node.items[0], Not)
    assert isinstance(node.items[1], And)
    assert names("not Online eq true or Name eq 'AUX' and ContentLength gt 1") == ["S1A", "AUX"]
    assert names("(not (Online eq true) or Name eq 'AUX') and ContentLength gt 1") == ["AUX"]
    assert names("((((Online eq true))))") == ["S2A", "AUX"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ContentDate/Start gt 2023-01-05", ["S1A"]),  # date-only literal
        ("ContentDate/Start lt 2023-01-05T00:00:00", ["S2A"]),  # no zone = UTC
        ("ContentDate/Start lt 2023-01-05T06:31:00+01:00", ["S2A", "S1A"]),
        ("ContentDate/Start lt 2023-01-05T06:30:00+01:00", ["S2A"]),
        ("ContentDate/Start ge 2023-01-05T05:30:00.123456Z", ["S1A"]),
        ("ContentDate/Start gt 2023-01-05T05:30:00.123456Z", []),
        ("ContentDate/Start eq null", ["AUX"]),
        ("ContentDate/Start ne null", ["S2A", "S1A"]),
        ("Online", ["S2A", "AUX"]),
        ("Online eq false", ["S1A"]),
        ("ContentLength le 5", ["S1A", "AUX"]),
        ("ContentLength ne 0", ["S2A", "AUX"]),
        ("800 eq ContentLength", ["S2A"]),
        ("contains(Name,'GRDH')", ["S1A"]),
        ("startswith(Name,'S2A_')", ["S2A"]),
        ("endswith(Name,'COG.SAFE')", ["S1A"]),
        ("Name eq 'it''s'", []),
    ],
)
def test_comparisons_and_functions(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
        "att/OData.CSC.DoubleAttribute/Value le 20)",
        "Attributes/OData.CSC.DoubleAttribute/any(i0:i0/Name eq 'cloudCover' and i0/Value lt 12.6)",
        "attributes/OData.CSC.DoubleAttribute/any(x: x/Value lt 13 and x/Name eq 'cloudCover')",
        "Attributes/any(a:a/Name eq 'productType' and a/OData.CSC.StringAttribute/Value eq 'S2MSI2A')",
        "Attributes/OData.CSC.BooleanAttribute/any(b:b/Name eq 'flag' and b/Value eq true)",
        "Attributes/OData.CSC.StringAttribute/any(s:s/Value eq 'S2MSI2A')",
        "Attributes/OData.CSC.BooleanAttribute/any()",
    ],
)
def test_attribute_lambdas(text: str) -> None:
    assert names(text) == ["S2A"]


def test_attribute_lambda_types() -> None:
    integer = "Attributes/OData.CSC.IntegerAttribute/any(a:a/Name eq 'orbitNumber' and a/Value ge 46612)"
    assert names(integer) == ["S1A"]
    dto = (
        "Attributes/OData.CSC.DateTimeOffsetAttribute/any(a:a/Name eq 'processingDate' "
        "and a/OData.CSC.DateTimeOffsetAttribute/Value lt 2023-01-05T08:00:00Z)"
    )
    assert names(dto) == ["S1A"]
    # the cast filters by ValueType: cloudCover is a Double, not an Integer
    assert names("Attributes/OData.CSC.IntegerAttribute/any(a:a/Name eq 'cloudCover' and a/Value lt 100)") == []


def test_intersects_variants() -> None:
    for arg in ("area=", "Footprint=", "footprint=", ""):
        for wkt in (
            "POLYGON((10.5 45.5, 12 45.5, 12 47, 10.5 47, 10.5 45.5))",
            "POLYGON ((10.5 45.5, 12 45.5, 12 47, 10.5 47, 10.5 45.5))",
        ):
            assert names(f"OData.CSC.Intersects({arg}geography'SRID=4326;{wkt}')") == ["S2A"]
    assert names("OData.CSC.Intersects(area=geography'SRID=4326;POINT (179.5 -19)')") == ["S1A"]
    multi = "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)), ((179.9 -19, 180 -19, 180 -18.5, 179.9 -19)))"
    assert names(f"OData.CSC.Intersects(area=geography'SRID=4326;{multi}')") == ["S1A"]
    node = parse_filter("OData.CSC.Intersects(area=geography'SRID=4326;POINT(1 2)')")
    assert isinstance(node, Intersects) and node.argument == "area"


def test_tree_shapes_and_ranges() -> None:
    node = parse_filter(
        "Collection/Name eq 'SENTINEL-1' and (ContentDate/Start gt 2014-04-05T00:00:00.000Z "
        "and ContentDate/Start lt 2014-04-14T00:00:00.000Z) and Attributes/OData.CSC.StringAttribute/any("
        "att:att/Name eq 'productType' and att/OData.CSC.StringAttribute/Value eq 'IW_SLC__1S')"
    )
    assert isinstance(node, And)
    assert isinstance(node.items[2], Any_) and node.items[2].cast == "StringAttribute"
    r = range_of(node, "ContentDate/Start")
    assert (r.lo, r.lo_inclusive, r.hi, r.hi_inclusive) == (_dt("2014-04-05"), False, _dt("2014-04-14"), False)
    compare = parse_filter("Id eq 521bd8f9-48a5-4e1f-9435-58f97cb64d39")
    assert isinstance(compare, Compare) and compare.right.kind == "guid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Name eq", "expected a literal"),
        ("Name eq 'x' and", "expected a condition"),
        ("Name eq 'x", "unterminated"),
        ("(Name eq 'x'", "expected ')'"),
        ("Name eq 'x' Online", "expected 'and', 'or'"),
        ("foo(Name,'x')", "unknown function"),
        ("Nme eq 'x'", "unknown property 'Nme'"),
        ("ContentDate/Start gt 'yesterday'", "cannot be compared"),
        ("ContentDate/Start gt 2024-02-30", "not a datetime"),
        ("ContentDate/Start gt 2024-01-01T00:00:00 01:00", "%2B"),
        ("Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'productType' and a/Value gt 'S2')", "not allowed"),
        ("Attributes/OData.CSC.DoubleAttribute/any(a:a/Name eq 'cloudCover' and a/Value le 'x')", "cannot be compared"),
        ("Attributes/OData.CSC.FooAttribute/any(a:a/Name eq 'x')", "unknown attribute type"),
        ("Attributes/any(a:b/Name eq 'x')", "must start with a/"),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((0 0, 1 0, 1 1, 0 1))')", "closed"),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))')", "invalid geometry"),
        ("OData.CSC.Intersects(area=geography'SRID=3857;POINT(0 0)')", "SRID=4326"),
        ("OData.CSC.Intersects(geom=geography'SRID=4326;POINT(0 0)')", "area="),
        ("Name eq 'x' AND Online", "expected 'and', 'or'"),
    ],
)
def test_errors_are_useful(text: str, message: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text, SCHEMA)
    assert message in str(info.value)


def test_datetime_literals_round_trip() -> None:
    assert format_datetime(_dt("2024-06-04T11:01:00.494767Z")) == "2024-06-04T11:01:00.494767Z"
    assert format_datetime(_dt("2024-06-04T11:01:00.494767Z"), 3) == "2024-06-04T11:01:00.495Z"
    assert format_datetime(_dt("2024-06-04T12:03:49.11362+00:00"), 6, "+00:00") == "2024-06-04T12:03:49.113620+00:00"
    assert format_datetime(_dt("9999-12-31T23:59:59.999999Z"), 3) == "9999-12-31T23:59:59.999Z"
    assert _dt("2024-08-01") == _dt("2024-08-01T00:00:00Z") == _dt("2024-08-01T02:00:00+02:00")
    with pytest.raises(ValueError):
        parse_datetime("")
