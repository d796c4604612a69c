"""STAC Browser served by ``eocat serve`` at /browser/, driven in headless Chromium with Playwright.

Needs Debian's ``chromium`` (``make test`` installs it) and the cached STAC Browser build
(browser/build.sh, needs npm): without them this test fails, it never skips.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import oracle
from tests.api_fixtures import Server, api_db, api_items, browser_dir  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
# The flags validation.md found to work headless as root, offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser_url(api_db: Path, browser_dir: Path) -> Iterator[str]:  # noqa: F811
    server = Server(api_db, extra_args=("--browser-dir", str(browser_dir)))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def chromium_page(browser_url: str) -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        pytest.fail("Debian chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def test_browser_config_points_at_this_api(browser_url: str) -> None:
    config = httpx.get(browser_url + "/browser/config.js").text
    assert f'"catalogUrl":"{browser_url}/"' in config


@pytest.mark.slow
def test_browse_search_with_filter_and_open_item(
    chromium_page: Any,
    browser_url: str,
    api_items: list[dict[str, Any]],  # noqa: F811
) -> None:
    page = chromium_page
    collections = httpx.get(browser_url + "/collections").json()["collections"]
    page.goto(browser_url + "/browser/")
    for collection in collections:  # the landing page lists every collection
        page.get_by_text(collection["title"], exact=True).first.wait_for()

    page.get_by_role("link", name="Search").first.click()
    page.get_by_role("button", name="Add filter").click()
    page.get_by_role("menuitem").filter(has_text="eo:cloud_cover").click()
    row = page.locator(".queryable-row").filter(has_text="Cloud Cover")
    row.locator("button.dropdown-toggle").click()
    row.get_by_role("menuitem").filter(has_text="less than").first.click()
    row.locator("input").fill("5")
    with page.expect_response(lambda response: response.url.startswith(browser_url + "/search")) as answer:
        page.get_by_role("button", name="Submit").click()
    response = answer.value
    assert response.status == 200
    assert "eo:cloud_cover" in (response.request.post_data or response.request.url)
    result = response.json()
    expected = [
        item
        for item in api_items
        if oracle.matches_cql2(item, {"op": "<", "args": [{"property": "eo:cloud_cover"}, 5]})
    ]
    assert expected and result["numberMatched"] == len(expected)
    assert all(feature["properties"]["eo:cloud_cover"] < 5 for feature in result["features"])

    first = result["features"][0]
    page.get_by_role("link", name=first["id"]).first.click()
    page.get_by_role("heading", name=first["id"]).wait_for()
    assert page.url.endswith(f"/collections/{first['collection']}/items/{first['id']}")
    page.get_by_text("Cloud Cover").first.wait_for()
