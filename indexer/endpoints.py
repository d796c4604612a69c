"""Upstream endpoints: the real services by default, overridable by environment (e.g. emulators)."""

from __future__ import annotations

import os

ENDPOINTS: dict[str, tuple[str, str]] = {
    "cdse_catalogue": ("EOCAT_CDSE_CATALOGUE_URL", "https://catalogue.dataspace.copernicus.eu/odata/v1"),
    "cdse_token": (
        "EOCAT_CDSE_TOKEN_URL",
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token",
    ),
    "cdse_download": ("EOCAT_CDSE_DOWNLOAD_URL", "https://zipper.dataspace.copernicus.eu/odata/v1"),
    "asf_search": ("EOCAT_ASF_SEARCH_URL", "https://api.daac.asf.alaska.edu/services/search/param"),
    "asf_burst": ("EOCAT_ASF_BURST_URL", "https://sentinel1-burst.asf.alaska.edu"),
    "edl": ("EOCAT_EDL_URL", "https://urs.earthdata.nasa.gov"),
    "destine_streamer": ("EOCAT_DESTINE_STREAMER_URL", "https://streamer.destine.eu"),
    "desp_auth": ("EOCAT_DESP_AUTH_URL", "https://auth.destine.eu/realms/desp"),
}


def endpoint(name: str) -> str:
    """The URL of an upstream endpoint, from its environment variable or the real default."""
    variable, default = ENDPOINTS[name]
    return (os.environ.get(variable) or default).rstrip("/")
