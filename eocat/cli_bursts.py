"""CLI commands for Sentinel-1 bursts: ``harvest cdse-bursts``, ``harvest asf-bursts``, ``emulate asf``, ``stack``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from catalog.errors import InvalidQuery

_AREA = (
    click.option("--bbox", help="W,S,E,N area (W > E crosses the antimeridian)."),
    click.option("--aoi", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="GeoJSON area file."),
    click.option("--start", required=True, help="RFC 3339 time or YYYY-MM-DD (inclusive)."),
    click.option("--end", required=True, help="RFC 3339 time (exclusive) or YYYY-MM-DD (inclusive day)."),
    click.option("--restart", is_flag=True, help="Forget finished windows and harvest everything again."),
    click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout."),
)


def _options(function: Any) -> Any:
    for option in reversed(_AREA):
        function = option(function)
    return function


def _window(start: str, end: str) -> tuple[str, str]:
    from eocat.cli import _time_option

    window = (_time_option(start, end=False), _time_option(end, end=True))
    if window[0] >= window[1]:
        raise InvalidQuery(f"--start {start} is not before --end {end}")
    return window


def _finish(ctx: click.Context, report: Any, as_json: bool) -> None:
    from eocat.cli import err
    from indexer.harvest import print_summary

    if as_json:
        click.echo(orjson.dumps(report.as_dict()).decode())
    print_summary(report, err)
    if report.shortfalls:
        ctx.exit(1)


@click.command("cdse-bursts")
@_options
@click.option("--swath", type=click.Choice(["IW1", "IW2", "IW3", "EW1", "EW2", "EW3", "EW4", "EW5"]), help="Subswath.")
@click.option("--polarisation", type=click.Choice(["VV", "VH", "HH", "HV"]), help="Polarisation.")
@click.option("--jobs", type=click.IntRange(1, 4), default=4, show_default=True, help="Parallel connections.")
@click.pass_context
def harvest_cdse_bursts(ctx: click.Context, bbox: str | None, aoi: Path | None, start: str, end: str, restart: bool,
                        as_json: bool, swath: str | None, polarisation: str | None, jobs: int) -> None:  # fmt: skip
    """CDSE OData Bursts (Sentinel-1 SLC bursts) into the sentinel-1-bursts collection."""
    from eocat.cli import _area, _store
    from indexer.cdse.bursts import BurstQuery, harvest_cdse_bursts

    window = _window(start, end)
    store = _store(ctx)
    report = harvest_cdse_bursts(store, BurstQuery(_area(bbox, aoi), swath, polarisation), *window, jobs=jobs,
                                 restart=restart)  # fmt: skip
    store.optimize()
    _finish(ctx, report, as_json)


@click.command("asf-bursts")
@_options
@click.option("--polarisation", type=click.Choice(["VV", "VH", "HH", "HV"]), help="Polarisation.")
@click.option("--jobs", type=click.IntRange(1, 4), default=2, show_default=True, help="Parallel queries.")
@click.option("--queries-per-minute", type=click.IntRange(min=1), default=250, show_default=True,
              help="SearchAPI quota (ASF allows 250 per minute per IP).")  # fmt: skip
@click.pass_context
def harvest_asf_bursts(
    ctx: click.Context, bbox: str | None, aoi: Path | None, start: str, end: str, restart: bool, as_json: bool,
    polarisation: str | None, jobs: int, queries_per_minute: int,
) -> None:  # fmt: skip
    """ASF SearchAPI Sentinel-1 bursts (dataset SLC-BURST) into the sentinel-1-bursts collection."""
    from eocat.cli import _area, _store
    from indexer.asf.client import AsfBurstQuery, harvest_asf_bursts

    window = _window(start, end)
    store = _store(ctx)
    report = harvest_asf_bursts(store, AsfBurstQuery(_area(bbox, aoi), polarisation), *window, jobs=jobs,
                                restart=restart, queries_per_minute=queries_per_minute)  # fmt: skip
    store.optimize()
    _finish(ctx, report, as_json)


@click.command("asf", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               add_help_option=False)  # fmt: skip
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_asf(args: tuple[str, ...]) -> None:
    """The ASF SearchAPI for Sentinel-1 bursts (--help for its options)."""
    from emulators.asf import main as serve_asf

    sys.exit(serve_asf(list(args)))


@click.command("stack")
@click.argument("item_id")
@click.option(
    "--format", "output", type=click.Choice(["table", "ndjson", "json"]), default="table", show_default=True,
    help="table: one line per acquisition; ndjson: the items; json: a summary.",
)  # fmt: skip
@click.pass_context
def stack(ctx: click.Context, item_id: str, output: str) -> None:
    """The time series of one burst location (same s1:full_burst_id and polarization), with temporal baselines."""
    from eocat.cli import _out_console, _store, err
    from indexer.bursts.stack import burst_stack

    entries = burst_stack(_store(ctx), item_id)
    if output == "ndjson":
        for entry in entries:
            click.echo(orjson.dumps(entry.item).decode())
        return
    if output == "json":
        rows = [{"id": e.item["id"], "datetime": e.item["properties"]["datetime"],
                 "temporal_baseline": e.temporal_baseline, "sources": e.sources} for e in entries]  # fmt: skip
        click.echo(orjson.dumps({"reference": item_id, "stack": rows}).decode())
        return
    reference = entries[0].item["properties"] if entries else {}
    table = Table(title=f"{reference.get('s1:full_burst_id')} {','.join(reference.get('sar:polarizations', []))}: "
                  f"{len(entries)} acquisitions")  # fmt: skip
    for column in ("datetime", "id", "platform", "orbit", "baseline (days)", "sources"):
        table.add_column(column, justify="right" if column in ("orbit", "baseline (days)") else "left")
    for e in entries:
        p = e.item["properties"]
        mark = "[bold]" if e.reference else ""
        orbit = str(p.get("sat:absolute_orbit", ""))
        table.add_row(f"{mark}{p['datetime'][:19]}Z", f"{mark}{e.item['id']}", p.get("platform", ""), orbit,
                      f"{e.temporal_baseline:+d}", "+".join(e.sources))  # fmt: skip
    _out_console().print(table)
    err.print(f"{len(entries)} acquisitions of {reference.get('s1:full_burst_id')}; reference {item_id}")
