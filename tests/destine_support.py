"""Helpers shared by the DestinE tests (plain functions; each module makes its own fixtures)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from catalog.search import Query, iter_items
from catalog.store import Store
from emulators.destine import DestinEEmulator
from emulators.destine.scene import Frame
from indexer.auth import Credentials
from indexer.destine.auth import DespTokenProvider
from indexer.destine.client import harvest_frames

START, END = date(2021, 6, 1), date(2021, 7, 15)


def frames_between(emulator: DestinEEmulator, continent: str, start: str, end: str) -> list[Frame]:
    """The emulator's frames with ``start <= time < end`` (RFC 3339 bounds): the harvest's ground truth."""
    first, last = (datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(UTC) for t in (start, end))
    return [f for f in emulator.streams[continent].frames if first <= f.start < last]


def harvest(store: Store, emulator: DestinEEmulator, continents: tuple[str, ...], start: str, end: str) -> None:
    """Harvest the emulator's frames of ``continents`` in ``[start, end)`` into ``store`` (a fresh DESP login)."""
    with DespTokenProvider(Credentials("u", "p"), auth_url=emulator.auth_url) as tokens:
        for continent in continents:
            harvest_frames(store, continent, start, end, tokens=tokens, streamer_url=emulator.base_url, progress=False)


def stored_items(store: Store, continent: str | None = None) -> list[dict[str, Any]]:
    items = list(iter_items(store, Query.parse(collections="destine-s3-ndvi", sortby="datetime")))
    if continent:
        items = [i for i in items if i["properties"]["destine:continent"] == continent]
    return items
