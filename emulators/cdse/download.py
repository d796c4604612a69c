"""Deterministic product payloads for the download host: bytes derived from the product Id."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache

from emulators.cdse.product import Product

BLOCK = 65_536


@lru_cache(maxsize=256)
def _block(product_id: str) -> bytes:
    return hashlib.shake_256(f"eocat-cdse-payload:{product_id}".encode()).digest(BLOCK)


def payload_length(p: Product) -> int:
    """Bytes served for ``p``: its ContentLength, or a few KiB when the catalogue says 0 (legacy records)."""
    real = getattr(p, "zip", None)  # a GRD with real content (emulators/cdse/grd)
    if isinstance(real, bytes):
        return len(real)
    if p.content_length:
        return p.content_length
    return 1024 + int(hashlib.md5(p.id.encode()).hexdigest()[:4], 16)


def payload_chunks(p: Product, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """The payload bytes ``[start, stop)`` in chunks of at most 64 KiB."""
    stop = payload_length(p) if stop is None else stop
    real = getattr(p, "zip", None)
    if isinstance(real, bytes):
        for pos in range(start, stop, BLOCK):
            yield real[pos : min(pos + BLOCK, stop)]
        return
    block = _block(p.id)
    pos = start
    while pos < stop:
        offset = pos % BLOCK
        n = min(BLOCK - offset, stop - pos)
        yield block[offset : offset + n]
        pos += n


def payload_md5(p: Product) -> str:
    """MD5 hex digest of the whole payload."""
    h = hashlib.md5()
    for chunk in payload_chunks(p):
        h.update(chunk)
    return h.hexdigest()


def quicklook_png(asset_id: str, size: int = 16) -> bytes:
    """A small deterministic grey PNG standing in for a quicklook (CDSE serves JPEG for S2, PNG for S1)."""
    shade = hashlib.md5(asset_id.encode()).digest()[0]
    rows = b"".join(b"\x00" + bytes([(shade + x + y) % 256 for x in range(size)]) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
