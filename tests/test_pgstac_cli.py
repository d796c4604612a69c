"""The same CLI session on SQLite and on pgstac gives the same catalogue, item by item.

import (NDJSON) → harvest cdse-bursts and asf-bursts from the emulators (merged bursts) →
search (several forms) → collections → stack → export parquet → serve (STAC API /search).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner

from catalog.parquet.reader import read_parquet_records
from emulators.asf import AsfEmulator
from emulators.cdse import CdseEmulator
from emulators.s1truth import SyntheticBursts
from eocat import samples
from eocat.cli import main
from tests.api_fixtures import Server

SEARCHES = [
    ["--sortby", "id"],
    ["--bbox", "170,-60,-170,60", "--sortby", "id"],
    ["--datetime", "2024-01-01T00:00:00Z/2024-03-31T23:59:59Z", "--sortby", "-datetime,id"],
    ["--filter", "eo:cloud_cover < 30 AND platform = 'sentinel-2a'", "--sortby", "id"],
    ["--filter", "\"sar:polarizations\" = 'VV' OR A_CONTAINS(\"sar:polarizations\", ('VV'))", "--sortby", "id"],
    ["--collections", "sentinel-1-bursts", "--fields", "id,properties.s1:full_burst_id", "--sortby", "id"],
]


def session(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the session against ``db``; return every output that should not depend on the backend."""
    runner = CliRunner()
    out: dict[str, Any] = {}
    ndjson = tmp_path / "items.ndjson"
    ndjson.write_bytes(b"\n".join(orjson.dumps(item) for item in samples.generate_items(400, seed=3)) + b"\n")
    result = runner.invoke(main, ["--db", db, "import", str(ndjson), "--format", "json"])
    assert result.exit_code == 0, result.output
    out["import"] = {k: v for k, v in json.loads(result.stdout).items() if k in ("inserted", "rejected")}

    bursts = SyntheticBursts(seed=8, frames=2, start="2024-01-01T00:00:00Z", end="2024-04-01T00:00:00Z")
    with CdseEmulator(include_fixtures=False, bursts=bursts) as cdse, AsfEmulator(bursts=bursts, quota=None) as asf:
        for name, value in {**cdse.environment(), **asf.environment()}.items():
            monkeypatch.setenv(name, value)
        west, south, east, north = bursts.generate()[0].bbox
        area = f"{west - 2},{south - 2},{east + 2},{north + 2}"
        for args in (["harvest", "cdse-bursts", "--swath", "IW2"], ["harvest", "asf-bursts", "--bbox", area]):
            result = runner.invoke(main, ["--db", db, *args, "--start", "2024-01-01", "--end", "2024-03-31", "--json"])
            assert result.exit_code == 0, result.output

    for number, args in enumerate(SEARCHES):
        result = runner.invoke(main, ["--db", db, "search", *args, "--format", "ndjson"])
        assert result.exit_code == 0, result.output
        out[f"search {number}"] = [json.loads(line) for line in result.stdout.splitlines()]
    assert out["search 5"], "the harvest stored bursts"
    merged = [item for item in out["search 0"] if {"cdse", "tiff"} <= set(item["assets"])]
    assert merged, "some bursts were seen at both sources and merged"

    result = runner.invoke(main, ["--db", db, "collections", "--format", "json"])
    assert result.exit_code == 0, result.output
    out["collections"] = [json.loads(line) for line in result.stdout.splitlines()]
    reference = next(item for item in merged)
    result = runner.invoke(main, ["--db", db, "stack", reference["id"], "--format", "json"])
    assert result.exit_code == 0, result.output
    out["stack"] = json.loads(result.stdout)["stack"]

    export = tmp_path / "parquet"
    result = runner.invoke(main, ["--db", db, "export", "parquet", str(export)])
    assert result.exit_code == 0, result.output
    records = read_parquet_records(export)
    exported = [r[1] for r in records if isinstance(r, tuple) and r[1].get("type") == "Feature"]
    out["export"] = sorted(exported, key=lambda item: (item["collection"], item["id"]))

    server = Server(db, log_dir=tmp_path)
    try:
        features: list[str] = []
        url: str | None = f"{server.url}/search?limit=100&sortby=id&bbox=-180,-90,0,90"
        while url:
            page = httpx.get(url, timeout=30).json()
            features.extend(feature["id"] for feature in page["features"])
            url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        out["api"] = features
    finally:
        server.stop()
    # the emulators listen on new ports each run: hrefs name them
    return json.loads(re.sub(r"http://127\.0\.0\.1:\d+", "http://emulator", json.dumps(out)))


def test_the_same_cli_session_gives_the_same_results_on_sqlite_and_pgstac(
    pgstac_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "pgstac").mkdir()
    sqlite = session(str(tmp_path / "sqlite" / "eocat.db"), tmp_path / "sqlite", monkeypatch)
    pgstac = session(pgstac_url, tmp_path / "pgstac", monkeypatch)
    assert sqlite.keys() == pgstac.keys()
    for key in sqlite:
        if isinstance(sqlite[key], list) and sqlite[key] and isinstance(sqlite[key][0], dict):
            assert len(sqlite[key]) == len(pgstac[key]), key
            for one, other in zip(sqlite[key], pgstac[key], strict=True):
                assert one == other, (key, one.get("id"), other.get("id"))
        else:
            assert sqlite[key] == pgstac[key], key
