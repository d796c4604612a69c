"""DestinE commands: ``harvest destine`` and ``timescan`` (frames are fetched by ``eocat fetch``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eocat.options import (
    HarvestArgs,
    echo_json,
    err,
    finish_harvest,
    format_option,
    harvest_options,
    json_alias,
    open_catalog,
    select_items,
    selection_options,
    wants_json,
)

if TYPE_CHECKING:
    from catalog.search import Query

NDVI_COLLECTION = "destine-s3-ndvi"


def _tokens(ctx: click.Context) -> Any:
    """DESP tokens when credentials are configured (stream URLs are signed, so they are optional)."""
    from indexer.destine.auth import DespTokenProvider
    from indexer.errors import AuthError

    try:
        provider = DespTokenProvider.from_environment()
    except AuthError:
        return None
    ctx.call_on_close(provider.close)
    return provider


@click.command("destine")
@click.option("--continent", required=True, help="Stream to harvest: Europe, Africa, …")
@harvest_options(area=False)
@click.option("--jobs", type=click.IntRange(1, 4), default=2, show_default=True, help="Parallel requests.")
@click.pass_context
def harvest_destine(ctx: click.Context, continent: str, harvest: HarvestArgs, output: str, jobs: int) -> None:
    """DestinE streamed Sentinel-3 NDVI: one item per video frame (DESP_USERNAME/DESP_PASSWORD or ~/.netrc)."""
    from indexer.destine.auth import DespTokenProvider
    from indexer.destine.client import harvest_frames

    store: Any = open_catalog(ctx, must_exist=False)
    with DespTokenProvider.from_environment() as tokens:
        report = harvest_frames(store, continent, *harvest.window, tokens=tokens, jobs=jobs, restart=harvest.restart)
    finish_harvest(ctx, store, report, output)


@click.command("timescan")
@selection_options(limit="Use at most N frames.")
@click.option(
    "--metrics",
    default="avg,max,min,std,cov",
    show_default=True,
    help="Comma-separated: avg, max, min, std, cov, count.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output COG (.tif).")
@click.option("--nodata", default="zero", show_default=True, help="No-data rule of the frames: zero, none, below:X.")
@format_option("table", "json", help="table: a summary on stderr; json: the report on stdout too.")
@json_alias
@click.pass_context
def timescan_command(
    ctx: click.Context, query: Query, limit: int | None, metrics: str, out: Path, nodata: str, output: str
) -> None:
    """Per-pixel statistics over the NDVI frames (or Sentinel-1 ARD items) a query selects, as one COG (one pass).

    With --collections sentinel-1-ard the statistics are of the backscatter in dB over one track/orbit
    direction (count is the number of valid dates per pixel).

    Without --collections or --ids the frames of destine-s3-ndvi are used. Frames with a local copy
    (from ``eocat fetch``) are read from it; the others are decoded from their streams on the fly.
    NDVI is averaged as is: no dB/power conversion applies to it.
    """
    from dataclasses import replace

    from catalog.timescan import parse_metrics
    from indexer.destine.timescan import run_timescan

    names = parse_metrics(metrics)
    if not query.collections and not query.ids:
        query = replace(query, collections=(NDVI_COLLECTION,))
    store = open_catalog(ctx, must_exist=True)
    items = select_items(store, query, limit)
    if "sentinel-1-ard" in query.collections:  # Sentinel-1 backscatter (issue 17): dB statistics
        from processing.timescan import run_ard_timescan

        ard = run_ard_timescan(items, names, out)
        if wants_json(ctx, output):
            echo_json({**ard.__dict__, "out": str(out), "metrics": list(names)})
        err.print(f"timescan: {ard.dates} dates of {ard.track}, {ard.first} .. {ard.last} -> {out}")
        return
    report = run_timescan(items, names, out, tokens=_tokens(ctx), nodata=nodata)
    if wants_json(ctx, output):
        echo_json({**report.as_dict(), "out": str(out), "metrics": list(names)})
    err.print(
        f"timescan: {report.frames} frames ({report.from_local} local, {report.decoded} decoded from "
        f"{len(report.streams)} stream(s)), {report.first} .. {report.last} -> {out} "
        f"(bands {', '.join(names)})"
    )
