"""Every query form against a brute-force evaluation over thousands of generated items."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import cql2
import orjson
import pytest
from shapely.geometry import shape

from catalog.search import Query, count, iter_items, search
from catalog.store import Store
from tests import oracle

Key = tuple[str, str]


@pytest.fixture
def store(any_store: Any) -> Any:
    """Every test here runs on each backend (SQLite and pgstac)."""
    return any_store


@pytest.fixture
def sample_store(any_sample_store: Any) -> Any:
    return any_sample_store


def keys(items: Any) -> list[Key]:
    return [(item["collection"], item["id"]) for item in items]


def expected(sample_items: list[dict[str, Any]], predicate: Any) -> set[Key]:
    return {(item["collection"], item["id"]) for item in sample_items if predicate(item)}


def check(store: Store, sample_items: list[dict[str, Any]], params: dict[str, Any], predicate: Any) -> set[Key]:
    query = Query.parse(limit=500, **params)
    found = keys(iter_items(store, query, page_size=500))
    truth = expected(sample_items, predicate)
    assert len(found) == len(set(found)), "an item was returned twice"
    missing, extra = truth - set(found), set(found) - truth
    assert not missing and not extra, f"missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
    assert count(store, query) == len(truth)
    return truth


EUROPE_TRIANGLE = {"type": "Polygon", "coordinates": [[[-5, 40], [25, 38], [10, 62], [-5, 40]]]}
PACIFIC_SPLIT = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[170, -30], [180, -30], [180, 10], [170, 10], [170, -30]]],
        [[[-180, -30], [-165, -30], [-165, 10], [-180, 10], [-180, -30]]],
    ],
}

SPATIAL_CASES = {
    "bbox": "0,40,20,60",
    "bbox-6": [0, 40, -10, 20, 60, 100],
    "bbox-antimeridian": "170,-60,-170,60",
    "bbox-world": "-180,-90,180,90",
    "bbox-tiny": "10.5,45.2,10.6,45.3",
    "bbox-equator": "-60,-5,-40,5",
}


@pytest.mark.parametrize("name", sorted(SPATIAL_CASES))
def test_bbox(sample_store: Store, sample_items: list[dict[str, Any]], name: str) -> None:
    bbox = SPATIAL_CASES[name]
    numbers = [float(v) for v in bbox.split(",")] if isinstance(bbox, str) else bbox
    geometry = oracle.bbox_geometry(numbers)
    truth = check(sample_store, sample_items, {"bbox": bbox}, lambda item: oracle.matches_geometry(item, geometry))
    if name != "bbox-tiny":
        assert truth, "a spatial case that matches nothing tests nothing"


def test_bbox_antimeridian_finds_split_items(sample_items: list[dict[str, Any]], sample_store: Store) -> None:
    crossing = [item for item in sample_items if item.get("bbox") and item["bbox"][0] > item["bbox"][2]]
    assert crossing, "the sample must contain antimeridian-crossing items"
    found = set(keys(iter_items(sample_store, Query.parse(bbox="179,-90,-179,90"))))
    assert {(item["collection"], item["id"]) for item in crossing} <= found


@pytest.mark.parametrize(
    "geometry",
    [
        EUROPE_TRIANGLE,
        PACIFIC_SPLIT,
        {"type": "Point", "coordinates": [12.5, 41.9]},
        {"type": "LineString", "coordinates": [[-80, -10], [-30, 20]]},
    ],
    ids=["triangle", "antimeridian-multipolygon", "point", "line"],
)
def test_intersects(sample_store: Store, sample_items: list[dict[str, Any]], geometry: dict[str, Any]) -> None:
    query_geometry = shape(geometry)
    check(sample_store, sample_items, {"intersects": geometry}, lambda i: oracle.matches_geometry(i, query_geometry))


def _range_item_instant(sample_items: list[dict[str, Any]]) -> str:
    item = next(i for i in sample_items if i["properties"].get("end_datetime") and i["collection"] != "destine-s3-ndvi")
    first, last = oracle.time_range(item)
    middle = first + (last - first) / 2
    return middle.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    "interval",
    [
        "2022-01-01T00:00:00Z/2022-03-31T23:59:59Z",
        "../2021-06-01T00:00:00Z",
        "2025-06-01T00:00:00+02:00/..",
        "/2021-03-01T00:00:00Z",
        "2025-09-01T00:00:00Z/",
        "2023-05-05T12:00:00.5z/2023-07-01t00:00:00Z",
    ],
)
def test_datetime_intervals(sample_store: Store, sample_items: list[dict[str, Any]], interval: str) -> None:
    truth = check(
        sample_store, sample_items, {"datetime": interval}, lambda i: oracle.matches_interval_text(i, interval)
    )
    assert truth


def test_datetime_instant_matches_ranges_by_overlap(sample_store: Store, sample_items: list[dict[str, Any]]) -> None:
    instant = _range_item_instant(sample_items)
    truth = check(sample_store, sample_items, {"datetime": instant}, lambda i: oracle.matches_interval_text(i, instant))
    assert truth, "the instant lies inside a range item, so something must match"


def test_collections_and_ids(sample_store: Store, sample_items: list[dict[str, Any]]) -> None:
    wanted = {"sentinel-2-l2a", "sentinel-1-grd"}
    check(sample_store, sample_items, {"collections": ",".join(wanted)}, lambda i: i["collection"] in wanted)
    ids = [sample_items[n]["id"] for n in (0, 17, 999, 4321)] + ["no-such-item"]
    check(sample_store, sample_items, {"ids": ids}, lambda i: i["id"] in ids)
    # STAC API 1.0: ids combine with every other filter (they no longer override them)
    box = oracle.bbox_geometry([-180, -90, 0, 90])
    check(sample_store, sample_items, {"ids": ids, "bbox": "-180,-90,0,90"},
          lambda i: i["id"] in ids and oracle.matches_geometry(i, box))  # fmt: skip


TEXT_FILTERS = [
    "eo:cloud_cover < 20",
    "eo:cloud_cover >= 50 AND platform = 'sentinel-2b'",
    '"sat:orbit_state" = \'ascending\' OR "sat:relative_orbit" IN (1, 2, 3, 50)',
    "eo:cloud_cover BETWEEN 10 AND 30",
    "eo:cloud_cover IS NULL AND collection = 'sentinel-2-l2a'",
    "NOT (eo:cloud_cover IS NULL)",
    '"view:sun_elevation" > 40',
    '"view:sun_elevation" IS NULL',
    "id LIKE 'S1A%'",
    "id LIKE '%\\_IW2\\_%'",
    "id LIKE 's1a%'",
    "platform IN ('sentinel-1a', 'sentinel-1c') AND \"sar:instrument_mode\" <> 'EW'",
    '"s1:subswath" = \'IW2\' AND "s1:burst_index" <= 4',
    "A_CONTAINS(\"sar:polarizations\", ('VH'))",
    "A_EQUALS(\"sar:polarizations\", ('VV', 'VH'))",
    "A_OVERLAPS(\"sar:polarizations\", ('HH', 'VH'))",
    "A_CONTAINEDBY(\"sar:polarizations\", ('VV', 'VH'))",
    "datetime >= TIMESTAMP('2024-01-01T00:00:00Z') AND datetime < TIMESTAMP('2024-02-01T00:00:00Z')",
    "S_INTERSECTS(geometry, POLYGON((-10 35, 30 35, 30 60, -10 60, -10 35)))",
    "S_INTERSECTS(geometry, POINT(12.5 41.9)) OR collection = 'destine-s3-ndvi'",
    "NOT S_INTERSECTS(geometry, POLYGON((-180 -90, 0 -90, 0 90, -180 90, -180 -90)))",
    '"sat:relative_orbit" > 100 AND NOT ("sat:orbit_state" = \'descending\')',
]


@pytest.mark.parametrize("text", TEXT_FILTERS)
@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
def test_cql2_filters(sample_store: Store, sample_items: list[dict[str, Any]], text: str, lang: str) -> None:
    expr = cql2.Expr(text)
    filter_ = text if lang == "cql2-text" else orjson.dumps(expr.to_json()).decode()
    check(
        sample_store,
        sample_items,
        {"filter": filter_, "filter_lang": lang},
        lambda i: oracle.matches_cql2(i, expr.to_json()),
    )


TEMPORAL = {
    "T_INTERSECTS(datetime, INTERVAL('2023-01-01T00:00:00Z', '2023-02-01T00:00:00Z'))": lambda first, last: (
        first <= oracle.ts("2023-02-01T00:00:00Z") and last >= oracle.ts("2023-01-01T00:00:00Z")
    ),
    "ANYINTERACTS(datetime, INTERVAL('2024-06-01T00:00:00Z', '..'))": lambda first, last: (
        last >= oracle.ts("2024-06-01T00:00:00Z")
    ),
    "T_BEFORE(datetime, TIMESTAMP('2021-03-01T00:00:00Z'))": lambda first, last: (
        last < oracle.ts("2021-03-01T00:00:00Z")
    ),
    "T_AFTER(datetime, DATE('2025-10-01'))": lambda first, last: first > oracle.ts("2025-10-01T23:59:59.999999Z"),
    "T_INTERSECTS(datetime, DATE('2022-07-14'))": lambda first, last: (
        first <= oracle.ts("2022-07-14T23:59:59.999999Z") and last >= oracle.ts("2022-07-14T00:00:00Z")
    ),
}


@pytest.mark.parametrize("text", sorted(TEMPORAL))
def test_temporal_filters(sample_store: Store, sample_items: list[dict[str, Any]], text: str) -> None:
    rule = TEMPORAL[text]
    truth = check(sample_store, sample_items, {"filter": text}, lambda i: rule(*oracle.time_range(i)))
    assert truth


def test_everything_combined(sample_store: Store, sample_items: list[dict[str, Any]]) -> None:
    area = oracle.bbox_geometry([-10, 35, 30, 60])
    expr = cql2.Expr("eo:cloud_cover < 40").to_json()
    check(
        sample_store,
        sample_items,
        {
            "collections": "sentinel-2-l2a",
            "bbox": "-10,35,30,60",
            "datetime": "2022-01-01T00:00:00Z/2024-12-31T00:00:00Z",
            "filter": "eo:cloud_cover < 40",
        },
        lambda i: (
            i["collection"] == "sentinel-2-l2a"
            and oracle.matches_geometry(i, area)
            and oracle.matches_interval_text(i, "2022-01-01T00:00:00Z/2024-12-31T00:00:00Z")
            and oracle.matches_cql2(i, expr)
        ),
    )


def _sort_value(item: dict[str, Any], field: str) -> Any:
    if field in ("id", "collection"):
        return item[field]
    name = field.removeprefix("properties.")
    value = item["properties"].get(name)
    if name == "datetime":
        value = value or item["properties"]["start_datetime"]
    if name in ("datetime", "start_datetime", "end_datetime") and value:
        return oracle.ts(value)
    return value


@pytest.mark.parametrize(
    "sortby",
    [
        "-datetime",
        "+datetime",
        "id",
        "eo:cloud_cover,-datetime",
        "-sat:relative_orbit,id",
        "-properties.view:sun_elevation",
        "collection,-id",
    ],
)
def test_sort_and_paging_return_every_match_once_in_order(
    sample_store: Store, sample_items: list[dict[str, Any]], sortby: str
) -> None:
    params = {"bbox": "-30,-40,60,70", "sortby": sortby}
    area = oracle.bbox_geometry([-30, -40, 60, 70])
    query = Query.parse(limit=37, **params)
    seen: list[dict[str, Any]] = []
    pages = []
    page = search(sample_store, query)
    while True:
        pages.append(page)
        seen.extend(page.items)
        if page.next_token is None:
            break
        page = search(sample_store, replace(query, token=page.next_token))
    truth = expected(sample_items, lambda i: oracle.matches_geometry(i, area))
    assert len(keys(seen)) == len(set(keys(seen))) == len(truth)
    assert set(keys(seen)) == truth
    fields = [(part.lstrip("+-"), part.startswith("-")) for part in sortby.split(",")]
    for before, after in itertools.pairwise(seen):
        for field, descending in fields:
            a, b = _sort_value(before, field), _sort_value(after, field)
            if a == b:
                continue
            # NULLs sort last in either direction
            in_order = b is None
            if a is not None and b is not None:
                in_order = a < b if not descending else a > b
            assert in_order, f"{field}: {a!r} then {b!r}"
            break
    # walking back with prev tokens gives the same pages in reverse
    back = pages[-1]
    for expected_page in reversed(pages[:-1]):
        assert back.prev_token is not None
        back = search(sample_store, replace(query, token=back.prev_token))
        assert keys(back.items) == keys(expected_page.items)
    assert back.prev_token is None


def test_fields_include_exclude(sample_store: Store) -> None:
    query = Query.parse(limit=3, fields="id,properties.datetime,-assets")
    for item in search(sample_store, query).items:
        assert set(item) == {"id", "properties"} and set(item["properties"]) == {"datetime"}
    query = Query.parse(limit=3, fields={"exclude": ["assets", "properties.platform"]})
    for item in search(sample_store, query).items:
        assert "assets" not in item and "platform" not in item["properties"] and "geometry" in item


@pytest.mark.parametrize("sortby", ["-datetime", "eo:cloud_cover,id"])
def test_keyset_paging_is_stable_under_concurrent_inserts(
    store: Store, sample_items: list[dict[str, Any]], sortby: str
) -> None:
    original = sample_items[:1500]
    store.upsert_items(original)
    newcomers = iter(
        {**item, "id": item["id"] + "-new", "collection": item["collection"]} for item in sample_items[1500:]
    )
    query = Query.parse(limit=50, sortby=sortby)
    seen: list[Key] = []
    page = search(store, query)
    while True:
        seen.extend(keys(page.items))
        store.upsert_items(itertools.islice(newcomers, 40))  # a harvest writes between pages
        if page.next_token is None:
            break
        page = search(store, replace(query, token=page.next_token))
    assert len(seen) == len(set(seen)), "no item is returned twice"
    assert set(keys(original)) <= set(seen), "every item that existed before the walk is returned"
