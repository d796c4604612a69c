"""Sentinel-3 OLCI/SLSTR frames with the attribute list CDSE publishes for SENTINEL-3."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

from emulators.cdse.synthetic import geometry
from emulators.cdse.synthetic.base import DAY, HOUR, US, AttrSpec, Mission, SyntheticProduct
from emulators.cdse.synthetic.orbits import SENTINEL3, in_service, platform
from emulators.odata import format_datetime

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# productType -> (instrument, folder, level, across km, size range)
TYPES = {
    "OL_1_EFR___": ("OLCI", "OL_1_EFR", "1", 1270.0, (550_000_000, 700_000_000)),
    "OL_2_LFR___": ("OLCI", "OL_2_LFR", "2", 1270.0, (120_000_000, 200_000_000)),
    "SL_1_RBT___": ("SLSTR", "SL_1_RBT", "1", 1400.0, (350_000_000, 450_000_000)),
    "SL_2_LST___": ("SLSTR", "SL_2_LST", "2", 1400.0, (50_000_000, 80_000_000)),
}
_COVERS = (
    "landCover",
    "brightCover",
    "coastalCover",
    "snowOrIceCover",
    "salineWaterCover",
    "tidalRegionCover",
    "freshInlandWaterCover",
)


def _abs(p: SyntheticProduct) -> int:
    return platform(SENTINEL3, p.platform).absolute_orbit(p.start or 0)


def _rel(p: SyntheticProduct) -> int:
    return platform(SENTINEL3, p.platform).relative_orbit(_abs(p))


def _timeliness(p: SyntheticProduct) -> str:
    return "NR" if p.bits(48, 3) == 0 else "NT"


def _cover(p: SyntheticProduct, k: int, integer: bool) -> float | int:
    value = p.bits(4 + 5 * k, 20) / (1 << 20) * 100
    return int(value) if integer else round(value, 6)


def _getter(name: str, vtype: str) -> Any:
    """How to read each attribute listed by ``Attributes(SENTINEL-3)``."""
    instrument = lambda p: TYPES[p.product_type][0]  # noqa: E731
    direction = lambda p: "ASCENDING" if p.ascending else "DESCENDING"  # noqa: E731
    table: dict[str, Any] = {
        "productType": lambda p: p.product_type,
        "cloudCover": lambda p: p.cloud,
        "timeliness": _timeliness,
        "coordinates": lambda p: " ".join(f"{y} {x}" for x, y in p.mission.footprint_rings(p, 6)[0]),
        "cycleNumber": lambda p: _abs(p) // 385 + 1,
        "orbitNumber": _abs,
        "processorName": lambda p: f"IPF-{instrument(p)[:2]}-{TYPES[p.product_type][2]}",
        "closedSeaCover": lambda p: _cover(p, 7, True),
        "openOceanCover": lambda p: _cover(p, 8, True),
        "orbitDirection": direction,
        "processingDate": lambda p: (p.origin or 0) - 600 * US,
        "lastOrbitNumber": _abs,
        "operationalMode": lambda p: "Earth Observation",
        "processingLevel": lambda p: TYPES[p.product_type][2],
        "processingCenter": lambda p: "PS1" if p.platform == "A" else "PS2",
        "processorVersion": lambda p: "06.17",
        "platformShortName": lambda p: "SENTINEL-3",
        "baselineCollection": lambda p: "004",
        "lastOrbitDirection": direction,
        "processingBaseline": lambda p: f"{TYPES[p.product_type][1][:2]}__L{TYPES[p.product_type][2]}_.003.03.01",
        "continentalIceCover": lambda p: _cover(p, 9, True) % 3,
        "instrumentShortName": instrument,
        "relativeOrbitNumber": _rel,
        "lastRelativeOrbitNumber": _rel,
        "platformSerialIdentifier": lambda p: p.platform,
        "beginningDateTime": lambda p: p.start,
        "endingDateTime": lambda p: p.end,
    }
    if name in _COVERS:
        k = _COVERS.index(name)
        return lambda p: _cover(p, k, vtype == "Integer")
    return table[name]


def _specs() -> list[AttrSpec]:
    listed = json.loads((FIXTURES / "attributes_sentinel3.json").read_text())
    names = [(a["Name"], a["ValueType"]) for a in listed if a["Name"] != "productType"]
    names += [("productType", "String"), ("beginningDateTime", "DateTimeOffset"), ("endingDateTime", "DateTimeOffset")]
    return [AttrSpec(n, t, _getter(n, t)) for n, t in names]


def _compact(t: int) -> str:
    return format_datetime(t, 0, "").replace("-", "").replace(":", "")


class S3(Mission):
    """Sentinel-3 OLCI and SLSTR level 1/2 frames (3 minutes, ~1300 km wide)."""

    collection = "SENTINEL-3"
    product_types: ClassVar[dict[str, float]] = {
        "OL_1_EFR___": 0.3,
        "OL_2_LFR___": 0.25,
        "SL_1_RBT___": 0.25,
        "SL_2_LST___": 0.2,
    }
    digits = 6

    def __init__(self, payload_size: int | None = None) -> None:
        super().__init__(payload_size)
        self._all = _specs()

    def draw(self, p: SyntheticProduct, rng: Any, lat_limits: tuple[float, float]) -> None:
        start = p.start or 0
        p.platform = rng.choice(in_service(SENTINEL3, start)).serial
        p.ascending = TYPES[p.product_type][0] == "SLSTR" and rng.random() < 0.5
        p.end = start + 180 * US
        nrt = _timeliness(p) == "NR"
        delay = (1.5 + rng.random() * 1.5) * HOUR if nrt else (30 + rng.random() * 18) * HOUR
        p.publication = p.end + int(delay)
        p.origin = p.publication - int((120 + rng.random() * 600) * US)
        later = rng.random()
        p.modification = p.publication + (int(later * 30 * DAY) if later < 0.2 else int(rng.random() * 20 * US))
        p.content_length = 0 if p.legacy else self.sized(p, *TYPES[p.product_type][4])

    def name(self, p: SyntheticProduct) -> str:
        instrument = TYPES[p.product_type][0]
        tl = _timeliness(p)
        centre = "SVL" if tl == "NR" else ("LN2" if instrument == "SLSTR" else f"PS{1 if p.platform == 'A' else 2}")
        frame = p.bits(36, 12) % 4000
        return (
            f"S3{p.platform}_{p.product_type}_{_compact(p.start or 0)}_{_compact(p.end or 0)}_"
            f"{_compact((p.origin or 0) - 300 * US)}_0179_{_abs(p) // 385 + 1:03d}_{_rel(p):03d}_{frame:04d}_"
            f"{centre}_O_{tl}_{'003' if p.product_type.startswith('OL') else '004'}.SEN3"
        )

    def s3path(self, p: SyntheticProduct) -> str:
        instrument, folder, *_ = TYPES[p.product_type]
        day = format_datetime(p.start or 0, 0, "")[:10].replace("-", "/")
        return f"/eodata/Sentinel-3/{instrument}/{folder}/{day}/{p.name}"

    def eviction(self, p: SyntheticProduct) -> str:
        if _timeliness(p) == "NR" and not p.legacy:
            day = ((p.publication or 0) + 30 * DAY) // DAY * DAY
            return format_datetime(day, 3)
        return super().eviction(p)

    def attribute_specs(self, product_type: str, legacy: bool) -> list[AttrSpec]:
        return self._all

    def rings(self, p: SyntheticProduct) -> list[geometry.Ring]:
        across = TYPES[p.product_type][3]
        heading = 347.0 if p.ascending else 193.0
        return geometry.parts(geometry.quad(p.lon, p.lat, heading, 1200.0, across, per_edge=4))

    def radius_km(self, p: SyntheticProduct) -> float:
        return math.hypot(600.0, TYPES[p.product_type][3] / 2)

    def assets(self, p: SyntheticProduct) -> list[dict[str, Any]]:
        return self.quicklook(p)
