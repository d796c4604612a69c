"""The GeoParquet lake on a real local S3 endpoint (moto's server): export, incremental PUTs, crash
safety, ``eocat sql`` (spatial, offline) and ``eocat search --lake`` over ``s3://``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from catalog.parquet import export_parquet
from catalog.parquet.export import MANIFEST
from catalog.parquet.lake_search import LakeCatalog
from catalog.parquet.sql import lake_files, run_sql
from catalog.search import Query, count, iter_items, search
from catalog.store import Store
from emulators import s3 as s3_support
from eocat.cli import main
from tests.items import lake_items, make_item
from tests.paging import lake_order, sort_values, walk

POLYGON = "POLYGON((-10 30, 20 30, 20 60, -10 60, -10 30))"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3_support.MotoServer]:
    server = s3_support.start(tmp_path_factory.mktemp("moto"))
    yield server
    s3_support.stop(server)


@pytest.fixture()
def bucket(moto: s3_support.MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the AWS_* variables point at the local server."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    return moto.create_bucket()


@pytest.fixture()
def small_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "cat.db")
    items = lake_items()
    assert store.upsert_items(items).inserted == len(items)
    return store


def _parquet_objects(moto: s3_support.MotoServer, bucket: str) -> set[str]:
    return {key for key in moto.objects(bucket) if key.endswith(".parquet")}


def _manifest_files(moto: s3_support.MotoServer, bucket: str) -> set[str]:
    return {url.removeprefix(f"s3://{bucket}/") for urls in lake_files(f"s3://{bucket}/lake").values() for url in urls}


def test_export_to_s3_then_sql_and_search(
    moto: s3_support.MotoServer, bucket: str, sample_store: Store, tmp_path: Path
) -> None:
    lake = f"s3://{bucket}/lake"
    report = export_parquet(sample_store, lake)
    assert report.items == sample_store.count_items() and report.directory == lake
    objects = moto.objects(bucket)
    assert f"lake/{MANIFEST}" in objects
    parquet = _parquet_objects(moto, bucket)
    assert len(parquet) == len(report.written) and parquet == _manifest_files(moto, bucket)
    assert all(key.startswith("lake/collection=") and "/items-" in key for key in parquet)
    assert not any(key.endswith(".tmp") for key in objects)

    counts = run_sql(lake, "SELECT collection, count(*) AS n FROM items GROUP BY 1").to_pylist()
    assert {row["collection"]: row["n"] for row in counts} == sample_store.item_counts()

    # eocat sql: DuckDB's spatial functions over s3://, offline (extensions from their wheels)
    runner = CliRunner()
    sql = (f"SELECT count(*) AS n FROM \"sentinel-2-l2a\" WHERE ST_Intersects(ST_GeomFromWKB(geometry), "
           f"ST_GeomFromText('{POLYGON}'))")  # fmt: skip
    result = runner.invoke(main, ["sql", "--parquet", lake, "--format", "json", sql])
    assert result.exit_code == 0, result.output
    expected = count(
        sample_store, Query.parse(collections="sentinel-2-l2a", filter=f"S_INTERSECTS(geometry, {POLYGON})")
    )
    assert expected > 0 and json.loads(result.stdout) == {"n": expected}
    assert s3_support.SECRET_KEY not in result.output

    # eocat search --lake s3://…: the catalogue's answer
    result = runner.invoke(main, ["--db", str(tmp_path / "none.db"), "search", "--lake", lake,
                                  "--bbox", "170,-40,-170,-10", "--datetime", "2023-01-01T00:00:00Z/..",
                                  "--format", "ndjson"])  # fmt: skip
    assert result.exit_code == 0, result.output
    query = Query.parse(bbox="170,-40,-170,-10", datetime="2023-01-01T00:00:00Z/..", limit=1000)
    wanted = [item["id"] for item in iter_items(sample_store, query)]
    assert wanted and [orjson.loads(line)["id"] for line in result.stdout.splitlines()] == wanted

    # paged: the catalogue's pages (ties by collection, id), next and prev tokens, over s3://
    paged = Query.parse(collections="sentinel-1-grd,sentinel-2-l2a", bbox="-20,30,40,70", limit=25)
    with LakeCatalog(lake) as remote:
        pages, expected = walk(remote, paged), walk(sample_store, paged)
        assert len(pages) == len(expected) > 2
        got = [item["id"] for page in pages for item in page.items]
        assert got == lake_order([item for page in expected for item in page.items], paged)
        for mine, theirs in zip(pages, expected, strict=True):
            assert [sort_values(i, paged) for i in mine.items] == [sort_values(i, paged) for i in theirs.items]
        back = search(remote, replace(paged, token=pages[-1].prev_token))
        assert [i["id"] for i in back.items] == [i["id"] for i in pages[-2].items]
    result = runner.invoke(main, ["search", "--lake", lake, "--collections", "sentinel-1-grd,sentinel-2-l2a",
                                  "--bbox", "-20,30,40,70", "--limit", "25", "--token", str(pages[0].next_token),
                                  "--format", "ndjson"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line)["id"] for line in result.stdout.splitlines()] == [i["id"] for i in pages[1].items]
    assert f"next page: --token {pages[1].next_token}" in result.stderr

    # eocat inventory --lake s3://…: DuckDB's coverage computation gives the catalogue's inventory
    selection = ["inventory", "--collections", "sentinel-1-grd,sentinel-1-slc", "--bbox", "0,-10,10,0",
                 "--format", "json"]  # fmt: skip
    result = runner.invoke(main, [*selection, "--lake", lake, "--memory-limit", "100MB"])
    assert result.exit_code == 0, result.output
    expected_inventory = runner.invoke(main, ["--db", str(sample_store.path), *selection])
    assert expected_inventory.exit_code == 0, expected_inventory.output
    document = json.loads(result.stdout)
    assert document["items"] > 10 and document == json.loads(expected_inventory.stdout)

    manifest = moto.objects(bucket)[f"lake/{MANIFEST}"]
    assert manifest["size"] > 0
    for request in moto.requests():  # nothing secret travels in a URL
        assert s3_support.SECRET_KEY not in request.path


def test_incremental_export_puts_only_changed_partitions(
    moto: s3_support.MotoServer, bucket: str, small_store: Store
) -> None:
    lake = f"s3://{bucket}/lake"
    first = export_parquet(small_store, lake)
    assert len(first.written) == 6
    before = moto.objects(bucket)

    mark = moto.mark()
    again = export_parquet(small_store, lake)
    assert again.written == [] and len(again.unchanged) == 6
    assert [r for r in moto.requests(mark) if r.is_object_write or r.method == "DELETE"] == []
    assert moto.objects(bucket) == before

    changed = make_item("alpha-2023-7", "alpha", x=7, y=7, datetime="2023-08-02T10:00:00Z",
                        properties={"eo:cloud_cover": 99.5, "platform": "sentinel-2b"})  # fmt: skip
    small_store.upsert_items([changed])
    mark = moto.mark()
    third = export_parquet(small_store, lake)
    assert third.written == ["collection=alpha/year=2023/items.parquet"]
    requests = moto.requests(mark)
    writes = [r.key for r in requests if r.is_object_write]  # in the order the server saw them
    assert len(writes) == 2 and writes[1] == f"{bucket}/lake/{MANIFEST}"
    assert writes[0].startswith(f"{bucket}/lake/collection=alpha/year=2023/items-")
    deleted = [r.key for r in requests if r.method == "DELETE"]
    old = {key for key in before if "collection=alpha/year=2023/" in key}
    assert [key.removeprefix(f"{bucket}/") for key in deleted] == sorted(old)
    # the manifest was switched after the new object existed, and the old one deleted after that
    order = [r.key for r in requests if r.is_object_write or r.method == "DELETE"]
    assert order == [writes[0], writes[1], *deleted]

    after = moto.objects(bucket)
    assert {k: v for k, v in after.items() if "alpha/year=2023" not in k and MANIFEST not in k} == {
        k: v for k, v in before.items() if "alpha/year=2023" not in k and MANIFEST not in k
    }
    rows = run_sql(lake, "SELECT \"eo:cloud_cover\" AS c, platform FROM alpha WHERE id = 'alpha-2023-7'").to_pylist()
    assert rows == [{"c": 99.5, "platform": "sentinel-2b"}]


_CHILD = """
import sys, time
from catalog.parquet.lake import Lake
from catalog.parquet import export_parquet
from catalog.store import Store

