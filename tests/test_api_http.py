"""The STAC API's HTTP behaviour over real HTTP: links, paging, limits, errors, CORS, base URL, on-demand
assets, and reads while a harvest writes. Links, paging, sorting, filters and 404s run on both backends
(``any_api_url``: the same items served from SQLite and from pgstac)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from catalog.api import ApiConfig, create_app
from catalog.store import Store
from tests.api_fixtures import (  # noqa: F401
    Server,
    any_api_url,
    api_db,
    api_items,
    api_url,
    free_port,
    pgstac_api_db,
    pgstac_api_url,
)
from tests.items import make_item


def get(url: str, **params: Any) -> httpx.Response:
    return httpx.get(url, params=params, timeout=30)


def link(document: dict[str, Any], rel: str) -> dict[str, Any] | None:
    return next((entry for entry in document["links"] if entry["rel"] == rel), None)


class ThreadServer:
    """The app in uvicorn on a thread of this process (for configurations the CLI does not expose)."""

    def __init__(self, config: ApiConfig) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# -- documents and links ---------------------------------------------------------------------


def test_landing_page_links_and_conformance(api_url: str) -> None:  # noqa: F811
    landing = get(api_url + "/").json()
    rels = {entry["rel"] for entry in landing["links"]}
    assert {"self", "root", "data", "conformance", "service-desc", "service-doc", "search",
            "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels  # fmt: skip
    methods = {entry.get("method") for entry in landing["links"] if entry["rel"] == "search"}
    assert methods == {"GET", "POST"}
    for version in ("v1.0.0", "v1.1.0"):
        assert f"https://api.stacspec.org/{version}/item-search#sort" in landing["conformsTo"]
    assert get(api_url + "/conformance").json()["conformsTo"] == landing["conformsTo"]
    api = get(api_url + "/api")
    assert api.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert "/search" in api.json()["paths"]
    assert "<table" in get(api_url + "/api.html").text


def test_queryables_have_types_enums_and_id(any_api_url: str) -> None:  # noqa: F811
    document = get(any_api_url + "/collections/sentinel-1-slc/queryables").json()
    assert document["$id"] == any_api_url + "/collections/sentinel-1-slc/queryables"
    properties = document["properties"]
    assert properties["sat:orbit_state"] == {"type": "string", "enum": ["ascending", "descending"]}
    assert properties["sat:relative_orbit"]["type"] == "integer"
    assert properties["sar:polarizations"]["type"] == "array"
    everything = get(any_api_url + "/queryables").json()["properties"]
    assert {"eo:cloud_cover", "destine:continent", "s1:burst_index"} <= set(everything)
    assert get(any_api_url + "/collections/nope/queryables").status_code == 404
    assert "eo:cloud_cover" in get(any_api_url + "/sortables").json()["properties"]


def test_base_url_is_used_for_every_link(api_db: Path) -> None:  # noqa: F811
    server = Server(api_db, extra_args=("--base-url", "https://proxy.example/stac/"))
    try:
        texts = [get(server.url + path).text for path in ("/", "/collections", "/search", "/api",
                                                          "/collections/sentinel-2-l2a/items")]  # fmt: skip
    finally:
        server.stop()
    for text in texts:
        assert "https://proxy.example/stac" in text
        assert "127.0.0.1" not in text


def test_cors(api_url: str) -> None:  # noqa: F811
    response = httpx.get(api_url + "/search", headers={"Origin": "http://elsewhere.test"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(api_url + "/search", headers={"Origin": "http://elsewhere.test",
                              "Access-Control-Request-Method": "POST",
                              "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


# -- search semantics ------------------------------------------------------------------------


def test_limit_is_capped_not_rejected(api_url: str) -> None:  # noqa: F811
    response = get(api_url + "/search", limit=1_000_000)
    assert response.status_code == 200
    assert len(response.json()["features"]) == 10_000
    assert get(api_url + "/search", limit=-1).status_code == 400
    assert get(api_url + "/search", limit=0).status_code == 400


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "0,0,1,1", "intersects": '{"type":"Point","coordinates":[0,0]}'}, "bbox and intersects"),
        ({"datetime": "2024-01-01"}, "date-time"),
        ({"datetime": "../.."}, "at least one end"),
        ({"filter": "eo:cloud_cover <"}, "CQL2"),
        ({"sortby": "geometry"}, "sort"),
        ({"token": "garbage"}, "token"),
        ({"intersects": "{not json"}, "intersects"),
    ],
)
def test_bad_parameters_are_400_json(api_url: str, params: dict[str, str], fragment: str) -> None:  # noqa: F811
    response = get(api_url + "/search", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidQuery"
    assert fragment.lower() in body["description"].lower()


def test_bad_post_bodies_are_400(api_url: str) -> None:  # noqa: F811
    assert httpx.post(api_url + "/search", content=b"{nope").status_code == 400
    assert httpx.post(api_url + "/search", json=[1, 2]).status_code == 400
    assert httpx.post(api_url + "/search", json={"bbox": "0,0,1,1"}).status_code == 400
    assert httpx.post(api_url + "/search", json={"filter-crs": "EPSG:3857", "filter": "id = 'x'"}).status_code == 400


def test_not_found_is_404_json(any_api_url: str) -> None:  # noqa: F811
    for path in ("/collections/nope", "/collections/nope/items", "/collections/sentinel-2-l2a/items/nope", "/nothing"):
        response = get(any_api_url + path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "NotFound"


def test_get_paging_links_end_and_go_back(any_api_url: str, api_items: list[dict[str, Any]]) -> None:  # noqa: F811
    expected = sum(item["collection"] == "sentinel-1-grd" for item in api_items)
    url: str | None = any_api_url + "/collections/sentinel-1-grd/items?limit=700"
    pages: list[dict[str, Any]] = []
    while url is not None:
        pages.append(httpx.get(url).json())
        next_link = link(pages[-1], "next")
        url = next_link["href"] if next_link else None
        assert len(pages) <= expected // 700 + 1
    ids = [feature["id"] for page in pages for feature in page["features"]]
    assert len(ids) == len(set(ids)) == expected
    assert link(pages[0], "prev") is None
    back = httpx.get(link(pages[2], "prev")["href"]).json()  # type: ignore[index]
    assert [f["id"] for f in back["features"]] == [f["id"] for f in pages[1]["features"]]
    assert pages[0]["numberMatched"] == expected


def test_post_next_link_carries_the_body(any_api_url: str) -> None:  # noqa: F811
    body = {"collections": ["sentinel-2-l2a"], "limit": 5, "sortby": [{"field": "id", "direction": "asc"}]}
    first = httpx.post(any_api_url + "/search", json=body).json()
    next_link = link(first, "next")
    assert next_link is not None and next_link["method"] == "POST"
    assert {key: value for key, value in next_link["body"].items() if key != "token"} == body
    second = httpx.post(next_link["href"], json=next_link["body"]).json()
    ids = [f["id"] for f in first["features"]] + [f["id"] for f in second["features"]]
    assert ids == sorted(ids) and len(set(ids)) == 10


def test_fields_and_sortby_get(any_api_url: str) -> None:  # noqa: F811
    page = get(any_api_url + "/search", collections="sentinel-2-l2a", sortby="-properties.eo:cloud_cover",
               fields="id,properties.eo:cloud_cover", limit=20).json()  # fmt: skip
    clouds = [feature["properties"]["eo:cloud_cover"] for feature in page["features"]]
    assert clouds == sorted(clouds, reverse=True)
    assert all(set(feature) == {"id", "properties"} for feature in page["features"])


def test_cql2_text_in_post_and_json_in_get(any_api_url: str) -> None:  # noqa: F811
    text = httpx.post(any_api_url + "/search", json={"filter": "platform = 'sentinel-1a'", "filter-lang": "cql2-text",
                                                  "limit": 50}).json()  # fmt: skip
    as_json = get(any_api_url + "/search", filter='{"op":"=","args":[{"property":"platform"},"sentinel-1a"]}',
                  **{"filter-lang": "cql2-json", "limit": 50}).json()  # fmt: skip
    assert text["features"] and [f["id"] for f in text["features"]] == [f["id"] for f in as_json["features"]]
    assert all(f["properties"]["platform"] == "sentinel-1a" for f in text["features"])


def test_item_links_point_at_this_api(any_api_url: str, api_items: list[dict[str, Any]]) -> None:  # noqa: F811
    item = api_items[5]
    url = f"{any_api_url}/collections/{item['collection']}/items/{item['id']}"
    response = get(url)
    assert response.headers["content-type"] == "application/geo+json"
    served = response.json()
    assert link(served, "self")["href"] == url  # type: ignore[index]
    assert link(served, "collection")["href"] == f"{any_api_url}/collections/{item['collection']}"  # type: ignore[index]
    assert served["properties"] == item["properties"] and served["assets"] == item["assets"]


# -- on-demand assets ------------------------------------------------------------------------


def test_asset_endpoint_without_materializer_is_501(api_url: str, api_items: list[dict[str, Any]]) -> None:  # noqa: F811
    item = api_items[0]
    key = next(iter(item["assets"]))
    response = get(f"{api_url}/collections/{item['collection']}/items/{item['id']}/assets/{key}")
    assert response.status_code == 501 and "materializer" in response.json()["description"]
    missing = get(f"{api_url}/collections/{item['collection']}/items/{item['id']}/assets/nope")
    assert missing.status_code == 404


@pytest.fixture
def asset_server(tmp_path: Path) -> Iterator[tuple[str, threading.Event, list[tuple[str, str]]]]:
    store = Store(tmp_path / "assets.db")
    store.upsert_items([make_item("one", "c1", assets={"data": {"href": "https://example.test/one.tif"},
                                                       "meta": {"href": "https://example.test/one.xml"}})])  # fmt: skip
    store.close()
    release = threading.Event()
    calls: list[tuple[str, str]] = []

    def materialize(item: dict[str, Any], key: str, dest: Path) -> Path:
        calls.append((item["id"], key))
        if key == "meta":
            raise RuntimeError("upstream said 403")
        release.wait(30)
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / f"{key}.tif"
        path.write_bytes(b"pixels of " + item["id"].encode())
        return path

    config = ApiConfig(db_path=tmp_path / "assets.db", materializer=materialize, assets_dir=tmp_path / "assets")
    server = ThreadServer(config)
    yield server.url, release, calls
    release.set()
    server.stop()


def test_asset_endpoint_202_then_307_to_the_local_copy(
    asset_server: tuple[str, threading.Event, list[tuple[str, str]]],
) -> None:
    url, release, calls = asset_server
    endpoint = f"{url}/collections/c1/items/one/assets/data"
    item = get(f"{url}/collections/c1/items/one").json()
    assert item["assets"]["data"]["alternate"]["eocat"]["href"] == endpoint
    assert any("/alternate-assets/" in ext for ext in item["stac_extensions"])
    first = get(endpoint)
    assert first.status_code == 202 and first.json()["status"] == "running"
    assert get(endpoint).status_code == 202
    release.set()
    deadline = time.monotonic() + 30
    while (response := get(endpoint)).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert response.status_code == 307
    assert response.headers["location"].startswith(f"{url}/assets/")
    assert httpx.get(response.headers["location"]).content == b"pixels of one"
    assert calls == [("one", "data")], "the asset was materialized more than once"
    assert httpx.get(endpoint, follow_redirects=True).content == b"pixels of one"


def test_asset_failure_is_502_and_retried(asset_server: tuple[str, threading.Event, list[tuple[str, str]]]) -> None:
    url, _, calls = asset_server
    endpoint = f"{url}/collections/c1/items/one/assets/meta"
    deadline = time.monotonic() + 30
    while (response := get(endpoint)).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert response.status_code == 502 and "403" in response.json()["description"]
    get(endpoint)  # retried: the job runs in the background, so wait for its call
    while calls.count(("one", "meta")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls.count(("one", "meta")) == 2
    assert get(f"{url}/assets/../assets.db").status_code == 404


# -- reads while a harvest writes ------------------------------------------------------------


@pytest.mark.slow
def test_searches_stay_correct_while_a_harvest_writes(api_db: Path, tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "live.db"
    shutil.copy(api_db, db)
    with Store(db) as store:
        base = store.count_items("sentinel-2-l2a")
    server = Server(db)
    batches, per_batch = 10, 300
    done = threading.Event()

    def harvest() -> None:
        with Store(db) as writer:
            for batch in range(batches):
                items = [make_item(f"live-{batch}-{n}", "sentinel-2-l2a", x=n % 90, y=n % 45,
                                   properties={"eo:cloud_cover": 1.0}) for n in range(per_batch)]  # fmt: skip
                writer.upsert_items(items)
        done.set()

    def searcher() -> list[int]:
        seen = []
        with httpx.Client(timeout=30) as client:
            while not done.is_set() or not seen:
                response = client.get(server.url + "/search", params={"collections": "sentinel-2-l2a", "limit": 1})
                assert response.status_code == 200, response.text
                seen.append(response.json()["numberMatched"])
        return seen

    try:
        with ThreadPoolExecutor(9) as pool:
            searches = [pool.submit(searcher) for _ in range(8)]
            pool.submit(harvest).result()
            counts = [future.result() for future in searches]
        final = get(server.url + "/search", collections="sentinel-2-l2a", limit=1).json()["numberMatched"]
    finally:
        server.stop()
    for seen in counts:  # every reader saw whole batches only, never going backwards
        assert seen == sorted(seen)
        assert all((count - base) % per_batch == 0 for count in seen)
    assert final == base + batches * per_batch


def test_serve_without_a_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eocat.cli import main

    result = CliRunner().invoke(main, ["--db", str(tmp_path / "none.db"), "serve"])
    assert result.exit_code != 0
    assert "no catalogue at" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()
    Store(tmp_path / "some.db").close()
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "some.db"), "serve", "--browser-dir", str(tmp_path)])
    assert result.exit_code != 0 and "not a STAC Browser build" in result.output


def test_a_running_server_keeps_its_startup_objects_out_of_collections(api_db: Path) -> None:  # noqa: F811
    """Started, the server freezes what starting made (gc.freeze); stopped, it hands it back."""
    import gc

    assert gc.get_freeze_count() == 0
    server = ThreadServer(ApiConfig(db_path=api_db))
    try:
        assert gc.get_freeze_count() > 0
        assert get(f"{server.url}/search?limit=2").status_code == 200
    finally:
        server.stop()
    assert gc.get_freeze_count() == 0
