"""``file:checksum`` multihashes (MD5 ``d50110…``, BLAKE3 ``1e20…``, SHA-256 ``1220…``) and streaming hashers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import blake3

# multihash codes (unsigned varints) -> (name, digest length in bytes); MD5 0xd5 is written "d501"
_CODES = {0xD5: ("md5", 16), 0x1E: ("blake3", 32), 0x12: ("sha2-256", 32), 0x13: ("sha2-512", 64)}
_NAMES = {name: code for code, (name, _) in _CODES.items()}
DEFAULT_ALGORITHM = "blake3"


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> Any: ...

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


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while position < len(data):
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return value, position
        shift += 7
    raise ValueError("truncated varint")


def _to_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def parse_multihash(value: str) -> Checksum | None:
    """Parse ``file:checksum`` (hex multihash); None when the code is unknown or the string malformed."""
    try:
        data = bytes.fromhex(value.strip())
        code, position = _varint(data, 0)
        length, position = _varint(data, position)
    except ValueError:
        return None
    if code not in _CODES:
        return None
    name, size = _CODES[code]
    digest = data[position:]
    if length != size or len(digest) != size:
        return None
    return Checksum(name, digest.hex())


def multihash(algorithm: str, hexdigest: str) -> str:
    """``file:checksum`` of a hex digest: varint code, varint length, digest."""
    return (_to_varint(_NAMES[algorithm]) + _to_varint(len(hexdigest) // 2)).hex() + hexdigest


def new_hasher(algorithm: str) -> Hasher:
    """A streaming hasher for ``algorithm`` (md5, blake3, sha2-256, sha2-512)."""
    if algorithm == "blake3":
        return blake3.blake3()
    return hashlib.new({"md5": "md5", "sha2-256": "sha256", "sha2-512": "sha512"}[algorithm])
