"""Synthetic products: compact core values drawn at generation, the rest derived on demand by a mission."""

from __future__ import annotations

import hashlib
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from emulators.cdse.product import ODATA, Footprint, Product, locations_for
from emulators.cdse.synthetic import geometry
from emulators.odata import Attr, format_datetime

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
PERMANENT = "9999-12-31T23:59:59.999999Z"
PERMANENT_LEGACY = "9999-12-31T23:59:59.999Z"
MALFORMATIONS = ("no-content-date", "bad-footprint", "bad-attribute")


@dataclass(frozen=True)
class AttrSpec:
    """One attribute of a record: name, ValueType, how to read it, and how DateTimeOffset values are written.

    ``style`` is ``"z"`` (``…Z``) or ``"offset"`` (``…+00:00``, as CDSE wrote processing dates until 2025).
    """

    name: str
    vtype: str
    get: Callable[[SyntheticProduct], Any]
    style: str = "z"
    odata_type: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "odata_type", f"#OData.CSC.{self.vtype}Attribute")


class SyntheticProduct(Product):
    """A generated product; ``mission`` knows how to name, draw and render it."""

    __slots__ = (
        "_name",
        "ascending",
        "cloud",
        "dseed",
        "lat",
        "legacy",
        "lon",
        "malformation",
        "mission",
        "platform",
        "product_type",
    )

    mission: Mission
    product_type: str
    platform: str
    dseed: int
    lon: float
    lat: float
    ascending: bool
    cloud: float | None
    legacy: bool
    malformation: str | None
    _name: str | None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = self.mission.name(self)
        return self._name

    @property
    def malformed(self) -> str | None:
        return self.malformation

    def bits(self, shift: int, width: int) -> int:
        """``width`` bits of the product's detail seed from ``shift`` (cheap deterministic extras)."""
        return (self.dseed >> shift) & ((1 << width) - 1)

    def render(self, expand: Sequence[str] = ()) -> dict[str, Any]:
        return self.mission.render(self, expand)

    def attributes(self) -> list[Attr]:
        return [(s.name, s.vtype, s.get(self)) for s in self.mission.specs(self)]

    def attribute(self, name: str) -> tuple[str, Any] | None:
        spec = self.mission.spec_index(self).get(name)
        return None if spec is None else (spec.vtype, spec.get(self))

    def asset_ids(self) -> list[str]:
        return [str(a["Id"]) for a in self.mission.assets(self)]

    def footprint(self) -> Footprint | None:
        # a conservative box from the centre and the mission's footprint radius: no geometry until it is needed
        r = self.mission.radius_km(self) * 1.01 / geometry.KM_PER_DEG
        dlon = r / max(math.cos(math.radians(self.lat)), 0.05)
        west, east = self.lon - dlon, self.lon + dlon
        if west < -180 or east > 180:
            west, east = -180.0, 180.0
        box = (west, max(self.lat - r, -90.0), east, min(self.lat + r, 90.0))
        return box, lambda: geometry.geometry(self.mission.rings(self))


