"""What the generated items and collections say: kinds and collection ids, extensions, service URLs,
authentication schemes and links."""

from __future__ import annotations

from typing import Any

KINDS = ("s1-slc", "s1-grd", "s1-burst", "s2-l2a", "s3-ndvi")

COLLECTION_IDS: dict[str, str] = {
    "s1-slc": "sentinel-1-slc",
    "s1-grd": "sentinel-1-grd",
    "s1-burst": "sentinel-1-bursts",
    "s2-l2a": "sentinel-2-l2a",
    "s3-ndvi": "destine-s3-ndvi",
}

STAC_VERSION = "1.1.0"

EXTENSIONS: dict[str, str] = {
    "authentication": "https://stac-extensions.github.io/authentication/v1.1.0/schema.json",
    "eo": "https://stac-extensions.github.io/eo/v2.0.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "grid": "https://stac-extensions.github.io/grid/v1.1.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "product": "https://stac-extensions.github.io/product/v1.0.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.3.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.1.0/schema.json",
    "timestamps": "https://stac-extensions.github.io/timestamps/v1.1.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.1.0/schema.json",
}
COPERNICUS_ZIPPER = "https://zipper.dataspace.copernicus.eu/odata/v1"
COPERNICUS_QUICKLOOK = "https://datahub.creodias.eu/odata/v1"
CDSE_OIDC = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/.well-known/openid-configuration"
ASF_BURST = "https://sentinel1-burst.asf.alaska.edu"
EDL = "https://urs.earthdata.nasa.gov"
DESTINE_STREAMER = "https://streamer.destine.eu"
DESP_OIDC = "https://auth.destine.eu/realms/desp/.well-known/openid-configuration"
SENTINEL_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"
DESTINE_LICENSE = "https://platform.destine.eu/terms-and-conditions/"


def cdse_schemes() -> dict[str, Any]:
    return {
        "oidc": {
            "type": "openIdConnect",
            "description": "CDSE Keycloak (client_id cdse-public); send the access token as Bearer.",
            "openIdConnectUrl": CDSE_OIDC,
        }
    }


def edl_scheme() -> dict[str, Any]:
    return {
        "type": "oauth2",
        "description": "NASA Earthdata Login; the ASF burst extractor needs the asf-urs cookie.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": f"{EDL}/oauth/authorize",
                "tokenUrl": f"{EDL}/oauth/token",
                "scopes": {},
            }
        },
    }


def desp_schemes() -> dict[str, Any]:
    return {
        "desp": {
            "type": "openIdConnect",
            "description": "DestinE DESP Keycloak; send the access token as Bearer.",
            "openIdConnectUrl": DESP_OIDC,
        }
    }


def collection_link(cid: str) -> dict[str, str]:
    return {"rel": "collection", "href": "../collection.json", "type": "application/json", "title": cid}


def license_link(href: str) -> dict[str, str]:
    return {"rel": "license", "href": href, "type": "text/html", "title": "Legal notice"}
