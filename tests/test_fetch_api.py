"""The STAC API's on-demand asset endpoint backed by the fetch layer (the default of ``eocat serve``)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest

from catalog.api.server import config_from_env
from catalog.fetch.verify import multihash
from catalog.store import Store
from tests.fetch_helpers import cdse
from tests.test_api_http import ThreadServer


def test_asset_endpoint_fetches_records_and_serves_the_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "api.db"
    with Store(db) as store, cdse(monkeypatch, store, count=1, payload=3_000_000) as (_, items):
        item = items[0]
        monkeypatch.setenv("EOCAT_DB", str(db))
        monkeypatch.delenv("EOCAT_API_MATERIALIZER", raising=False)
        server = ThreadServer(config_from_env())
        try:
            endpoint = f"{server.url}/collections/{item['collection']}/items/{item['id']}/assets/product"
            deadline = time.monotonic() + 60
            while (response := httpx.get(endpoint, timeout=30)).status_code == 202:
                assert time.monotonic() < deadline, "the materialization did not finish"
                time.sleep(0.05)
            assert response.status_code == 307, response.text
            body = httpx.get(response.headers["location"], timeout=30).content
        finally:
            server.stop()
        product = item["assets"]["product"]
        assert len(body) == product["file:size"]
        assert multihash("md5", hashlib.md5(body).hexdigest()) == product["file:checksum"]
        local = store.get_item(item["collection"], item["id"])["assets"]["product"]["alternate"]["local"]
        path = Path(local["href"].removeprefix("file://"))
        assert path.read_bytes() == body  # one asset store for the API and `eocat fetch`
        assert path.is_relative_to((tmp_path / "assets").resolve())
