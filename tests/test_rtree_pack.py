"""Packing an R*Tree by writing its shadow tables gives what SQLite's own inserts give, and a tree
SQLite's checks, queries and later writes accept."""

from __future__ import annotations

import random
import sqlite3

import pytest

from catalog.rtree_pack import pack


def _entries(count: int, seed: int) -> list[tuple[float, ...]]:
    """Boxes over both signs, with coordinates no float32 holds exactly, in a clustered order."""
    rng = random.Random(seed)
    rows = []
    for rowid in rng.sample(range(1, 10 * count + 2), count):
        x, y, t = rng.uniform(-180, 179), rng.uniform(-90, 89), rng.uniform(-5000.3, 20000.7)
        rows.append((rowid, x, x + rng.uniform(0, 1), y, y + rng.uniform(0, 1), t, t + 0.1, 3.0, 3.0))
    return sorted(rows, key=lambda row: (round(row[1]), row[5]))


def _tree(count: int, seed: int = 1) -> tuple[sqlite3.Connection, list[tuple[float, ...]]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA page_size = 16384")
    for name in ("packed", "inserted"):
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, x0, x1, y0, y1, t0, t1, c0, c1)")
    entries = _entries(count, seed)
    conn.executemany("INSERT INTO inserted VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    conn.execute("BEGIN")
    assert pack(conn, "packed", 4, iter(entries)) == count
    conn.execute("COMMIT")
    return conn, entries


def _check(conn: sqlite3.Connection) -> None:
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"


@pytest.mark.parametrize("count", [0, 1, 50, 51, 52, 51 * 51, 51 * 51 + 1, 9_000])
def test_a_packed_tree_holds_what_inserts_hold_and_answers_the_same(count: int) -> None:
    conn, _ = _tree(count)
    _check(conn)
    # the same float32 values, rounded outwards as SQLite rounds what it is given
    assert (
        conn.execute("SELECT * FROM packed ORDER BY id").fetchall()
        == conn.execute("SELECT * FROM inserted ORDER BY id").fetchall()
    )
    rng = random.Random(count)
    for _ in range(30):
        x, y, size = rng.uniform(-180, 170), rng.uniform(-90, 80), rng.choice([0.5, 5, 60])
        where = f"x0 <= {x + size} AND x1 >= {x} AND y0 <= {y + size} AND y1 >= {y} AND t1 >= 1000 AND t0 <= 9000"
        packed = conn.execute(f"SELECT id FROM packed WHERE {where} ORDER BY id").fetchall()
        assert packed == conn.execute(f"SELECT id FROM inserted WHERE {where} ORDER BY id").fetchall()


def test_a_packed_tree_takes_inserts_updates_and_deletes_after() -> None:
    conn, entries = _tree(51 * 51 + 7)
    more = _entries(3_000, seed=2)
    conn.executemany(
        "INSERT INTO packed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(row[0] + 10**6, *row[1:]) for row in more]
    )
    conn.executemany("DELETE FROM packed WHERE id = ?", [(row[0],) for row in entries[::2]])
    conn.execute("UPDATE packed SET x0 = x0 - 1 WHERE id = ?", [entries[1][0]])
    _check(conn)
    assert conn.execute("SELECT count(*) FROM packed").fetchone()[0] == len(entries) - len(entries[::2]) + 3_000
    conn.executemany("DELETE FROM packed WHERE id = ?", [(row[0],) for row in entries[1::2]])
    _check(conn)
    assert conn.execute("SELECT count(*) FROM packed").fetchone()[0] == 3_000


def test_packing_again_replaces_the_contents() -> None:
    conn, _ = _tree(500)
    again = _entries(120, seed=5)
    conn.execute("BEGIN")
    pack(conn, "packed", 4, iter(again))
    conn.execute("COMMIT")
    _check(conn)
    assert [row[0] for row in conn.execute("SELECT id FROM packed ORDER BY id")] == sorted(row[0] for row in again)
