"""DestinE S3 NDVI metadata records → STAC items of the ``destine-s3-ndvi`` collection (one per frame).

A record is one ``images[]`` entry with the response's stream context (``stream_path``, ``nx``, ``ny``,
``bbox``) and the continent. The item's one asset, ``ndvi``, is the video stream itself with the frame
number (``eocat:protocol: destine-frame``, ``eocat:frame``, ``eocat:fps``): the fetch layer decodes that
frame and writes a Cloud-Optimized GeoTIFF of NDVI. Its ``bands`` describe the stream's 12-bit codes
(raster extension: ``raster:scale``/``raster:offset`` from the frame's min/max, code 0 = no data).
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import orjson

from catalog.errors import InvalidItem
from catalog.stac import STAC_VERSION, extension_uris
from catalog.timeutil import format_canonical, parse_canonical

COLLECTION_ID = "destine-s3-ndvi"
FPS = 25
LEVELS = 4095
PLATFORMS = {"S3A": "sentinel-3a", "S3B": "sentinel-3b"}
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".mkv": "video/x-matroska",
    ".ts": "video/mp2t",
    ".m3u8": "application/vnd.apple.mpegurl",
}
ITEM_EXTENSIONS = extension_uris("authentication", "proj", "raster")
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"


@cache
def _collection_text() -> bytes:
    return resources.files("indexer.destine").joinpath("collection.json").read_bytes()


def collection() -> dict[str, Any]:
    """The ``destine-s3-ndvi`` collection document (a fresh copy)."""
    document: dict[str, Any] = orjson.loads(_collection_text())
    return document


def record_id(record: dict[str, Any]) -> str:
    return f"{record['continent']}:{record['image']['img_number']}"


def frame_item(record: dict[str, Any]) -> dict[str, Any]:
    """The STAC item of one frame; raises :class:`InvalidItem` for a malformed record."""
    image, stream, continent = record.get("image") or {}, record.get("stream") or {}, str(record.get("continent"))
    number = image.get("img_number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InvalidItem(f"img_number {number!r} is not a positive integer")
    low, high = _finite(image, "img_min_value"), _finite(image, "img_max_value")
    if high < low:
        raise InvalidItem(f"frame {number}: img_max_value {high} < img_min_value {low}")
    moment = parse_start(image.get("img_start_date"))
    satellite = image.get("satellite")
    if satellite not in PLATFORMS:
        raise InvalidItem(f"frame {number}: unknown satellite {satellite!r} (expected S3A or S3B)")
    nx, ny, bbox = stream.get("nx"), stream.get("ny"), stream.get("bbox")
    href = stream.get("stream_path")
    if not (isinstance(nx, int) and isinstance(ny, int) and nx > 0 and ny > 0):
        raise InvalidItem(f"stream size nx={nx!r} ny={ny!r} is not positive integers")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox)):
        raise InvalidItem(f"stream bbox {bbox!r} is not [W, S, E, N]")
    west, south, east, north = (float(v) for v in bbox)
    if not (west < east and south < north):
        raise InvalidItem(f"stream bbox {bbox!r} is empty")
    if not isinstance(href, str) or not href:
        raise InvalidItem("the response has no stream_path")
    scale = (high - low) / LEVELS
    transform = [(east - west) / nx, 0.0, west, 0.0, -(north - south) / ny, north]
    index = number - 1
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(ITEM_EXTENSIONS),
        "id": f"s3-ndvi-{continent}-{satellite}-{moment:%Y%m%dT%H%M%S}",
        "collection": COLLECTION_ID,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
        },
        "bbox": [west, south, east, north],
        "properties": {
            "datetime": format_canonical(moment),
            "platform": PLATFORMS[satellite],
            "constellation": "sentinel-3",
            "instruments": ["olci"],
            "proj:code": "EPSG:4326",
            "proj:shape": [ny, nx],
            "proj:transform": transform,
            "proj:bbox": [west, south, east, north],
            "destine:continent": continent,
            "destine:img_number": number,
            "destine:frame_index": index,
            "destine:stream_time_s": round(index / FPS, 6),
            "destine:fps": FPS,
            "destine:scale_min": low,
            "destine:scale_max": high,
            "destine:bit_depth": 12,
            "auth:schemes": collection()["auth:schemes"],
        },
        "links": [{"rel": "collection", "href": "./collection.json", "type": "application/json"}],
        "assets": {
            "ndvi": {
                "href": href,
                "type": _media_type(href),
                "title": f"NDVI frame {number} of the {continent} stream ({satellite}, {moment:%Y-%m-%d %H:%M:%S} UTC)",
                "description": (
                    f"The DestinE stream (video); frame {number} is at {index / FPS:.2f} s. Fetching decodes that "
                    "frame, dequantizes it with raster:scale/raster:offset and writes a Cloud-Optimized GeoTIFF "
                    "of NDVI (float32, EPSG:4326, nodata NaN)."
                ),
                "roles": ["data"],
                "eocat:protocol": "destine-frame",
                "eocat:frame": number,
                "eocat:fps": FPS,
                "auth:refs": ["desp"],
                "bands": [
                    {
                        "name": "ndvi",
                        "data_type": "uint16",
                        "nodata": 0,
                        "raster:bits_per_sample": 12,
                        "raster:scale": scale,
                        "raster:offset": low,
                    }
                ],
            }
        },
    }


def parse_start(value: Any) -> datetime:
    """``img_start_date`` (``%Y-%m-%dT%H:%M:%S[.%f]``, no zone = UTC) as an aware datetime."""
    if not isinstance(value, str) or not value:
        raise InvalidItem(f"img_start_date {value!r} is missing")
    try:
        return parse_canonical(value)
    except ValueError:
        raise InvalidItem(f"img_start_date {value!r} is not a date-time") from None


def _finite(image: dict[str, Any], key: str) -> float:
    value = image.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidItem(f"frame {image.get('img_number')}: {key} {value!r} is not a finite number")
    return float(value)


def _media_type(href: str) -> str:
    path = href.split("?", 1)[0].lower()
    for suffix, media_type in MEDIA_TYPES.items():
        if path.endswith(suffix):
            return media_type
    return "video/mp4"
