"""Products as the emulator stores them: a common interface for recorded and synthetic records.

Every product exposes the *underlying* values the server filters and sorts on (times as µs since the
epoch, attributes with DateTimeOffset as µs) and renders the JSON record it serves. The two may differ
only for deliberately malformed synthetic records (the server still finds them; their JSON is broken).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import shapely
import shapely.errors
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from emulators.odata import Attr, Field, Schema, parse_datetime

EXPANDABLE = ("Attributes", "Assets", "Locations")
ODATA = "https://catalogue.dataspace.copernicus.eu/odata/v1"
Bbox = tuple[float, float, float, float]
Footprint = tuple[Bbox, Callable[[], BaseGeometry]]


class Product:
    """Base class; subclasses fill the slots and implement rendering and attribute access."""

    __slots__ = (
        "collection",
        "content_length",
        "end",
        "id",
        "modification",
        "online",
        "origin",
        "publication",
        "start",
    )

    id: str
    collection: str
    start: int | None
    end: int | None
    publication: int | None
    modification: int | None
    origin: int | None
    online: bool | None
    content_length: int | None

    @property
    def name(self) -> str:
        """The product ``Name`` (with extension)."""
        raise NotImplementedError

    @property
    def sort_start(self) -> int:
        """``ContentDate/Start`` for ordering (products without one sort first)."""
        return self.start if self.start is not None else -(1 << 62)

    def render(self, expand: Sequence[str] = ()) -> dict[str, Any]:
        """The JSON record with the ``expand``-ed navigation properties (in Attributes, Assets, Locations order)."""
        raise NotImplementedError

    def attributes(self) -> list[Attr]:
        """All attributes as (Name, ValueType, value) with DateTimeOffset values as µs."""
        raise NotImplementedError

    def attribute(self, name: str) -> tuple[str, Any] | None:
        """(ValueType, value) of one attribute, or None."""
        for n, t, v in self.attributes():
            if n == name:
                return t, v
        return None

    def footprint(self) -> Footprint | None:
        """(bbox, geometry factory) for spatial filters, or None (e.g. AUX products)."""
        raise NotImplementedError

    def asset_ids(self) -> list[str]:
        """Ids of the product's ``Assets`` (quicklooks)."""
        return [str(a.get("Id")) for a in self.render(("Assets",)).get("Assets", [])]

    @property
    def malformed(self) -> str | None:
        """How the rendered record is deliberately broken, or None."""
        return None


