"""Imports into the SQLite store as ready rows: worker processes parse, validate, encode and compress
chunks of NDJSON lines; the importing process keeps input order, notes duplicate ids and writes.

Per item, parsing, validation, row building and compression are most of an import's CPU and need
nothing but the item (and its collection's document), while SQLite writes one transaction at a time.
So a large NDJSON file goes to ``workers`` processes in byte ranges of whole lines (a compressed one
is decompressed here and its lines sent along), a few chunks ahead of the writer (memory stays
bounded whatever the file's size); results come back in input order, so reports, merges of
repeated ids and batch boundaries are those of a one-process import.

A chunk holding a Collection record, or prepared before another chunk's Collection record was
stored, is prepared again in the importing process once the collection is stored, so items are
always checked against the collection documents that precede them. Smaller files and other formats
(stac-geoparquet, one document) are prepared in-process with the same function.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import os
import pickle
import queue
import sqlite3
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import quote

import orjson

from catalog.bodies import Bodies
from catalog.ingest import Record, is_compressed, is_ndjson, line_records, open_bytes, read_records
from catalog.store import ItemRow, RowEntry, Store, WriteReport, item_rows
from catalog.validate import NO_DUPLICATE_CHECK, PropertyTypes, validated

GROUP = 100  # records parsed and prepared together: their objects are freed while still in the CPU's cache
CHUNK_BYTES = 2 * 2**20  # a worker's task: about 650 items of 3 KB (worker memory grows with it)
MIN_BYTES = 48 * 2**20  # smaller NDJSON files are prepared in-process (starting workers costs ~1 s of CPU)
COMPRESSION_GUESS = 8  # a gzip or zstd file counts as this many times its size (NDJSON of items: 5-10x)
AHEAD = 3  # chunks queued per worker: enough to keep each busy while the writer writes; bounds memory

Documents = dict[str, dict[str, Any]]


@dataclass
class Prepared:
    """One chunk's entries in input order, the repairs validation made, the collections items named."""

    entries: list[RowEntry]
    repairs: list[tuple[str, str]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    collections: bool = False  # the chunk holds Collection records: the importer prepares it itself


class _Repairs:
    """Validation's notes in a worker: repairs are kept for the importer's report."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []

    def repair(self, where: str, what: str) -> None:
        self.notes.append((where, what))

    def duplicate(self, where: str, what: str) -> None:  # pragma: no cover - NO_DUPLICATE_CHECK
        raise AssertionError("duplicates are noted by the store's writes")


def prepare_groups(records: Iterable[Record], documents: Documents, bodies: Bodies | None) -> Prepared:
    """:func:`prepare` the records :data:`GROUP` at a time, as they are parsed, into one result.

    A chunk's worth of parsed items (650) no longer fits in a CPU's cache by the time it is prepared
    and freed; a hundred at a time does (measured, one process, 200 chunks: 34-38 µs per item
    against 42-53 µs parsing and preparing each chunk whole)."""
    result = Prepared([])
    iterator = iter(records)
    types = PropertyTypes(documents.get)  # worked out once per collection, not once per group
    while group := list(itertools.islice(iterator, GROUP)):
        part = prepare(group, documents, bodies, types)
        if part.collections:
            return part
        result.entries += part.entries
        result.repairs += part.repairs
        result.touched |= part.touched
    return result


def prepare(
    records: list[Record], documents: Documents, bodies: Bodies | None, types: PropertyTypes | None = None
) -> Prepared:
    """Validate and encode a group of item records; with ``bodies``, compress those whose collection
    has a dictionary already. A group holding a Collection record is not prepared (``collections``):
    its items must be checked against that collection, stored first."""
    if any(record.__class__ is tuple and record[1].get("type") == "Collection" for record in records):
        return Prepared([], collections=True)
    repairs = _Repairs()
    touched = {
        record[1]["collection"]
        for record in records
        if record.__class__ is tuple and record[1].get("collection").__class__ is str
    }
    checked = validated(records, documents.get, repairs, wkb=True, duplicates=NO_DUPLICATE_CHECK, types=types)
    entries: list[RowEntry] = []
    reloaded = False
    for entry in item_rows(checked):
        if bodies is not None and entry.__class__ is tuple:
            where, row = entry
            if not reloaded and not bodies.has_dictionary(row.collection):
                bodies.reload()  # the importer may have trained one since
                reloaded = True
            if bodies.has_dictionary(row.collection):  # the text is not sent: the body holds it
                body = bodies.encode(row.collection, row.text or b"")
                entry = (where, ItemRow._make((*row[:6], None, *row[7:11], body)))  # (_replace is 10x slower)
        entries.append(entry)
    return Prepared(entries, repairs.notes, touched)


# -- worker processes ------------------------------------------------------------------------------
# A worker is ``python -m catalog.ingest_pipeline STORE``: it reads tasks (a byte range of the file,
# its first line number, the collections' version; the lines themselves for a compressed file) from
# stdin and writes Prepared chunks to stdout, each a length-prefixed pickle. Tasks are small, so the
# importer never waits long writing one; it reads results in the order it sent the tasks (round
# robin), so input order is kept.

Lines = tuple[int, int] | bytes  # a chunk's lines: (offset, length) in the file, or the lines (compressed input)


class Task(NamedTuple):
    """One chunk for a worker."""

    path: str
    first: int  # line number of the chunk's first line
    lines: Lines
    version: int  # the collections' version (bumped by each stored Collection record) it is checked against


def _send(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little"))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes:
    """The next message, pickled; EOFError at the end, or where the sender stopped (died) within one."""
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


def _chunk_records(task: Task) -> Iterator[Record]:
    """The chunk's records, parsed as they are taken."""
    data = task.lines
    if not isinstance(data, bytes):
        offset, length = data
        with open(task.path, "rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
    return line_records(task.path, enumerate(io.BytesIO(data), start=task.first))


def _stored_documents(conn: sqlite3.Connection) -> Documents:
    return {str(key): orjson.loads(content) for key, content in conn.execute("SELECT id, content FROM collections")}


def worker_main(location: str) -> None:
    """Serve tasks until stdin closes; an error is sent back as ``("error", traceback)``."""
    gc.disable()  # parsed JSON has no reference cycles; the collector would rescan every chunk's objects
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the results
    tasks, _ = _queued(sys.stdin.buffer)
    conn = sqlite3.connect(f"file:{quote(location)}?mode=ro", uri=True)
    bodies = Bodies(conn)
    version, documents = -1, {}
    while True:
        message = tasks.get()
        if message is None:
            return
        task = pickle.loads(message)
        try:
            if task.version != version:  # a Collection record was stored since: read the documents again
                version, documents = task.version, _stored_documents(conn)
            _send(results, prepare_groups(_chunk_records(task), documents, bodies))
        except Exception:
            _send(results, ("error", traceback.format_exc()))


def _queued(stream: IO[bytes]) -> tuple[queue.SimpleQueue[bytes | None], threading.Thread]:
    """Messages as they arrive, still pickled (None at the end), read by a thread, which is returned too.

    A worker's tasks: one carrying lines is larger than a pipe's buffer, and the importer sends the
    next ones while this worker's result waits to be read. The importer's results: a chunk's result
    (~500 KB) is larger than a pipe's buffer, and a worker blocked writing it would sit idle while
    the importer writes a batch (1M items: 29.3 s reading and writing with results read when their
    turn came, 26.8 s with them read ahead). Either way at most AHEAD tasks per worker are in flight.
    The reading thread does not unpickle: objects it made would stay in its own malloc arena, which
    grew the importer's peak RSS by 27 MiB at 1M items (356 against 329 MiB)."""
    messages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        while True:
            try:
                messages.put(_receive(stream))
            except EOFError:
                messages.put(None)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return messages, reader


class _Workers:
    """The worker processes of one import, fed round robin."""

    def __init__(self, count: int, location: str) -> None:
        command = [sys.executable, "-m", "catalog.ingest_pipeline", location]
        self._processes = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(count)
        ]
        self._results = [_queued(process.stdout) for process in self._processes]  # type: ignore[arg-type]
        self._next = 0

    def submit(self, task: Task) -> int:
        """Send a task; return which worker has it."""
        number = self._next
        self._next = (number + 1) % len(self._processes)
        try:
            _send(self._processes[number].stdin, task)  # type: ignore[arg-type]
        except BrokenPipeError:
            raise self._exited(number) from None
        return number

    def _exited(self, number: int) -> RuntimeError:
        return RuntimeError(f"import worker {number} exited ({self._processes[number].wait()})")

    def result(self, number: int) -> Prepared:
        message = self._results[number][0].get()
        if message is None:
            raise self._exited(number)
        result = pickle.loads(message)
        if isinstance(result, tuple):
            raise RuntimeError(f"import worker {number} failed:\n{result[1]}")
        prepared: Prepared = result
        return prepared

    def close(self, *, kill: bool = False) -> None:
        for process in self._processes:
            if kill:
                process.kill()
            with contextlib.suppress(BrokenPipeError):  # tasks still buffered for a worker that died
                process.stdin.close()  # type: ignore[union-attr]
        for process, (_, reader) in zip(self._processes, self._results, strict=True):
            process.wait()
            reader.join()  # it has read to the end: its stream may be closed now
            process.stdout.close()  # type: ignore[union-attr]


def input_bytes(source: str | Path) -> int:
    """About how many bytes of NDJSON a source holds (a compressed file counts COMPRESSION_GUESS times its
    size; stdin and directories 0): what decides between workers and one process, and bulk loads."""
    path = Path(source)
    if str(source) == "-" or not path.is_file():
        return 0
    return path.stat().st_size * (COMPRESSION_GUESS if is_compressed(path) else 1)


def default_workers() -> int:
    """Worker processes for a large file: one per CPU this process may use (none on one CPU)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus if cpus > 1 else 0


def chunks(path: str | Path) -> Iterator[tuple[int, Lines]]:
    """``(first line number, (offset, length))`` of consecutive runs of whole lines, about CHUNK_BYTES each;
    for a compressed file ``(first line number, the lines)``, decompressed."""
    if is_compressed(path):
        yield from _decompressed_chunks(path)
        return
    with open(path, "rb") as stream:
        start = position = 0
        number = 1
        while block := stream.read(CHUNK_BYTES):
            cut = block.rfind(b"\n")
            if cut >= 0:
                end = position + cut + 1
                yield number, (start, end - start)
                number += block.count(b"\n", 0, cut + 1)
                start = end
            position += len(block)
        if position > start:
            yield number, (start, position - start)


def _decompressed_chunks(path: str | Path) -> Iterator[tuple[int, Lines]]:
    number = 1
    rest = b""
    with open_bytes(path) as stream:
        while block := stream.read(CHUNK_BYTES):
            block = rest + block
            cut = block.rfind(b"\n")
            if cut < 0:
                rest = block
                continue
            lines, rest = block[: cut + 1], block[cut + 1 :]
            yield number, lines
            number += lines.count(b"\n")
    if rest:
        yield number, rest


# -- the importer's side ---------------------------------------------------------------------------


class Pipeline:
    """Sources in, row entries out (for ``Store.upsert_rows``, which notes duplicates), with repair reports.

    ``workers=None`` uses :func:`default_workers` for NDJSON files of :data:`MIN_BYTES` or more; a
    number uses that many for every NDJSON file (0: all in-process).
    """

    def __init__(self, store: Store, report: WriteReport, workers: int | None = None) -> None:
        self.store = store
        self.report = report
        self.touched: set[str] = set()
        self._workers = workers
        self._documents = _stored_documents(store.conn)
        self._version = 0  # bumped whenever a Collection record is stored
        self._processes: _Workers | None = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._processes is not None:
            self._processes.close(kill=kind is not None)
            self._processes = None

    def entries(self, sources: Iterable[str | Path]) -> Iterator[RowEntry]:
        for source in sources:
            prepared_chunks = self._parallel(source) or self._local(source)
            for prepared in prepared_chunks:
                for where, what in prepared.repairs:
                    self.report.repair(where, what)
                self.touched |= prepared.touched
                yield from prepared.entries

    def _local(self, source: str | Path) -> Iterator[Prepared]:
        records = read_records(source)
        while chunk := list(itertools.islice(records, GROUP)):
            yield self._here(chunk)

    def _here(self, records: list[Record]) -> Prepared:
        """Prepare a chunk in this process, storing its Collection records first (in their order)."""
        items: list[Record] = []
        for record in records:
            if record.__class__ is tuple and record[1].get("type") == "Collection":
                where, document = record
                try:
                    self.store.upsert_collection(document)
                except Exception as exc:
                    self.report.reject(where, str(exc))
                self._documents = _stored_documents(self.store.conn)
                self._version += 1
            else:
                items.append(record)
        return prepare(items, self._documents, None)

    def _parallel(self, source: str | Path) -> Iterator[Prepared] | None:
        """The source's chunks prepared by workers, or None when it is not a large enough NDJSON file."""
        workers = default_workers() if self._workers is None else self._workers
        if str(source) == "-" or not Path(source).is_file():  # stdin, a stac-geoparquet directory
            return None
        if workers < 1 or (self._workers is None and input_bytes(source) < MIN_BYTES) or not is_ndjson(source):
            return None
        if self._processes is None:
            self._processes = _Workers(workers, self.store.location)
        return self._from_workers(str(source), workers)

    def _from_workers(self, path: str, workers: int) -> Iterator[Prepared]:
        processes = self._processes
        assert processes is not None
        pending: deque[tuple[Task, int]] = deque()
        ranges = chunks(path)

        def submit() -> None:
            found = next(ranges, None)
            if found is not None:
                task = Task(path, *found, self._version)
                pending.append((task, processes.submit(task)))

        for _ in range(AHEAD * workers):
            submit()
        while pending:
            task, number = pending.popleft()
            prepared = processes.result(number)
            submit()  # before the rows are written, so the workers stay busy meanwhile
            if prepared.collections or task.version != self._version:
                prepared = self._here(list(_chunk_records(task)))
            yield prepared


if __name__ == "__main__":  # a worker: run the importable module's copy, so results pickle by its name
    from catalog.ingest_pipeline import worker_main as main

    main(sys.argv[1])
