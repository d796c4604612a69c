"""What only the pgstac backend has to prove: pgstac's own advice followed (queryables, monthly
partitions, indexes), concurrent writers merging safely, credentials kept out of URLs, and the
GeoParquet export giving the same items as from SQLite. The shared contract (round trips,
merges, every search form against the brute-force oracle) runs on both backends in
test_store.py and test_search_bruteforce.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from catalog.backend import CatalogStore, open_store
from catalog.columns import HOT_PROPERTIES
from catalog.errors import EocatError
from catalog.parquet import export_parquet
from catalog.parquet.reader import read_parquet_records
from catalog.pgstac import PgstacStore, redact_url
from catalog.search import Query, count, iter_items
from tests.items import make_item

ROOT = Path(__file__).resolve().parents[1]
EOCAT = str(Path(sys.executable).parent / "eocat")


def test_pgstac_store_implements_the_backend_interface(pgstac_url: str) -> None:
    with open_store(pgstac_url) as store:
        assert isinstance(store, PgstacStore) and isinstance(store, CatalogStore)
        assert store.location == pgstac_url


def test_hot_properties_are_pgstac_queryables_and_indexed(pgstac_url: str) -> None:
    with PgstacStore(pgstac_url) as store:
        rows = dict(store.conn.execute("SELECT name, property_wrapper FROM queryables").fetchall())
        for hot in HOT_PROPERTIES:
            assert hot.name in rows
        assert rows["eo:cloud_cover"] == "to_float" and rows["sat:relative_orbit"] == "to_float"
        assert rows["platform"] == "to_text" and rows["sar:polarizations"] == "to_text_array"
        store.upsert_items([make_item(f"i{n}", properties={"eo:cloud_cover": n % 100}) for n in range(3000)])
        store.optimize()
        partitions = store.conn.execute("SELECT partition_trunc FROM collections").fetchall()
        assert partitions == [("month",)], "partition_trunc is set before the first load"
        where = store.conn.execute(
            "SELECT stac_search_to_where(%s::jsonb)",
            [orjson.dumps({"filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 3]}}).decode()],
        ).fetchone()[0]
        store.conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in store.conn.execute(f"EXPLAIN SELECT id FROM items WHERE {where}"))
        assert "to_float_idx" in plan, plan
        assert count(store, Query.parse(filter="eo:cloud_cover < 3")) == 90


def test_partitions_follow_the_months_and_items_can_move_between_them(pgstac_url: str) -> None:
    with PgstacStore(pgstac_url) as store:
        store.upsert_items(
            [make_item("a", datetime="2024-01-10T00:00:00Z"), make_item("b", datetime="2024-03-10T00:00:00Z")]
        )
        store.upsert_items([make_item("a", datetime="2024-02-10T00:00:00Z")])  # merge moves it to February
        names = {row[0] for row in store.conn.execute("SELECT partition FROM partitions_view")}
        assert {name[-6:] for name in names} >= {"202401", "202402", "202403"}
        assert store.count_items() == 2
        assert store.get_item("test-collection", "a")["properties"]["datetime"] == "2024-02-10T00:00:00Z"
        assert count(store, Query.parse(datetime="2024-01-01T00:00:00Z/2024-01-31T00:00:00Z")) == 0


def test_loading_into_an_existing_partition_widens_its_bounds_by_time_not_text(pgstac_url: str) -> None:
    """pypgstac compares bound texts: ``05:00:00Z`` sorts after ``05:00:00.500000+00:00`` (regression)."""
    with PgstacStore(pgstac_url) as store:
        store.upsert_items([make_item("late", datetime="2024-01-10T05:00:00.5Z")])
        store.upsert_items([make_item("early", datetime="2024-01-10T05:00:00Z")])
        store.upsert_items([make_item("offset", datetime="2024-01-10T07:00:00.9+02:00")])
        assert store.count_items() == 3
        assert store.get_item("test-collection", "offset")["properties"]["datetime"] == "2024-01-10T07:00:00.9+02:00"


def test_passwords_stay_out_of_urls_and_messages() -> None:
    assert redact_url("postgresql://eo:secret@db.example:5432/cat") == "postgresql://eo:***@db.example:5432/cat"
    with pytest.raises(EocatError) as caught:
        PgstacStore("postgresql://eo:secret@127.0.0.1:9/cat")
    assert "secret" not in str(caught.value) and "PGPASSWORD" in str(caught.value)


def test_password_comes_from_pgpassword(pg_cluster: Any, pgstac_url: str, tmp_path: Path) -> None:
    """A role with a password connects with PGPASSWORD; the password appears nowhere eocat prints."""
    database = pgstac_url.rsplit("/", 1)[1]
    pg_cluster.execute("CREATE ROLE eocat_writer LOGIN PASSWORD 's3cret-pw' SUPERUSER")
    pg_cluster.execute("ALTER SYSTEM SET password_encryption = 'scram-sha-256'")
    hba = Path(pg_cluster.data) / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"host {database} eocat_writer 127.0.0.1/32 scram-sha-256\n" + original)
    pg_cluster.execute("SELECT pg_reload_conf()")
    try:
        url = f"postgresql://eocat_writer@{pg_cluster.host}:{pg_cluster.port}/{database}"
        env = {**os.environ, "PGPASSWORD": "wrong", "PGPASSFILE": str(tmp_path / "none")}
        failed = subprocess.run([EOCAT, "--db", url, "collections"], cwd=ROOT, env=env,
                                capture_output=True, text=True)  # fmt: skip
        assert failed.returncode != 0 and "password authentication failed" in failed.stderr + failed.stdout
        env["PGPASSWORD"] = "s3cret-pw"
        ok = subprocess.run([EOCAT, "--db", url, "collections"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert "s3cret-pw" not in ok.stdout + ok.stderr + failed.stdout + failed.stderr
    finally:
        hba.write_text(original)
        pg_cluster.execute("SELECT pg_reload_conf()")


WRITER = textwrap.dedent(
    """
    import random, sys
    from catalog.pgstac import PgstacStore
    from tests.items import make_item

    url, source, first, last, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    collection = "sentinel-1-bursts"
    numbers = list(range(first, last))
    random.Random(seed).shuffle(numbers)
    def items():
        for n in numbers:
            yield make_item(
                f"S1_{n:06d}_IW2", collection, x=(n % 300) - 150, y=(n % 120) - 60,
                datetime=f"2024-{1 + n % 3:02d}-{1 + n % 28:02d}T06:00:00Z",
                properties={"providers": [{"name": source, "roles": ["host"]}], f"{source}:seen": True},
                assets={source: {"href": f"https://{source}.test/{n}.tiff"}},
            )
    with PgstacStore(url) as store:
        report = store.upsert_items(items(), batch_size=97)
    print(report.inserted + report.updated + report.unchanged)
    """
)


def test_four_concurrent_writers_with_overlapping_bursts_lose_nothing(pgstac_url: str) -> None:
    """CDSE and ASF harvesters (two of each) write overlapping bursts at once: each burst is stored
    once, with the assets and providers of every writer that saw it."""
    writers = [("cdse", 0, 1200), ("asf", 400, 1600), ("cdse2", 800, 2000), ("asf2", 0, 2000)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pgstac_url, source, str(first), str(last), str(seed)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for seed, (source, first, last) in enumerate(writers)
    ]
    for process, (_, first, last) in zip(processes, writers, strict=True):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        assert int(out.strip()) == last - first
    with PgstacStore(pgstac_url) as store:
        assert store.count_items() == 2000
        duplicates = store.conn.execute("SELECT count(*) - count(DISTINCT (collection, id)) FROM items").fetchone()
        assert duplicates == (0,)
        for item in iter_items(store, Query.parse(limit=500)):
            n = int(item["id"].split("_")[1])
            expected = {source for source, first, last in writers if first <= n < last}
            assert set(item["assets"]) == expected, item["id"]
            assert {p["name"] for p in item["properties"]["providers"]} == expected
            assert {key.split(":")[0] for key in item["properties"] if key.endswith(":seen")} == expected


def test_export_parquet_gives_the_same_items_as_from_sqlite(
    sample_store: Any, pgstac_sample_store: PgstacStore, tmp_path: Path
) -> None:
    reports = {}
    exported = {}
    for name, store in (("sqlite", sample_store), ("pgstac", pgstac_sample_store)):
        reports[name] = export_parquet(store, tmp_path / name)
        records = read_parquet_records(tmp_path / name)
        items = [record[1] for record in records if isinstance(record, tuple) and record[1]["type"] == "Feature"]
        exported[name] = {(item["collection"], item["id"]): item for item in items}
    assert reports["sqlite"].items == reports["pgstac"].items == sample_store.count_items()
    assert exported["sqlite"].keys() == exported["pgstac"].keys()
    differing = [key for key in exported["sqlite"] if exported["sqlite"][key] != exported["pgstac"][key]]
    assert not differing, differing[:3]
    # nothing changed: an incremental export on pgstac rewrites nothing
    again = export_parquet(pgstac_sample_store, tmp_path / "pgstac")
    assert again.items == reports["pgstac"].items
    assert again.written == [] and len(again.unchanged) == len(reports["pgstac"].written)


def test_two_api_processes_share_one_database(pgstac_sample_store: PgstacStore, tmp_path: Path) -> None:
    """Stateless API workers: two ``eocat serve`` processes on one pgstac database answer alike."""
    import httpx

    from tests.api_fixtures import Server

    servers = [Server(pgstac_sample_store.url, extra_args=("--workers", "2"), log_dir=tmp_path) for _ in range(2)]
    try:
        answers = []
        for server in servers:
            cloudy = {"op": "<", "args": [{"property": "eo:cloud_cover"}, 50]}
            body = {"bbox": [170, -60, -170, 60], "filter": cloudy, "filter-lang": "cql2-json",
                    "sortby": [{"field": "id", "direction": "asc"}], "limit": 200}  # fmt: skip
            page = httpx.post(f"{server.url}/search", json=body, timeout=60).json()
            answers.append([feature["id"] for feature in page["features"]])
        expected = Query.parse(bbox="170,-60,-170,60", filter="eo:cloud_cover < 50", sortby="id", limit=200)
        library = [item["id"] for item in iter_items(pgstac_sample_store, expected)][:200]
        assert answers[0] == answers[1] == library and library
    finally:
        for server in servers:
            server.stop()
