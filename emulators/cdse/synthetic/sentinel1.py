"""Sentinel-1 SLC/GRD products, shaped like the recorded GRD entity (current) and the 2016 SLC (legacy)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from emulators.cdse.synthetic import geometry
from emulators.cdse.synthetic.base import DAY, HOUR, US, AttrSpec, Mission, SyntheticProduct
from emulators.cdse.synthetic.orbits import SENTINEL1, in_service, platform
from emulators.odata import format_datetime, parse_datetime

# productType -> (mode, name code, duration s, along km, across km)
TYPES = {
    "IW_SLC__1S": ("IW", "SLC_", 27.0, 175.0, 250.0),
    "IW_GRDH_1S": ("IW", "GRDH", 25.0, 170.0, 250.0),
    "IW_GRDH_1S-COG": ("IW", "GRDH", 25.0, 170.0, 250.0),
    "EW_GRDM_1S": ("EW", "GRDM", 60.0, 400.0, 410.0),
}
SIZES = {
    "IW_SLC__1S": (3_800_000_000, 8_200_000_000),
    "IW_GRDH_1S": (1_500_000_000, 2_200_000_000),
    "IW_GRDH_1S-COG": (800_000_000, 1_300_000_000),
    "EW_GRDM_1S": (250_000_000, 450_000_000),
}
_POLS = {
    "IW": (("DV", "VV&VH"),) * 17 + (("SV", "VV"),) * 2 + (("DH", "HH&HV"),),
    "EW": (("DH", "HH&HV"),) * 4 + (("SH", "HH"),),
}
_VERSIONS = [
    (parse_datetime("2022-03-01"), "003.40"),
    (parse_datetime("2023-03-01"), "003.52"),
    (parse_datetime("2024-03-01"), "003.61"),
    (parse_datetime("2025-01-01"), "003.71"),
]
_ORBIT_MS = 5_916_000


def _abs(p: SyntheticProduct) -> int:
    return platform(SENTINEL1, p.platform).absolute_orbit(p.start or 0)


def _rel(p: SyntheticProduct) -> int:
    return platform(SENTINEL1, p.platform).relative_orbit(_abs(p))


def _pol(p: SyntheticProduct) -> tuple[str, str]:
    options = _POLS[TYPES[p.product_type][0]]
    return options[p.bits(40, 8) % len(options)]


def _timeliness(p: SyntheticProduct) -> str:
    return "NRT-3h" if p.bits(48, 3) == 0 else "Fast-24h"


def _datatake(p: SyntheticProduct) -> int:
    return (_abs(p) * 8 + p.bits(8, 3)) % 0x100000


def _slice(p: SyntheticProduct) -> int:
    return 1 + p.bits(20, 4) % 12


def _version(p: SyntheticProduct) -> str:
    t = p.start or 0
    for until, version in _VERSIONS:
        if t < until:
            return version
    return "003.91"


def _anx_ms(p: SyntheticProduct) -> float:
    return float(p.bits(24, 23) % _ORBIT_MS)


def _swath(p: SyntheticProduct) -> str:
    mode = TYPES[p.product_type][0]
    if "SLC" in p.product_type:
        return "IW1 IW2 IW3" if mode == "IW" else "EW1 EW2 EW3 EW4 EW5"
    return mode


def _coordinates(p: SyntheticProduct) -> str:
    ring = p.mission.footprint_rings(p, 6)[0]
    pts = [ring[0], *reversed(ring[1:-1]), ring[0]]
    return " ".join(f"{y},{x}" for x, y in pts)


def _resolution(p: SyntheticProduct) -> str:
    return {"SLC_": "2.3", "GRDH": "10", "GRDM": "40"}[TYPES[p.product_type][1]]


def _spec(name: str, vtype: str, get: Any, style: str = "z") -> AttrSpec:
    return AttrSpec(name, vtype, get, style)


CURRENT = [
    _spec("origin", "String", lambda p: "ESA"),
    _spec("datatakeID", "Integer", _datatake),
    _spec("timeliness", "String", _timeliness),
    _spec("cycleNumber", "Integer", lambda p: (_abs(p) + 2675) // 175),
    _spec("orbitNumber", "Integer", _abs),
    _spec("sliceNumber", "Integer", _slice),
    _spec("totalSlices", "Integer", lambda p: _slice(p) + p.bits(28, 2)),
    _spec("productClass", "String", lambda p: "S"),
    _spec("processorName", "String", lambda p: "Sentinel-1 IPF"),
    _spec("orbitDirection", "String", lambda p: "ASCENDING" if p.ascending else "DESCENDING"),
    _spec("processingDate", "DateTimeOffset", lambda p: (p.origin or 0) - 494 * US + p.bits(30, 20), "offset"),
    _spec("operationalMode", "String", lambda p: TYPES[p.product_type][0]),
    _spec("processingLevel", "String", lambda p: "LEVEL1"),
    _spec("swathIdentifier", "String", _swath),
    _spec("processingCenter", "String", lambda p: "Production Service-SERCO"),
    _spec("processorVersion", "String", _version),
    _spec(
        "segmentStartTime",
        "DateTimeOffset",
        lambda p: (p.start or 0) - (_slice(p) - 1) * 25 * US - p.bits(32, 22) // 1000 * 1000,
        "offset",
    ),
    _spec("sliceProductFlag", "Boolean", lambda p: False),
    _spec("platformShortName", "String", lambda p: "SENTINEL-1"),
    _spec("productComposition", "String", lambda p: "Slice"),
    _spec("instrumentShortName", "String", lambda p: "SAR"),
    _spec("relativeOrbitNumber", "Integer", _rel),
    _spec("polarisationChannels", "String", lambda p: _pol(p)[1]),
    _spec("platformSerialIdentifier", "String", lambda p: p.platform),
    _spec("instrumentConfigurationID", "Integer", lambda p: 7 if p.platform != "C" else 1),
    _spec("startTimeFromAscendingNode", "Double", _anx_ms),
    _spec(
        "completionTimeFromAscendingNode",
        "Double",
        lambda p: _anx_ms(p) + float(((p.end or 0) - (p.start or 0)) // 1000),
    ),
    _spec("productType", "String", lambda p: p.product_type),
    _spec("beginningDateTime", "DateTimeOffset", lambda p: p.start),
    _spec("endingDateTime", "DateTimeOffset", lambda p: p.end),
]
LEGACY = [
    _spec("authority", "String", lambda p: "ESA"),
    _spec("coordinates", "String", _coordinates),
    _spec("orbitNumber", "Integer", _abs),
    _spec("productType", "String", lambda p: p.product_type),
    _spec("sliceNumber", "Integer", _slice),
    _spec("productClass", "String", lambda p: "S"),
    _spec("endingDateTime", "DateTimeOffset", lambda p: p.end),
    _spec("orbitDirection", "String", lambda p: "ASCENDING" if p.ascending else "DESCENDING"),
    _spec("productGroupId", "String", lambda p: str(_datatake(p))),
    _spec("operationalMode", "String", lambda p: TYPES[p.product_type][0]),
    _spec("processingLevel", "String", lambda p: "LEVEL1"),
    _spec("swathIdentifier", "String", _swath),
    _spec("beginningDateTime", "DateTimeOffset", lambda p: p.start),
    _spec("platformShortName", "String", lambda p: "SENTINEL-1"),
    _spec("spatialResolution", "Integer", _resolution),  # a string typed Integer, as recorded
    _spec("instrumentShortName", "String", lambda p: "SAR"),
    _spec("relativeOrbitNumber", "Integer", _rel),
    _spec("polarisationChannels", "String", lambda p: _pol(p)[1]),
    _spec("platformSerialIdentifier", "String", lambda p: p.platform),
]


class S1(Mission):
    """Sentinel-1 IW/EW SLC and GRD (incl. COG) products."""

    collection = "SENTINEL-1"
    product_types: ClassVar[dict[str, float]] = {
        "IW_SLC__1S": 0.35,
        "IW_GRDH_1S": 0.35,
        "IW_GRDH_1S-COG": 0.15,
        "EW_GRDM_1S": 0.15,
    }
    digits = 6

    def draw(self, p: SyntheticProduct, rng: Any, lat_limits: tuple[float, float]) -> None:
        start = p.start or 0
        p.platform = rng.choice(in_service(SENTINEL1, start)).serial
        p.ascending = rng.random() < 0.5
        duration = TYPES[p.product_type][2] + rng.random() * 2
        p.end = start + int(duration * US)
        delay = (1 + rng.random() * 2) * HOUR if _timeliness(p) == "NRT-3h" else (5 + rng.random() * 19) * HOUR
        p.publication = p.end + int(delay)
        p.origin = p.publication - int((300 + rng.random() * 300) * US)
        later = rng.random()
        p.modification = p.publication + (int(later * 60 * DAY) if later < 0.25 else int(rng.random() * 30 * US))
        p.content_length = 0 if p.legacy else self.sized(p, *SIZES[p.product_type])

    def name(self, p: SyntheticProduct) -> str:
        mode, code, *_ = TYPES[p.product_type]
        start = format_datetime(p.start or 0, 0, "").replace("-", "").replace(":", "")
        stop = format_datetime(p.end or 0, 0, "").replace("-", "").replace(":", "")
        cog = "_COG" if p.product_type.endswith("-COG") else ""
        return (
            f"S1{p.platform}_{mode}_{code}_1S{_pol(p)[0]}_{start}_{stop}_{_abs(p):06d}_{_datatake(p):06X}_"
            f"{p.bits(12, 16):04X}{cog}.SAFE"
        )

    def s3path(self, p: SyntheticProduct) -> str:
        day = format_datetime(p.start or 0, 0, "")[:10].replace("-", "/")
        folder = ("SLC" if "SLC" in p.product_type else "GRD") if p.legacy else p.product_type
        return f"/eodata/Sentinel-1/SAR/{folder}/{day}/{p.name}"

    def attribute_specs(self, product_type: str, legacy: bool) -> list[AttrSpec]:
        return LEGACY if legacy else CURRENT

    def rings(self, p: SyntheticProduct) -> list[geometry.Ring]:
        _, _, _, along, across = TYPES[p.product_type]
        heading = 347.0 if p.ascending else 193.0
        return geometry.parts(geometry.quad(p.lon, p.lat, heading, along, across))

    def radius_km(self, p: SyntheticProduct) -> float:
        _, _, _, along, across = TYPES[p.product_type]
        return math.hypot(along / 2, across / 2)

    def assets(self, p: SyntheticProduct) -> list[dict[str, Any]]:
        return self.quicklook(p) if "GRD" in p.product_type and not p.legacy else []
