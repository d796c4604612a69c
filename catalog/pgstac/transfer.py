"""Copying a whole catalogue between backends (SQLite → pgstac and back), streaming and resumable.

Collections first, then each collection's items in id order, page by page through the store
interface, written in batches with the target's merge rule. After each batch the last copied
(collection, id) is kept in the *target* as a watermark, so an interrupted copy resumes after it
(a batch in flight is written again, which the merge makes harmless). At the end the item
counts per collection and an order-independent checksum of the item set are compared.

The checksum hashes each item's canonical JSON (sorted keys; whole-number floats written as
integers, because PostGIS writes ``10.0`` as ``10``) and adds the hashes modulo 2**128.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from catalog.backend import CatalogStore
from catalog.search import Query, iter_items

PAGE = 2_000
_MODULUS = 2**128


@dataclass
class TransferReport:
    source: str
    target: str
    copied: int = 0
    collections: int = 0
    resumed_after: str | None = None
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # collection -> (source, target)
    source_checksum: str = ""
    target_checksum: str = ""

    @property
    def identical(self) -> bool:
        return self.source_checksum == self.target_checksum and all(a == b for a, b in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "copied": self.copied, "collections": self.collections,
            "resumed_after": self.resumed_after, "counts": {k: list(v) for k, v in self.counts.items()},
            "source_checksum": self.source_checksum, "target_checksum": self.target_checksum,
            "identical": self.identical,
        }  # fmt: skip


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_canonical(inner) for inner in value]
    return value


def item_digest(item: dict[str, Any]) -> int:
    text = orjson.dumps(_canonical(item), option=orjson.OPT_SORT_KEYS)
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")


def _items_after(store: CatalogStore, collection: str, after: str | None) -> Iterator[dict[str, Any]]:
    """A collection's items in id order, starting after ``after``."""
    filter_ = None if after is None else {"op": ">", "args": [{"property": "id"}, after]}
    query = Query(collections=(collection,), filter=filter_, sortby=Query.parse(sortby="id").sortby)
    return iter_items(store, query, page_size=PAGE)


def checksum(store: CatalogStore, collections: list[str]) -> tuple[str, dict[str, int]]:
    """Order-independent checksum of the items of the collections, and their counts."""
    total, counts = 0, {}
    for collection in collections:
        number = 0
        for item in _items_after(store, collection, None):
            total = (total + item_digest(item)) % _MODULUS
            number += 1
        counts[collection] = number
    return f"{total:032x}", counts


def copy_catalogue(
    source: CatalogStore,
    target: CatalogStore,
    *,
    batch_size: int = PAGE,
    progress: Callable[[str, int], None] | None = None,
) -> TransferReport:
    """Copy every collection and item of ``source`` into ``target``; resumable; verified."""
    report = TransferReport(source.location, target.location)
    key = source.location
    mark = target.watermark("eocat-copy", key)
    done_collection, done_id = mark.split("\t", 1) if mark else (None, None)
    report.resumed_after = mark.replace("\t", "/") if mark else None
    documents = {document["id"]: document for document in source.collections()}
    for document in documents.values():
        target.upsert_collection(document)
    report.collections = len(documents)
    for collection in sorted(documents):
        if done_collection is not None and collection < done_collection:
            continue
        after = done_id if collection == done_collection else None
        batch: list[dict[str, Any]] = []
        for item in _items_after(source, collection, after):
            batch.append(item)
            if len(batch) >= batch_size:
                _flush(target, key, collection, batch, report, progress)
                batch = []
        if batch:
            _flush(target, key, collection, batch, report, progress)
    ids = sorted(documents)
    report.source_checksum, source_counts = checksum(source, ids)
    report.target_checksum, target_counts = checksum(target, ids)
    report.counts = {c: (source_counts[c], target_counts[c]) for c in ids}
    if report.identical:
        target.set_watermark("eocat-copy", key, "")  # finished: a later run starts over (and merges)
    return report


def _flush(
    target: CatalogStore,
    key: str,
    collection: str,
    batch: list[dict[str, Any]],
    report: TransferReport,
    progress: Callable[[str, int], None] | None,
) -> None:
    result = target.upsert_items(batch, batch_size=len(batch))
    if result.rejected:
        from catalog.errors import EocatError

        raise EocatError(f"{target.location} rejected {result.rejected} item(s): {'; '.join(result.errors[:3])}")
    report.copied += len(batch)
    target.set_watermark("eocat-copy", key, f"{collection}\t{batch[-1]['id']}")
    if progress is not None:
        progress(collection, report.copied)
