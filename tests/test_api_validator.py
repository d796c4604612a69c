"""stac-api-validator (core, features, item-search, filter, with paging) against ``eocat serve``, offline,
on both backends (the same items in SQLite and in pgstac).

The validator fetches STAC and extension schemas with ``requests``; a transport shim answers those
URLs from ``tests/schemas/`` (a schema missing there is a 404, so it fails loudly, never passes).
It exits 0 even when it crashes, so the test looks for the line ``Errors: none``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pystac
import pystac.stac_io
import pystac.validation
import pytest
import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict

from tests.api_fixtures import any_api_url, api_db, api_items, api_url, pgstac_api_db, pgstac_api_url  # noqa: F401
from tests.stac_validation import SCHEMA_ROOT

SCHEMA_HOSTS = ("https://schemas.stacspec.org/", "https://stac-extensions.github.io/", "https://geojson.org/")
GEOMETRY = {"type": "Polygon", "coordinates": [[[0, 44], [5, 44], [5, 50], [0, 50], [0, 44]]]}
COLLECTION = "destine-s3-ndvi"


@pytest.fixture
def offline_schemas(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Serve schema URLs from tests/schemas to requests and to pystac; record what was asked."""
    original = requests.adapters.HTTPAdapter.send
    asked: list[str] = []

    def send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        url = str(request.url)
        if not url.startswith(SCHEMA_HOSTS):
            return original(self, request, **kwargs)
        asked.append(url)
        path = SCHEMA_ROOT / url.split("://", 1)[1].split("#", 1)[0]
        response = requests.Response()
        response.url, response.request = url, request
        if path.is_file():
            response.status_code, body = 200, path.read_bytes()
            response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        else:
            response.status_code, body = 404, b"not in tests/schemas"
        response.raw = io.BytesIO(body)
        return response

    class LocalSchemasIO(pystac.stac_io.DefaultStacIO):
        def read_text_from_href(self, href: str) -> str:
            if not href.startswith(SCHEMA_HOSTS):
                return super().read_text_from_href(href)
            asked.append(href)
            path = SCHEMA_ROOT / href.split("://", 1)[1].split("#", 1)[0]
            if not path.is_file():
                raise FileNotFoundError(f"{href} is not in tests/schemas")
            return path.read_text()

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    monkeypatch.setattr(pystac.StacIO, "_default_io", LocalSchemasIO)
    # a fresh validator (empty schema cache), so each run is seen fetching the schemas it checks against
    monkeypatch.setattr(pystac.validation.RegisteredValidator, "_validator", None)
    yield asked


def run_validator(root_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    from stac_api_validator.__main__ import main

    args = [
        "--root-url",
        root_url + "/",
        "--collection",
        COLLECTION,
        "--geometry",
        orjson.dumps(GEOMETRY).decode(),
        "--validate-pagination",
        "--log-level",
        "INFO",
    ]
    for conformance in ("core", "features", "item-search", "filter"):
        args += ["--conformance", conformance]
    with pytest.raises(SystemExit):
        main.main(args, prog_name="stac-api-validator")
    return capsys.readouterr().out


def test_geometry_selects_enough_items(api_db: Path) -> None:  # noqa: F811
    """The validator's AOI must return 100-20,000 items for its checks to mean something."""
    from catalog.search import Query, count
    from catalog.store import Store

    with Store(api_db) as store:
        matched = count(store, Query.parse(collections=COLLECTION, intersects=GEOMETRY))
    assert 100 <= matched <= 20_000, matched


@pytest.mark.slow
# The validator itself calls pystac's deprecated get_all_items; with warnings as errors it would crash.
@pytest.mark.filterwarnings("ignore:get_all_items is deprecated:DeprecationWarning")
def test_stac_api_validator_reports_no_errors(
    any_api_url: str,  # noqa: F811
    offline_schemas: list[str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stac_api_validator")
    output = run_validator(any_api_url, capsys)
    assert "Errors: none" in output, output[-6000:]
    assert "Failed." not in output, output[-6000:]
    # Every class was checked (filter is skipped silently without its conformance class) ...
    for checked in (
        "Core",
        "Features",
        "Item Search",
        "Item Search - Filter Extension - CQL2-Text",
        "Item Search - Filter Extension - CQL2-JSON",
    ):
        assert f"Validating STAC API - {checked} conformance class" in caplog.text, checked
    # ... and objects were validated against the schemas.
    # (the core item schema may come from pystac's bundled copy or an earlier run's cache; the GeoJSON
    # Feature schema it references and the extension schemas are fetched by every run)
    assert "https://geojson.org/schema/Feature.json" in offline_schemas, offline_schemas
    assert any(url.startswith("https://stac-extensions.github.io/") for url in offline_schemas), offline_schemas
