"""The eocat command line: import, search in every format, collections, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from eocat.cli import main
from tests.items import COLLECTION, make_item


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def write_ndjson(path: Path, items: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return path


@pytest.fixture
def loaded(runner: CliRunner, db: str, tmp_path: Path) -> str:
    (tmp_path / "collection.json").write_text(json.dumps(COLLECTION, indent=2))
    items = [make_item(f"i{n}", x=n, y=40, properties={"eo:cloud_cover": n * 10.0}) for n in range(10)]
    write_ndjson(tmp_path / "items.ndjson", items)
    result = runner.invoke(
        main, ["--db", db, "import", str(tmp_path / "collection.json"), str(tmp_path / "items.ndjson")]
    )
    assert result.exit_code == 0, result.output
    return db


def test_import_reports_malformed_lines_with_their_number_and_keeps_the_rest(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    good = [orjson.dumps(make_item(f"ok{n}")).decode() for n in range(3)]
    lines = [good[0], '{"type": "Feature", "id": broken', good[1], "", good[2], '{"type": "Feature"}']
    path = tmp_path / "mixed.ndjson"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(main, ["--db", db, "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: malformed JSON" in result.output
    assert f"{path}:6: missing or empty 'id'" in result.output
    assert "imported 3 new" in result.output
    count = runner.invoke(main, ["--db", db, "search", "--format", "count"])
    assert count.output.strip() == "3"


def test_import_item_collection_single_item_and_stdin(runner: CliRunner, db: str, tmp_path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": [make_item("a"), make_item("b")]}
    (tmp_path / "ic.json").write_text(json.dumps(collection, indent=1))
    (tmp_path / "one.json").write_text(json.dumps(make_item("c"), indent=2))
    assert (
        runner.invoke(main, ["--db", db, "import", str(tmp_path / "ic.json"), str(tmp_path / "one.json")]).exit_code
        == 0
    )
    result = runner.invoke(main, ["--db", db, "import", "-"], input=orjson.dumps(make_item("d")).decode() + "\n")
    assert result.exit_code == 0, result.output
    out = runner.invoke(main, ["--db", db, "search", "--format", "ndjson", "--sortby", "id"])
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == ["a", "b", "c", "d"]


def test_search_formats(runner: CliRunner, loaded: str) -> None:
    base = ["--db", loaded, "search", "--collections", "test-collection", "--filter", "eo:cloud_cover < 35"]
    ndjson = runner.invoke(main, [*base, "--format", "ndjson", "--sortby", "id"])
    assert ndjson.exit_code == 0
    assert [json.loads(line)["id"] for line in ndjson.stdout.splitlines()] == ["i0", "i1", "i2", "i3"]
    geojson = json.loads(runner.invoke(main, [*base, "--format", "geojson"]).stdout)
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 4
    assert runner.invoke(main, [*base, "--format", "count"]).stdout == "4\n"
    table = runner.invoke(main, [*base, "--format", "table", "--sortby", "-eo:cloud_cover", "--limit", "2"])
    assert "i3" in table.stdout and "i2" in table.stdout and "i1" not in table.stdout
    limited = runner.invoke(main, [*base, "--format", "ndjson", "--limit", "3"])
    assert len(limited.stdout.splitlines()) == 3


def test_search_bbox_intersects_file_and_fields(runner: CliRunner, loaded: str, tmp_path: Path) -> None:
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[2.5, 40.5], [4.5, 40.5], [4.5, 41], [2.5, 41], [2.5, 40.5]]],
                        },
                    }
                ],
            }
        )
    )
    out = runner.invoke(
        main,
        [
            "--db",
            loaded,
            "search",
            "--intersects",
            str(aoi),
            "--format",
            "ndjson",
            "--sortby",
            "id",
            "--fields",
            "id,-assets",
        ],
    )
    assert out.exit_code == 0, out.output
    assert [json.loads(line) for line in out.stdout.splitlines()] == [{"id": "i2"}, {"id": "i3"}, {"id": "i4"}]
    out = runner.invoke(main, ["--db", loaded, "search", "--bbox", "5.5,40.2,6.5,40.4", "--format", "count"])
    assert out.stdout == "2\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bbox", "1,2,3"], "invalid bbox"),
        (["--bbox", "0,50,10,40"], "latitudes"),
        (["--datetime", "2024-13-01"], "invalid date"),
        (["--datetime", "2024-01-01T10:00"], "invalid RFC 3339"),
        (["--datetime", "2024-02-01T00:00:00Z/2024-01-01T00:00:00Z"], "start is after end"),
        (["--filter", "eo:cloud_cover <<< 3"], "invalid CQL2 filter"),
        (["--sortby", "geometry"], "cannot sort"),
        (["--intersects", '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}'], "invalid"),
        (["--bbox", "0,0,1,1", "--intersects", '{"type": "Point", "coordinates": [0, 0]}'], "together"),
    ],
)
def test_bad_queries_exit_2_with_a_message(runner: CliRunner, loaded: str, args: list[str], message: str) -> None:
    result = runner.invoke(main, ["--db", loaded, "search", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_unknown_collection_and_missing_file(runner: CliRunner, loaded: str) -> None:
    result = runner.invoke(main, ["--db", loaded, "search", "--collections", "nope"])
    assert (
        result.exit_code == 3 and "unknown collection(s): nope" in result.output and "test-collection" in result.output
    )
    result = runner.invoke(main, ["--db", loaded, "import", "/no/such/file.ndjson"])
    assert result.exit_code == 3 and "no such file" in result.output


def test_collections_listing(runner: CliRunner, loaded: str) -> None:
    table = runner.invoke(main, ["--db", loaded, "collections"])
    assert "test-collection" in table.stdout and "10" in table.stdout
    documents = [
        json.loads(line)
        for line in runner.invoke(main, ["--db", loaded, "collections", "--format", "json"]).stdout.splitlines()
    ]
    assert documents == [COLLECTION]


def test_console_script_uses_eocat_db_and_keeps_stdout_clean(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    items = write_ndjson(tmp_path / "items.ndjson", [make_item("x"), make_item("y")])
    env_run = {
        "env": {"EOCAT_DB": str(db), "PATH": str(Path(sys.executable).parent)},
        "capture_output": True,
        "text": True,
    }
    eocat = str(Path(sys.executable).parent / "eocat")
    imported = subprocess.run([eocat, "import", str(items)], check=False, **env_run)  # type: ignore[call-overload]
    assert imported.returncode == 0 and imported.stdout == "" and "imported 2 new" in imported.stderr
    found = subprocess.run([eocat, "search", "--format", "ndjson", "--sortby", "id"], check=True, **env_run)  # type: ignore[call-overload]
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == ["x", "y"]
    assert db.exists()
    helped = subprocess.run([eocat, "search", "--help"], check=True, **env_run)  # type: ignore[call-overload]
    assert "--filter" in helped.stdout and "--format" in helped.stdout
