"""The STAC vocabulary eocat writes, in one place: the STAC version, extension schema URIs and the
``auth:schemes`` documents of the services its items point at.

Extension URIs come from pystac's extension classes where pystac (>= 1.10) writes the version eocat
uses; the others are newer than pystac knows (pystac 1.15: eo v1.1.0, sar v1.0.0, sat v1.0.0, view
v1.0.0, raster v1.1.0) or have no pystac class. ``tests/test_stac_vocabulary.py`` checks that every URI
has an offline schema, so a pystac upgrade that moves a version shows up there.

Timestamps: the canonical text form and its parser live in :mod:`catalog.timeutil`.
"""

from __future__ import annotations

import copy
from typing import Any

from pystac.extensions.file import FileExtension
from pystac.extensions.grid import GridExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.timestamps import TimestampsExtension
from pystac.version import STACVersion

__all__ = [
    "AUTH_SCHEMES",
    "CDSE_OPENID_CONFIGURATION",
    "DESP_OPENID_CONFIGURATION",
    "EXTENSIONS",
    "STAC_VERSION",
    "auth_schemes",
    "extension_uris",
]

STAC_VERSION: str = STACVersion.DEFAULT_STAC_VERSION

_STAC_EXTENSIONS = "https://stac-extensions.github.io"

EXTENSIONS: dict[str, str] = {
    "alternate": f"{_STAC_EXTENSIONS}/alternate-assets/v1.2.0/schema.json",
    "authentication": f"{_STAC_EXTENSIONS}/authentication/v1.1.0/schema.json",
    "eo": f"{_STAC_EXTENSIONS}/eo/v2.0.0/schema.json",
    "file": FileExtension.get_schema_uri(),
    "grid": GridExtension.get_schema_uri(),
    "processing": f"{_STAC_EXTENSIONS}/processing/v1.2.0/schema.json",
    "product": f"{_STAC_EXTENSIONS}/product/v1.0.0/schema.json",
    "proj": ProjectionExtension.get_schema_uri(),
    "raster": f"{_STAC_EXTENSIONS}/raster/v2.0.0/schema.json",
    "sar": f"{_STAC_EXTENSIONS}/sar/v1.3.0/schema.json",
    "sat": f"{_STAC_EXTENSIONS}/sat/v1.1.0/schema.json",
    "timestamps": TimestampsExtension.get_schema_uri(),
    "view": f"{_STAC_EXTENSIONS}/view/v1.1.0/schema.json",
}

CDSE_OPENID_CONFIGURATION = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/.well-known/openid-configuration"
DESP_OPENID_CONFIGURATION = "https://auth.destine.eu/realms/desp/.well-known/openid-configuration"
_EDL = "https://urs.earthdata.nasa.gov"

AUTH_SCHEMES: dict[str, dict[str, Any]] = {
    "oidc": {
        "type": "openIdConnect",
        "description": "CDSE Keycloak (client_id cdse-public); send the access token as Bearer.",
        "openIdConnectUrl": CDSE_OPENID_CONFIGURATION,
    },
    "earthdata": {
        "type": "oauth2",
        "description": "NASA Earthdata Login (EARTHDATA_USERNAME/PASSWORD or EARTHDATA_TOKEN); the ASF burst "
        "extractor wants the asf-urs cookie that ASF's login service sets after an EDL login.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": f"{_EDL}/oauth/authorize",
                "tokenUrl": f"{_EDL}/oauth/token",
                "scopes": {},
            }
        },
    },
    "desp": {
        "type": "openIdConnect",
        "description": "DestinE DESP Keycloak (public client streaming-fe, browser login); send the access token "
        "as Bearer. Credentials: DESP_USERNAME/DESP_PASSWORD or ~/.netrc.",
        "openIdConnectUrl": DESP_OPENID_CONFIGURATION,
    },
}
"""``auth:schemes`` entries by the key items use in ``auth:refs``: ``oidc`` (CDSE), ``earthdata`` (NASA
EDL, for the ASF burst extractor), ``desp`` (DestinE)."""


def auth_schemes(*names: str) -> dict[str, dict[str, Any]]:
    """A fresh ``auth:schemes`` object with the named schemes (callers may mutate it)."""
    return {name: copy.deepcopy(AUTH_SCHEMES[name]) for name in names}


def extension_uris(*names: str) -> list[str]:
    """The schema URIs of the named extensions, sorted (the ``stac_extensions`` order eocat writes)."""
    return sorted(EXTENSIONS[name] for name in names)
