"""Packing an SQLite R*Tree from entries in a given order, by writing its shadow tables directly.

SQLite's R*Tree has no bulk load: each insert descends the tree, may split nodes, and writes its
leaf and the ``_rowid`` mapping at a random place. Filled after a bulk load (10M items), that took
187 s and wrote 29 GiB. Entries already sorted into a good order (grid cell, then time: neighbours
in space and time) can instead be cut into full leaves one after another, and those into parents, as
Sort-Tile-Recursive and Hilbert packing do: every node is written once, in order.

The shadow tables' format is SQLite's (``ext/rtree/rtree.c``): ``%_node(nodeno, data)`` holds node
blobs of a fixed size, root at node 1; a blob is the tree's depth (root only) and the cell count, two
big-endian 16-bit integers, then cells of a big-endian 64-bit rowid (a child's node number in inner
nodes) and big-endian float32 coordinates, each minimum rounded down and maximum rounded up as
SQLite rounds what it is given. ``%_rowid`` maps each rowid to its leaf, ``%_parent`` each node but
the root to its parent. ``rtreecheck()`` verifies all of it (tests).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_CHUNK = 51 * 400  # entries converted at once
# SQLite's rtreeValueDown/Up: a double whose nearest float32 lies on the wrong side is scaled by
# (1 -/+ 2**-23) towards or away from zero first.
_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0


def _float32_outwards(values: np.ndarray) -> np.ndarray:
    """Columns of (min, max) pairs as float32, minimums rounded down and maximums up, as SQLite does."""
    rounded = values.astype(np.float32)
    wide = rounded.astype(np.float64)
    lower = np.zeros(values.shape[1], bool)
    lower[0::2] = True
    wrong = np.where(lower, wide > values, wide < values)
    scale = np.where(lower == (values < 0), _AWAY, _TOWARDS)
    return np.where(wrong, (values * scale).astype(np.float32), rounded)


class _Writer:
    """Writes node blobs, parents and leaf mappings as the packer completes nodes."""

    def __init__(self, conn: sqlite3.Connection, name: str, dimensions: int) -> None:
        self.conn = conn
        self.name = name
        self.size = int(conn.execute(f"SELECT length(data) FROM {name}_node WHERE nodeno = 1").fetchone()[0])
        self.cell = np.dtype([("id", ">i8"), ("box", ">f4", (2 * dimensions,))])
        self.capacity = (self.size - 4) // self.cell.itemsize

    def blob(self, cells: np.ndarray, depth: int = 0) -> bytes:
        head = depth.to_bytes(2, "big") + len(cells).to_bytes(2, "big")
        body = head + cells.tobytes()
        return body + bytes(self.size - len(body))

    def nodes(self, rows: Sequence[tuple[int, bytes]]) -> None:
        self.conn.executemany(f"INSERT INTO {self.name}_node (nodeno, data) VALUES (?, ?)", rows)

    def parents(self, rows: Iterable[tuple[int, int]]) -> None:
        self.conn.executemany(f"INSERT INTO {self.name}_parent (nodeno, parentnode) VALUES (?, ?)", rows)


def pack(conn: sqlite3.Connection, name: str, dimensions: int, entries: Iterable[Sequence[Any]]) -> int:
    """Replace the R*Tree ``name``'s contents with ``entries`` (rowid, then min and max of each
    dimension), packed in their order; return how many. Runs in the caller's transaction."""
    writer = _Writer(conn, name, dimensions)
    for table in ("node", "parent", "rowid"):
        conn.execute(f"DELETE FROM {name}_{table}")
    conn.execute("CREATE TEMP TABLE rtree_pack_leaves (rowid_ INTEGER, nodeno INTEGER)")
    try:
        count, leaves = _pack_leaves(conn, writer, entries)
        _pack_inner(writer, leaves)
        # the leaf of each rowid, written in rowid order: appended, not scattered over the table
        conn.execute(
            f"INSERT INTO {name}_rowid (rowid, nodeno) "
            "SELECT rowid_, nodeno FROM temp.rtree_pack_leaves ORDER BY rowid_"
        )
    finally:
        conn.execute("DROP TABLE temp.rtree_pack_leaves")
    return count


