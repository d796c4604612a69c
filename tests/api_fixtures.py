"""Fixtures for the STAC API tests: a catalogue of generated items served by ``eocat serve`` on 127.0.0.1.

Import the fixtures a module needs (``from tests.api_fixtures import api_url``). The server is the
real command in a subprocess, so the tests go over real HTTP, as clients do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.store import Store

API_ITEMS = 12_000  # enough to page through more than 10,000 results
REPO = Path(__file__).resolve().parent.parent
EOCAT = str(Path(sys.executable).parent / "eocat")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``eocat serve`` in a subprocess; ``url`` ends without a slash.

    On-demand materialization is off (``EOCAT_API_MATERIALIZER=none``) unless ``env`` turns it on: the
    generated items' hrefs point at real services, which tests never call.
    """

    def __init__(
        self,
        db: Path | str,
        *,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        """``db`` is a SQLite file or a ``postgresql://`` URL (then give ``log_dir``)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (log_dir or Path(db).parent) / f"serve-{self.port}.log"
        command = [EOCAT, "--db", str(db), "serve", "--port", str(self.port), *extra_args]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "EOCAT_API_MATERIALIZER": "none", **(env or {})},
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"eocat serve exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"eocat serve did not answer within 60 s: {self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def api_items() -> list[dict[str, Any]]:
    from eocat import samples

    return list(samples.generate_items(API_ITEMS, seed=11))


@pytest.fixture(scope="session")
def api_db(tmp_path_factory: pytest.TempPathFactory, api_items: list[dict[str, Any]]) -> Path:
    from eocat import samples

    path = Path(tmp_path_factory.mktemp("api")) / "api.db"
    with Store(path) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        report = store.upsert_items(api_items)
        assert report.inserted == len(api_items) and report.rejected == 0, report.errors
        store.optimize()
    return path


@pytest.fixture(scope="session")
def api_url(api_db: Path) -> Iterator[str]:
    server = Server(api_db)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def pgstac_api_db(pg_cluster: Any, api_items: list[dict[str, Any]]) -> str:
    """``api_items`` in a pgstac catalogue (yearly partitions: the items spread over many months)."""
    from catalog.pgstac import PgstacStore
    from eocat import samples

    with PgstacStore(pg_cluster.fresh_catalogue("eocat_api"), partition_trunc="year") as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        report = store.upsert_items(api_items)
        assert report.inserted == len(api_items) and report.rejected == 0, report.errors
        store.optimize()
        return store.url


@pytest.fixture(scope="session")
def pgstac_api_url(pgstac_api_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``eocat serve`` over :func:`pgstac_api_db`."""
    server = Server(pgstac_api_db, log_dir=Path(tmp_path_factory.mktemp("api-pgstac")))
    yield server.url
    server.stop()


@pytest.fixture(scope="session", params=("sqlite", "pgstac"))
def any_api_url(request: pytest.FixtureRequest) -> str:
    """``eocat serve`` over ``api_items`` on each backend in turn."""
    return str(request.getfixturevalue("api_url" if request.param == "sqlite" else "pgstac_api_url"))


@pytest.fixture(scope="session")
def browser_dir() -> Path:
    """The cached STAC Browser build (built by browser/build.sh on first use; fails loudly without npm)."""
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: `make test` installs it (apt-get install -y npm); CI needs it")
    result = subprocess.run(["sh", str(REPO / "browser" / "build.sh")], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"building STAC Browser failed:\n{result.stderr[-4000:]}")
    path = Path(result.stdout.strip().splitlines()[-1])
    assert (path / "index.html").is_file(), path
    return path
