"""A read replica: a primary and a hot standby (``pg_basebackup -R -X stream``) on two loopback
addresses and one port. eocat writes to the primary; ``eocat serve`` on the standby answers the
same searches after replication (new collections included, so no process caches what another
one writes); write commands pointed at the standby fail with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from catalog.errors import EocatError
from catalog.pgstac import PgstacStore
from catalog.pgstac.cluster import LocalCluster, free_port
from eocat import samples
from tests.api_fixtures import Server
from tests.items import make_item

EOCAT = str(Path(sys.executable).parent / "eocat")
STANDBY_HOST = "127.0.0.2"


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[LocalCluster, LocalCluster, str]]:
    """(primary, standby, database name): a pgstac catalogue made on the primary, then the standby."""
    primary = LocalCluster(port=free_port("127.0.0.1", STANDBY_HOST), settings={"wal_level": "replica"}).start()
    standby = None
    try:
        primary.create_database("catalogue", template=primary.pgstac_template())
        standby = primary.standby(STANDBY_HOST)
        yield primary, standby, "catalogue"
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


def _ndjson(path: Path, items: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(item) for item in items) + b"\n")
    return path


def _eocat(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    # yearly partitions: the generated items spread over ~100 collection-months (see conftest's sample store)
    env = {**os.environ, "EOCAT_PGSTAC_PARTITION": "year"}
    return subprocess.run([EOCAT, "--db", db, *args], capture_output=True, text=True, check=False, timeout=300, env=env)


def _search_all(server: Server, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """Every feature of a POST /search, following ``next`` links; and the first page's numberMatched."""
    features: list[dict[str, Any]] = []
    page = httpx.post(server.url + "/search", json=body, timeout=60).raise_for_status().json()
    matched = page.get("numberMatched")
    while True:
        features.extend(page["features"])
        following = next((link for link in page["links"] if link["rel"] == "next"), None)
        if following is None:  # links name the server: compare the rest
            return orjson.loads(orjson.dumps(features).replace(server.url.encode(), b"BASE")), matched
        if following.get("method") == "POST":
            page = httpx.post(following["href"], json=following["body"], timeout=60).raise_for_status().json()
        else:
            page = httpx.get(following["href"], timeout=60).raise_for_status().json()


def test_a_hot_standby_serves_the_same_searches_and_refuses_writes(
    replicated: tuple[LocalCluster, LocalCluster, str], tmp_path: Path
) -> None:
    primary, standby, database = replicated
    primary_url, standby_url = primary.url(database), standby.url(database)
    assert standby_url == primary_url.replace("127.0.0.1", STANDBY_HOST), "same port, another address"

    written = _eocat(primary_url, "import", str(_ndjson(tmp_path / "a.ndjson", samples.generate_items(600, seed=5))))
    assert written.returncode == 0, written.stderr
    primary.wait_replayed(standby)

    servers = [Server(url, log_dir=tmp_path) for url in (primary_url, standby_url)]
    try:
        body = {
            "bbox": [-180, -60, 0, 60],
            "filter": {"op": "not", "args": [{"op": "like", "args": [{"property": "id"}, "S2%"]}]},
            "filter-lang": "cql2-json",
            "sortby": [{"field": "datetime", "direction": "desc"}],
            "limit": 60,
        }
        on_primary, matched = _search_all(servers[0], body)
        on_standby, standby_matched = _search_all(servers[1], body)
        assert len(on_primary) > 80, "several pages"
        assert on_standby == on_primary and standby_matched == matched == len(on_primary)

        # a collection born on the primary after the standby's API started is served there after replay
        late = [make_item(f"late-{n}", "late-collection", x=n, y=n) for n in range(5)]
        written = _eocat(primary_url, "import", str(_ndjson(tmp_path / "b.ndjson", late)))
        assert written.returncode == 0, written.stderr
        primary.wait_replayed(standby)
        late_body = {"collections": ["late-collection"], "sortby": [{"field": "id", "direction": "asc"}]}
        features, _ = _search_all(servers[1], late_body)
        assert [feature["id"] for feature in features] == [item["id"] for item in late]
    finally:
        for server in servers:
            server.stop()

    # write-side commands aimed at the standby: one error line, nothing written, no traceback
    refused = _eocat(standby_url, "import", str(_ndjson(tmp_path / "c.ndjson", [make_item("refused")])))
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only hot standby" in lines[0] and "primary" in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    with PgstacStore(standby_url) as store:
        assert store.read_only
        for write in (
            lambda: store.upsert_items([make_item("refused")]),
            lambda: store.upsert_collection(samples.collections()[0]),
            lambda: store.delete_item("late-collection", "late-0"),
            lambda: store.set_watermark("cdse", "q", "2024-01-01T00:00:00Z"),
        ):
            with pytest.raises(EocatError, match="read-only hot standby"):
                write()
        assert store.count_items("late-collection") == 5
    with PgstacStore(primary_url) as store:
        assert not store.read_only
        assert store.count_items() == 605


def test_opening_a_standby_never_writes_the_schema(replicated: tuple[LocalCluster, LocalCluster, str]) -> None:
    """A standby of a database without pgstac cannot be migrated: a clear error, not a failed write."""
    _, standby, _ = replicated
    with pytest.raises(EocatError, match=r"read-only standby without pgstac .*set up the primary first"):
        PgstacStore(standby.url("postgres"))
