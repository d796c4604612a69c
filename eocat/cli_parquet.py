"""CLI for GeoParquet and analytics: ``eocat export parquet``, ``eocat sql``, ``eocat inventory``."""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from catalog.errors import InvalidQuery
from eocat.options import (
    catalog_dir,
    echo_json,
    format_option,
    json_alias,
    open_catalog,
    out_console,
    select_items,
    selection_options,
    wants_json,
)

if TYPE_CHECKING:
    from catalog.search import Query


def _store(ctx: click.Context) -> Any:
    return open_catalog(ctx, must_exist=True)


def lake_catalog(ctx: click.Context, target: str) -> Any:
    """``eocat search --lake``: a read-only catalogue over a GeoParquet lake (closed with the command)."""
    from catalog.parquet.lake_search import LakeCatalog

    catalog = LakeCatalog(target)
    ctx.call_on_close(catalog.close)
    return catalog


def lake_items(catalog: Any, query: Query, limit: int | None) -> Iterator[dict[str, Any]]:
    """``eocat search --lake``: the selected items of a lake, in the query's order (streamed)."""
    from catalog.search import check_collections

    check_collections(catalog, query)
    items: Iterator[dict[str, Any]] = catalog.iter_items(query)
    return items if limit is None else itertools.islice(items, limit)


def _default_parquet_dir(ctx: click.Context) -> Path:
    return catalog_dir(ctx) / "parquet"


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def export() -> None:
    """Export the catalogue (GeoParquet)."""


@export.command("parquet")
@click.argument("directory", metavar="DIRECTORY|s3://BUCKET/PREFIX")
@click.option("--collections", help="Comma-separated collection ids (default: all).")
@click.option(
    "--full", is_flag=True, help="Rewrite every partition (default: only what changed since the last export)."
)
@format_option("table", "json", help="table: a summary on stderr; json: the report on stdout too.")
@json_alias
@click.pass_context
def export_parquet_command(
    ctx: click.Context, directory: str, collections: str | None, full: bool, output: str
) -> None:
    """Write the catalogue as stac-geoparquet under DIRECTORY or an object-store prefix
    (s3://bucket/prefix, gs://…), in hive partitions collection=…/year=….

    Incremental: run it again and only the partitions whose items changed are rewritten, each
    atomically (readers see the old or the new file, never a half-written one). Object-store
    credentials and endpoint come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    AWS_ENDPOINT_URL (or a profile).
    """
    from catalog.parquet.export import export_parquet
    from catalog.search import Query, check_collections

    wanted = [c.strip() for c in collections.split(",") if c.strip()] if collections else None
    store = _store(ctx)
    check_collections(store, Query(collections=tuple(wanted or ())))
    report = export_parquet(store, directory, collections=wanted, full=full)
    if wants_json(ctx, output):
        echo_json(report.as_dict())
    rate = report.written_items / report.seconds if report.seconds else 0.0
    _err(
        f"exported {report.items} items to {directory}: {len(report.written)} partition(s) written "
        f"({report.written_items} items, {rate:,.0f} items/s), {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed"
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


@click.command()
@click.argument("query", required=False)
@click.option("--parquet", "directory", metavar="DIR|s3://…",
              help="The GeoParquet lake (default: parquet/ next to the catalogue file).")  # fmt: skip
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="json prints one object per row (NDJSON).")  # fmt: skip
@click.option("--examples", is_flag=True, help="Print example queries and exit.")
@click.pass_context
def sql(ctx: click.Context, query: str | None, directory: str | None, output: str, examples: bool) -> None:
    """Run a DuckDB SQL QUERY over the GeoParquet lake (a directory or s3://…), offline.

    Each collection is a view named by its id (quote ids with dashes: "sentinel-2-l2a"); ``items``
    spans them all. Columns: id, datetime, bbox.xmin …, geometry (WKB: ST_GeomFromWKB(geometry)),
    every property (quote names with colons: "eo:cloud_cover"), plus the partition columns year
    (and month). DuckDB's spatial functions (ST_Intersects, ST_Area …) are there. See --examples.
    """
    from catalog.parquet.sql import EXAMPLES, run_sql

    if examples:
        click.echo(EXAMPLES.strip("\n"))
        return
    if not query:
        raise InvalidQuery("give a QUERY (see --examples)")
    table = run_sql(directory or _default_parquet_dir(ctx), query)
    rows = table.to_pylist()
    if output == "json":
        for row in rows:
            sys.stdout.buffer.write(orjson.dumps(row, default=_json_default, option=orjson.OPT_NON_STR_KEYS) + b"\n")
    elif output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows([_cell(row[name]) for name in table.column_names] for row in rows)
    else:
        from rich.table import Table

        view = Table(*table.column_names, box=None, header_style="bold")
        for row in rows:
            view.add_row(*(_cell(row[name]) for name in table.column_names))
        out_console().print(view)
        _err(f"{len(rows)} row(s)")


