"""The ``/Attributes`` catalogue: recorded lists for SENTINEL-1/-3, a derived one for SENTINEL-2."""

from __future__ import annotations

from typing import Any

from emulators.cdse.fixtures_loader import load
from emulators.cdse.synthetic.sentinel2 import SPECS as S2_SPECS

KNOWN_COLLECTIONS = (
    "SENTINEL-1",
    "SENTINEL-2",
    "SENTINEL-3",
    "SENTINEL-5P",
    "SENTINEL-6",
    "SENTINEL-1-RTC",
    "GLOBAL-MOSAICS",
    "SMOS",
    "ENVISAT",
    "LANDSAT-5",
    "LANDSAT-7",
    "LANDSAT-8",
    "COP-DEM",
    "TERRAAQUA",
    "S2GLC",
    "CCM",
)
_S2_EXTRA = [
    ("coordinates", "String"),
    ("illuminationZenithAngle", "Double"),
    ("lastOrbitNumber", "Integer"),
    ("processingBaseline", "String"),
    ("processingCenter", "String"),
    ("qualityInfo", "Integer"),
    ("qualityStatus", "String"),
    ("sourceProduct", "String"),
    ("sourceProductOriginDate", "String"),
    ("granuleIdentifier", "String"),
]


def _sentinel2() -> list[dict[str, str]]:
    """productType first, then by (length, name), like the recorded lists [INFERRED for SENTINEL-2]."""
    names = {s.name: s.vtype for s in S2_SPECS if s.name not in ("beginningDateTime", "endingDateTime")}
    names.update(dict(_S2_EXTRA))
    others = sorted((n for n in names if n != "productType"), key=lambda n: (len(n), n))
    return [{"Name": n, "ValueType": names[n]} for n in ["productType", *others]]


def attributes_of(collection: str) -> list[dict[str, Any]] | None:
    """The attribute list of a collection; None for an unknown collection (the server answers 404)."""
    if collection == "SENTINEL-1":
        return list(load("attributes_sentinel1.json"))
    if collection == "SENTINEL-3":
        return list(load("attributes_sentinel3.json"))
    if collection == "SENTINEL-2":
        return _sentinel2()
    if collection in KNOWN_COLLECTIONS:
        return []
    return None


def all_attributes() -> dict[str, list[dict[str, Any]]]:
    """``GET /Attributes``: every known collection's list, keyed by collection [response shape INFERRED]."""
    return {c: attributes_of(c) or [] for c in KNOWN_COLLECTIONS}
