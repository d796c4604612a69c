"""The harvest engine shared by every source: time windows, checkpoints, concurrency, reconciliation.

A source answers two questions about a half-open time window ``[start, end)``: how many
records match (``count``) and what they are (``fetch``, following the upstream's paging). The
engine splits windows until each fits under the source's paging wall, fetches windows in
parallel, translates records to STAC items, stores each window's pages and only then
checkpoints it, so an interrupted harvest (Ctrl-C, kill -9) resumes with the windows not yet
stored, and re-stored windows change nothing. Each window's received Ids are reconciled against
the upstream's count and a shortfall is retried once, then reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from catalog.checkpoints import Checkpoints, FinishedWindow
from catalog.errors import EocatError
from catalog.store import Store, WriteReport
from catalog.timeutil import format_canonical, parse_canonical

log = logging.getLogger("eocat.harvest")

# Pages waiting in the outbox are stored together, up to this many items in one transaction: when the
# store is what a harvest waits on, one commit per 100-item page rewrote the same index pages again and
# again (1M-item store, 20k new items: 2,542 items/s a page at a time, 4,177 in batches of 1,000).
# When fetching is slower, each page is stored as it arrives. (CDSE's pages hold 1,000 records already.)
STORE_BATCH = 1_000


@dataclass(frozen=True, order=True)
class Window:
    """A half-open time window ``[start, end)`` in canonical UTC text."""

    start: str
    end: str

    def split(self) -> tuple[Window, Window]:
        first, last = _moment(self.start), _moment(self.end)
        middle = format_canonical(first + (last - first) / 2)
        return Window(self.start, middle), Window(middle, self.end)

    @property
    def seconds(self) -> float:
        return (_moment(self.end) - _moment(self.start)).total_seconds()


class Source(Protocol):
    """What the engine needs from an upstream."""

    name: str
    max_per_window: int  # the deepest a query can page (e.g. CDSE: skip 10000 + top 1000)

    def fingerprint(self) -> dict[str, Any]: ...
    def count(self, window: Window) -> int: ...
    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]: ...  # pages; the engine empties each
    def record_id(self, record: dict[str, Any]) -> str: ...
    def translate(self, record: dict[str, Any]) -> dict[str, Any]: ...
    def collection(self, collection_id: str) -> dict[str, Any] | None: ...


@dataclass
class HarvestReport:
    """What a harvest did, for the summary and for tests."""

    items: WriteReport = field(default_factory=WriteReport)
    windows: int = 0
    windows_resumed: int = 0
    splits: int = 0
    received: int = 0
    expected: int = 0
    shortfalls: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.items.as_dict(), "windows": self.windows, "windows_resumed": self.windows_resumed,
                "splits": self.splits, "received": self.received, "expected": self.expected,
                "shortfalls": self.shortfalls, "seconds": round(self.seconds, 2)}  # fmt: skip


@dataclass
class _Fetched:
    """A window whose every page was handed to the store: what its checkpoint says."""

    window: Window
    expected: int
    received: int
    rejected: int


def fingerprint(source: Source) -> str:
    """A short stable hash of what a harvest asks for (its checkpoints are kept under it)."""
    text = orjson.dumps({"source": source.name, **source.fingerprint()}, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=10).hexdigest()


def initial_windows(start: str, end: str, done: list[FinishedWindow], span: timedelta) -> list[Window]:
    """``[start, end)`` minus the finished windows, cut into pieces of at most ``span``."""
    pieces: list[Window] = []
    cursor = start
    for finished in sorted(done, key=lambda w: w.start):
        if finished.end <= cursor or finished.start >= end:
            continue
        if finished.start > cursor:
            pieces.append(Window(cursor, min(finished.start, end)))
        cursor = max(cursor, finished.end)
    if cursor < end:
        pieces.append(Window(cursor, end))
    windows: list[Window] = []
    for piece in pieces:
        first, last = _moment(piece.start), _moment(piece.end)
        while last - first > span:
            cut = first + span
            windows.append(Window(format_canonical(first), format_canonical(cut)))
            first = cut
        windows.append(Window(format_canonical(first), piece.end))
    return windows


def harvest(
    store: Store,
    source: Source,
    start: str,
    end: str,
    *,
    jobs: int = 4,
    initial_span: timedelta = timedelta(days=31),
    progress: bool | None = None,
    console: Console | None = None,
) -> HarvestReport:
    """Harvest ``[start, end)`` of a source into the store; resumable; returns the report."""
    began = time.monotonic()
    report = HarvestReport()
    checkpoints = Checkpoints(store, source.name, fingerprint(source))
    done = checkpoints.finished()
    todo = initial_windows(start, end, done, initial_span)
    report.windows_resumed = sum(1 for w in done if w.end > start and w.start < end)
    console = console or Console(stderr=True)
    show = console.is_terminal if progress is None else progress
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        store.long_writes(),
        Progress(*columns, console=console, disable=not show, transient=False) as bar,
        ThreadPoolExecutor(max_workers=jobs, thread_name_prefix=f"harvest-{source.name}") as pool,
    ):
        task = bar.add_task(f"{source.name} windows", total=len(todo))
        items_task = bar.add_task(f"{source.name} items", total=None)
        # Fetch threads hand each page of translated items to this thread through a bounded queue,
        # and it stores them as they come (those waiting together, up to STORE_BATCH items): memory
        # holds a few pages whatever the harvest's size.
        # (Whole windows held until stored, up to 10,000 items of ~7 KB each, cost 3.7 GB for 1M
        # products when fetches outran the store, and 694 MiB with four windows at a time.)
        outbox = _Outbox(jobs)
        waiting = deque(todo)
        active = 0
        failure: BaseException | None = None

        def fetch_more() -> None:
            nonlocal active
            while waiting and active < jobs and failure is None:
                pool.submit(_fetch_into, source, waiting.popleft(), outbox)
                active += 1

        pending: list[tuple[str, dict[str, Any]]] = []  # items of pages taken, not stored yet

        def store_pending() -> None:
            if pending:
                store.upsert_items(pending, report=report.items, collections=source.collection)
                pending.clear()

        fetch_more()
        try:
            while active:
                message = outbox.get()
                if isinstance(message, _Page):
                    for where, reason in message.rejected:
                        report.items.reject(where, reason)
                    pending += message.items
                    if len(pending) >= STORE_BATCH or outbox.empty():
                        store_pending()
                    continue
                store_pending()  # a window's outcome comes after its pages: they are stored before it is finished
                active -= 1
                if isinstance(message, BaseException):
                    failure = failure or message  # pages that did arrive are stored; their windows refetched
                elif isinstance(message, list):  # too full: split, the halves next
                    report.splits += 1
                    bar.update(task, total=(bar.tasks[task].total or 0) + len(message) - 1)
                    waiting.extendleft(reversed(message))
                else:  # every page of the window is stored (it was queued before this)
                    _finish_window(checkpoints, message, report)
                    bar.advance(task)
                    bar.update(items_task, completed=report.received)
                fetch_more()
        finally:
            outbox.close()  # a fetch thread waiting to hand over a page gives up
            pool.shutdown(wait=False, cancel_futures=True)
        if failure is not None:
            raise failure
    report.seconds = time.monotonic() - began
    return report


@dataclass
class _Page:
    """Translated items (and rejected records) of a window, to store now."""

    items: list[tuple[str, dict[str, Any]]]
    rejected: list[tuple[str, str]]


class _Closed(Exception):
    """The harvest stopped taking pages."""


class _Outbox:
    """A bounded queue from the fetch threads to the storing thread, which can be closed."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=size)
        self._closed = threading.Event()

    def put(self, message: Any) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(message, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Closed

    def get(self) -> Any:
        return self._queue.get()

    def empty(self) -> bool:
        return self._queue.empty()

    def close(self) -> None:
        self._closed.set()


def _fetch_into(source: Source, window: Window, outbox: _Outbox) -> None:
    """Fetch one window into the outbox: its pages, then its summary (or its halves, or the error)."""
    outcome: _Fetched | list[Window] | BaseException
    try:
        outcome = _fetch_window(source, window, outbox)
    except _Closed:
        return
    except BaseException as exc:  # handed to the storing thread, which raises it
        outcome = exc
    with contextlib.suppress(_Closed):
        outbox.put(outcome)


def _fetch_window(source: Source, window: Window, outbox: _Outbox) -> _Fetched | list[Window]:
    expected = source.count(window)
    if expected > source.max_per_window and window.seconds > 1:
        return list(window.split())
    handed: set[str] = set()  # records already given to the store (a second attempt sends only new ones)
    rejected = 0
    for attempt in (1, 2):
        seen: set[str] = set()
        for page in source.fetch(window):
            fresh = _Page([], [])
            page.reverse()  # taken from the end: a raw record is let go as soon as it is translated
            while page:
                record = page.pop()
                record_id = _record_id(source, record)
                if record_id in seen:
                    continue
                seen.add(record_id)
                if record_id in handed:
                    continue
                handed.add(record_id)
                where = f"{source.name} record {record_id}"
                try:
                    fresh.items.append((where, source.translate(record)))
                except EocatError as exc:
                    fresh.rejected.append((where, str(exc)))
            rejected += len(fresh.rejected)
            if fresh.items or fresh.rejected:
                outbox.put(fresh)
        if len(seen) >= expected or attempt == 2:
            return _Fetched(window, expected, len(seen), rejected)
        log.warning("window %s..%s: %d of %d records, fetching again", window.start, window.end, len(seen), expected)
    raise AssertionError("unreachable")


def _record_id(source: Source, record: dict[str, Any]) -> str:
    try:
        return source.record_id(record)
    except (KeyError, TypeError):
        return "<no id>"


def _finish_window(checkpoints: Checkpoints, fetched: _Fetched, report: HarvestReport) -> None:
    report.windows += 1
    report.received += fetched.received
    report.expected += fetched.expected
    if fetched.received < fetched.expected:
        report.shortfalls.append(
            f"{fetched.window.start}..{fetched.window.end}: received {fetched.received} of {fetched.expected}"
        )
    checkpoints.finish(
        FinishedWindow(fetched.window.start, fetched.window.end, fetched.expected, fetched.received,
                       fetched.rejected)
    )  # fmt: skip


def print_summary(report: HarvestReport, console: Console | None = None) -> None:
    """The final summary people read after a harvest."""
    console = console or Console(stderr=True, highlight=False, markup=False, emoji=False)
    items = report.items
    console.print(
        f"harvest: {items.inserted} new, {items.updated} updated, {items.unchanged} unchanged, "
        f"{items.rejected} rejected; {report.windows} windows ({report.windows_resumed} already done, "
        f"{report.splits} splits); received {report.received} of {report.expected} counted; "
        f"{report.seconds:.1f} s"
    )
    for name in items.collections_created:
        console.print(f"  created collection {name!r}", markup=False, emoji=False)
    for message in items.notes[:10]:
        console.print(f"  {message}", markup=False, emoji=False)
    for message in items.errors[:10]:
        console.print(f"  rejected {message}", markup=False, emoji=False)
    if items.rejected > 10:
        console.print(f"  … and {items.rejected - 10} more rejected (--format json lists the first 100)")
    for shortfall in report.shortfalls:
        console.print(Text.assemble(("  shortfall", "yellow"), f" {shortfall}"))


def _moment(text: str) -> datetime:
    return parse_canonical(text)
