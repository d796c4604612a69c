"""The fetch step of ``make demo``: one asset of each kind, through the real ``eocat`` commands.

Starts a CDSE emulator with real product payloads, harvests a few Sentinel-2 L2A products, then fetches a
whole product, the SCL band through the Nodes tree, and the product again (instant, from the catalogue's
record of the local copy). Bursts (CDSE on-demand, ASF extractor) are fetched in the bursts step, DestinE
frames in the DestinE step.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from emulators.cdse import CdseEmulator, SyntheticProducts


def run(directory: Path, eocat: Callable[..., None], step: Callable[[str], None]) -> None:
    """Harvest a little, then fetch one asset of each kind (the demo's ``eocat`` and ``step`` helpers)."""
    step("fetch: a CDSE product and its SCL band (Nodes) — verified, atomically published and recorded")
    recipe = SyntheticProducts(
        seed=11, count=3, start="2023-07-01T00:00:00Z", end="2023-07-03T00:00:00Z",
        collections=("SENTINEL-2",), product_types=("S2MSI2A",), payload_size=12_000_000,
    )  # fmt: skip
    with CdseEmulator(products=recipe, include_fixtures=False, range_mode="honour") as cdse:
        env = {**os.environ, **cdse.environment(), "EOCAT_TOKEN_CACHE": "0",
               "CDSE_USERNAME": "demo", "CDSE_PASSWORD": "demo"}  # fmt: skip
        eocat("harvest", "cdse", "--collection", "SENTINEL-2", "--product-type", "S2MSI2A",
              "--datetime", "2023-07-01/2023-07-02", env=env)  # fmt: skip
        product = cdse.records()[0]["Name"].removesuffix(".SAFE")
        eocat("fetch", product, "--asset", "product", env=env)
        eocat("fetch", product, "--asset", "SCL", env=env)
        step("fetch the product again: the catalogue knows the local copy, nothing is transferred")
        eocat("fetch", product, "--asset", "product", env=env)
        eocat("search", "--ids", product, "--format", "ndjson", "--fields", "assets.product.alternate", env=env)
