"""Shared fixtures. Network beyond the loopback interface is blocked for every test."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.store import Store
from tests.backends import BACKENDS

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
def sqlite_sample_store(
    tmp_path_factory: pytest.TempPathFactory, sample_items: list[dict[str, Any]]
) -> Iterator[Store]:
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
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty store in a fresh file; a test marked ``@both_backends`` (tests.backends) also gets an
    empty pgstac catalogue, with the working directory in tmp_path (a pgstac catalogue's default
    asset store is ./data/assets). ``store.location`` is the ``--db`` value either way."""
    if getattr(request, "param", "sqlite") == "pgstac":
        from catalog.backend import open_store

        monkeypatch.chdir(tmp_path)
        with open_store(request.getfixturevalue("pgstac_url")) as pgstac:
            yield pgstac
        return
    with Store(tmp_path / "eocat.db") as opened:
        yield opened


# -- both catalogue backends -------------------------------------------------------------------
# Tests that hold for every backend take `store` / `sample_store` from `any_store` /
# `any_sample_store` (see test_store.py and test_search_bruteforce.py): each runs once on SQLite
# and once on pgstac. The pgstac side is a real PostgreSQL + PostGIS server that this session
# starts in a temporary directory (one per xdist worker); a missing server is an error, never a
# skip (`make test` installs it).


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl on a free port) with a pgstac template database."""
    from catalog.pgstac.cluster import LocalCluster

    cluster = LocalCluster().start()
    try:
        cluster.pgstac_template()
        yield cluster
    finally:
        cluster.stop()


_database_numbers = iter(range(1, 1_000_000))


@pytest.fixture
def pgstac_url(pg_cluster: Any) -> Iterator[str]:
    """The URL of a fresh, empty pgstac catalogue (a new database made from the template)."""
    name = f"eocat_test_{next(_database_numbers)}"
    yield pg_cluster.fresh_catalogue(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty catalogue on each backend in turn."""
    from catalog.backend import open_store

    target = request.getfixturevalue("pgstac_url") if request.param == "pgstac" else tmp_path / "eocat.db"
    with open_store(target) as opened:
        yield opened


@pytest.fixture(scope="session")
def pgstac_sample_store(pg_cluster: Any, sample_items: list[dict[str, Any]]) -> Iterator[Any]:
    """Like ``sample_store``, in pgstac."""
    from catalog.pgstac import PgstacStore
    from eocat import samples

    # yearly partitions: the sample spreads 6000 items over 300 collection-months, which monthly
    # partitions would turn into 300 tiny tables (each with its indexes) for a handful of items
    store = PgstacStore(pg_cluster.fresh_catalogue("eocat_sample"), partition_trunc="year")
    for collection in samples.collections():
        store.upsert_collection(collection)
    report = store.upsert_items(sample_items, batch_size=2000)
    assert report.inserted == len(sample_items) and report.rejected == 0, report.errors
    store.optimize()
    yield store
    store.close()


@pytest.fixture(scope="session")
def sample_store(sqlite_sample_store: Any) -> Any:
    """``sample_items`` in a SQLite catalogue (modules that run on both backends override this)."""
    return sqlite_sample_store


@pytest.fixture(scope="session", params=BACKENDS)
def any_sample_store(request: pytest.FixtureRequest) -> Any:
    """``sample_items`` in a catalogue on each backend in turn (read-only by convention)."""
    return request.getfixturevalue(f"{request.param}_sample_store")
