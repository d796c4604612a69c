"""One STAC 1.1 Collection document per kind."""

from __future__ import annotations

import copy
from typing import Any

from catalog.stac import EXTENSIONS, STAC_VERSION
from emulators.s1truth import N_BURST_IDS
from eocat.samples.sentinel3 import CONTINENTS
from eocat.samples.vocabulary import (
    COLLECTION_IDS,
    DESTINE_LICENSE,
    SENTINEL_LICENSE,
    burst_schemes,
    cdse_schemes,
    desp_schemes,
)


def _providers(kind: str) -> list[dict[str, Any]]:
    if kind == "s3-ndvi":
        return [
            {"name": "ESA / EUMETSAT", "roles": ["producer"], "url": "https://sentinels.copernicus.eu"},
            {
                "name": "Destination Earth (DestinE) data streamer",
                "roles": ["processor", "host"],
                "url": "https://platform.destine.eu",
            },
        ]
    providers: list[dict[str, Any]] = [
        {"name": "ESA", "roles": ["producer", "licensor"], "url": "https://sentinels.copernicus.eu"},
        {
            "name": "Copernicus Data Space Ecosystem",
            "roles": ["processor", "host"],
            "url": "https://dataspace.copernicus.eu",
        },
    ]
    if kind == "s1-burst":
        providers.append(
            {
                "name": "Alaska Satellite Facility",
                "roles": ["host"],
                "url": "https://sentinel1-burst-documentation.asf.alaska.edu",
            }
        )
    return providers


