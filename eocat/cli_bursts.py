"""CLI commands for Sentinel-1 bursts: ``harvest cdse-bursts``, ``harvest asf-bursts``, ``stack``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from eocat.options import (
    HarvestArgs,
    echo_json,
    err,
    finish_harvest,
    format_option,
    harvest_options,
    open_catalog,
    out_console,
)


@click.command("cdse-bursts")
@harvest_options
@click.option("--swath", type=click.Choice(["IW1", "IW2", "IW3", "EW1", "EW2", "EW3", "EW4", "EW5"]), help="Subswath.")
@click.option("--polarisation", type=click.Choice(["VV", "VH", "HH", "HV"]), help="Polarisation.")
@click.option("--jobs", type=click.IntRange(1, 4), default=4, show_default=True, help="Parallel connections.")
@click.pass_context
def harvest_cdse_bursts(ctx: click.Context, harvest: HarvestArgs, output: str, swath: str | None,
                        polarisation: str | None, jobs: int) -> None:  # fmt: skip
    """CDSE OData Bursts (Sentinel-1 SLC bursts) into the sentinel-1-bursts collection."""
    from indexer.cdse.bursts import BurstQuery, harvest_cdse_bursts

    store: Any = open_catalog(ctx, must_exist=False)
    report = harvest_cdse_bursts(store, BurstQuery(harvest.area, swath, polarisation), *harvest.window, jobs=jobs,
                                 restart=harvest.restart)  # fmt: skip
    finish_harvest(ctx, store, report, output)


@click.command("asf-bursts")
@harvest_options
@click.option("--polarisation", type=click.Choice(["VV", "VH", "HH", "HV"]), help="Polarisation.")
@click.option("--jobs", type=click.IntRange(1, 4), default=2, show_default=True, help="Parallel queries.")
@click.option("--queries-per-minute", type=click.IntRange(min=1), default=250, show_default=True,
              help="SearchAPI quota (ASF allows 250 per minute per IP).")  # fmt: skip
@click.pass_context
def harvest_asf_bursts(
    ctx: click.Context, harvest: HarvestArgs, output: str, polarisation: str | None, jobs: int,
    queries_per_minute: int,
) -> None:  # fmt: skip
    """ASF SearchAPI Sentinel-1 bursts (dataset SLC-BURST) into the sentinel-1-bursts collection."""
    from indexer.asf.client import AsfBurstQuery, harvest_asf_bursts

    store: Any = open_catalog(ctx, must_exist=False)
    report = harvest_asf_bursts(store, AsfBurstQuery(harvest.area, polarisation), *harvest.window, jobs=jobs,
                                restart=harvest.restart, queries_per_minute=queries_per_minute)  # fmt: skip
    finish_harvest(ctx, store, report, output)


@click.command("stack")
@click.argument("item_id")
@format_option("table", "ndjson", "json", help="table: one line per acquisition; ndjson: the items; json: a summary.")
@click.pass_context
def stack(ctx: click.Context, item_id: str, output: str) -> None:
    """The time series of one burst location (same s1:full_burst_id and polarization), with temporal baselines."""
    from indexer.bursts.stack import burst_stack

    store: Any = open_catalog(ctx, must_exist=True)
    entries = burst_stack(store, item_id)
    if output == "ndjson":
        for entry in entries:
            echo_json(entry.item)
        return
    if output == "json":
        rows = [{"id": e.item["id"], "datetime": e.item["properties"]["datetime"],
                 "temporal_baseline": e.temporal_baseline, "sources": e.sources} for e in entries]  # fmt: skip
        echo_json({"reference": item_id, "stack": rows})
        return
    reference = entries[0].item["properties"] if entries else {}
    table = Table(title=f"{reference.get('s1:full_burst_id')} {','.join(reference.get('sar:polarizations', []))}: "
                  f"{len(entries)} acquisitions")  # fmt: skip
    for column in ("datetime", "id", "platform", "orbit", "baseline (days)", "sources"):
        table.add_column(column, justify="right" if column in ("orbit", "baseline (days)") else "left")
    for e in entries:
        p = e.item["properties"]
        style = "bold" if e.reference else ""
        orbit = str(p.get("sat:absolute_orbit", ""))
        table.add_row(Text(f"{p['datetime'][:19]}Z", style), Text(str(e.item["id"]), style),
                      str(p.get("platform", "")), orbit, f"{e.temporal_baseline:+d}", "+".join(e.sources))  # fmt: skip
    out_console().print(table)
    err.print(f"{len(entries)} acquisitions of {reference.get('s1:full_burst_id')}; reference {item_id}")
