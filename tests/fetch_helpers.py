"""Shared set-up of the fetch tests: a CDSE emulator with real payloads, items in a store, fast retries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from catalog.fetch import FetchSession, new_session
from catalog.fetch.api import asset_root
from catalog.http import RetryPolicy
from catalog.store import Store
from emulators.cdse import CdseEmulator, SyntheticProducts
from indexer.cdse.mapping import collections, product_to_item

BURST_ID = "46577370-83b3-4410-89de-09b4bb23e5dd"


def fast_session() -> FetchSession:
    """A session whose retries wait milliseconds, not seconds."""
    return new_session(policy=RetryPolicy(attempts=6, backoff=0.01, max_wait=0.05))


@contextmanager
def cdse(
    monkeypatch: pytest.MonkeyPatch, store: Store, *, count: int = 3, payload: int = 2_000_000, **options: Any
) -> Iterator[tuple[CdseEmulator, list[dict[str, Any]]]]:
    """A started CDSE emulator (S2 L2A products with real payloads), its items stored, env pointing at it."""
    recipe = SyntheticProducts(seed=5, count=count, collections=("SENTINEL-2",), product_types=("S2MSI2A",),
                               payload_size=payload, legacy_fraction=0.0, offline_fraction=0.0)  # fmt: skip
    with CdseEmulator(products=recipe, include_fixtures=False, **options) as emulator:
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CDSE_USERNAME", "alice")
        monkeypatch.setenv("CDSE_PASSWORD", "secret")
        monkeypatch.setenv("EOCAT_TOKEN_CACHE", "0")
        monkeypatch.delenv("EOCAT_ASSET_DIR", raising=False)
        items = [
            product_to_item(r, download_url=emulator.download_url, catalogue_url=emulator.catalogue_url)
            for r in emulator.records()
        ]
        for collection in collections(emulator.download_url):
            store.upsert_collection(collection)
        store.upsert_items(items)
        yield emulator, items


def burst_item(catalogue_url: str, burst_id: str = BURST_ID) -> dict[str, Any]:
    """A burst item carrying the issue-4 ``cdse`` asset (made by hand)."""
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": "S1_181296_IW1_20240802T060723_VH",
        "collection": "sentinel-1-bursts",
        "geometry": {"type": "Point", "coordinates": [3.0, 51.0]},
        "bbox": [3.0, 51.0, 3.0, 51.0],
        "properties": {
            "datetime": "2024-08-02T06:07:23Z",
            "auth:schemes": {"oidc": {"type": "openIdConnect", "openIdConnectUrl": "http://x/.well-known"}},
        },
        "links": [],
        "assets": {
            "cdse": {
                "href": f"{catalogue_url}/Bursts({burst_id})/$value",
                "type": "application/zip",
                "roles": ["data"],
                "eocat:protocol": "cdse-burst",
                "auth:refs": ["oidc"],
            }
        },
    }


def files_under(root: Path) -> list[Path]:
    """Finished files (outside .partial / .quarantine)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.relative_to(root).parts[0].startswith("."))


_CHILD = """
import sys
from catalog.fetch import fetch
from eocat.options import db_target
from catalog.backend import open_store
fetch(open_store(db_target(sys.argv[1])), sys.argv[2], asset=sys.argv[3])
"""


def fetch_and_kill(store: Store, item_id: str, asset: str, size: int) -> int:
    """Run a fetch in another process, ``kill -9`` it once a quarter has arrived; return the bytes kept.

    The server must be slowed down (stream rate) by the caller so the kill lands midway.
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", _CHILD, store.location, item_id, asset], env=dict(os.environ),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    partial = asset_root(store) / ".partial"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        parts = list(partial.rglob("*.part")) if partial.exists() else []
        if parts and parts[0].stat().st_size > size // 4:
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    [leftover] = list(partial.rglob("*.part"))
    kept = leftover.stat().st_size
    assert 0 < kept < size, (kept, size)
    assert files_under(asset_root(store)) == []  # nothing half-written is published
    return kept
