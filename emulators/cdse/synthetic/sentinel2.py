"""Sentinel-2 L1C/L2A tiles, shaped like the recorded L1C records (and the reconstructed L2A)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from emulators.cdse.synthetic import geometry
from emulators.cdse.synthetic.base import DAY, HOUR, US, AttrSpec, Mission, SyntheticProduct
from emulators.cdse.synthetic.orbits import SENTINEL2, in_service, platform
from emulators.odata import format_datetime, parse_datetime

_LEVEL = {"S2MSI1C": "L1C", "S2MSI2A": "L2A"}
_SIZES = {"S2MSI1C": (90_000_000, 850_000_000), "S2MSI2A": (100_000_000, 1_200_000_000)}
_BASELINES = [
    (parse_datetime("2022-01-25"), "04.00"),
    (parse_datetime("2022-12-06"), "05.00"),
    (parse_datetime("2023-06-27"), "05.09"),
    (parse_datetime("2024-03-26"), "05.09"),
    (parse_datetime("2024-07-23"), "05.10"),
]
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLUMNS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"


def mgrs_tile(lon: float, lat: float) -> str:
    """Approximate MGRS 100 km square (``32TQM``) of a point: zone, band, column and row letters."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    band = _BANDS[min(max(int((lat + 80) // 8), 0), len(_BANDS) - 1)]
    central = -183 + 6 * zone
    easting = 500 + (lon - central) * 111.32 * math.cos(math.radians(lat))
    column = _COLUMNS[(zone - 1) % 3][min(max(int(easting // 100), 1), 8) - 1]
    northing = lat * 110.574 + (10_000 if lat < 0 else 0)
    row = _ROWS[(int(northing // 100) + (5 if zone % 2 == 0 else 0)) % 20]
    return f"{zone:02d}{band}{column}{row}"


def _abs(p: SyntheticProduct) -> int:
    return platform(SENTINEL2, p.platform).absolute_orbit(p.start or 0)


def _rel(p: SyntheticProduct) -> int:
    return platform(SENTINEL2, p.platform).relative_orbit(_abs(p))


def _baseline(p: SyntheticProduct) -> str:
    t = p.start or 0
    for until, version in _BASELINES:
        if t < until:
            return version
    return "05.11"


def _processed(p: SyntheticProduct) -> int:
    """Processing time (the name's discriminator), whole seconds."""
    return ((p.origin or 0) - 45 * 60 * US - p.bits(30, 30)) // US * US


def _compact(t: int) -> str:
    return format_datetime(t, 0, "").replace("-", "").replace(":", "")


def _level(p: SyntheticProduct) -> str:
    return _LEVEL[p.product_type]


def _spec(name: str, vtype: str, get: Any) -> AttrSpec:
    return AttrSpec(name, vtype, get)


SPECS = [
    _spec("origin", "String", lambda p: "ESA"),
    _spec("tileId", "String", lambda p: mgrs_tile(p.lon, p.lat)),
    _spec("cloudCover", "Double", lambda p: p.cloud),
    _spec(
        "datastripId",
        "String",
        lambda p: (
            f"S2{p.platform}_OPER_MSI_{_level(p)}_DS_2{p.platform}PS_{_compact(_processed(p))}_"
            f"S{_compact((p.start or 0) + 3 * US)}_N{_baseline(p)}"
        ),
    ),
    _spec("orbitNumber", "Integer", _abs),
    _spec("processingDate", "DateTimeOffset", _processed),
    _spec(
        "productGroupId",
        "String",
        lambda p: f"GS2{p.platform}_{_compact(p.start or 0)}_{_abs(p):06d}_N{_baseline(p)}",
    ),
    _spec("operationalMode", "String", lambda p: "INS-NOBS"),
    _spec("processingLevel", "String", lambda p: p.product_type),
    _spec("processorVersion", "String", _baseline),
    _spec("platformShortName", "String", lambda p: "SENTINEL-2"),
    _spec("instrumentShortName", "String", lambda p: "MSI"),
    _spec("relativeOrbitNumber", "Integer", _rel),
    _spec("platformSerialIdentifier", "String", lambda p: p.platform),
    _spec("productType", "String", lambda p: p.product_type),
    _spec("beginningDateTime", "DateTimeOffset", lambda p: p.start),
    _spec("endingDateTime", "DateTimeOffset", lambda p: p.end),
]


class S2(Mission):
    """Sentinel-2 MSI L1C and L2A tiles."""

    collection = "SENTINEL-2"
    product_types: ClassVar[dict[str, float]] = {"S2MSI1C": 0.5, "S2MSI2A": 0.5}
    digits = None

    def draw(self, p: SyntheticProduct, rng: Any, lat_limits: tuple[float, float]) -> None:
        p.start = (p.start or 0) // US * US + 24_000  # S2 sensing times are whole seconds + 24 ms
        p.end = p.start
        p.platform = rng.choice(in_service(SENTINEL2, p.start)).serial
        p.ascending = False
        delay = (2 + rng.random() * 4) * HOUR + (HOUR if p.product_type == "S2MSI2A" else 0)
        p.publication = p.end + int(delay)
        p.origin = p.publication - int((600 + rng.random() * 3000) * US)
        later = rng.random()
        p.modification = p.publication + (int(later * 90 * DAY) if later < 0.3 else int(rng.random() * 60 * US))
        p.content_length = 0 if p.legacy else self.sized(p, *_SIZES[p.product_type])

    def name(self, p: SyntheticProduct) -> str:
        baseline = _baseline(p).replace(".", "")
        return (
            f"S2{p.platform}_MSI{_level(p)}_{_compact(p.start or 0)}_N{baseline}_R{_rel(p):03d}_"
            f"T{mgrs_tile(p.lon, p.lat)}_{_compact(_processed(p))}.SAFE"
        )

    def s3path(self, p: SyntheticProduct) -> str:
        day = format_datetime(p.start or 0, 0, "")[:10].replace("-", "/")
        return f"/eodata/Sentinel-2/MSI/{_level(p)}/{day}/{p.name}"

    def attribute_specs(self, product_type: str, legacy: bool) -> list[AttrSpec]:
        return SPECS

    def rings(self, p: SyntheticProduct) -> list[geometry.Ring]:
        zone = min(int((p.lon + 180) // 6) + 1, 60)
        convergence = (p.lon - (-183 + 6 * zone)) * math.sin(math.radians(p.lat))  # UTM grid vs north
        ring = geometry.quad(p.lon, p.lat, -convergence, 109.8, 109.8)
        if p.bits(56, 2) == 0:
            ring = geometry.cut_corner(ring, 0.3 + p.bits(58, 4) / 30)
        return geometry.parts(ring)

    def radius_km(self, p: SyntheticProduct) -> float:
        return math.hypot(54.9, 54.9)

    def assets(self, p: SyntheticProduct) -> list[dict[str, Any]]:
        return self.quicklook(p)
