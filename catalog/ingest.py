"""Readers for what ``eocat import`` accepts: NDJSON, ItemCollections, single items or collections,
and stac-geoparquet files or directories of them (:mod:`catalog.parquet.reader`).

Readers stream: an NDJSON file of any size is read line by line. A record that cannot be
parsed becomes a :class:`catalog.store.Rejected` naming its line, and reading goes on.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any, cast

import orjson

from catalog.store import BATCH_SIZE, BULK_BATCH_SIZE, Rejected, Store, WriteReport, is_placeholder

Record = tuple[str, dict[str, Any]] | Rejected


_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


def _compression(head: bytes) -> str | None:
    """ "gzip" or "zstd" from a file's first four bytes (their magic numbers), else None."""
    return "gzip" if head.startswith(_GZIP) else "zstd" if head == _ZSTD else None


@contextmanager
def open_bytes(source: str | Path) -> Iterator[IO[bytes]]:
    """The bytes of a file or stdin (``-``), decompressed when they start with gzip's or zstd's magic bytes."""
    with ExitStack() as stack:
        raw = cast(
            io.BufferedReader, sys.stdin.buffer if str(source) == "-" else stack.enter_context(open(source, "rb"))
        )
        if not hasattr(raw, "peek"):  # a stdin replaced by a plain byte stream (tests, embedding programs)
            raw = io.BufferedReader(raw)
        compression = _compression(raw.peek(4)[:4])
        if compression == "gzip":
            import gzip

            yield cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=raw)))
        elif compression == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)
            yield stack.enter_context(io.BufferedReader(reader))
        else:
            yield raw


def read_records(source: str | Path) -> Iterator[Record]:
    """Yield ``(where, document)`` for each STAC object in a file (``-`` is stdin), gzip or zstd compressed or not.

    When the first non-blank line is a whole JSON object the file is NDJSON, one document a
    line; otherwise the file is one (possibly pretty-printed) document. Each document is an Item,
    a Collection or an ItemCollection/FeatureCollection (whose features are read), so whatever
    ``eocat search`` writes (NDJSON, GeoJSON) imports back. A directory (what ``eocat export
    parquet`` writes), a ``.parquet`` file or a file with Parquet's magic bytes is read as
    stac-geoparquet.
    """
    name = "<stdin>" if str(source) == "-" else str(source)
    if name != "<stdin>":
        from catalog.parquet.reader import is_parquet, read_parquet_records

        if is_parquet(Path(source)):
            yield from read_parquet_records(source)
            return
    with open_bytes(source) as stream:
        lines, document = _sniff(stream)
        if lines is not None:
            yield from line_records(name, lines)
        else:
            yield from _document_records(name, document)


def is_ndjson(source: str | Path) -> bool:
    """Whether a file is NDJSON (its first non-blank line is a whole object), compressed or not."""
    from catalog.parquet.reader import is_parquet

    if is_parquet(Path(source)):
        return False
    with open_bytes(source) as stream:
        return _sniff(stream)[0] is not None


def is_compressed(source: str | Path) -> bool:
    """Whether a file starts with gzip's or zstd's magic bytes (:func:`open_bytes` decompresses it)."""
    with open(source, "rb") as stream:
        return _compression(stream.read(4)) is not None


def _sniff(stream: IO[bytes]) -> tuple[Iterator[tuple[int, bytes]] | None, bytes]:
    """NDJSON: its numbered lines (and b""); one document: None and its text."""
    lines = enumerate(stream, start=1)
    for number, line in lines:
        if not line.strip():
            continue
        if line.strip().endswith(b"}"):
            return itertools.chain([(number, line)], lines), b""
        return None, line + stream.read()
    return None, b""


def line_records(name: str, lines: Iterable[tuple[int, bytes]]) -> Iterator[Record]:
    """The records of numbered NDJSON lines (blank lines skipped, a malformed one rejected)."""
    for number, line in lines:
        if line.isspace():
            continue
        where = f"{name}:{number}"
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejected(where, f"malformed JSON: {exc}")
            continue
        yield from _records(where, document)


def _document_records(name: str, text: bytes) -> Iterator[Record]:
    if not text.strip():
        return
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield Rejected(name, f"malformed JSON: {exc}")
        return
    yield from _records(name, document)


def _records(where: str, document: Any) -> Iterator[Record]:
    """One parsed document's records: an ItemCollection/FeatureCollection (``eocat search --format
    geojson``, a STAC API page) gives its features, anything else is one record."""
    if not isinstance(document, dict):
        yield Rejected(where, "expected a STAC Item, Collection or ItemCollection object")
    elif document.get("type") == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            yield Rejected(where, "FeatureCollection without a 'features' array")
            return
        for index, feature in enumerate(features, start=1):
            place = f"{where} feature {index}"
            yield (place, feature) if isinstance(feature, dict) else Rejected(place, "not a JSON object")
    else:
        yield where, document


def import_files(
    store: Store, sources: list[str | Path], *, report: WriteReport | None = None, workers: int | None = None
) -> WriteReport:
    """Import files into the store: collections first come as they appear, items in batches.

    Into a SQLite store, large NDJSON files are parsed, validated and encoded by ``workers``
    processes (:mod:`catalog.ingest_pipeline`; None: one per CPU for files of 48 MiB or more, 0:
    none). Collections created implicitly (items naming a collection the store lacks) get an extent
    computed from their items at the end, by every import that adds items to them (so with
    concurrent imports the last one to finish leaves the extent of all of them).
    """
    report = report or WriteReport()
    touched: set[str] = set()

    def items() -> Iterator[tuple[str, dict[str, Any]] | Rejected]:
        for source in sources:
            for record in read_records(source):
                if isinstance(record, Rejected):
                    yield record
                    continue
                where, document = record
                if document.get("type") == "Collection":
                    try:
                        store.upsert_collection(document)
                    except Exception as exc:
                        report.reject(where, str(exc))
                    continue
                collection = document.get("collection")
                if collection.__class__ is str:
                    touched.add(collection)
                yield where, document

    if hasattr(store, "upsert_rows"):  # the SQLite store takes rows prepared outside it
        from catalog.ingest_pipeline import MIN_BYTES, Pipeline, input_bytes

        large = sum(input_bytes(source) for source in sources) >= MIN_BYTES
        with Pipeline(store, report, workers) as pipeline, store.bulk_load(report) if large else nullcontext():
            batch = BULK_BATCH_SIZE if large else BATCH_SIZE
            store.upsert_rows(pipeline.entries(sources), report=report, batch_size=batch)
        touched = pipeline.touched
    else:
        store.upsert_items(items(), report=report)
    for collection_id in sorted(touched & store.collection_ids()):  # not those whose items were all rejected
        if collection_id in report.collections_created or is_placeholder(store.get_collection(collection_id)):
            store.refresh_extent(collection_id)
    return report
