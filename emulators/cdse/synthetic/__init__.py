"""Deterministic synthetic CDSE products at any scale, shaped exactly like the recorded ones.

``SyntheticProducts(seed=1, count=50_000, …).generate()`` gives the same products for the same
arguments (one ``random.Random(seed)`` stream; extras derive from a per-product seed, no clock).
Collections: SENTINEL-1 (IW_SLC__1S, IW_GRDH_1S, IW_GRDH_1S-COG, EW_GRDM_1S), SENTINEL-2 (S2MSI1C,
S2MSI2A), SENTINEL-3 (OL_1_EFR___, OL_2_LFR___, SL_1_RBT___, SL_2_LST___).

A ``legacy_fraction`` of the products use the pre-2024 formats (3-digit milliseconds, ``+00:00``
attribute dates, ``ContentLength: 0``, ``Checksum: []``, MultiPolygon footprints, the legacy S1
attribute list); a ``malformed_fraction`` is rendered broken on purpose (see ``MALFORMATIONS``)
while the server still filters them on their true values; an ``antimeridian_fraction`` is centred on
the antimeridian (MultiPolygon footprints split at ±180°).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass

from emulators.cdse.synthetic.base import MALFORMATIONS, AttrSpec, Mission, SyntheticProduct
from emulators.cdse.synthetic.sentinel1 import S1
from emulators.cdse.synthetic.sentinel2 import S2, mgrs_tile
from emulators.cdse.synthetic.sentinel3 import S3
from emulators.odata import parse_datetime

MISSIONS: dict[str, type[Mission]] = {"SENTINEL-1": S1, "SENTINEL-2": S2, "SENTINEL-3": S3}
COLLECTION_WEIGHTS = {"SENTINEL-1": 0.3, "SENTINEL-2": 0.5, "SENTINEL-3": 0.2}
LATITUDES = {"SENTINEL-1": (-78.0, 84.0), "SENTINEL-2": (-56.0, 76.0), "SENTINEL-3": (-75.0, 75.0)}

__all__ = ["MALFORMATIONS", "MISSIONS", "AttrSpec", "SyntheticProduct", "SyntheticProducts", "mgrs_tile"]


@dataclass(frozen=True)
class SyntheticProducts:
    """Recipe for ``count`` synthetic products with ContentDate/Start uniform in [start, end)."""

    seed: int = 0
    count: int = 10_000
    start: str = "2021-01-01T00:00:00Z"
    end: str = "2026-01-01T00:00:00Z"
    collections: tuple[str, ...] = ("SENTINEL-1", "SENTINEL-2", "SENTINEL-3")
    product_types: tuple[str, ...] | None = None  # restrict to these productType values
    bbox: tuple[float, float, float, float] | None = None  # footprint centres inside (W, S, E, N)
    legacy_fraction: float = 0.1
    malformed_fraction: float = 0.0
    offline_fraction: float = 0.02
    antimeridian_fraction: float = 0.01
    payload_size: int | None = None  # serve real payloads of up to this many bytes (ContentLength, MD5 match)

    def generate(self) -> list[SyntheticProduct]:
        """The products, in generation order (the store sorts them)."""
        unknown = [c for c in self.collections if c not in MISSIONS]
        if unknown:
            raise ValueError(f"unknown collections {unknown}; choose from {sorted(MISSIONS)}")
        t0, t1 = parse_datetime(self.start), parse_datetime(self.end)
        if t1 <= t0:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        missions = [MISSIONS[c](self.payload_size) for c in self.collections]
        choices = self._choices(missions)
        if not choices:
            raise ValueError(f"no product type of {self.product_types} in collections {self.collections}")
        weights = [w for _, _, w in choices]
        cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        rng = random.Random(self.seed)
        out = []
        span = t1 - t0
        for _ in range(self.count):
            mission, ptype, _w = rng.choices(choices, cum_weights=cumulative)[0]
            out.append(self._one(rng, mission, ptype, t0 + int(rng.random() * span)))
        return out

    def _choices(self, missions: list[Mission]) -> list[tuple[Mission, str, float]]:
        out = []
        for m in missions:
            for ptype, w in m.product_types.items():
                if self.product_types is None or ptype in self.product_types:
                    out.append((m, ptype, w * COLLECTION_WEIGHTS.get(m.collection, 0.3)))
        return out

    def _one(self, rng: random.Random, mission: Mission, ptype: str, start: int) -> SyntheticProduct:
        p = SyntheticProduct()
        p.mission = mission
        p.product_type = ptype
        p.collection = mission.collection
        p.start = start
        p.id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        p.dseed = rng.getrandbits(64)
        p.legacy = rng.random() < self.legacy_fraction
        p.online = rng.random() >= self.offline_fraction
        bad = rng.random()
        p.malformation = MALFORMATIONS[int(bad * 1e6) % len(MALFORMATIONS)] if bad < self.malformed_fraction else None
        p.lon, p.lat = self._centre(rng, mission.collection)
        p.cloud = _cloud(rng) if mission.collection != "SENTINEL-1" else None
        p._name = None
        mission.draw(p, rng, LATITUDES[mission.collection])
        return p

    def _centre(self, rng: random.Random, collection: str) -> tuple[float, float]:
        lo, hi = LATITUDES[collection]
        if self.bbox is not None:
            w, s, e, n = self.bbox
            lo, hi = max(lo, s), min(hi, n)
            lon = w + rng.random() * ((e - w) % 360 or 360)
            lon = (lon + 180) % 360 - 180
        else:
            lon = -180 + rng.random() * 360
        u0, u1 = math.sin(math.radians(lo)), math.sin(math.radians(hi))
        lat = math.degrees(math.asin(u0 + rng.random() * (u1 - u0)))  # uniform by area
        if self.bbox is None and rng.random() < self.antimeridian_fraction:
            lon = math.copysign(179.0 + rng.random() * 0.8, lon)
        return round(lon, 6), round(lat, 6)


def _cloud(rng: random.Random) -> float:
    """Cloud cover in percent: many clear and many overcast scenes, like Sentinel-2."""
    u = rng.random()
    if u < 0.3:
        value = rng.random() * 10
    elif u < 0.55:
        value = 90 + rng.random() * 10
    else:
        value = rng.random() * 100
    return round(value, 12)
