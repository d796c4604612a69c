"""Harvest checkpoints kept in the catalogue: finished windows and incremental watermarks.

A harvester records a window only after every item of it is committed, so a resumed harvest
redoes at most the windows that were in flight (idempotent upserts make that harmless).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.store import Store
from catalog.timeutil import utc_now


@dataclass(frozen=True)
class FinishedWindow:
    start: str
    end: str
    expected: int | None
    received: int
    rejected: int


class Checkpoints:
    """Checkpoints of one harvest: a source name and a fingerprint of its query."""

    def __init__(self, store: Store, source: str, query: str) -> None:
        self.store, self.source, self.query = store, source, query

    def finished(self) -> list[FinishedWindow]:
        rows = self.store.conn.execute(
            "SELECT start, end, expected, received, rejected FROM harvest_windows "
            "WHERE source = ? AND query = ? ORDER BY start",
            [self.source, self.query],
        ).fetchall()
        return [FinishedWindow(*row) for row in rows]

    def finish(self, window: FinishedWindow) -> None:
        with self.store.db.atomic():
            self.store.conn.execute(
                "INSERT OR REPLACE INTO harvest_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [self.source, self.query, window.start, window.end, window.expected, window.received,
                 window.rejected, utc_now()],
            )  # fmt: skip

    def reset(self) -> None:
        """Forget finished windows (a fresh, complete re-harvest)."""
        with self.store.db.atomic():
            self.store.conn.execute(
                "DELETE FROM harvest_windows WHERE source = ? AND query = ?", [self.source, self.query]
            )

    def watermark(self) -> str | None:
        row = self.store.conn.execute(
            "SELECT watermark FROM harvest_watermarks WHERE source = ? AND query = ?", [self.source, self.query]
        ).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, value: str) -> None:
        with self.store.db.atomic():
            self.store.conn.execute(
                "INSERT OR REPLACE INTO harvest_watermarks VALUES (?, ?, ?)", [self.source, self.query, value]
            )
