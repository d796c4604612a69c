"""The STAC item of one ARD output (``sentinel-1-ard``): what it is, how it was made, where it came from."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from catalog.fetch.files import file_digest
from catalog.fetch.verify import multihash

EXTENSIONS = [
    "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "https://stac-extensions.github.io/sar/v1.3.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "https://stac-extensions.github.io/raster/v2.0.0/schema.json",
    "https://stac-extensions.github.io/file/v2.1.0/schema.json",
]
KEPT = (
    "datetime", "start_datetime", "end_datetime", "platform", "constellation", "instruments",
    "sar:instrument_mode", "sar:frequency_band", "sar:center_frequency", "sar:observation_direction",
    "sat:orbit_state", "sat:relative_orbit", "sat:absolute_orbit", "sat:anx_datetime",
    "sat:platform_international_designator",
)  # fmt: skip


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def checksum_of(path: Path) -> str:
    """Multihash MD5 (``d50110…``) of a file, through the fetch layer's hashing."""
    return multihash("md5", file_digest(path, "md5"))


def _footprint(grid: Any) -> tuple[dict[str, Any], list[float]]:
    from pyproj import Transformer

    x0, y0, x1, y1 = grid.bounds
    to = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    ring_x, ring_y = [], []
    for (ax, ay), (bx, by) in [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))]:
        for f in (0.0, 0.25, 0.5, 0.75):
            ring_x.append(ax + (bx - ax) * f)
            ring_y.append(ay + (by - ay) * f)
    lon, lat = to.transform(ring_x, ring_y)
    ring = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat, strict=True)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}, [min(lon), min(lat), max(lon), max(lat)]


def ard_item(
    grd: dict[str, Any],
    polarization: str,
    options: Any,
    grid: Any,
    data: Path,
    mask: Path,
    dem_note: str,
    item_id: str,
) -> dict[str, Any]:
    """The ``sentinel-1-ard`` item of one output COG (and its mask) made from GRD item ``grd``."""
    props = grd.get("properties", {})
    geometry, bbox = _footprint(grid)
    unit = "dB" if options.db else "linear power (m2/m2)"
    measure = options.measure
    properties: dict[str, Any] = {k: props[k] for k in KEPT if k in props}
    properties.update(
        {
            "title": f"{measure} {polarization} of {grd['id']}",
            "sar:polarizations": [polarization],
            "sar:product_type": "RTC" if measure == "gamma0_rtc" else "GTC",
            "processing:level": "L2",
            "processing:facility": "eocat",
            "processing:datetime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "processing:software": {
                "eocat": _version("eocat"),
                "sarsen": _version("sarsen"),
                "xarray-sentinel": _version("xarray-sentinel"),
            },
            "processing:lineage": (
                f"{measure} by sarsen terrain correction on {dem_note}; thermal noise "
                f"{'removed' if options.remove_noise else 'kept'}; border trimmed by {options.border} px; "
                "active layover/shadow masked"
            ),
            "proj:code": grid.crs,
            "proj:shape": [grid.height, grid.width],
            "proj:transform": list(grid.transform)[:6],
            "proj:bbox": list(grid.bounds),
            "eocat:measure": measure,
            "eocat:db_scale": bool(options.db),
            "eocat:dem": dem_note,
            "eocat:grd": grd["id"],
        }
    )
    assets = {
        "backscatter": {
            "href": data.absolute().as_uri(),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{measure} {polarization} ({unit})",
            "roles": ["data", "backscatter"],
            "bands": [
                {"data_type": "float32", "nodata": "nan", "unit": unit, "raster:spatial_resolution": grid.resolution}
            ],  # fmt: skip,
            "file:size": data.stat().st_size,
            "file:checksum": checksum_of(data),
        },
        "mask": {
            "href": mask.absolute().as_uri(),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": "layover (1) / shadow (2) mask",
            "roles": ["metadata", "mask"],
            "bands": [{"data_type": "uint8", "raster:spatial_resolution": grid.resolution}],
        },
    }
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": EXTENSIONS,
        "id": item_id,
        "collection": "sentinel-1-ard",
        "geometry": geometry,
        "bbox": bbox,
        "properties": properties,
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {
                "rel": "derived_from",
                "href": f"../../{grd.get('collection')}/items/{grd['id']}",
                "type": "application/geo+json",
                "title": grd["id"],
            },
        ],
        "assets": assets,
    }
