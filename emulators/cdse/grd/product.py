"""GRD products with real content: the OData record of a :class:`GrdScene` and its SAFE files (Nodes, zip).

The record is the recorded GRD entity (``fixtures/product_s1_grd_entity_expand_attributes.json``) with every
scene-dependent value replaced — Id, Name, dates, footprint, orbit numbers, direction, polarisations,
size and MD5 of the zip — so the STAC item a harvest makes from it agrees with the product's own metadata.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, timedelta
from functools import cached_property
from typing import Any

from emulators.cdse.fixtures_loader import load
from emulators.cdse.grd.safe import GrdScene, SafeFiles, render_safe
from emulators.cdse.product import RecordProduct


def _z(when: Any) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def grd_record(scene: GrdScene, zip_size: int, zip_md5: str) -> dict[str, Any]:
    """The CDSE OData record (with Attributes) describing ``scene``."""
    record = load("product_s1_grd_entity_expand_attributes.json")
    record.pop("@odata.context", None)
    ring = [[round(x, 6), round(y, 6)] for x, y in scene.corners()]
    wkt = "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"
    start, stop = scene.start, scene.stop
    published = stop + timedelta(hours=2)
    record.update(
        {
            "Id": str(uuid.UUID(hashlib.md5(scene.name.encode()).hexdigest())),
            "Name": scene.name,
            "ContentLength": zip_size,
            "OriginDate": _z(published - timedelta(minutes=5)),
            "PublicationDate": _z(published),
            "ModificationDate": _z(published),
            "S3Path": f"/eodata/Sentinel-1/SAR/IW_GRDH_1S/{start:%Y/%m/%d}/{scene.name}",
            "Checksum": [{"Value": zip_md5, "Algorithm": "MD5", "ChecksumDate": _z(published)}],
            "ContentDate": {"Start": _z(start), "End": _z(stop)},
            "Footprint": f"geography'SRID=4326;{wkt}'",
            "GeoFootprint": {"type": "Polygon", "coordinates": [ring]},
        }
    )
    values = {
        "datatakeID": scene.datatake,
        "orbitNumber": scene.absolute_orbit,
        "relativeOrbitNumber": scene.relative_orbit,
        "orbitDirection": "ASCENDING" if scene.ascending else "DESCENDING",
        "polarisationChannels": "&".join(scene.polarizations),
        "platformSerialIdentifier": scene.mission[-1],
        "sliceNumber": 1,
        "totalSlices": 1,
        "productComposition": "Individual",
        "beginningDateTime": _z(start),
        "endingDateTime": _z(stop),
        "processingDate": (published - timedelta(minutes=20)).isoformat(),
        "segmentStartTime": start.isoformat(),
    }
    for attribute in record["Attributes"]:
        if attribute["Name"] in values:
            attribute["Value"] = values[attribute["Name"]]
    return record


class GrdProduct(RecordProduct):
    """A GRD the emulator can serve byte for byte: Nodes list and serve its SAFE files, $value its zip."""

    __slots__ = ("__dict__", "scene")

    def __init__(self, scene: GrdScene) -> None:
        self.scene = scene
        super().__init__(grd_record(scene, len(self.zip), hashlib.md5(self.zip).hexdigest()))

    @cached_property
    def safe(self) -> SafeFiles:
        return render_safe(self.scene)

    @cached_property
    def zip(self) -> bytes:
        return self.safe.zip_bytes()
