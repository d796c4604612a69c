"""Harvest checkpoints kept in the catalogue: finished windows and incremental watermarks.

A harvester records a window only after every item of it is committed, so a resumed harvest
redoes at most the windows that were in flight (idempotent upserts make that harmless).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.backend import CatalogStore


@dataclass(frozen=True)
class FinishedWindow:
    start: str
    end: str
    expected: int | None
    received: int
    rejected: int


class Checkpoints:
    """Checkpoints of one harvest: a source name and a fingerprint of its query."""

    def __init__(self, store: CatalogStore, source: str, query: str) -> None:
        self.store, self.source, self.query = store, source, query

    def finished(self) -> list[FinishedWindow]:
        return self.store.finished_windows(self.source, self.query)

    def finish(self, window: FinishedWindow) -> None:
        self.store.finish_window(self.source, self.query, window)

    def reset(self) -> None:
        """Forget finished windows (a fresh, complete re-harvest)."""
        self.store.reset_windows(self.source, self.query)

    def watermark(self) -> str | None:
        return self.store.watermark(self.source, self.query)

    def set_watermark(self, value: str) -> None:
        self.store.set_watermark(self.source, self.query, value)
