"""``eocat harvest``: the group, and ``harvest cdse`` (bursts and DestinE register theirs from their modules)."""

from __future__ import annotations

from typing import Any

import click

from eocat.options import HarvestArgs, finish_harvest, harvest_options, open_catalog


@click.group()
def harvest() -> None:
    """Harvest an upstream catalogue into this one (resumable; run again to continue)."""


@harvest.command("cdse")
@click.option("--collection", required=True, help="CDSE collection, e.g. SENTINEL-1, SENTINEL-2, SENTINEL-3.")
@click.option("--product-type", help="e.g. S2MSI2A, S2MSI1C, IW_SLC__1S, IW_GRDH_1S.")
@harvest_options
@click.option("--cloud-cover-max", type=click.FloatRange(0, 100), help="Only products at most this cloudy.")
@click.option(
    "--since-last", is_flag=True,
    help="Only products modified since the last complete harvest (a first run harvests everything).",
)  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, 4), default=4, show_default=True, help="Parallel connections.")
@click.pass_context
def harvest_cdse(
    ctx: click.Context, collection: str, product_type: str | None, harvest: HarvestArgs,
    cloud_cover_max: float | None, since_last: bool, jobs: int, output: str,
) -> None:  # fmt: skip
    """CDSE OData products (Sentinel-1/2/3 …) by collection, type, area, dates and cloud cover."""
    from catalog.errors import InvalidQuery
    from indexer.cdse.client import ProductQuery, harvest_products
    from indexer.cdse.mapping import TABLES

    known = list(TABLES["missions_by_platform"])
    if collection.upper() not in known:
        raise InvalidQuery(f"unknown CDSE collection {collection!r}: eocat harvests {', '.join(known)}")
    query = ProductQuery(collection.upper(), product_type, harvest.area, cloud_cover_max)
    store: Any = open_catalog(ctx, must_exist=False)
    report = harvest_products(store, query, *harvest.window, since_last=since_last, jobs=jobs, restart=harvest.restart)
    finish_harvest(ctx, store, report, output)
