"""What the generated items and collections say: kinds and collection ids, extensions, service URLs,
authentication schemes and links."""

from __future__ import annotations

from typing import Any

from catalog.stac import STAC_VERSION, auth_schemes

KINDS = ("s1-slc", "s1-grd", "s1-burst", "s2-l2a", "s3-ndvi")

COLLECTION_IDS: dict[str, str] = {
    "s1-slc": "sentinel-1-slc",
    "s1-grd": "sentinel-1-grd",
    "s1-burst": "sentinel-1-bursts",
    "s2-l2a": "sentinel-2-l2a",
    "s3-ndvi": "destine-s3-ndvi",
}

COPERNICUS_ZIPPER = "https://zipper.dataspace.copernicus.eu/odata/v1"
COPERNICUS_QUICKLOOK = "https://datahub.creodias.eu/odata/v1"
ASF_BURST = "https://sentinel1-burst.asf.alaska.edu"
DESTINE_STREAMER = "https://streamer.destine.eu"
SENTINEL_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"
DESTINE_LICENSE = "https://platform.destine.eu/terms-and-conditions/"


def cdse_schemes() -> dict[str, Any]:
    """``auth:schemes`` of a CDSE product: the CDSE OpenID Connect scheme (``oidc``)."""
    return auth_schemes("oidc")


def burst_schemes() -> dict[str, Any]:
    """``auth:schemes`` of a burst: CDSE (``oidc``) and NASA Earthdata Login (``earthdata``)."""
    return auth_schemes("oidc", "earthdata")


def desp_schemes() -> dict[str, Any]:
    """``auth:schemes`` of a DestinE frame (``desp``)."""
    return auth_schemes("desp")


def collection_link(cid: str) -> dict[str, str]:
    return {"rel": "collection", "href": "../collection.json", "type": "application/json", "title": cid}


def license_link(href: str) -> dict[str, str]:
    return {"rel": "license", "href": href, "type": "text/html", "title": "Legal notice"}


def skeleton(
    item_id: str, cid: str, extensions: list[str], geometry: dict[str, Any], bbox: list[float]
) -> dict[str, Any]:
    """The first fields of a generated item, in the generator's key order (properties, links, assets follow)."""
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": extensions,
        "id": item_id,
        "collection": cid,
        "geometry": geometry,
        "bbox": bbox,
    }


def zipped_product(base: str, size: int, checksum: str, local_path: str) -> dict[str, Any]:
    """The ``product`` asset of a CDSE product: the zip at ``{base}/$value``."""
    return {
        "href": f"{base}/$value",
        "type": "application/zip",
        "title": "Zipped product",
        "roles": ["data", "metadata", "archive"],
        "file:size": size,
        "file:checksum": checksum,
        "file:local_path": local_path,
        "auth:refs": ["oidc"],
    }
