"""End to end: CDSE and ASF burst harvests into one collection, over real HTTP against both emulators.

Both emulators serve one ground truth of more than 20,000 bursts. Whatever the order, the faults or a
kill, the catalogue ends with exactly one item per burst acquisition, equal to the merge of what each
source that has the burst says about it (the oracle maps the emulators' own records).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from catalog.merge import merge_items
from catalog.store import Store
from emulators.asf import AsfEmulator
from emulators.asf.records import truth_feature
from emulators.cdse import CdseEmulator
from emulators.cdse.bursts import truth_record
from emulators.s1truth import SyntheticBursts, TruthBurst
from eocat.cli import main
from indexer.asf.client import AsfBurstQuery, harvest_asf_bursts
from indexer.bursts import COLLECTION_ID, asf_feature_to_item, cdse_burst_to_item
from indexer.cdse.bursts import BurstQuery, harvest_cdse_bursts
from tests.items import all_stored_items
from tests.stac_validation import validate_collection, validate_item

TRUTH = SyntheticBursts(seed=4, frames=13, start="2024-01-01T00:00:00Z", end="2025-01-01T00:00:00Z")
EXTRACTOR = "http://asf-extractor.test"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth() -> list[TruthBurst]:
    bursts = TRUTH.generate()
    assert len(bursts) >= 20_000
    return bursts


@pytest.fixture
def emulators(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CdseEmulator, AsfEmulator]]:
    with (
        CdseEmulator(include_fixtures=False, bursts=TRUTH) as cdse,
        AsfEmulator(bursts=TRUTH, include_fixtures=False, quota=None) as asf,
    ):
        for name, value in {**cdse.environment(), **asf.environment(), "EOCAT_ASF_BURST_URL": EXTRACTOR,
                            "EOCAT_TOKEN_CACHE": "0"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        yield cdse, asf


def normalised(item: dict[str, Any]) -> dict[str, Any]:
    out = orjson.loads(orjson.dumps(item))
    out["stac_extensions"] = sorted(out["stac_extensions"])
    out["properties"]["providers"] = sorted(out["properties"]["providers"], key=lambda p: p["name"])
    return out


def oracle(bursts: list[TruthBurst], catalogue_url: str) -> dict[str, dict[str, Any]]:
    """Item id -> the expected item: the merge of what each source that has the burst publishes."""
    out: dict[str, dict[str, Any]] = {}
    for b in bursts:
        parts = []
        if b.at_cdse:
            parts.append(cdse_burst_to_item(truth_record(b), catalogue_url=catalogue_url))
        if b.at_asf:
            parts.append(asf_feature_to_item(truth_feature(b), burst_url=EXTRACTOR))
        item = parts[0] if len(parts) == 1 else merge_items(parts[0], parts[1])
        assert item["id"] not in out, "one item per burst acquisition"
        out[item["id"]] = normalised(item)
    return out


def stored(store: Store) -> dict[str, dict[str, Any]]:
    items = all_stored_items(store)
    assert all(item["collection"] == COLLECTION_ID for item in items)
    assert len(items) == len({item["id"] for item in items}), "no duplicates"
    return {item["id"]: normalised(item) for item in items}


def check_catalogue(store: Store, bursts: list[TruthBurst], catalogue_url: str) -> None:
    expected, got = oracle(bursts, catalogue_url), stored(store)
    assert got.keys() == expected.keys()
    by_id = {b.item_id: b for b in bursts}
    for item_id, item in got.items():
        b = by_id[item_id]
        assets = ({"cdse"} if b.at_cdse else set()) | ({"tiff", "xml"} if b.at_asf else set())
        assert set(item["assets"]) == assets, item_id
    mismatched = [item_id for item_id in expected if got[item_id] != expected[item_id]]
    assert not mismatched, (mismatched[:3], got[mismatched[0]], expected[mismatched[0]]) if mismatched else None
    for item_id in list(got)[:: max(1, len(got) // 40)]:
        validate_item(got[item_id])
    validate_collection(store.get_collection(COLLECTION_ID))


def test_cdse_then_asf_with_faults_gives_one_item_per_burst_with_the_assets_of_both(
    store: Store, emulators: tuple[CdseEmulator, AsfEmulator], truth: list[TruthBurst]
) -> None:
    cdse, asf = emulators
    cdse.faults.set(rate_429=0.05, retry_after=0, rate_5xx=0.03, rate_drop=0.02, rate_truncate=0.02)
    asf.faults.set(rate_429=0.03, retry_after=0, rate_5xx=0.05, rate_drop=0.03, rate_truncate=0.03)
    asf.quota.limit, asf.quota.window_s = 3, 2.0  # the quota answers 429 with Retry-After
    first = harvest_cdse_bursts(store, BurstQuery(), TRUTH.start, TRUTH.end, progress=False)
    second = harvest_asf_bursts(store, AsfBurstQuery(), TRUTH.start, TRUTH.end, progress=False,
                                queries_per_minute=None)  # fmt: skip
    at_cdse = sum(b.at_cdse for b in truth)
    assert first.items.inserted == first.received == first.expected == at_cdse and not first.shortfalls
    assert second.items.inserted == sum(not b.at_cdse for b in truth) and not second.shortfalls
    assert second.splits > 0, "some windows held more than 2000 bursts"
    assert cdse.requests.faults and asf.requests.faults and asf.quota.refused > 0, "faults were injected"
    assert first.items.rejected == second.items.rejected == 0
    check_catalogue(store, truth, cdse.catalogue_url)
    both = {b.item_id for b in truth if b.at_cdse and b.at_asf}
    assert len(both) > 0.9 * len(truth) and sum(not b.at_asf for b in truth) > 100
    cdse.faults.clear()
    asf.faults.clear()
    asf.quota.limit = None
    again = [
        harvest_cdse_bursts(store, BurstQuery(), TRUTH.start, TRUTH.end, progress=False, restart=True),
        harvest_asf_bursts(store, AsfBurstQuery(), TRUTH.start, TRUTH.end, progress=False, restart=True),
    ]
    for report in again:  # re-harvesting either source is idempotent
        assert report.items.inserted == report.items.updated == 0 and report.items.unchanged > 0
    assert store.count_items() == len(truth)


def test_asf_then_cdse_gives_the_same_items(
    store: Store, emulators: tuple[CdseEmulator, AsfEmulator], truth: list[TruthBurst]
) -> None:
    cdse, _ = emulators
    first = harvest_asf_bursts(store, AsfBurstQuery(), TRUTH.start, TRUTH.end, progress=False)
    second = harvest_cdse_bursts(store, BurstQuery(), TRUTH.start, TRUTH.end, progress=False)
    assert first.items.inserted == len({b.item_id for b in truth if b.at_asf})
    assert second.items.inserted == sum(not b.at_asf for b in truth)
    assert second.items.updated == sum(b.at_asf and b.at_cdse for b in truth)
    check_catalogue(store, truth, cdse.catalogue_url)


def test_killed_asf_harvest_after_cdse_resumes_to_the_same_catalogue(
    tmp_path: Path, emulators: tuple[CdseEmulator, AsfEmulator], truth: list[TruthBurst]
) -> None:
    cdse, asf = emulators
    db = tmp_path / "killed.db"
    with Store(db) as store:
        harvest_cdse_bursts(store, BurstQuery(), TRUTH.start, TRUTH.end, progress=False)
    asf.faults.set(rate_5xx=0.05, rate_drop=0.03, delay_s=0.15)
    command = [str(Path(sys.executable).parent / "eocat"), "--db", str(db), "harvest", "asf-bursts",
               "--start", TRUTH.start, "--end", TRUTH.end, "--jobs", "2"]  # fmt: skip
    child = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, windows = time.monotonic() + 120, 0
    while windows < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
        with sqlite3.connect(db) as conn:
            windows = conn.execute("SELECT count(*) FROM harvest_windows WHERE source = 'asf-bursts'").fetchone()[0]
    assert child.poll() is None, "the harvest must still be running when it is killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    finished = subprocess.run([*command, "--json"], env=dict(os.environ), capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["windows_resumed"] >= 3 and not report["shortfalls"]
    with Store(db) as store:
        check_catalogue(store, truth, cdse.catalogue_url)


def test_cli_harvests_with_filters_then_stacks_one_burst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = SyntheticBursts(seed=8, frames=2, start="2024-01-01T00:00:00Z", end="2024-07-01T00:00:00Z")
    bursts = small.generate()
    db = str(tmp_path / "cli.db")
    with CdseEmulator(include_fixtures=False, bursts=small) as cdse, AsfEmulator(bursts=small, quota=None) as asf:
        for name, value in {**cdse.environment(), **asf.environment()}.items():
            monkeypatch.setenv(name, value)
        runner = CliRunner()
        west, south, east, north = bursts[0].bbox
        bbox = f"{west - 1},{south - 1},{east + 1},{north + 1}"
        for args in (["harvest", "cdse-bursts", "--swath", "IW2", "--polarisation", "VV"],
                     ["harvest", "asf-bursts", "--polarisation", "VV", "--bbox", bbox]):  # fmt: skip
            result = runner.invoke(main, ["--db", db, *args, "--start", "2024-01-01", "--end", "2024-06-30", "--json"])
            assert result.exit_code == 0, result.output
        with Store(db) as store:
            items = {item_id: item for item_id, item in stored(store).items()}
        assert all(i["properties"]["sar:polarizations"] == ["VV"] for i in items.values())
        cdse_ids = {b.item_id for b in bursts if b.at_cdse and b.subswath == "IW2" and b.polarization == "VV"}
        assert {i for i, item in items.items() if "cdse" in item["assets"]} == cdse_ids
        reference = next(b for b in bursts if b.item_id in cdse_ids and b.at_asf)
        stack = runner.invoke(main, ["--db", db, "stack", reference.item_id, "--format", "json"])
        assert stack.exit_code == 0, stack.output
        rows = json.loads(stack.stdout)["stack"]
        expected = sorted((b for b in bursts if b.full_burst_id == reference.full_burst_id and b.polarization == "VV"
                           and (b.item_id in cdse_ids or b.at_asf)), key=lambda b: b.start)  # fmt: skip
        assert [r["id"] for r in rows] == [b.item_id for b in expected] and len(rows) > 5
        ref_day = reference.start // 86_400_000_000
        assert [r["temporal_baseline"] for r in rows] == [b.start // 86_400_000_000 - ref_day for b in expected]
        assert {tuple(r["sources"]) for r in rows} <= {("cdse", "asf"), ("cdse",), ("asf",)}
        cql = f"s1:full_burst_id = '{reference.full_burst_id}'"
        search = runner.invoke(main, ["--db", db, "search", "--filter", cql, "--sortby", "datetime", "--format",
                                      "ndjson"])  # fmt: skip
        assert search.exit_code == 0, search.output
        assert [json.loads(line)["id"] for line in search.stdout.splitlines()] == [r["id"] for r in rows]
        missing = runner.invoke(main, ["--db", db, "stack", "S1_000001_IW1_20240101T000000_VV_0000"])
        assert missing.exit_code == 3 and "no burst item" in missing.output
