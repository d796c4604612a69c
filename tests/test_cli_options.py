"""The CLI's shared layer (eocat/options.py): --db anywhere, missing catalogues, one error line, no import circle."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from eocat.cli import main
from eocat.options import harvest_window, whole_days
from tests.items import make_item

ROOT = Path(__file__).resolve().parents[1]
EOCAT = [str(Path(sys.executable).with_name("eocat"))]


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    items = tmp_path / "items.ndjson"
    items.write_bytes(b"".join(orjson.dumps(make_item(f"i{n}", x=n, y=40)) + b"\n" for n in range(3)))
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(items)])
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize(
    "command",
    [
        ["collections"],
        ["search"],
        ["search", "--format", "count"],
        ["export", "parquet", "OUT"],
        ["stack", "some-burst"],
        ["fetch", "some-item"],
        ["inventory", "--collections", "c", "--bbox", "0,0,1,1"],
        ["timescan", "--out", "OUT.tif"],
        ["serve"],
    ],
)
def test_a_mistyped_db_exits_3_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "nonexistent" / "dir" / "x.db"
    args = [str(tmp_path / a) if a.startswith("OUT") else a for a in command]
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == 3, result.output
    assert "no catalogue at" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "nonexistent").exists()


def test_db_is_accepted_before_or_after_the_subcommand(catalogue: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(main, ["--db", str(catalogue), "search", "--format", "count"])
    after = runner.invoke(main, ["search", "--format", "count", "--db", str(catalogue)])
    overridden = runner.invoke(main, ["--db", str(tmp_path / "other.db"), "search", "--db", str(catalogue)])
    nested = runner.invoke(main, ["export", "parquet", str(tmp_path / "pq"), "--db", str(catalogue)])
    assert before.output == after.output == "3\n"
    assert overridden.exit_code == 0 and "3 item(s)" in overridden.output
    assert nested.exit_code == 0, nested.output
    assert not (tmp_path / "other.db").exists()


def test_write_commands_still_create_a_catalogue(tmp_path: Path) -> None:
    items = tmp_path / "one.json"
    items.write_bytes(orjson.dumps(make_item("a")))
    db = tmp_path / "new" / "c.db"
    result = CliRunner().invoke(main, ["import", str(items), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.is_file()


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-catalogue.db"
    garbage.write_bytes(b"this is not SQLite\n" * 100)
    env = {**os.environ, "EOCAT_DEBUG": ""}
    quiet = subprocess.run([*EOCAT, "--db", str(garbage), "collections"], capture_output=True, text=True, env=env)
    assert quiet.returncode != 0
    assert quiet.stdout == ""
    assert len(quiet.stderr.strip().splitlines()) == 1 and quiet.stderr.startswith("error: ")
    assert "Traceback" not in quiet.stderr
    env["EOCAT_DEBUG"] = "1"
    loud = subprocess.run([*EOCAT, "--db", str(garbage), "collections"], capture_output=True, text=True, env=env)
    assert loud.returncode == quiet.returncode
    assert "Traceback" in loud.stderr and loud.stderr.rstrip().splitlines()[-1] == quiet.stderr.strip()


def test_exit_codes_are_documented_in_the_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "1 upstream or I/O failure" in result.output and "2 bad input" in result.output
    assert "3 not found" in result.output and "EOCAT_DEBUG=1" in result.output


def test_command_modules_do_not_import_the_cli_module() -> None:
    """eocat.cli assembles the tree; the command modules import eocat.options, never eocat.cli (no circle)."""
    offenders = []
    for path in sorted((ROOT / "eocat").glob("cli_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "eocat.cli":
                offenders.append(f"{path.name}:{node.lineno}")
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "eocat"
                and any(alias.name == "cli" for alias in node.names)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
    modules = sorted(p.stem for p in (ROOT / "eocat").glob("cli_*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('eocat.' + name)\n"
        "assert 'eocat.cli' not in sys.modules, 'a command module imported eocat.cli'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-07-01", "2021-07-01T00:00:00Z/2021-07-01T23:59:59.999999Z"),
        ("2021-07-01/2021-07-31", "2021-07-01T00:00:00Z/2021-07-31T23:59:59.999999Z"),
        ("2021-07-01/..", "2021-07-01T00:00:00Z/.."),
        ("../2021-07-31", "../2021-07-31T23:59:59.999999Z"),
        ("2021-07-01T10:00:00Z/2021-07-31", "2021-07-01T10:00:00Z/2021-07-31T23:59:59.999999Z"),
        ("2021-07-01T10:00:00Z", "2021-07-01T10:00:00Z"),
    ],
)
def test_dates_mean_whole_utc_days(value: str, expected: str) -> None:
    assert whole_days(value) == expected


def test_harvest_windows_from_datetime_and_the_old_start_end() -> None:
    day = ("2025-06-01T00:00:00.000000Z", "2025-06-02T00:00:00.000000Z")
    assert harvest_window("2025-06-01/2025-06-01") == day
    assert harvest_window(None, "2025-06-01", "2025-06-01") == day
    assert harvest_window("2025-06-01T00:00:00Z/2025-06-01T23:59:59.999999Z") == day
    assert harvest_window(None, "2025-06-01", "2025-06-02T00:00:00Z") == day  # the old --end was exclusive


@pytest.mark.parametrize(
    ("datetime_", "start", "end", "message"),
    [
        ("2025-06-02/2025-06-01", None, None, "not before"),
        ("2025-06-01/..", None, None, "both given"),
        ("2025-06-01", None, None, "START/END"),
        (None, None, None, "--datetime START/END"),
        ("2025-06-01/2025-06-02", "2025-06-01", None, "not both"),
        ("2025-06-01/2025-13-02", None, None, "invalid date"),
    ],
)
def test_bad_harvest_windows_are_refused(
    datetime_: str | None, start: str | None, end: str | None, message: str
) -> None:
    from catalog.errors import InvalidQuery

    with pytest.raises(InvalidQuery, match=message):
        harvest_window(datetime_, start, end)
