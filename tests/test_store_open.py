"""Opening a catalogue (issue 12, observation 7, library half): a --db that is no catalogue is a clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.backend import open_store
from catalog.errors import NotACatalogue, NotFound
from catalog.store import Store
from eocat.cli import main


def test_a_file_that_is_not_sqlite_is_not_a_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a database\n" * 10)
    with pytest.raises(NotACatalogue, match=r"notes\.txt is not an eocat catalogue \(file is not a database\)"):
        Store(path)
    assert path.read_text().startswith("hello")  # untouched
    with pytest.raises(NotFound):  # NotACatalogue is a NotFound: exit 3, one line
        open_store(path, must_exist=True)


def test_another_programs_sqlite_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(NotACatalogue, match="a SQLite database of something else"):
        Store(path)
    with sqlite3.connect(path) as conn:
        assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL


def test_the_cli_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = CliRunner().invoke(main, ["--db", str(path), "collections"])
    assert result.exit_code == 3
    assert result.output.strip() == f"error: {path} is not an eocat catalogue (file is not a database)"


def test_an_empty_file_and_an_existing_catalogue_open(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with Store(tmp_path / "empty.db") as store:
        assert store.count_items() == 0
    with Store(tmp_path / "empty.db") as store:
        assert store.schema_version >= 2
