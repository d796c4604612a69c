"""DestinE commands: ``harvest destine``, ``emulate destine`` and ``timescan`` (frames are fetched by ``eocat fetch``).

Registered on the main CLI at the end of :mod:`eocat.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from catalog.errors import InvalidQuery
from catalog.search import check_collections, iter_items
from eocat.cli import _store, _time_option, build_query, err, search_options


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
@click.option("--start", required=True, help="RFC 3339 time or YYYY-MM-DD (inclusive).")
@click.option("--end", required=True, help="RFC 3339 time (exclusive) or YYYY-MM-DD (inclusive day).")
@click.option("--restart", is_flag=True, help="Forget finished windows and harvest everything again.")
@click.option("--jobs", type=click.IntRange(1, 4), default=2, show_default=True, help="Parallel requests.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def harvest_destine(
    ctx: click.Context, continent: str, start: str, end: str, restart: bool, jobs: int, as_json: bool
) -> None:
    """DestinE streamed Sentinel-3 NDVI: one item per video frame (DESP_USERNAME/DESP_PASSWORD or ~/.netrc)."""
    from indexer.destine.auth import DespTokenProvider
    from indexer.destine.client import harvest_frames
    from indexer.harvest import print_summary

    window = (_time_option(start, end=False), _time_option(end, end=True))
    if window[0] >= window[1]:
        raise InvalidQuery(f"--start {start} is not before --end {end}")
    store = _store(ctx)
    with DespTokenProvider.from_environment() as tokens:
        report = harvest_frames(store, continent, *window, tokens=tokens, jobs=jobs, restart=restart)
    store.optimize()
    if as_json:
        click.echo(orjson.dumps(report.as_dict()).decode())
    print_summary(report, err)
    if report.shortfalls:
        ctx.exit(1)


@click.command(
    "destine", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_destine(args: tuple[str, ...]) -> None:
    """The DestinE streamer (metadata, video streams) and DESP login (--help for its options)."""
    from emulators.destine import main as serve_destine

    sys.exit(serve_destine(list(args)))


@click.command("timescan")
@search_options
@click.option(
    "--metrics",
    default="avg,max,min,std,cov",
    show_default=True,
    help="Comma-separated: avg, max, min, std, cov, count.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output COG (.tif).")
@click.option("--nodata", default="zero", show_default=True, help="No-data rule of the frames: zero, none, below:X.")
@click.option("--limit", type=click.IntRange(min=1), help="Use at most N frames.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def timescan_command(
    ctx: click.Context, metrics: str, out: Path, nodata: str, limit: int | None, as_json: bool, **options: Any
) -> None:
    """Per-pixel statistics over the NDVI frames (or Sentinel-1 ARD items) a query selects, as one COG (one pass).

    With --collections sentinel-1-ard the statistics are of the backscatter in dB over one track/orbit
    direction (count is the number of valid dates per pixel).

    Frames with a local copy (from ``eocat fetch``) are read from it; the others are decoded from their
    streams on the fly. NDVI is averaged as is: no dB/power conversion applies to it.
    """
    import itertools

    from catalog.timescan import parse_metrics
    from indexer.destine.timescan import run_timescan

    names = parse_metrics(metrics)
    if not options.get("collections") and not options.get("ids"):
        options["collections"] = "destine-s3-ndvi"
    query = build_query(limit=limit, **options)
    store = _store(ctx)
    check_collections(store, query)
    items = iter_items(store, query, page_size=query.limit)
    if limit:
        items = itertools.islice(items, limit)
    if "sentinel-1-ard" in (query.collections or ()):  # Sentinel-1 backscatter (issue 17): dB statistics
        from processing.timescan import run_ard_timescan

        ard = run_ard_timescan(items, names, out)
        if as_json:
            click.echo(orjson.dumps({**ard.__dict__, "out": str(out), "metrics": list(names)}).decode())
        err.print(f"timescan: {ard.dates} dates of {ard.track}, {ard.first} .. {ard.last} -> {out}", highlight=False)
        return
    report = run_timescan(items, names, out, tokens=_tokens(ctx), nodata=nodata)
    if as_json:
        click.echo(orjson.dumps({**report.as_dict(), "out": str(out), "metrics": list(names)}).decode())
    err.print(
        f"timescan: {report.frames} frames ({report.from_local} local, {report.decoded} decoded from "
        f"{len(report.streams)} stream(s)), {report.first} .. {report.last} -> {out} "
        f"(bands {', '.join(names)})",
        highlight=False,
    )
