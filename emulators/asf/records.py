"""ASF burst records: the recorded ones (fixtures) and the shared ground truth, as SearchAPI serves them.

A record keeps the values SearchAPI filters and sorts on (CMR's precise times, ids, footprint) and
renders its ``output=geojson`` feature (current asf_search style: times truncated to the second with
``Z``, ``bytes`` and ``azimuthAnxTime`` as strings) or its ``output=jsonlite`` row on demand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from emulators.odata import format_datetime, parse_datetime
from emulators.s1truth import TruthBurst, compact

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILES = (
    "asf_search_product_S1_181296_IW1_20220219T125501_VV_10AF-BURST.json",
    "asf_search_product_S1_181296_IW1_20220303T125501_VV_F03A-BURST.json",
    "asf_search_product_S1_372326_IW3_20180815T151558_VV_6BD3-BURST.json",
)
EXTRACTOR = "https://sentinel1-burst.asf.alaska.edu"
_STACK_ONLY = ("temporalBaseline", "perpendicularBaseline")


def _seconds(us: int) -> str:
    return format_datetime(us - us % 1_000_000, 0)


def truth_feature(b: TruthBurst, extractor: str = EXTRACTOR) -> dict[str, Any]:
    """The SearchAPI geojson feature of a truth burst (property order as asf_search writes it)."""
    ring = [list(p) for p in b.ring]
    xs, ys = [p[0] for p in b.ring[:-1]], [p[1] for p in b.ring[:-1]]
    file_id = f"{b.item_id}-BURST"
    url = f"{extractor}/{b.parent}/{b.subswath}/{b.polarization}/{b.burst_index}"
    pcode = b.parent[14:16]
    frame = ((b.relative_burst_id - b.burst_index) // 9) % 9000  # the parent's frame numbers, for GROUP_ID
    return {
        "type": "Feature",
        "geometry": {"coordinates": [ring], "type": "Polygon"},
        "properties": {
            "centerLat": sum(ys) / len(ys),
            "centerLon": sum(xs) / len(xs),
            "stopTime": _seconds(b.end),
            "fileID": file_id,
            "flightDirection": "ASCENDING" if b.ascending else "DESCENDING",
            "pathNumber": b.track,
            "processingLevel": "BURST",
            "url": f"{url}.tiff",
            "startTime": _seconds(b.start),
            "sceneName": file_id,
            "browse": None,
            "platform": f"SENTINEL-1{b.platform}",
            "bytes": str(b.byte_length),
            "md5sum": None,
            "granuleType": None,
            "orbit": b.absolute_orbit,
            "polarization": b.polarization,
            "processingDate": None,
            "sensor": "C-SAR",
            "groupID": f"S1{b.platform}_IW{pcode}_{frame:04d}_{frame + 7:04d}_{b.absolute_orbit:06d}_{b.track:03d}",
            "pgeVersion": b.ipf_version,
            "fileName": f"{file_id}.tiff",
            "beamModeType": "IW",
            "s3Urls": [],
            "burst": {
                "absoluteBurstID": b.absolute_burst_id,
                "relativeBurstID": b.relative_burst_id,
                "fullBurstID": b.full_burst_id,
                "burstIndex": b.burst_index,
                "samplesPerBurst": b.samples,
                "subswath": b.subswath,
                "azimuthTime": _seconds(b.azimuth_time),
                "azimuthAnxTime": repr(b.azimuth_anx_time),
            },
            "additionalUrls": [f"{url}.xml"],
        },
    }


def jsonlite_row(feature: dict[str, Any]) -> dict[str, Any]:
    """The ``output=jsonlite`` row of a burst feature (asf_search ``export/jsonlite.py``, burst branch)."""
    p = feature["properties"]
    wkt = shapely.to_wkt(shape(feature["geometry"]), trim=True)
    size = p.get("bytes")
    return {
        "beamMode": p.get("beamModeType"),
        "browse": [],
        "burst": dict(sorted(p["burst"].items())),
        "canInSAR": True,
        "dataset": p.get("platform"),
        "downloadUrl": p.get("url"),
        "faradayRotation": None,
        "fileName": p.get("fileName"),
        "flightDirection": p.get("flightDirection"),
        "flightLine": None,
        "frame": None,
        "granuleName": p.get("fileID"),
        "groupID": p.get("groupID"),
        "instrument": p.get("sensor"),
        "missionName": None,
        "offNadirAngle": None,
        "orbit": [str(p.get("orbit"))],
        "path": p.get("pathNumber"),
        "pgeVersion": p.get("pgeVersion"),
        "pointingAngle": None,
        "polarization": p.get("polarization"),
        "productID": p.get("fileID"),
        "productType": p.get("processingLevel"),
        "productTypeDisplay": None,
        "sizeMB": None if size is None else int(size) / 1_024_000,
        "stackSize": None,
        "startTime": p.get("startTime"),
        "stopTime": p.get("stopTime"),
        "thumb": None,
        "wkt": wkt,
        "wkt_unwrapped": wkt,
    }


class AsfRecord:
    """One burst product as the search service stores it."""

    def __init__(self, render: Callable[[], dict[str, Any]], *, file_id: str, start: int, stop: int,
                 relative: int, absolute: int, full: str, subswath: str, polarization: str, platform: str,
                 direction: str, path: int, orbit: int, bbox: tuple[float, float, float, float],
                 geometry: Callable[[], BaseGeometry]) -> None:  # fmt: skip
        self._render = render
        self.file_id, self.start, self.stop = file_id, start, stop
        self.relative, self.absolute, self.full = relative, absolute, full
        self.subswath, self.polarization, self.platform = subswath, polarization, platform
        self.direction, self.path, self.orbit = direction, path, orbit
        self.bbox = bbox
        self._geometry = geometry

    def feature(self) -> dict[str, Any]:
        """The geojson feature (a fresh dict)."""
        return self._render()

    @cached_property
    def geometry(self) -> BaseGeometry:
        return self._geometry()

    @classmethod
    def from_truth(cls, b: TruthBurst, extractor: str = EXTRACTOR) -> AsfRecord:
        ring = b.ring
        return cls(
            lambda: truth_feature(b, extractor), file_id=f"{b.item_id}-BURST", start=b.start, stop=b.end,
            relative=b.relative_burst_id, absolute=b.absolute_burst_id, full=b.full_burst_id,
            subswath=b.subswath, polarization=b.polarization, platform=f"SENTINEL-1{b.platform}",
            direction="ASCENDING" if b.ascending else "DESCENDING", path=b.track, orbit=b.absolute_orbit,
            bbox=b.bbox, geometry=lambda: shapely.Polygon(ring),
        )  # fmt: skip

    @classmethod
    def from_feature(cls, feature: dict[str, Any], umm: dict[str, Any] | None = None) -> AsfRecord:
        """A recorded feature; CMR's precise times (UMM TemporalExtent) are used for filtering when given."""
        text = json.dumps(feature)
        p = feature["properties"]
        start, stop = parse_datetime(p["startTime"]), parse_datetime(p["stopTime"])
        extent = ((umm or {}).get("TemporalExtent") or {}).get("RangeDateTime") or {}
        if extent:
            start, stop = parse_datetime(extent["BeginningDateTime"]), parse_datetime(extent["EndingDateTime"])
        geometry = shape(feature["geometry"])
        b = p["burst"]
        return cls(
            lambda: json.loads(text), file_id=p["fileID"], start=start, stop=stop,
            relative=int(b["relativeBurstID"]), absolute=int(b["absoluteBurstID"]), full=b["fullBurstID"],
            subswath=b["subswath"], polarization=p["polarization"], platform=p["platform"],
            direction=p["flightDirection"], path=int(p["pathNumber"]), orbit=int(p["orbit"]),
            bbox=geometry.bounds, geometry=lambda: geometry,
        )  # fmt: skip


def fixture_records() -> list[AsfRecord]:
    """The recorded burst products (asf_search objects as SearchAPI serialises them)."""
    out = []
    for name in FIXTURE_FILES:
        product = json.loads((FIXTURES / name).read_text())
        properties = {k: v for k, v in product["properties"].items() if k not in _STACK_ONLY}
        feature = {"type": "Feature", "geometry": product["geometry"], "properties": properties}
        out.append(AsfRecord.from_feature(feature, product.get("umm")))
    return out


__all__ = ["AsfRecord", "compact", "fixture_records", "jsonlite_row", "truth_feature"]
