"""pystac-client against ``eocat serve``: exactly the brute-force answer, GET and POST, and paging that ends,
on both backends (the same items served from SQLite and from pgstac).

Warnings are errors in this suite, so a client warning (missing conformance class, missing link,
unsupported method) fails these tests too.
"""

from __future__ import annotations

from typing import Any

import pytest
from pystac_client import Client

from tests import oracle
from tests.api_fixtures import (  # noqa: F401
    API_ITEMS,
    any_api_url,
    api_db,
    api_items,
    api_url,
    pgstac_api_db,
    pgstac_api_url,
)

Key = tuple[str, str]
EUROPE_TRIANGLE = {"type": "Polygon", "coordinates": [[[-5, 40], [25, 38], [10, 62], [-5, 40]]]}


def keys(items: Any) -> list[Key]:
    return [(item["collection"], item["id"]) for item in items]


def truth(api_items: list[dict[str, Any]], predicate: Any) -> set[Key]:  # noqa: F811
    return {(item["collection"], item["id"]) for item in api_items if predicate(item)}


@pytest.fixture(scope="module")
def client(any_api_url: str) -> Client:  # noqa: F811
    return Client.open(any_api_url + "/")


def run(client: Client, method: str, **params: Any) -> list[Key]:
    search = client.search(method=method, limit=500, **params)
    found = keys(search.items_as_dicts())
    assert len(found) == len(set(found)), "an item came back twice"
    return found


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "bbox": ({"bbox": [0, 40, 20, 60]}, lambda i: oracle.matches_geometry(i, oracle.bbox_geometry([0, 40, 20, 60]))),
    "bbox-antimeridian": (
        {"bbox": [170, -60, -170, 60]},
        lambda i: oracle.matches_geometry(i, oracle.bbox_geometry([170, -60, -170, 60])),
    ),
    "intersects": (
        {"intersects": EUROPE_TRIANGLE},
        lambda i: oracle.matches_geometry(i, oracle.shape(EUROPE_TRIANGLE)),
    ),
    "datetime": (
        {"datetime": "2023-03-01T00:00:00Z/2023-06-30T23:59:59Z"},
        lambda i: oracle.matches_interval_text(i, "2023-03-01T00:00:00Z/2023-06-30T23:59:59Z"),
    ),
    "datetime-open": (
        {"datetime": "../2021-02-01T00:00:00Z"},
        lambda i: oracle.matches_interval_text(i, "../2021-02-01T00:00:00Z"),
    ),
    "collections+bbox": (
        {"collections": ["sentinel-2-l2a", "sentinel-1-grd"], "bbox": [-20, -40, 60, 40]},
        lambda i: (
            i["collection"] in ("sentinel-2-l2a", "sentinel-1-grd")
            and oracle.matches_geometry(i, oracle.bbox_geometry([-20, -40, 60, 40]))
        ),
    ),
    "cql2-text": (
        {"filter": "eo:cloud_cover < 20 AND platform = 'sentinel-2b'", "filter_lang": "cql2-text"},
        lambda i: oracle.matches_cql2(
            i,
            {
                "op": "and",
                "args": [
                    {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]},
                    {"op": "=", "args": [{"property": "platform"}, "sentinel-2b"]},
                ],
            },
        ),
    ),
    "cql2-json": (
        {
            "filter": {
                "op": "or",
                "args": [
                    {"op": "=", "args": [{"property": "sat:orbit_state"}, "ascending"]},
                    {"op": "in", "args": [{"property": "sat:relative_orbit"}, [1, 2, 3, 50]]},
                ],
            },
            "filter_lang": "cql2-json",
        },
        lambda i: oracle.matches_cql2(
            i,
            {
                "op": "or",
                "args": [
                    {"op": "=", "args": [{"property": "sat:orbit_state"}, "ascending"]},
                    {"op": "in", "args": [{"property": "sat:relative_orbit"}, [1, 2, 3, 50]]},
                ],
            },
        ),
    ),
    "cql2-spatial+datetime": (
        {
            "filter": {"op": "s_intersects", "args": [{"property": "geometry"}, EUROPE_TRIANGLE]},
            "datetime": "2022-01-01T00:00:00Z/..",
            "filter_lang": "cql2-json",
        },
        lambda i: (
            oracle.matches_geometry(i, oracle.shape(EUROPE_TRIANGLE))
            and oracle.matches_interval_text(i, "2022-01-01T00:00:00Z/..")
        ),
    ),
}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_search_matches_brute_force(
    client: Client,
    api_items: list[dict[str, Any]],  # noqa: F811
    name: str,
    method: str,
) -> None:
    params, predicate = CASES[name]
    params = dict(params)
    if method == "GET" and isinstance(params.get("filter"), dict):
        params["filter"] = params["filter"]  # pystac-client sends cql2-json as JSON text in GET
    found = set(run(client, method, **params))
    expected = truth(api_items, predicate)
    assert expected, f"the case {name} selects nothing: it would prove nothing"
    missing, extra = expected - found, found - expected
    assert not missing and not extra, f"missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pages_through_more_than_10000_results(
    client: Client,
    api_items: list[dict[str, Any]],  # noqa: F811
    method: str,
) -> None:
    search = client.search(method=method, limit=1000, sortby="-properties.datetime")
    pages = 0
    seen: list[Key] = []
    for page in search.pages_as_dicts():
        pages += 1
        seen.extend(keys(page["features"]))
        assert pages <= API_ITEMS // 1000 + 1, "the server keeps sending next links"
    assert len(seen) == len(set(seen)) == API_ITEMS >= 10_000
    assert set(seen) == truth(api_items, lambda i: True)
    assert pages == -(-API_ITEMS // 1000)
    assert search.matched() == API_ITEMS


def test_sorted_pages_are_in_order(client: Client) -> None:
    search = client.search(
        method="POST",
        limit=300,
        max_items=1500,
        sortby=["+properties.eo:cloud_cover", "id"],
        collections=["sentinel-2-l2a"],
    )
    values = [(item["properties"]["eo:cloud_cover"], item["id"]) for item in search.items_as_dicts()]
    assert len(values) == 1500
    assert values == sorted(values)


def test_matched_counts_small_results(client: Client, api_items: list[dict[str, Any]]) -> None:  # noqa: F811
    search = client.search(method="GET", limit=1, collections=["sentinel-1-slc"], bbox=[0, 40, 20, 60])
    expected = truth(
        api_items,
        lambda i: (
            i["collection"] == "sentinel-1-slc" and oracle.matches_geometry(i, oracle.bbox_geometry([0, 40, 20, 60]))
        ),
    )
    assert search.matched() == len(expected) > 1


def test_collections_items_and_queryables(client: Client, api_items: list[dict[str, Any]]) -> None:  # noqa: F811
    ids = {collection.id for collection in client.get_collections()}
    assert ids == {item["collection"] for item in api_items}
    collection = client.get_collection("sentinel-2-l2a")
    first = next(iter(collection.get_items()))
    assert first.collection_id == "sentinel-2-l2a"
    queryables = client.get_merged_queryables(["sentinel-2-l2a"])
    assert queryables["properties"]["eo:cloud_cover"]["type"] == "number"
    assert "platform" in queryables["properties"]
