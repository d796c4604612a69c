"""End to end: the CDSE harvester against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.backend import open_store
from catalog.search import Query, count, iter_items
from catalog.store import Store
from catalog.timeutil import utc_now
from emulators.cdse import CdseEmulator, SyntheticProducts
from eocat.cli import main
from indexer.auth import Credentials, TokenProvider
from indexer.cdse.client import ProductQuery, harvest_products
from indexer.cdse.mapping import product_to_item
from indexer.errors import AuthError
from tests.items import all_stored_items, finished_windows
from tests.stac_validation import validate_collection, validate_item

ROOT = Path(__file__).resolve().parents[1]


def window_filter(collection: str, start: str, end: str, extra: str = "") -> str:
    text = f"Collection/Name eq '{collection}' and ContentDate/Start ge {start} and ContentDate/Start lt {end}"
    return f"{text} and {extra}" if extra else text


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EOCAT_TOKEN_CACHE", "0")
    yield


def use(emulator: CdseEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)


def stored_ids(store: Store) -> list[str]:
    return [item["properties"].get("cdse:id") for item in all_stored_items(store)]


@pytest.mark.parametrize("collection", ["SENTINEL-1", "SENTINEL-2"])
def test_recorded_products_harvest_into_valid_items_equal_to_the_mapping(
    store: Store, monkeypatch: pytest.MonkeyPatch, env: None, collection: str
) -> None:
    everything = ("2014-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    with CdseEmulator(include_fixtures=True) as emulator:
        use(emulator, monkeypatch)
        report = harvest_products(store, ProductQuery(collection), *everything, progress=False)
        truth = emulator.records(window_filter(collection, *everything), expand=("Attributes", "Assets"))
    assert len(truth) >= 3 and report.items.inserted == len(truth)
    assert report.received == report.expected == len(truth) and not report.items.rejected
    for record in truth:
        expected = product_to_item(record, download_url=emulator.download_url, catalogue_url=emulator.catalogue_url)
        stored = store.get_item(expected["collection"], expected["id"])
        assert stored == expected
        assert stored["properties"]["cdse:id"] == record["Id"] and stored["id"] == record["Name"].rsplit(".", 1)[0]
        validate_item(stored)
        validate_collection(store.get_collection(stored["collection"]))


def test_fifty_thousand_products_with_faults_give_exactly_the_ground_truth(
    store: Store, monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    start, end = "2023-01-01T00:00:00Z", "2023-03-01T00:00:00Z"
    recipe = SyntheticProducts(seed=11, count=50_000, start=start, end=end, collections=("SENTINEL-2",),
                               malformed_fraction=0.001)  # fmt: skip
    with CdseEmulator(products=recipe, include_fixtures=False, fault_seed=3) as emulator:
        use(emulator, monkeypatch)
        emulator.faults.set(rate_429=0.05, retry_after=0, rate_5xx=0.03, rate_drop=0.02, rate_truncate=0.02)
        report = harvest_products(store, ProductQuery("SENTINEL-2"), start, end, progress=False)
        truth = set(emulator.ids(window_filter("SENTINEL-2", start, end)))
        malformed = emulator.malformed(window_filter("SENTINEL-2", start, end))
        faults = emulator.requests.faults
    assert len(truth) == 50_000 and report.splits > 0, "the range needs window splitting"
    assert faults, "faults were injected"
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)), "no duplicates"
    assert set(ids) == truth - set(malformed)
    assert report.items.rejected == len(malformed) > 0
    assert all(any(i in e for e in report.items.errors) for i in list(malformed)[: len(report.items.errors)])
    assert not report.shortfalls and report.received == report.expected == 50_000


# pgstac loads a few times slower than SQLite: fewer products over more months keep the test short
# (four monthly windows, two finished before the kill); SQLite's 50,000 over two months also split windows
@pytest.mark.parametrize(
    ("backend", "products", "end"),
    [("sqlite", 50_000, "2023-03-01T00:00:00Z"), ("pgstac", 12_000, "2023-05-01T00:00:00Z")],
)
def test_killed_harvest_resumes_to_exactly_the_ground_truth(
    tmp_path: Path, env: None, request: pytest.FixtureRequest, backend: str, products: int, end: str
) -> None:
    start = "2023-01-01T00:00:00Z"
    recipe = SyntheticProducts(seed=5, count=products, start=start, end=end, collections=("SENTINEL-1",))
    db = str(request.getfixturevalue("pgstac_url") if backend == "pgstac" else tmp_path / "killed.db")
    with CdseEmulator(products=recipe, include_fixtures=False, fault_seed=8) as emulator:
        emulator.faults.set(
            rate_429=0.05, retry_after=0, rate_5xx=0.03, rate_drop=0.02, rate_truncate=0.02, delay_s=0.05
        )
        environment = {**os.environ, **emulator.environment(), "EOCAT_DB": db, "EOCAT_TOKEN_CACHE": "0"}
        command = [str(Path(sys.executable).parent / "eocat"), "harvest", "cdse", "--collection", "SENTINEL-1",
                   "--start", start, "--end", end, "--jobs", "2"]  # fmt: skip
        child = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while finished_windows(db) < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
        assert child.poll() is None, "the harvest must still be running when it is killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        with open_store(db if backend == "pgstac" else Path(db)) as store:
            partial = store.count_items()
        finished = subprocess.run([*command, "--json"], env=environment, capture_output=True, text=True, check=False)
        truth = set(emulator.ids(window_filter("SENTINEL-1", start, end)))
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert len(truth) == products and (report["splits"] > 0 or products < 20_000), "windows had to be split"
    assert report["windows_resumed"] >= 2 and report["inserted"] == len(truth) - partial > 0
    with open_store(db if backend == "pgstac" else Path(db)) as store:
        ids = stored_ids(store)
    assert len(ids) == len(set(ids)) == len(truth) and set(ids) == truth


def test_cli_harvest_with_aoi_product_type_and_cloud_cover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           env: None) -> None:  # fmt: skip
    start, end = "2023-05-01T00:00:00Z", "2023-09-01T00:00:00Z"
    aoi = {"type": "Polygon", "coordinates": [[[5, 44], [16, 44], [16, 52], [5, 52], [5, 44]]]}
    (tmp_path / "roi.geojson").write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": aoi}))
    recipe = SyntheticProducts(seed=2, count=30_000, start=start, end=end, collections=("SENTINEL-2",))
    db = str(tmp_path / "cli.db")
    with CdseEmulator(products=recipe, include_fixtures=False) as emulator:
        use(emulator, monkeypatch)
        args = ["--db", db, "harvest", "cdse", "--collection", "SENTINEL-2", "--product-type", "S2MSI2A",
                "--aoi", str(tmp_path / "roi.geojson"), "--start", "2023-05-01", "--end", "2023-08-31",
                "--cloud-cover-max", "20", "--json"]  # fmt: skip
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        extra = ("Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
                 "att/OData.CSC.StringAttribute/Value eq 'S2MSI2A') and Attributes/OData.CSC.DoubleAttribute/any("
                 "att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 20.00) and "
                 "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((5 44,16 44,16 52,5 52,5 44))')")  # fmt: skip
        truth = set(emulator.ids(window_filter("SENTINEL-2", start, end, extra)))
    assert truth
    with Store(db) as store:
        assert set(stored_ids(store)) == truth
        items = list(iter_items(store, Query.parse(collections="sentinel-2-l2a")))
        assert len(items) == len(truth)
        assert all(item["properties"]["eo:cloud_cover"] <= 20 for item in items)
        assert all(item["properties"]["product:type"] == "S2MSI2A" for item in items)
        assert count(store, Query.parse(intersects=aoi)) == len(truth)


def test_since_last_fetches_only_modified_products(store: Store, monkeypatch: pytest.MonkeyPatch, env: None) -> None:
    start, end = "2023-01-01T00:00:00Z", "2023-02-01T00:00:00Z"
    recipe = SyntheticProducts(seed=9, count=3000, start=start, end=end, collections=("SENTINEL-2",))
    with CdseEmulator(products=recipe, include_fixtures=False) as emulator:
        use(emulator, monkeypatch)
        first = harvest_products(store, ProductQuery("SENTINEL-2"), start, end, progress=False)
        touched = emulator.ids(window_filter("SENTINEL-2", start, end))[:25]
        emulator.touch(touched, utc_now())
        again = harvest_products(store, ProductQuery("SENTINEL-2"), start, end, since_last=True, progress=False)
    assert first.items.inserted == 3000
    assert again.received == 25 and again.items.updated == 25 and again.items.inserted == 0


def test_token_provider_against_the_emulator_identity_service(tmp_path: Path) -> None:
    emulator = CdseEmulator(include_fixtures=False, credentials={"alice": "pw"}, access_lifetime=60,
                            refresh_lifetime=300)  # fmt: skip
    now = [time.time()]

    def advance(seconds: float) -> None:  # the provider's and the emulator's clocks move together
        now[0] += seconds
        emulator.clock.advance(seconds)

    with emulator:
        provider = TokenProvider(
            emulator.token_url, Credentials("alice", "pw"), cache_dir=tmp_path, clock=lambda: now[0]
        )
        wrong = TokenProvider(emulator.token_url, Credentials("alice", "nope"), cache_dir=tmp_path / "w")
        with provider, wrong:
            first = provider.access_token()
            assert emulator.validate_token(first) and provider.access_token() == first
            advance(45)  # inside the expiry margin: refreshed
            second = provider.access_token()
            assert second != first and emulator.validate_token(second)
            assert provider.grants == ["password", "refresh_token"]
            advance(400)  # the refresh token has expired too: a new login
            assert emulator.validate_token(provider.access_token()) and provider.grants[-1] == "password"
            with pytest.raises(AuthError, match="refused the credentials"):
                wrong.access_token()
