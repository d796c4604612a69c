"""``file:checksum`` multihashes (MD5 ``d50110…``, BLAKE3 ``1e20…``, SHA-256 ``1220…``) and streaming hashers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import blake3

# multihash code (hex, as written in file:checksum) -> (name, digest length in bytes)
_CODES = {"d5": ("md5", 16), "1e": ("blake3", 32), "12": ("sha2-256", 32), "13": ("sha2-512", 64)}
_NAMES = {name: code for code, (name, _) in _CODES.items()}
DEFAULT_ALGORITHM = "blake3"


class Hasher(Protocol):
    def update(self, data: bytes, /) -> Any: ...

    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class Checksum:
    """A parsed multihash: algorithm name and hex digest."""

    algorithm: str
    digest: str

    @property
    def multihash(self) -> str:
        """Back to the ``file:checksum`` form."""
        return multihash(self.algorithm, self.digest)


def parse_multihash(value: str) -> Checksum | None:
    """Parse ``file:checksum``; None when the code is unknown or the string malformed."""
    value = value.strip().lower()
    if len(value) < 4:
        return None
    code, length = value[:2], value[2:4]
    if code not in _CODES:
        return None
    name, size = _CODES[code]
    try:
        declared = int(length, 16)
    except ValueError:
        return None
    digest = value[4:]
    if declared != size or len(digest) != 2 * size or any(c not in "0123456789abcdef" for c in digest):
        return None
    return Checksum(name, digest)


def multihash(algorithm: str, hexdigest: str) -> str:
    """``file:checksum`` of a hex digest: code, length, digest."""
    size = len(hexdigest) // 2
    return f"{_NAMES[algorithm]}{size:02x}{hexdigest}"


def new_hasher(algorithm: str) -> Hasher:
    """A streaming hasher for ``algorithm`` (md5, blake3, sha2-256, sha2-512)."""
    if algorithm == "blake3":
        return blake3.blake3(max_threads=blake3.blake3.AUTO)
    return hashlib.new({"md5": "md5", "sha2-256": "sha256", "sha2-512": "sha512"}[algorithm])
