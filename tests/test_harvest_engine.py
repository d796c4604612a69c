"""The harvest engine with an in-memory source: window splitting, resume, reconciliation, rejects,
on both backends (the checkpoints live in the catalogue)."""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from catalog.checkpoints import FinishedWindow
from catalog.errors import EocatError
from catalog.search import Query, count
from catalog.store import Store
from indexer.harvest import STORE_BATCH, Window, harvest, initial_windows
from tests.items import make_item


class FakeSource:
    """Records at given times; pages of 100; at most 500 reachable per window, like a skip wall."""

    name = "fake"
    max_per_window = 500

    def __init__(self, times: list[str], *, bad: set[int] = frozenset(), lose: int = 0, crash_after: int = -1) -> None:
        self.times = sorted(times)
        self.bad, self.lose, self.crash_after = bad, lose, crash_after
        self.fetched_windows: list[Window] = []

    def fingerprint(self) -> dict[str, Any]:
        return {"n": len(self.times)}

    def _slice(self, window: Window) -> range:
        return range(bisect.bisect_left(self.times, window.start), bisect.bisect_left(self.times, window.end))

    def count(self, window: Window) -> int:
        return len(self._slice(window))

    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        if self.crash_after >= 0 and len(self.fetched_windows) >= self.crash_after:
            raise KeyboardInterrupt
        self.fetched_windows.append(window)
        indexes = list(self._slice(window))[: self.max_per_window]
        if self.lose:
            indexes = indexes[self.lose :]
        for start in range(0, len(indexes), 100):
            # each page repeats the last record of the previous one: duplicates must be dropped
            page = indexes[max(0, start - 1) : start + 100]
            yield [{"Id": f"r{n}", "n": n, "time": self.times[n]} for n in page]

    def record_id(self, record: dict[str, Any]) -> str:
        return str(record["Id"])

    def collection(self, collection_id: str) -> dict[str, Any] | None:
        return None

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["n"] in self.bad:
            raise EocatError(f"record {record['Id']} is malformed")
        return make_item(record["Id"], "fake-collection", datetime=record["time"])


def times(count: int, days: int = 60) -> list[str]:
    step = days * 86400 / count
    return ["2023-01-01T00:00:00Z" if n == 0 else _plus(n * step) for n in range(count)]


def _plus(seconds: float) -> str:
    from datetime import UTC, datetime

    return (datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


START, END = "2023-01-01T00:00:00.000000Z", "2023-03-02T00:00:00.000000Z"


@pytest.fixture
def store(any_store: Any) -> Any:
    """Every test here runs on SQLite and on pgstac."""
    return any_store


def test_windows_are_split_until_each_fits_and_every_record_is_stored_once(store: Store) -> None:
    source = FakeSource(times(3000), bad={7, 2999})
    report = harvest(store, source, START, END, jobs=4, progress=False)
    assert report.splits > 0 and all(source.count(w) <= 500 for w in source.fetched_windows)
    assert store.count_items() == 2998 and report.items.inserted == 2998
    assert report.items.rejected == 2 and any("r7 is malformed" in e for e in report.items.errors)
    assert report.received == report.expected == 3000 and not report.shortfalls


def test_a_second_run_resumes_nothing_to_do_and_changes_nothing(store: Store) -> None:
    source = FakeSource(times(1200))
    harvest(store, source, START, END, progress=False)
    again = FakeSource(times(1200))
    report = harvest(store, again, START, END, progress=False)
    assert again.fetched_windows == [] and report.windows_resumed > 0
    assert store.count_items() == 1200


def test_an_interrupted_harvest_resumes_without_duplicates(store: Store) -> None:
    with pytest.raises(KeyboardInterrupt):
        harvest(store, FakeSource(times(2000), crash_after=3), START, END, jobs=1, progress=False)
    partial = store.count_items()
    assert 0 < partial < 2000
    resumed = FakeSource(times(2000))
    report = harvest(store, resumed, START, END, progress=False)
    assert store.count_items() == 2000
    assert report.items.inserted == 2000 - partial


def test_shortfalls_are_retried_once_then_reported(store: Store) -> None:
    source = FakeSource(times(300), lose=5)
    report = harvest(store, source, START, END, initial_span=timedelta(days=90), progress=False)
    assert len(source.fetched_windows) == 2, "the short window is fetched again"
    assert report.shortfalls and "received 295 of 300" in report.shortfalls[0]
    assert count(store, Query.parse(collections="fake-collection")) == 295


def test_initial_windows_skip_finished_ones() -> None:
    done = [FinishedWindow("2023-01-10T00:00:00.000000Z", "2023-01-20T00:00:00.000000Z", 1, 1, 0)]
    windows = initial_windows(START, "2023-02-01T00:00:00.000000Z", done, timedelta(days=7))
    assert windows[0] == Window(START, "2023-01-08T00:00:00.000000Z")
    assert all(not (w.start < done[0].end and w.end > done[0].start) for w in windows)
    covered = sum(w.seconds for w in windows) + 10 * 86400
    assert covered == 31 * 86400


class _CountingSource(FakeSource):
    """Notes, as each record is translated, how many translated items the store has not yet written.
    Windows of up to 5,000 records, pages of 100."""

    max_per_window = 5_000

    def __init__(self, times: list[str], stored: list[int]) -> None:
        super().__init__(times)
        self.stored = stored
        self.translated = itertools.count(1)
        self.ahead: list[int] = []

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        self.ahead.append(next(self.translated) - sum(self.stored))
        return super().translate(record)


def test_items_are_fetched_only_a_few_pages_ahead_of_the_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory holds a bounded number of fetched items, however many the harvest has: a slow store
    holds the fetches back instead of letting fetched pages (or whole windows) pile up."""
    stored: list[int] = []
    upsert = store.upsert_items

    def slow_upsert(items: list[Any], **kwargs: Any) -> Any:
        time.sleep(0.005)
        written = upsert(items, **kwargs)
        stored.append(len(items))
        return written

    monkeypatch.setattr(store, "upsert_items", slow_upsert)
    source = _CountingSource(times(20_000), stored)
    report = harvest(store, source, START, END, jobs=2, progress=False)
    assert store.count_items() == 20_000 and report.windows >= 4 and sum(stored) == 20_000
    # pages that wait for the slow store are stored together, up to STORE_BATCH items (and the page crossing it)
    assert 100 < max(stored) < STORE_BATCH + 100
    # pages of 100: those being stored, jobs queued, one being built (or waiting to be queued) by each fetch thread
    assert max(source.ahead) < STORE_BATCH + 100 + (2 + 2) * 100