class Mission:
    """Per-collection knowledge: product types, names, paths, attributes, footprints, sizes."""

    collection = ""
    product_types: ClassVar[dict[str, float]] = {}
    digits: int | None = 6  # footprint decimals (None = full float precision)
    time_digits = 6  # fractional digits of ContentDate in current records

    def __init__(self, payload_size: int | None = None) -> None:
        self.payload_size = payload_size
        self._specs: dict[tuple[str, bool], list[AttrSpec]] = {}
        self._index: dict[tuple[str, bool], dict[str, AttrSpec]] = {}
        self._memo = threading.local()

    # -- to implement
    def draw(self, p: SyntheticProduct, rng: Any, lat_limits: tuple[float, float]) -> None:
        """Fill mission-specific core values (end, platform, sizes, …) of ``p`` from ``rng``."""
        raise NotImplementedError

    def name(self, p: SyntheticProduct) -> str:
        """The product Name."""
        raise NotImplementedError

    def s3path(self, p: SyntheticProduct) -> str:
        """The ``S3Path``."""
        raise NotImplementedError

    def attribute_specs(self, product_type: str, legacy: bool) -> list[AttrSpec]:
        """The attribute list of a product type, in record order."""
        raise NotImplementedError

    def rings(self, p: SyntheticProduct) -> list[geometry.Ring]:
        """Footprint rings, split at the antimeridian."""
        raise NotImplementedError

    def assets(self, p: SyntheticProduct) -> list[dict[str, Any]]:
        """The ``Assets`` list (quicklooks)."""
        return []

    def radius_km(self, p: SyntheticProduct) -> float:
        """Distance from the centre to the farthest footprint vertex."""
        raise NotImplementedError

    def footprint_rings(self, p: SyntheticProduct, digits: int | None = None) -> list[geometry.Ring]:
        """``rings(p)`` rounded to ``digits``, memoised for the product rendered last in this thread."""
        last = getattr(self._memo, "last", None)
        if last is None or last[0] is not p:
            last = (p, {})
            self._memo.last = last
        cache: dict[int | None, list[geometry.Ring]] = last[1]
        if None not in cache:
            cache[None] = self.rings(p)
        if digits not in cache:
            cache[digits] = geometry.rounded(cache[None], digits)
        return cache[digits]

    # -- shared
    def specs(self, p: SyntheticProduct) -> list[AttrSpec]:
        """Cached attribute specs for ``p``'s product type and style."""
        key = (p.product_type, p.legacy)
        if key not in self._specs:
            self._specs[key] = self.attribute_specs(*key)
            self._index[key] = {s.name: s for s in self._specs[key]}
        return self._specs[key]

    def spec_index(self, p: SyntheticProduct) -> dict[str, AttrSpec]:
        """Attribute specs by name."""
        self.specs(p)
        return self._index[(p.product_type, p.legacy)]

    def sized(self, p: SyntheticProduct, low: int, high: int) -> int:
        """A content length in [low, high] (or in the small payload range when payloads are real)."""
        if self.payload_size is not None:
            low, high = max(1, self.payload_size // 2), self.payload_size
        return low + p.bits(0, 40) % (high - low + 1)

    def checksums(self, p: SyntheticProduct, digits: int) -> list[dict[str, Any]]:
        """MD5 and BLAKE3 entries (MD5 of the served payload when payloads are real)."""
        from emulators.cdse.download import payload_md5

        md5 = payload_md5(p) if self.payload_size is not None else hashlib.md5(p.id.encode()).hexdigest()
        blake = hashlib.sha256(p.id.encode()).hexdigest()  # stand-in: no BLAKE3 in the standard library
        when = p.modification or p.publication or 0
        return [
            {"Value": md5, "Algorithm": "MD5", "ChecksumDate": format_datetime(when - 3 * US + p.bits(3, 20), digits)},
            {
                "Value": blake,
                "Algorithm": "BLAKE3",
                "ChecksumDate": format_datetime(when - 2 * US + p.bits(5, 20), digits),
            },
        ]

    def eviction(self, p: SyntheticProduct) -> str:
        """``EvictionDate``: permanent, or ``""`` in some legacy records."""
        if p.legacy:
            return "" if p.bits(50, 1) else PERMANENT_LEGACY
        return PERMANENT

    def quicklook(self, p: SyntheticProduct) -> list[dict[str, Any]]:
        """One QUICKLOOK asset, as CDSE lists them."""
        asset_id = str(uuid.UUID(bytes=hashlib.md5(f"ql:{p.id}".encode()).digest(), version=4))
        return [
            {
                "Type": "QUICKLOOK",
                "Id": asset_id,
                "DownloadLink": f"{ODATA}/Assets({asset_id})/$value",
                "S3Path": self.s3path(p),
            }
        ]

    def render(self, p: SyntheticProduct, expand: Sequence[str]) -> dict[str, Any]:
        """The JSON record of ``p`` in CDSE's key order and formats (legacy ones for legacy products)."""
        legacy = p.legacy
        d = 3 if legacy else 6
        cd = 3 if legacy else self.time_digits
        rings = self.footprint_rings(p, self.digits)
        rec: dict[str, Any] = {
            "@odata.mediaContentType": "application/octet-stream",
            "Id": p.id,
            "Name": p.name,
            "ContentType": "application/octet-stream",
            "ContentLength": p.content_length,
            "OriginDate": format_datetime(p.origin or 0, d),
            "PublicationDate": format_datetime(p.publication or 0, d),
            "ModificationDate": format_datetime(p.modification or 0, d),
            "Online": p.online,
            "EvictionDate": self.eviction(p),
            "S3Path": self.s3path(p),
            "Checksum": [] if legacy else self.checksums(p, d),
            "ContentDate": {"Start": format_datetime(p.start or 0, cd), "End": format_datetime(p.end or 0, cd)},
            "Footprint": geometry.wkt(rings, legacy),
            "GeoFootprint": geometry.geojson(rings, legacy),
        }
        if "Attributes" in expand:
            rec["Attributes"] = [self._attr(p, s, legacy) for s in self.specs(p)]
        if "Assets" in expand:
            rec["Assets"] = self.assets(p)
        if "Locations" in expand:
            rec["Locations"] = locations_for(rec)
        if p.malformation:
            _break(rec, p.malformation)
        return rec

    @staticmethod
    def _attr(p: SyntheticProduct, spec: AttrSpec, legacy: bool) -> dict[str, Any]:
        value = spec.get(p)
        if value is not None and spec.vtype == "DateTimeOffset":
            if spec.style == "offset" or (legacy and spec.name not in ("beginningDateTime", "endingDateTime")):
                value = format_datetime(value, 6, "+00:00")
            else:
                value = format_datetime(value, 3 if legacy else 6)
        return {"@odata.type": spec.odata_type, "Name": spec.name, "Value": value, "ValueType": spec.vtype}


def _break(rec: dict[str, Any], how: str) -> None:
    """Deliberately malform a rendered record (the harvester must reject and report it)."""
    if how == "no-content-date":
        rec.pop("ContentDate", None)
    elif how == "bad-footprint":
        rec["Footprint"] = "geography'SRID=4326;POLYGON ((12.5 45.1, 13.2'"
        rec["GeoFootprint"] = None
    elif how == "bad-attribute":
        for a in rec.get("Attributes", []):
            if a["ValueType"] in ("Double", "Integer"):
                a["Value"] = "n/a"
                break
