"""Hostile and odd requests to ``eocat serve``: every answer is JSON with a documented status, never a 5xx."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from catalog.api.openapi import document
from catalog.store import Store
from tests.api_fixtures import Server
from tests.items import make_item

COLLECTION = {
    "type": "Collection",
    "stac_version": "1.1.0",
    "id": "odd",
    "description": "items with odd ids and property names",
    "license": "CC-BY-4.0",
    "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    "links": [],
}
ODD_NAMES = ['a"b', "a'b", "a[0]", "a]b", "$x", "é", "日本", "a\\b", "a b", "a\tb", "a;b", "--"]
ODD_IDS = ["a/b", "x[/bold]y", "a:x:b", "sp ace", "per%cent", "ends/assets/data"]


@pytest.fixture(scope="module")
def odd_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("odd") / "odd.db"
    items = [make_item(f"n{n}", "odd", properties={name: n + 1}) for n, name in enumerate(ODD_NAMES)]
    items += [make_item(item_id, "odd") for item_id in ODD_IDS]
    with Store(db) as store:
        store.upsert_collection(COLLECTION)
        assert store.upsert_items(items).inserted == len(items)
    server = Server(db)
    yield server.url
    server.stop()


def _json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] and body["description"]
    return body


@pytest.mark.parametrize(
    "params",
    [
        {"sortby": "a\x00b"},
        {"filter": '"a\x00b" = 1'},
        {"filter": "a <<< 3"},
    ],
)
def test_nul_bytes_and_syntax_errors_are_400_get(odd_url: str, params: dict[str, str]) -> None:
    body = _json_error(httpx.get(f"{odd_url}/search", params=params), 400)
    assert "\n" not in body["description"]


@pytest.mark.parametrize(
    "body",
    [
        {"sortby": [{"field": "a\x00b", "direction": "asc"}]},
        {"filter": {"op": "=", "args": [{"property": "a\x00b"}, 1]}, "filter-lang": "cql2-json"},
        {"filter": '"a\x00b" = 1'},
    ],
)
def test_nul_bytes_are_400_post(odd_url: str, body: dict[str, Any]) -> None:
    _json_error(httpx.post(f"{odd_url}/search", json=body), 400)


@pytest.mark.parametrize("index", range(len(ODD_NAMES)))
def test_odd_property_names_are_queried_correctly(odd_url: str, index: int) -> None:
    name = ODD_NAMES[index]
    quoted = '"' + name.replace('"', '""') + '"' if '"' in name else f'"{name}"'
    found = httpx.post(
        f"{odd_url}/search",
        json={"filter": {"op": "=", "args": [{"property": name}, index + 1]}, "filter-lang": "cql2-json"},
    )
    assert found.status_code == 200, found.text
    assert [f["id"] for f in found.json()["features"]] == [f"n{index}"]
    if '"' not in name:  # cql2-text cannot quote a double quote inside an identifier
        text = httpx.get(f"{odd_url}/search", params={"filter": f"{quoted} = {index + 1}"})
        assert [f["id"] for f in text.json()["features"]] == [f"n{index}"], text.text
    ordered = httpx.post(f"{odd_url}/search", json={"sortby": [{"field": name, "direction": "desc"}], "limit": 1})
    assert [f["id"] for f in ordered.json()["features"]] == [f"n{index}"]


@pytest.mark.parametrize("item_id", ODD_IDS)
def test_every_item_id_has_a_self_link_that_works(odd_url: str, item_id: str) -> None:
    page = httpx.get(f"{odd_url}/search", params={"ids": item_id})
    (feature,) = page.json()["features"]
    self_link = next(link["href"] for link in feature["links"] if link["rel"] == "self")
    assert quote(item_id, safe="") in self_link
    fetched = httpx.get(self_link)
    assert fetched.status_code == 200 and fetched.json()["id"] == item_id


def test_an_unknown_asset_of_an_id_with_a_slash_is_404(odd_url: str) -> None:
    response = httpx.get(f"{odd_url}/collections/odd/items/{quote('a/b', safe='')}/assets/nope")
    assert "no asset 'nope'" in _json_error(response, 404)["description"]


def test_a_130_kb_url_gets_a_json_414(odd_url: str) -> None:
    # httpx refuses to build such a URL, so the request goes through http.client
    host, port = odd_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/search?ids=" + "a" * 130_000)
    raw = connection.getresponse()
    response = httpx.Response(raw.status, headers=raw.getheaders(), content=raw.read())
    connection.close()
    assert "POST /search" in _json_error(response, 414)["description"]


def test_every_error_status_is_in_the_openapi_document(odd_url: str) -> None:
    doc = document("http://x")
    assets = doc["paths"]["/collections/{collectionId}/items/{itemId}/assets/{assetKey}"]["get"]["responses"]
    assert {"202", "307", "400", "404", "414", "501", "502"} <= set(assets)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert {"400", "404", "414"} <= set(operation["responses"]), (method, path)
    served = httpx.get(f"{odd_url}/api").json()
    assert served["paths"].keys() == doc["paths"].keys()


def test_ids_are_combined_with_the_other_filters(odd_url: str) -> None:
    both = httpx.get(f"{odd_url}/search", params={"ids": "a/b,n0", "filter": '"a""b" = 1'})
    assert [f["id"] for f in both.json()["features"]] == ["n0"]
    doc = document("http://x")
    ids = next(p for p in doc["paths"]["/search"]["get"]["parameters"] if p["name"] == "ids")
    assert "combined" in ids["description"]


def test_sorting_by_a_missing_property_is_documented_behaviour(odd_url: str, tmp_path: Path) -> None:
    page = httpx.get(f"{odd_url}/search", params={"sortby": "-nosuchfield", "limit": 100})
    assert page.status_code == 200 and len(page.json()["features"]) == len(ODD_NAMES) + len(ODD_IDS)
    doc = document("http://x")
    sortby = next(p for p in doc["paths"]["/search"]["get"]["parameters"] if p["name"] == "sortby")
    assert "sort last" in sortby["description"]
