"""Shared fixtures. Network beyond the loopback interface is blocked for every test."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.store import Store

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise OSError(f"tests may not reach the network: connect to {address!r} blocked")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


SAMPLE_SIZE = 6000


@pytest.fixture(scope="session")
def sample_items() -> list[dict[str, Any]]:
    """Thousands of realistic generated items (all kinds, some crossing the antimeridian)."""
    from eocat import samples

    return list(samples.generate_items(SAMPLE_SIZE, seed=7))


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, sample_items: list[dict[str, Any]]) -> Iterator[Store]:
    """A read-only-by-convention store holding ``sample_items`` and the sample collections."""
    from eocat import samples

    path = Path(tmp_path_factory.mktemp("sample")) / "sample.db"
    store = Store(path)
    for collection in samples.collections():
        store.upsert_collection(collection)
    report = store.upsert_items(sample_items, batch_size=500)
    assert report.inserted == len(sample_items) and report.rejected == 0, report.errors
    store.optimize()
    yield store
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a fresh file."""
    with Store(tmp_path / "eocat.db") as opened:
        yield opened
