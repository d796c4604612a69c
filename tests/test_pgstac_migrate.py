"""``eocat migrate``: SQLite → pgstac and back, verified by counts and the item-set checksum;
a copy killed halfway resumes without duplicates.

The generated samples spread a few thousand items over five years: yearly partitions
(EOCAT_PGSTAC_PARTITION=year) keep that from becoming hundreds of tiny monthly tables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.pgstac import PgstacStore
from catalog.pgstac.transfer import checksum
from catalog.store import Store
from eocat import samples
from eocat.cli import main

EOCAT = str(Path(sys.executable).parent / "eocat")


def make_source(path: Path, number: int) -> Store:
    store = Store(path)
    for collection in samples.collections():
        store.upsert_collection(collection)
    store.upsert_items(samples.generate_items(number, seed=11))
    return store


def test_migrate_to_pgstac_and_back_gives_the_same_items(
    tmp_path: Path, pgstac_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EOCAT_PGSTAC_PARTITION", "year")
    source = make_source(tmp_path / "source.db", 1500)
    runner = CliRunner()
    there = runner.invoke(main, ["--db", str(tmp_path / "source.db"), "migrate", pgstac_url, "--format", "json"])
    assert there.exit_code == 0, there.output
    report = json.loads(there.stdout)
    assert report["identical"] and report["copied"] == 1500 and report["source_checksum"] == report["target_checksum"]
    back_path = tmp_path / "back.db"
    back = runner.invoke(main, ["--db", pgstac_url, "migrate", str(back_path), "--format", "json"])
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout)["target_checksum"] == report["source_checksum"]
    with PgstacStore(pgstac_url) as pg, Store(back_path) as returned:
        assert pg.item_counts() == source.item_counts() == returned.item_counts()
        assert {c["id"] for c in pg.collections()} == source.collection_ids()
        for item in samples.generate_items(1500, seed=11):
            key = (item["collection"], item["id"])
            assert pg.get_item(*key) == returned.get_item(*key) == source.get_item(*key)
    # a changed item makes the verification fail (exit 1), it is not papered over
    with PgstacStore(pgstac_url) as pg:
        victim = next(iter(samples.generate_items(1, seed=11)))
        pg.upsert_items([{**victim, "properties": {**victim["properties"], "extra:field": 1}}])
        ids = sorted(pg.collection_ids())
        assert checksum(pg, ids)[0] != checksum(source, ids)[0]
    source.close()


def test_killed_migrate_resumes_without_duplicates(tmp_path: Path, pgstac_url: str) -> None:
    make_source(tmp_path / "big.db", 8_000).close()
    command = [EOCAT, "--db", str(tmp_path / "big.db"), "migrate", pgstac_url]
    env = {**os.environ, "EOCAT_PGSTAC_PARTITION": "year"}
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300
    with PgstacStore(pgstac_url) as watcher:
        while child.poll() is None and time.monotonic() < deadline:
            mark = watcher.watermark("eocat-copy", str(tmp_path / "big.db"))
            if mark and watcher.count_items() >= 2000:
                break
            time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait()
        partial = watcher.count_items()
    assert 0 < partial < 8_000, "killed halfway"
    finished = subprocess.run([*command, "--format", "json"], capture_output=True, text=True, timeout=600, env=env)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["resumed_after"] and report["identical"]
    assert report["copied"] < 8_000, "the resumed run skips what was already copied"
    with PgstacStore(pgstac_url) as pg:
        assert pg.count_items() == 8_000
        duplicates = pg.conn.execute("SELECT count(*) - count(DISTINCT (collection, id)) FROM items").fetchone()
        assert duplicates == (0,)
