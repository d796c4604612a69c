"""Random draws of the generator: one seeded ``random.Random`` per kind, UUIDs and checksums from it."""

from __future__ import annotations

import random

_UUID_MASK = 0xFFFFFFFF_FFFF_0FFF_3FFF_FFFFFFFFFFFF
_UUID_V4 = 0x00000000_0000_4000_8000_000000000000


def uuid4(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID string."""
    h = f"{rng.getrandbits(128) & _UUID_MASK | _UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def md5_multihash(rng: random.Random) -> str:
    return f"d50110{rng.getrandbits(128):032x}"


def kind_rng(seed: int, kind: str) -> random.Random:
    """The random stream of one kind (str seeds are hashed with SHA-512: stable across processes)."""
    return random.Random(f"eocat-samples:{seed}:{kind}")
