"""CDSE ``Bursts`` records and ASF SearchAPI burst features -> one STAC item shape (pure: no I/O, no HTTP).

Both sources map into the same item for the same burst acquisition, so the store's merge
(:func:`catalog.merge.merge_items`: the newer document wins field by field, assets, providers and
extensions accumulate) combines them, and harvesting either source again changes nothing:

* **Shared fields are computed identically from either source** (same value, same type): the id
  (:func:`~indexer.bursts.identity.burst_item_id`), geometry, ``datetime``/``start_datetime``/
  ``end_datetime`` (truncated to the whole second, the precision ASF publishes), ``platform``,
  ``sar:*``, ``sat:orbit_state``/``relative_orbit``/``absolute_orbit`` (the absolute orbit from the
  parent SLC name), the ``s1:`` burst fields, ``auth:schemes`` (both schemes, always), the ESA provider
  and the ``collection`` link.
* **A field only one source knows is left out by the other** and filled by the merge: CDSE gives
  ``proj:shape`` (lines × samples), ``s1:lines_per_burst``, ``s1:byte_offset``, ``cdse:*``; ASF gives
  ``s1:ipf_version``, ``s1:byte_length``, ``asf:group_id``. ``s1:burst_index`` comes from ASF
  directly and from CDSE through the byte offset (``reference/asf.md`` §3).
  ``s1:azimuth_time`` (µs) and ``sat:anx_datetime`` are set only by a record whose azimuth time has
  sub-second precision (CDSE always; ASF SearchAPI truncates to seconds nowadays).
* **Assets** are per source: ``cdse`` (POST on-demand extraction, ``eocat:protocol: cdse-burst``,
  ``auth:refs: [oidc]``) from CDSE; ``tiff`` and ``xml`` (ASF burst extractor,
  ``eocat:protocol: asf-extractor``, ``auth:refs: [earthdata]``) from ASF. Hrefs are built on the
  configured endpoints (``EOCAT_CDSE_CATALOGUE_URL``, ``EOCAT_ASF_BURST_URL``), never copied from the record.
* No source-specific links (a link list is replaced, not merged by key, so they would flip-flop).

Malformed records raise :class:`MalformedBurst` naming the source and the record.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import antimeridian
import httpx
import orjson

from catalog.errors import EocatError
from catalog.stac import EXTENSIONS, STAC_VERSION, auth_schemes
from catalog.timeutil import canonical_lenient, format_canonical, parse_canonical
from indexer.bursts.identity import (
    POLARIZATIONS,
    SUBSWATH,
    burst_index_from_offset,
    burst_item_id,
    full_burst_id,
    parse_parent,
)

COLLECTION_ID = "sentinel-1-bursts"
_ITEM_EXTENSIONS = ("authentication", "proj", "sar", "sat")  # in stac_extensions order
PROVIDERS = {
    "esa": {"name": "ESA", "roles": ["producer", "licensor"], "url": "https://sentinels.copernicus.eu"},
    "cdse": {"name": "Copernicus Data Space Ecosystem", "roles": ["host", "processor"],
             "url": "https://dataspace.copernicus.eu"},
    "asf": {"name": "Alaska Satellite Facility", "roles": ["host"], "url": "https://asf.alaska.edu"},
}  # fmt: skip
_PRECISE = re.compile(r"T\d{2}:\d{2}:\d{2}\.\d*[1-9]")
_HERE = Path(__file__).resolve().parent


class MalformedBurst(EocatError):
    """A burst record that cannot be mapped; names the source, the record and the problem."""

    def __init__(self, source: str, record_id: str, problem: str) -> None:
        self.record_id, self.problem = record_id, problem
        super().__init__(f"malformed {source} burst record {record_id}: {problem} (the record is skipped)")


def collection() -> dict[str, Any]:
    """The ``sentinel-1-bursts`` collection document (a fresh copy)."""
    document: dict[str, Any] = orjson.loads((_HERE / "collection.json").read_bytes())
    return document


@dataclass(frozen=True)
class _Burst:
    """The facts both sources state, normalised."""

    parent: str
    subswath: str
    polarization: str
    relative_burst_id: int
    absolute_burst_id: int
    track: int
    orbit_state: str  # ascending | descending
    mode: str
    azimuth_time: datetime
    precise: bool  # azimuth time known below the second
    azimuth_anx_time: float
    start: datetime
    end: datetime
    geometry: dict[str, Any]
    bbox: list[float]
    samples: int
    burst_index: int | None


def _whole_second(moment: datetime) -> str:
    return format_canonical(moment.replace(microsecond=0))


def _item(burst: _Burst, properties: dict[str, Any], assets: dict[str, Any], provider: str,
          extensions: list[str]) -> dict[str, Any]:  # fmt: skip
    parent = parse_parent(burst.parent)
    props: dict[str, Any] = {
        "datetime": _whole_second(burst.start),
        "start_datetime": _whole_second(burst.start),
        "end_datetime": _whole_second(burst.end),
        "platform": parent.platform,
        "constellation": "sentinel-1",
        "instruments": ["sar"],
        "providers": [dict(PROVIDERS["esa"]), dict(PROVIDERS[provider])],
        "sar:instrument_mode": burst.mode,
        "sar:frequency_band": "C",
        "sar:center_frequency": 5.405,
        "sar:polarizations": [burst.polarization],
        "sar:product_type": "SLC",
        "sar:beam_ids": [burst.subswath.lower()],
        "sar:observation_direction": "right",
        "sar:looks_range": 1,
        "sar:looks_azimuth": 1,
        "sat:orbit_state": burst.orbit_state,
        "sat:relative_orbit": burst.track,
        "sat:absolute_orbit": parent.absolute_orbit,
        "s1:relative_burst_id": burst.relative_burst_id,
        "s1:absolute_burst_id": burst.absolute_burst_id,
        "s1:full_burst_id": full_burst_id(burst.track, burst.relative_burst_id, burst.subswath),
        "s1:subswath": burst.subswath,
        "s1:parent_product": burst.parent,
        "s1:azimuth_anx_time": burst.azimuth_anx_time,
        "s1:samples_per_burst": burst.samples,
        "auth:schemes": auth_schemes("oidc", "earthdata"),
    }
    if burst.burst_index is not None:
        props["s1:burst_index"] = burst.burst_index
    if burst.precise:
        props["s1:azimuth_time"] = format_canonical(burst.azimuth_time)
        props["sat:anx_datetime"] = format_canonical(burst.azimuth_time - timedelta(seconds=burst.azimuth_anx_time))
    props.update(properties)
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [EXTENSIONS[name] for name in _ITEM_EXTENSIONS if name in extensions],
        "id": burst_item_id(
            burst.relative_burst_id, burst.subswath, burst.azimuth_time, burst.polarization, burst.parent
        ),
        "collection": COLLECTION_ID,
        "geometry": burst.geometry,
        "bbox": burst.bbox,
        "properties": props,
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json", "title": COLLECTION_ID}
        ],
        "assets": assets,
    }


# -- field readers: raise ValueError/TypeError on garbage ------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _time(value: Any) -> datetime:
    text = canonical_lenient(value)
    if text is None:
        raise ValueError("empty timestamp")
    return parse_canonical(text)


def _choice(value: Any, allowed: tuple[str, ...] | re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    ok = value in allowed if isinstance(allowed, tuple) else allowed.match(value) is not None
    if not ok:
        raise ValueError(f"unexpected value {value!r}")
    return value


def _orbit_state(value: Any) -> str:
    return _choice(str(value).upper(), ("ASCENDING", "DESCENDING")).lower()


def _geometry(value: Any) -> tuple[dict[str, Any], list[float]]:
    """A Polygon/MultiPolygon checked and, if it jumps across the antimeridian, split; with its bbox."""
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"footprint is not a GeoJSON Polygon or MultiPolygon: {str(value)[:120]}")
    polygons = value["coordinates"] if value["type"] == "MultiPolygon" else [value["coordinates"]]
    xs: list[float] = []
    ys: list[float] = []
    crosses = False
    for polygon in polygons:
        for ring in polygon:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError("a footprint ring needs at least 4 positions and must be closed")
            ring_x = [_float(p[0]) for p in ring]
            ys += [_float(p[1]) for p in ring]
            xs += ring_x
            crosses = crosses or any(abs(a - b) > 180.0 for a, b in itertools.pairwise(ring_x))
    if min(xs) < -180 or max(xs) > 180 or min(ys) < -90 or max(ys) > 90:
        raise ValueError("a footprint position is outside lon -180..180 / lat -90..90")
    geometry = {"type": value["type"], "coordinates": value["coordinates"]}
    if crosses:
        geometry = orjson.loads(orjson.dumps(antimeridian.fix_shape(geometry, fix_winding=True)))
        return geometry, [float(v) for v in antimeridian.bbox(geometry)]
    return geometry, [min(xs), min(ys), max(xs), max(ys)]


# -- CDSE -------------------------------------------------------------------------------------------


def cdse_burst_to_item(record: dict[str, Any], *, catalogue_url: str) -> dict[str, Any]:
    """One CDSE ``/Bursts`` record -> a STAC item of ``sentinel-1-bursts``."""
    rid = str(record.get("Id") or record.get("Name") or "<no Id>")
    try:
        burst_uuid = _choice(record["Id"], re.compile(r"^[0-9a-fA-F-]{36}$"))
        parent = parse_parent(str(record["ParentProductName"])).name
        lines, samples = _int(record["LinesPerBurst"]), _int(record["SamplesPerBurst"])
        offset = record.get("ByteOffset")
        content = record["ContentDate"]
        geometry, bbox = _geometry(record.get("GeoFootprint"))
        azimuth_text = record["AzimuthTime"]
        burst = _Burst(
            parent=parent,
            subswath=_choice(record["SwathIdentifier"], SUBSWATH),
            polarization=_choice(record["PolarisationChannels"], POLARIZATIONS),
            relative_burst_id=_int(record["BurstId"]),
            absolute_burst_id=_int(record["AbsoluteBurstId"]),
            track=_int(record["RelativeOrbitNumber"]),
            orbit_state=_orbit_state(record["OrbitDirection"]),
            mode=_choice(record.get("OperationalMode") or parent[4:6], ("IW", "EW")),
            azimuth_time=_time(azimuth_text),
            precise=bool(_PRECISE.search(str(azimuth_text))),
            azimuth_anx_time=_float(record["AzimuthAnxTime"]),
            start=_time(content["Start"]),
            end=_time(content["End"]),
            geometry=geometry,
            bbox=bbox,
            samples=samples,
            burst_index=None if offset is None else burst_index_from_offset(_int(offset), lines, samples),
        )
    except (KeyError, TypeError, ValueError) as exc:
        problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise MalformedBurst("CDSE", rid, problem) from None
    properties: dict[str, Any] = {
        "proj:code": None,
        "proj:shape": [lines, samples],
        "s1:lines_per_burst": lines,
        "cdse:id": burst_uuid,
    }
    if offset is not None:
        properties["s1:byte_offset"] = _int(offset)
    if isinstance(record.get("ParentProductId"), str):
        properties["cdse:parent_product_id"] = record["ParentProductId"]
    if isinstance(record.get("DatatakeID"), int):
        properties["cdse:datatake_id"] = record["DatatakeID"]
    assets = {
        "cdse": {
            "href": f"{catalogue_url.rstrip('/')}/Bursts({burst_uuid})/$value",
            "type": "application/zip",
            "title": "Burst as a one-burst SAFE (CDSE on-demand extraction: POST, re-POST on redirect)",
            "roles": ["data"],
            "eocat:protocol": "cdse-burst",
            "auth:refs": ["oidc"],
        }
    }
    return _item(burst, properties, assets, "cdse", ["authentication", "proj", "sar", "sat"])


# -- ASF --------------------------------------------------------------------------------------------


def asf_feature_to_item(feature: dict[str, Any], *, burst_url: str) -> dict[str, Any]:
    """One ASF SearchAPI ``output=geojson`` burst feature -> a STAC item of ``sentinel-1-bursts``."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    rid = str((props or {}).get("fileID") or "<no fileID>")
    try:
        if not isinstance(props, dict):
            raise TypeError("feature has no properties object")
        info = props["burst"]
        segments = httpx.URL(str(props["url"])).path.strip("/").split("/")
        if len(segments) != 4:
            raise ValueError(f"url {props['url']!r} is not <extractor>/<SLC>/<swath>/<pol>/<index>.tiff")
        parent = parse_parent(segments[0]).name
        subswath = _choice(info["subswath"], SUBSWATH)
        polarization = _choice(props["polarization"], POLARIZATIONS)
        index = _int(info["burstIndex"])
        geometry, bbox = _geometry(feature.get("geometry"))
        azimuth_text = info["azimuthTime"]
        platform = str(props["platform"]).lower()
        if platform != parse_parent(parent).platform:
            raise ValueError(f"platform {props['platform']!r} does not match the parent SLC {parent}")
        burst = _Burst(
            parent=parent,
            subswath=subswath,
            polarization=polarization,
            relative_burst_id=_int(info["relativeBurstID"]),
            absolute_burst_id=_int(info["absoluteBurstID"]),
            track=_int(props["pathNumber"]),
            orbit_state=_orbit_state(props["flightDirection"]),
            mode=_choice(props.get("beamModeType") or parent[4:6], ("IW", "EW")),
            azimuth_time=_time(azimuth_text),
            precise=bool(_PRECISE.search(str(azimuth_text))),
            azimuth_anx_time=_float(info["azimuthAnxTime"]),
            start=_time(props["startTime"]),
            end=_time(props["stopTime"]),
            geometry=geometry,
            bbox=bbox,
            samples=_int(info["samplesPerBurst"]),
            burst_index=index,
        )
        size = None if props.get("bytes") in (None, "") else _int(props["bytes"])
    except (KeyError, TypeError, ValueError) as exc:
        problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise MalformedBurst("ASF", rid, problem) from None
    properties: dict[str, Any] = {}
    if size is not None:
        properties["s1:byte_length"] = size
    if isinstance(props.get("pgeVersion"), str):
        properties["s1:ipf_version"] = props["pgeVersion"]
    if isinstance(props.get("groupID"), str):
        properties["asf:group_id"] = props["groupID"]
    base = f"{burst_url.rstrip('/')}/{parent}/{subswath}/{polarization}/{index}"
    common = {"eocat:protocol": "asf-extractor", "auth:refs": ["earthdata"]}
    assets = {
        "tiff": {"href": f"{base}.tiff", "type": "image/tiff; application=geotiff",
                 "title": "Burst SLC as GeoTIFF (ASF burst extractor)", "roles": ["data"], **common},
        "xml": {"href": f"{base}.xml", "type": "application/xml",
                "title": "Burst metadata: manifest and annotations of the parent SLC (ASF burst extractor)",
                "roles": ["metadata"], **common},
    }  # fmt: skip
    return _item(burst, properties, assets, "asf", ["authentication", "sar", "sat"])
