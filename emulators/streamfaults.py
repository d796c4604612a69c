"""Faults on response *bodies* of download hosts, and a count of the body bytes each path sent.

* ``cut_at(offset)``: the next body that covers resource byte ``offset`` stops there and the connection is
  reset (one-shot; ``then`` runs at the cut, e.g. to expire tokens);
* ``corrupt(n)``: the next ``n`` bodies have one byte flipped (wrong bytes);
* ``rate``: bytes per second for every body (a slow stream; None = full speed).

Offsets are positions in the resource, so a resumed (Range) request past the cut is not cut again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class StreamFaults:
    """Switchable body faults and byte counters, shared by the server threads of one emulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cuts: list[tuple[int, Callable[[], None] | None]] = []
        self._corrupt = 0
        self.rate: float | None = None
        self.bytes_sent: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()
        self.transfers: list[dict[str, Any]] = []  # per body: path, start offset, bytes sent so far

    def cut_at(self, offset: int, then: Callable[[], None] | None = None) -> None:
        """Reset the connection of the next body that reaches resource byte ``offset``."""
        with self._lock:
            self._cuts.append((offset, then))

    def corrupt(self, n: int = 1) -> None:
        """Flip one byte in each of the next ``n`` bodies."""
        with self._lock:
            self._corrupt += n

    def clear(self) -> None:
        """No faults (counters kept)."""
        with self._lock:
            self._cuts.clear()
            self._corrupt = 0
            self.rate = None

    def sent(self, prefix: str = "") -> int:
        """Body bytes sent for paths starting with ``prefix``."""
        with self._lock:
            return sum(n for path, n in self.bytes_sent.items() if path.startswith(prefix))

    def wrap(self, path: str, chunks: Iterable[bytes], start: int = 0) -> Iterator[bytes]:
        """The body ``chunks`` (resource bytes from ``start``) with the faults applied and bytes counted."""
        with self._lock:
            self.bodies[path] += 1
            corrupt = self._corrupt > 0
            if corrupt:
                self._corrupt -= 1
            record = {"path": path, "start": start, "sent": 0}
            self.transfers.append(record)
        return self._stream(record, chunks, start, corrupt)

    def _stream(self, record: dict[str, Any], chunks: Iterable[bytes], start: int, corrupt: bool) -> Iterator[bytes]:
        position = start
        began = time.monotonic()
        for chunk in chunks:
            cut = self._take_cut(position, position + len(chunk))
            if cut is not None:
                offset, then = cut
                piece = chunk[: offset - position]
                if piece:
                    self._count(record, len(piece))
                    yield piece
                if then is not None:
                    then()
                raise ConnectionResetError(f"stream fault: cut at byte {offset}")
            if corrupt and chunk:
                middle = len(chunk) // 2
                chunk = chunk[:middle] + bytes([chunk[middle] ^ 0xFF]) + chunk[middle + 1 :]
                corrupt = False
            if self.rate:
                due = began + (position + len(chunk) - start) / self.rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            self._count(record, len(chunk))
            position += len(chunk)
            yield chunk

    def _take_cut(self, low: int, high: int) -> tuple[int, Callable[[], None] | None] | None:
        with self._lock:
            for index, (offset, then) in enumerate(self._cuts):
                if low <= offset < high:
                    del self._cuts[index]
                    return offset, then
        return None

    def _count(self, record: dict[str, Any], n: int) -> None:
        with self._lock:
            self.bytes_sent[record["path"]] += n
            record["sent"] += n


def deterministic_chunks(seed: str, length: int, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Bytes ``[start, stop)`` of a deterministic pseudo-random file of ``length`` bytes named by ``seed``."""
    import hashlib

    block = hashlib.shake_256(f"eocat-file:{seed}".encode()).digest(65_536)
    stop = length if stop is None else stop
    position = start
    while position < stop:
        offset = position % len(block)
        n = min(len(block) - offset, stop - position)
        yield block[offset : offset + n]
        position += n