def collections() -> list[dict[str, Any]]:
    """One STAC 1.1 Collection per kind, in ``KINDS`` order."""
    x = EXTENSIONS
    full = [[-180.0, -90.0, 180.0, 90.0]]
    s1_sum: dict[str, Any] = {
        "constellation": ["sentinel-1"],
        "instruments": ["sar"],
        "sar:frequency_band": ["C"],
        "sar:center_frequency": [5.405],
        "sar:instrument_mode": ["IW", "EW"],
        "sar:polarizations": ["VV", "VH", "HH", "HV"],
        "sat:orbit_state": ["ascending", "descending"],
        "sat:relative_orbit": {"minimum": 1, "maximum": 175},
    }
    cdse_auth = {"auth:schemes": cdse_schemes()}
    product_asset = {
        "type": "application/zip",
        "title": "Zipped product",
        "roles": ["data", "metadata", "archive"],
        "auth:refs": ["oidc"],
    }
    out: list[dict[str, Any]] = []

    def collection(
        kind: str,
        title: str,
        description: str,
        keywords: list[str],
        extent: dict[str, Any],
        summaries: dict[str, Any],
        item_assets: dict[str, Any],
        extensions: list[str],
        extra: dict[str, Any],
        license_href: str = SENTINEL_LICENSE,
    ) -> None:
        out.append(
            {
                "type": "Collection",
                "stac_version": STAC_VERSION,
                "stac_extensions": sorted(extensions),
                "id": COLLECTION_IDS[kind],
                "title": title,
                "description": description,
                "keywords": keywords,
                "license": "other",
                "providers": _providers(kind),
                "extent": extent,
                "summaries": summaries,
                "item_assets": item_assets,
                **extra,
                "links": [{"rel": "license", "href": license_href, "type": "text/html", "title": "Legal notice"}],
            }
        )

    s1_ext = [x["authentication"], x["product"], x["sar"], x["sat"], x["processing"]]
    s1_extent = {"spatial": {"bbox": full}, "temporal": {"interval": [["2014-10-03T00:00:00Z", None]]}}
    s1_assets = {
        "product": product_asset,
        "safe_manifest": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["oidc"]},
        "thumbnail": {"type": "image/png", "roles": ["thumbnail"]},
    }
    s1_levels = (  # kind, title, description, keyword, product types
        ("s1-slc", "Sentinel-1 Level-1 Single Look Complex (SLC)",
         "Sentinel-1 C-band SAR Level-1 SLC products (IW and EW), focused complex data in slant range "
         "geometry, one item per product slice (~25 s).", "slc", ["IW_SLC__1S", "EW_SLC__1S"]),
        ("s1-grd", "Sentinel-1 Level-1 Ground Range Detected (GRD)",
         "Sentinel-1 C-band SAR Level-1 GRD products (IW high resolution, EW medium resolution), "
         "detected, multi-looked and projected to ground range.", "grd", ["IW_GRDH_1S", "EW_GRDM_1S"]),
    )  # fmt: skip
    for kind, title, description, keyword, product_types in s1_levels:
        summaries = {
            **s1_sum,
            "platform": ["sentinel-1a", "sentinel-1b", "sentinel-1c"],
            "product:type": product_types,
            "processing:level": ["L1"],
        }
        keywords = ["sentinel", "copernicus", "esa", "sar", "c-band", keyword]
        collection(
            kind, title, description, keywords, s1_extent, summaries, copy.deepcopy(s1_assets), s1_ext, cdse_auth
        )
    collection(
        "s1-burst",
        "Sentinel-1 SLC bursts",
        "Single Sentinel-1 IW SLC bursts, one item per (parent SLC, subswath, polarization, relative "
        "burst id), merged from CDSE Bursts (on-demand extraction) and the ASF burst extractor. Custom "
        "fields (no STAC extension exists): `s1:relative_burst_id`, `s1:absolute_burst_id`, "
        "`s1:full_burst_id` ({track:03d}_{relative_burst_id:06d}_{subswath}), `s1:subswath`, "
        "`s1:burst_index` (0-based within the parent subswath), `s1:parent_product` (SLC name without "
        ".SAFE), `s1:azimuth_anx_time` (s).",
        ["sentinel", "copernicus", "esa", "sar", "c-band", "slc", "burst", "insar"],
        {"spatial": {"bbox": full}, "temporal": {"interval": [["2014-10-03T00:00:00Z", None]]}},
        {
            **s1_sum,
            "platform": ["sentinel-1a"],
            "sar:instrument_mode": ["IW"],
            "sar:product_type": ["SLC"],
            "s1:subswath": ["IW1", "IW2", "IW3"],
            "s1:relative_burst_id": {"minimum": 1, "maximum": N_BURST_IDS},
            "s1:burst_index": {"minimum": 0, "maximum": 9},
        },
        {
            "cdse": {"type": "application/zip", "roles": ["data", "archive"], "auth:refs": ["oidc"]},
            "tiff": {"type": "image/tiff; application=geotiff", "roles": ["data"], "auth:refs": ["earthdata"]},
            "xml": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["earthdata"]},
        },
        [x["authentication"], x["sar"], x["sat"]],
        {"auth:schemes": burst_schemes()},
    )
    collection(
        "s2-l2a",
        "Sentinel-2 Level-2A",
        "Sentinel-2 MSI Level-2A bottom-of-atmosphere reflectance, one item per 110 km x 110 km MGRS "
        "tile and datatake.",
        ["sentinel", "copernicus", "esa", "msi", "optical", "l2a"],
        {"spatial": {"bbox": full}, "temporal": {"interval": [["2015-07-04T00:00:00Z", None]]}},
        {
            "platform": ["sentinel-2a", "sentinel-2b", "sentinel-2c"],
            "constellation": ["sentinel-2"],
            "instruments": ["msi"],
            "gsd": [10],
            "eo:cloud_cover": {"minimum": 0, "maximum": 100},
            "sat:orbit_state": ["descending"],
            "sat:relative_orbit": {"minimum": 1, "maximum": 143},
            "product:type": ["S2MSI2A"],
            "processing:level": ["L2"],
        },
        {
            "product": product_asset,
            "product_metadata": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["oidc"]},
            "thumbnail": {"type": "image/jpeg", "roles": ["thumbnail", "overview"]},
        },
        [x["authentication"], x["eo"], x["product"], x["sat"], x["processing"]],
        cdse_auth,
    )
    s3_bbox = [[-25.0, -36.0, 55.0, 72.0]] + [list(b) for b, _nx, _ny in CONTINENTS.values()]
    collection(
        "s3-ndvi",
        "DestinE streamed Sentinel-3 NDVI (daily continent frames)",
        "Daily Sentinel-3 (S3A, S3B) NDVI frames per continent from the DestinE data streamer: 12-bit "
        "video frames dequantized with each frame's min/max, on an EPSG:4326 grid over the continent "
        "box. Custom fields: `destine:continent`, `destine:img_number` (1-based frame number in the "
        "stream), `destine:frame_index`, `destine:stream_time_s` ((img_number-1)/25), `destine:fps`, "
        "`destine:scale_min`, `destine:scale_max`, `destine:bit_depth`.",
        ["sentinel", "copernicus", "destine", "olci", "ndvi", "vegetation"],
        {"spatial": {"bbox": s3_bbox}, "temporal": {"interval": [["2020-01-02T00:00:00Z", None]]}},
        {
            "platform": ["sentinel-3a", "sentinel-3b"],
            "constellation": ["sentinel-3"],
            "instruments": ["olci"],
            "proj:code": ["EPSG:4326"],
            "destine:continent": list(CONTINENTS),
        },
        {"stream": {"type": "video/mp4", "roles": ["source"], "auth:refs": ["desp"]}},
        [x["authentication"], x["proj"]],
        {"auth:schemes": desp_schemes()},
        license_href=DESTINE_LICENSE,
    )
    return out
