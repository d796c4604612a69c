"""The fetch step of ``make demo``: one asset of each kind, through the real ``eocat`` commands.

Starts small emulators (CDSE with real product payloads, ASF extractor + Earthdata Login), harvests a
few Sentinel-2 L2A products, imports one hand-made burst item carrying the CDSE and ASF burst assets
(the burst harvesters are built in parallel), then fetches: a whole product, the SCL band through the
Nodes tree, a CDSE on-demand burst and the ASF burst TIFF + XML; and the product again (instant).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from emulators.asf_extractor import AsfExtractorEmulator
from emulators.cdse import CdseEmulator, SyntheticProducts

GRANULE = "S1A_IW_SLC__1SDV_20220219T125500_20220219T125527_041982_04FFF7_10AF"
BURST_ID = "46577370-83b3-4410-89de-09b4bb23e5dd"


def burst_item(catalogue_url: str, burst_url: str) -> dict[str, object]:
    """One burst with the assets of both sources (as the burst harvesters write them)."""
    asf = {"eocat:protocol": "asf-extractor", "auth:refs": ["earthdata"]}
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": "S1_181296_IW1_20220219T125501_VV_10AF-demo",
        "collection": "sentinel-1-bursts",
        "geometry": {"type": "Point", "coordinates": [-147.7, 64.8]},
        "bbox": [-147.7, 64.8, -147.7, 64.8],
        "properties": {
            "datetime": "2022-02-19T12:55:01Z",
            "auth:schemes": {
                "oidc": {"type": "openIdConnect", "openIdConnectUrl": catalogue_url},
                "earthdata": {"type": "http", "scheme": "cookie", "description": "NASA Earthdata Login"},
            },
        },
        "links": [],
        "assets": {
            "cdse": {"href": f"{catalogue_url}/Bursts({BURST_ID})/$value", "type": "application/zip",
                     "roles": ["data"], "eocat:protocol": "cdse-burst", "auth:refs": ["oidc"]},
            "tiff": {"href": f"{burst_url}/{GRANULE}/IW1/VV/0.tiff", "type": "image/tiff", "roles": ["data"], **asf},
            "xml": {"href": f"{burst_url}/{GRANULE}/IW1/VV/0.xml", "type": "application/xml",
                    "roles": ["metadata"], **asf},
        },
    }  # fmt: skip


def run(directory: Path, eocat: Callable[..., None], step: Callable[[str], None]) -> None:
    """Harvest a little, then fetch one asset of each kind (the demo's ``eocat`` and ``step`` helpers)."""
    step("fetch: a product, its SCL band (Nodes), a CDSE on-demand burst, an ASF burst — verified and recorded")
    recipe = SyntheticProducts(
        seed=11, count=3, start="2023-07-01T00:00:00Z", end="2023-07-03T00:00:00Z",
        collections=("SENTINEL-2",), product_types=("S2MSI2A",), payload_size=12_000_000,
    )  # fmt: skip
    with (
        CdseEmulator(products=recipe, include_fixtures=False, range_mode="honour") as cdse,
        AsfExtractorEmulator() as asf,
    ):
        env = {**os.environ, **cdse.environment(), **asf.environment(), "EOCAT_TOKEN_CACHE": "0",
               "CDSE_USERNAME": "demo", "CDSE_PASSWORD": "demo", "EARTHDATA_USERNAME": "demo",
               "EARTHDATA_PASSWORD": "demo", "EOCAT_ASF_POLL_INTERVAL": "0.2"}  # fmt: skip
        eocat("harvest", "cdse", "--collection", "SENTINEL-2", "--product-type", "S2MSI2A",
              "--start", "2023-07-01", "--end", "2023-07-02", env=env)  # fmt: skip
        bursts = directory / "fetch-demo-burst.ndjson"
        bursts.write_text(json.dumps(burst_item(cdse.catalogue_url, asf.burst_url)) + "\n")
        eocat("import", str(bursts), env=env)
        product = cdse.records()[0]["Name"].removesuffix(".SAFE")
        eocat("fetch", product, "--asset", "product", env=env)
        eocat("fetch", product, "--asset", "SCL", env=env)
        eocat("fetch", "S1_181296_IW1_20220219T125501_VV_10AF-demo", "--asset", "cdse,tiff,xml", env=env)
        step("fetch the product again: the catalogue knows the local copy, nothing is transferred")
        eocat("fetch", product, "--asset", "product", env=env)
        eocat("search", "--ids", product, "--format", "ndjson", "--fields", "assets.product.alternate", env=env)
