"""Item streams: ``generate_items`` (round-robin over kinds, deterministic) and ``write_ndjson``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from os import PathLike
from typing import Any

import orjson

from eocat.samples.bursts import burst_items
from eocat.samples.clock import parse_time
from eocat.samples.sentinel1 import sentinel1_items
from eocat.samples.sentinel2 import sentinel2_items
from eocat.samples.sentinel3 import s3_capacity, sentinel3_items
from eocat.samples.vocabulary import COLLECTION_IDS, KINDS


def _counts(n: int, kinds: Sequence[str], t0: int, t1: int) -> dict[str, int]:
    counts = {k: n // len(kinds) + (1 if i < n % len(kinds) else 0) for i, k in enumerate(kinds)}
    caps = {"s3-ndvi": s3_capacity(t0, t1)}
    surplus = 0
    for k, cap in caps.items():
        if k in counts and counts[k] > cap:
            surplus += counts[k] - cap
            counts[k] = cap
    others = [k for k in kinds if k not in caps]
    if surplus and not others:
        raise ValueError(
            f"cannot generate {n} items of {list(kinds)} between the given start and end: only "
            f"{sum(counts.values())} exist (s3-ndvi has 4 frames a day); widen the time range or add kinds"
        )
    for i in range(surplus):
        counts[others[i % len(others)]] += 1
    return counts


def generate_items(
    n: int,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    start: str = "2021-01-01T00:00:00Z",
    end: str = "2025-12-31T23:59:59Z",
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` STAC items (dicts), round-robin over ``kinds``; deterministic in all arguments."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in COLLECTION_IDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kinds {unknown}; choose from {list(KINDS)}")
    if n < 0:
        raise ValueError("n must be >= 0")
    t0 = parse_time(start)
    t1 = parse_time(end)
    if t1 <= t0:
        raise ValueError(f"end ({end}) must be after start ({start})")
    counts = _counts(n, kinds, t0, t1)
    makers = {
        "s1-slc": lambda c: sentinel1_items("s1-slc", c, seed, t0, t1),
        "s1-grd": lambda c: sentinel1_items("s1-grd", c, seed, t0, t1),
        "s1-burst": lambda c: burst_items(c, seed, t0, t1),
        "s2-l2a": lambda c: sentinel2_items(c, seed, t0, t1),
        "s3-ndvi": lambda c: sentinel3_items(c, seed, t0, t1),
    }
    active = [makers[k](counts[k]) for k in kinds if counts[k] > 0]
    while active:
        still = []
        for gen in active:
            item = next(gen, None)
            if item is not None:
                yield item
                still.append(gen)
        active = still


def write_ndjson(
    path: str | PathLike[str],
    n: int,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    **kw: Any,
) -> int:
    """Stream ``generate_items(n, seed, kinds, **kw)`` to ``path`` as NDJSON; returns the count."""
    count = 0
    buf: list[bytes] = []
    with open(path, "wb") as fh:
        for item in generate_items(n, seed, kinds, **kw):
            buf.append(orjson.dumps(item))
            count += 1
            if len(buf) >= 2000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    return count