def _pack_leaves(
    conn: sqlite3.Connection, writer: _Writer, entries: Iterable[Sequence[Any]]
) -> tuple[int, tuple[np.ndarray, np.ndarray]]:
    """Write full leaves (node 2 on) of consecutive entries; return the entries' count and the leaves'
    node numbers and boxes."""
    capacity, iterator = writer.capacity, iter(entries)
    numbers: list[np.ndarray] = []
    boxes: list[np.ndarray] = []
    count, next_node = 0, 2
    pending: list[Sequence[Any]] = []  # entries of a leaf cut short by the chunk's end
    while True:
        chunk = pending + list(itertools.islice(iterator, _CHUNK))
        finished = len(chunk) < _CHUNK + len(pending)
        usable = len(chunk) if finished else len(chunk) - len(chunk) % capacity
        pending = chunk[usable:]
        if usable:
            values = np.array(chunk[:usable], dtype=np.float64)
            cells = np.empty(usable, writer.cell)
            cells["id"] = values[:, 0].astype(np.int64)
            cells["box"] = _float32_outwards(values[:, 1:])
            starts = range(0, usable, capacity)
            nodenos = np.arange(next_node, next_node + len(starts), dtype=np.int64)
            writer.nodes(
                [
                    (int(number), writer.blob(cells[start : start + capacity]))
                    for number, start in zip(nodenos, starts, strict=True)
                ]
            )
            conn.executemany(
                "INSERT INTO temp.rtree_pack_leaves VALUES (?, ?)",
                zip(cells["id"].tolist(), np.repeat(nodenos, capacity)[:usable].tolist(), strict=True),
            )
            numbers.append(nodenos)
            boxes.append(_union(cells["box"].astype(np.float32), starts))
            count += usable
            next_node += len(starts)
        if finished:
            break
    if not numbers:
        return 0, (np.empty(0, np.int64), np.empty((0, writer.cell["box"].shape[0]), np.float32))
    return count, (np.concatenate(numbers), np.concatenate(boxes))


def _union(boxes: np.ndarray, starts: range) -> np.ndarray:
    """The box around each run of rows starting at ``starts`` (minimums of even columns, maximums of odd)."""
    first = list(starts)
    lows = np.minimum.reduceat(boxes[:, 0::2], first, axis=0)
    highs = np.maximum.reduceat(boxes[:, 1::2], first, axis=0)
    out = np.empty((len(first), boxes.shape[1]), np.float32)
    out[:, 0::2], out[:, 1::2] = lows, highs
    return out


def _pack_inner(writer: _Writer, leaves: tuple[np.ndarray, np.ndarray]) -> None:
    """Parents of the level below, ``capacity`` at a time, until one node holds them all: the root."""
    numbers, boxes = leaves
    if len(numbers) == 0:  # no entries: an empty root
        writer.nodes([(1, writer.blob(np.empty(0, writer.cell)))])
        return
    if len(numbers) == 1:  # one leaf: it is the root
        writer.conn.execute(f"UPDATE {writer.name}_node SET nodeno = 1 WHERE nodeno = 2")
        writer.conn.execute("UPDATE temp.rtree_pack_leaves SET nodeno = 1")
        return
    capacity, depth = writer.capacity, 0
    next_node = int(numbers.max()) + 1
    while True:
        depth += 1
        starts = range(0, len(numbers), capacity)
        is_root = len(starts) == 1
        parents = np.array([1]) if is_root else np.arange(next_node, next_node + len(starts), dtype=np.int64)
        cells = np.empty(len(numbers), writer.cell)
        cells["id"], cells["box"] = numbers, boxes
        writer.nodes(
            [
                (int(parent), writer.blob(cells[start : start + capacity], depth if is_root else 0))
                for parent, start in zip(parents, starts, strict=True)
            ]
        )
        writer.parents(zip(numbers.tolist(), np.repeat(parents, capacity)[: len(numbers)].tolist(), strict=True))
        if is_root:
            return
        numbers, boxes = parents, _union(boxes, starts)
        next_node += len(starts)