def _dt(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _geometry_of(record: dict[str, Any]) -> BaseGeometry | None:
    """The footprint from ``GeoFootprint``, else from the ``Footprint`` WKT literal; None if absent or broken."""
    geo = record.get("GeoFootprint")
    try:
        if isinstance(geo, dict):
            return shape(geo)
        text = record.get("Footprint")
        if isinstance(text, str) and ";" in text:
            return shapely.from_wkt(text.split(";", 1)[1].rstrip("'"))
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        return None
    return None


def collection_of(record: dict[str, Any]) -> str:
    """CDSE collection name of a record, from its S3Path (``/eodata/Sentinel-1/…``) or its Name."""
    s3 = record.get("S3Path") or ""
    parts = s3.split("/")
    if len(parts) > 2 and parts[1] == "eodata":
        return parts[2].upper()
    name = str(record.get("Name") or "")
    if name[:2] in ("S1", "S2", "S3") and name[2:3] in ("A", "B", "C", "D", "_"):
        return f"SENTINEL-{name[1]}"
    return "UNKNOWN"


def locations_for(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``Locations`` list for a record that has none recorded: its Extracted location."""
    return [
        {
            "FormatType": "Extracted",
            "DownloadLink": f"{ODATA}/Products({record.get('Id')})/$value",
            "ContentLength": record.get("ContentLength", 0),
            "Checksum": record.get("Checksum", []),
            "S3Path": record.get("S3Path", ""),
        }
    ]


class RecordProduct(Product):
    """A product given as a recorded JSON record (fixtures, or records added by a test); served verbatim."""

    __slots__ = ("_attrs", "_bbox", "_geometry", "_index", "record")

    def __init__(self, record: dict[str, Any], collection: str | None = None) -> None:
        self.record = {k: v for k, v in record.items() if k != "@odata.context"}
        self.id = str(record["Id"]).lower()
        self.collection = collection or collection_of(record)
        content = record.get("ContentDate") or {}
        self.start = _dt(content.get("Start")) if isinstance(content, dict) else None
        self.end = _dt(content.get("End")) if isinstance(content, dict) else None
        self.publication = _dt(record.get("PublicationDate"))
        self.modification = _dt(record.get("ModificationDate"))
        self.origin = _dt(record.get("OriginDate"))
        online = record.get("Online")
        self.online = online if isinstance(online, bool) else None
        length = record.get("ContentLength")
        self.content_length = length if isinstance(length, int) and not isinstance(length, bool) else None
        attrs: list[Attr] = []
        for a in record.get("Attributes") or []:
            value = a.get("Value")
            if a.get("ValueType") == "DateTimeOffset" and isinstance(value, str):
                value = _dt(value) if _dt(value) is not None else value
            attrs.append((a.get("Name"), a.get("ValueType"), value))
        self._attrs = attrs
        self._index = {n: (t, v) for n, t, v in attrs}
        self._geometry: BaseGeometry | None = None
        self._bbox: Bbox | None = None
        self._geometry = _geometry_of(record)
        self._bbox = None if self._geometry is None else self._geometry.bounds

    @property
    def name(self) -> str:
        return str(self.record.get("Name", ""))

    def render(self, expand: Sequence[str] = ()) -> dict[str, Any]:
        out = {k: v for k, v in self.record.items() if k not in EXPANDABLE}
        if "Attributes" in expand:
            out["Attributes"] = self.record.get("Attributes", [])
        if "Assets" in expand:
            out["Assets"] = self.record.get("Assets", [])
        if "Locations" in expand:
            out["Locations"] = self.record["Locations"] if "Locations" in self.record else locations_for(self.record)
        return out

    def attributes(self) -> list[Attr]:
        return self._attrs

    def attribute(self, name: str) -> tuple[str, Any] | None:
        return self._index.get(name)

    def footprint(self) -> Footprint | None:
        geometry = self._geometry
        if geometry is None or self._bbox is None:
            return None
        return self._bbox, lambda: geometry


def _field(kind: str, get: Callable[[Product], Any]) -> Field:
    return Field(kind, get)


PRODUCT_SCHEMA = Schema(
    fields={
        "Id": _field("guid", lambda p: p.id),
        "Name": _field("string", lambda p: p.name),
        "Online": _field("bool", lambda p: p.online),
        "ContentLength": _field("int", lambda p: p.content_length),
        "OriginDate": _field("datetime", lambda p: p.origin),
        "PublicationDate": _field("datetime", lambda p: p.publication),
        "ModificationDate": _field("datetime", lambda p: p.modification),
        "ContentDate/Start": _field("datetime", lambda p: p.start),
        "ContentDate/End": _field("datetime", lambda p: p.end),
        "Collection/Name": _field("string", lambda p: p.collection),
    },
    attributes=lambda p: p.attributes(),
    attribute=lambda p, name: p.attribute(name),
    footprint=lambda p: p.footprint(),
)
"""What ``$filter`` may use on ``/Products`` (see reference/cdse.md §6)."""

ORDERABLE: dict[str, Callable[[Product], int | None]] = {
    "ContentDate/Start": lambda p: p.start,
    "ContentDate/End": lambda p: p.end,
    "PublicationDate": lambda p: p.publication,
    "ModificationDate": lambda p: p.modification,
}
"""``$orderby`` keys; the server adds ``Id`` as the secondary key."""