@click.command()
@selection_options(sort=False)
@click.option("--aoi", hidden=True, help="Deprecated: use --intersects FILE.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Write a PNG: footprints and timeline.")
@click.option("--format", "output", type=click.Choice(["table", "json", "parquet"]), default="table",
              show_default=True, help="parquet writes one row per pass (GeoParquet) to --out.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (json: default stdout).")
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True, help="Groups shown in the table.")
@click.option("--lake", metavar="DIR|s3://…", help="Compute it in DuckDB over a GeoParquet lake instead.")
@click.option("--memory-limit", default="1GB", show_default=True, metavar="SIZE",
              help="With --lake: DuckDB's memory limit (it spills to a temporary directory beyond).")  # fmt: skip
@click.pass_context
def inventory(
    ctx: click.Context, query: Query, aoi: str | None, plot: Path | None, output: str, out: Path | None, top: int,
    lake: str | None, memory_limit: str,
) -> None:  # fmt: skip
    """Which orbit directions, relative orbits and polarizations cover an area, how completely, on which dates.

    The area is --intersects (a GeoJSON geometry or file) or --bbox; --collections is required.
    Items of one pass are merged before measuring coverage; the best group for a time series is
    the one with the most fully covered dates. With --lake the same inventory is computed by
    DuckDB over the lake's Parquet files (streamed; only one row per pass comes back).
    """
    from dataclasses import replace

    from catalog.parquet.inventory import FULL_COVERAGE, compute, to_arrow
    from eocat.options import read_geometry

    if aoi:
        if query.bbox or query.intersects:
            raise InvalidQuery("give --intersects (or --bbox), not --aoi too")
        query = replace(query, intersects=read_geometry(aoi, "--aoi"))
    spatial = query.spatial()
    if spatial is None:
        raise InvalidQuery("inventory needs an area: --intersects GEOJSON (or FILE) or --bbox W,S,E,N")
    if not query.collections:
        raise InvalidQuery("inventory needs --collections, e.g. sentinel-1-slc")
    area = spatial.geometry
    collections = ",".join(query.collections)
    try:
        if lake:
            from catalog.parquet.lake_inventory import compute_lake
            from catalog.parquet.lake_search import LakeCatalog
            from catalog.search import check_collections

            with LakeCatalog(lake, memory_limit=memory_limit) as catalog:
                check_collections(catalog, query)  # type: ignore[arg-type]  # the read-only part of a store
                result = compute_lake(catalog, query, area)
        else:
            result = compute(select_items(_store(ctx), query), area)
    except ValueError as exc:
        raise InvalidQuery(f"area: {exc}") from None
    if plot:
        from catalog.parquet.plot import plot_inventory

        plot_inventory(result, plot)
        _err(f"plot written to {plot}")
    if output == "parquet":
        if out is None:
            raise InvalidQuery("--format parquet needs --out FILE.parquet")
        import pyarrow.parquet as pq

        pq.write_table(to_arrow(result), out, compression="zstd")
        _err(f"inventory written to {out}")
        return
    if output == "json":
        data = orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2) + b"\n"
        if out:
            out.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
        return
    from rich.table import Table

    view = Table("direction", "rel. orbit", "pols", "dates", "full", "mean cov.", "coverage per date",
                 box=None, header_style="bold")  # fmt: skip
    for group in result.groups[:top]:
        dates = ", ".join(f"{p.date} {p.coverage:.0%}" for p in group.passes[:8])
        more = f" … (+{len(group.passes) - 8})" if len(group.passes) > 8 else ""
        view.add_row(group.orbit_state, "-" if group.relative_orbit is None else str(group.relative_orbit),
                     group.polarizations, str(len(group.passes)), str(len(group.full_dates)),
                     f"{group.mean_coverage:.1%}", dates + more)  # fmt: skip
    out_console().print(view)
    if len(result.groups) > top:
        _err(f"… and {len(result.groups) - top} more group(s) (--top, or --format json for all)")
    best = result.best
    if best is None:
        _err(f"no items of {collections} cover the AOI")
    else:
        _err(f"{result.items} items; best group for a time series: {best.label} "
             f"({len(best.full_dates)} dates with >= {FULL_COVERAGE:.1%} coverage)")  # fmt: skip
