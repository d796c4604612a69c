"""``eocat harvest destine``, ``fetch`` of frames, ``timescan`` and ``emulate destine`` against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from catalog.store import Store
from emulators.destine import DestinEEmulator
from eocat.cli import main
from indexer.destine.mapping import stable_stream_address
from tests.destine_support import frames_between, stored_items


@pytest.fixture(scope="module")
def emulator() -> Iterator[DestinEEmulator]:
    with DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 6, 20)) as emu:
        yield emu


@pytest.fixture
def env(emulator: DestinEEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("EOCAT_TOKEN_CACHE", "0")


def _run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_harvest_fetch_and_timescan(emulator: DestinEEmulator, env: None, tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    code, out, err = _run(
        db, "harvest", "destine", "--continent", "Europe", "--start", "2021-06-02", "--end", "2021-06-12", "--json"
    )
    assert code == 0, err
    expected = frames_between(emulator, "Europe", "2021-06-02T00:00:00Z", "2021-06-13T00:00:00Z")
    assert json.loads(out)["inserted"] == len(expected)
    code, out, _ = _run(db, "search", "--collections", "destine-s3-ndvi", "--format", "count")
    assert out.strip() == str(len(expected))

    with Store(db) as store:
        items = stored_items(store)
    ids = [items[0]["id"], items[-1]["id"]]
    code, out, err = _run(db, "fetch", "--ids", ",".join(ids), "--dest", str(tmp_path / "frames"), "--json")
    assert code == 0, err
    by_item = {row["item"]: Path(row["path"]) for row in map(json.loads, out.splitlines())}
    paths = [by_item[i] for i in ids]
    assert [p.name for p in paths] == [f"{i}.tif" for i in ids]
    with Store(db) as store:
        fetched = store.get_item("destine-s3-ndvi", ids[-1])
    local = fetched["assets"]["ndvi"]["alternate"]["local"]
    assert Path(urlsplit(local["href"]).path) == paths[-1].resolve()
    assert local["file:size"] == paths[-1].stat().st_size
    assert local["file:checksum"].startswith("1e20")  # BLAKE3 multihash, as for every fetch
    assert fetched["assets"]["ndvi"]["href"] == stable_stream_address(emulator.stream_path("Europe"))  # kept
    truth = emulator.truth("Europe", fetched["properties"]["destine:img_number"])
    with rasterio.open(paths[-1]) as dataset:
        values = dataset.read(1)
    step = (fetched["properties"]["destine:scale_max"] - fetched["properties"]["destine:scale_min"]) / 4095
    assert np.nanmax(np.abs(values - truth)) <= step

    code, _, err = _run(
        db, "harvest", "destine", "--continent", "Europe", "--start", "2021-06-02", "--end", "2021-06-12", "--restart"
    )
    assert code == 0 and "0 new, 0 updated" in err, err  # a re-harvest keeps the recorded local copy
    with Store(db) as store:
        assert store.get_item("destine-s3-ndvi", ids[-1])["assets"]["ndvi"]["alternate"] == {"local": local}

    code, out, err = _run(
        db,
        "timescan",
        "--datetime",
        "2021-06-02T00:00:00Z/2021-06-08T00:00:00Z",
        "--metrics",
        "avg,std,count",
        "--out",
        str(tmp_path / "ts.tif"),
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    in_range = frames_between(emulator, "Europe", "2021-06-02T00:00:00Z", "2021-06-08T00:00:00Z")
    assert report["frames"] == len(in_range) and report["from_local"] == 1 and report["decoded"] == len(in_range) - 1
    with rasterio.open(tmp_path / "ts.tif") as dataset:
        assert dataset.descriptions == ("avg", "std", "count") and dataset.crs.to_epsg() == 4326
        assert dataset.read(3).max() == len(in_range)


def test_errors_are_one_line_and_non_zero(env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "e.db"
    code, _, err = _run(
        db, "harvest", "destine", "--continent", "Europe", "--start", "2021-06-12", "--end", "2021-06-02"
    )
    assert code == 2 and "not before" in err
    code, _, err = _run(
        db, "harvest", "destine", "--continent", "Atlantis", "--start", "2021-06-01", "--end", "2021-06-02"
    )
    assert code == 1 and "no S3 NDVI stream for continent 'Atlantis'" in err and "Traceback" not in err
    code, _, err = _run(db, "timescan", "--metrics", "avg,db", "--out", str(tmp_path / "x.tif"))
    assert code == 1 and "unknown timescan metric" in err
    code, _, err = _run(db, "fetch", "nope", "--dest", str(tmp_path))
    assert code == 3 and "nope" in err and "Traceback" not in err
    monkeypatch.delenv("DESP_USERNAME")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    code, _, err = _run(
        db, "harvest", "destine", "--continent", "Europe", "--start", "2021-06-01", "--end", "2021-06-02"
    )
    assert code == 1 and "DESP_USERNAME" in err


def test_emulate_destine_serves_from_a_shell(tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "eocat"),
        "emulate",
        "destine",
        "--port",
        "0",
        "--start",
        "2021-06-01",
        "--end",
        "2021-06-03",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(4)]
            assert lines[0].startswith("export EOCAT_DESTINE_STREAMER_URL=http://127.0.0.1:")
            assert any(line.startswith("export EOCAT_DESP_AUTH_URL=") for line in lines)
        finally:
            process.terminate()
            process.wait(timeout=30)