publish = Lake.publish
def stall(self, relative):  # the first new partition is uploaded: hang until killed
    publish(self, relative)
    open(sys.argv[3], "w").close()
    time.sleep(600)
Lake.publish = stall
export_parquet(Store(sys.argv[1]), sys.argv[2], jobs=1)
"""


def test_kill_during_export_leaves_the_previous_lake_readable(
    moto: s3_support.MotoServer, bucket: str, small_store: Store, tmp_path: Path
) -> None:
    lake = f"s3://{bucket}/lake"
    export_parquet(small_store, lake)
    before = moto.objects(bucket)
    old_counts = run_sql(lake, 'SELECT count(*) AS n, sum("eo:cloud_cover") AS c FROM items').to_pylist()

    small_store.upsert_items(lake_items(step=7, cloud_cover=1.0, platform="sentinel-2c"))
    small_store.close()
    signal_file, errors = tmp_path / "uploaded", tmp_path / "child.err"
    with open(errors, "wb") as sink:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(small_store.path), lake, str(signal_file)],
                                 env=os.environ.copy(), stderr=sink)  # fmt: skip
    deadline = time.monotonic() + 120
    while not signal_file.exists():
        assert child.poll() is None, errors.read_text()
        assert time.monotonic() < deadline, "the export did not reach its first upload"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    during = moto.objects(bucket)
    orphans = set(during) - set(before)
    assert len(orphans) == 1 and next(iter(orphans)).endswith(".parquet")  # uploaded, not in the manifest
    assert during[f"lake/{MANIFEST}"] == before[f"lake/{MANIFEST}"]
    assert run_sql(lake, 'SELECT count(*) AS n, sum("eo:cloud_cover") AS c FROM items').to_pylist() == old_counts

    with Store(small_store.path) as store:
        report = export_parquet(store, lake)
    assert len(report.written) == 6
    assert _parquet_objects(moto, bucket) == _manifest_files(moto, bucket)  # the orphan is gone
    rows = run_sql(lake, "SELECT count(*) AS n FROM items WHERE platform = 'sentinel-2c'").to_pylist()
    assert rows == [{"n": 2 * 3 * len(range(0, 300, 7))}]


def test_missing_lake_and_bad_credentials_are_clear(moto: s3_support.MotoServer, bucket: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["sql", "--parquet", f"s3://{bucket}/nothing", "SELECT 1"])
    assert result.exit_code == 1 and "eocat export parquet" in result.output
    assert "Traceback" not in result.output
