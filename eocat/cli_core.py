"""The catalogue commands: ``eocat import``, ``eocat search``, ``eocat collections``."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson
from rich.table import Table

from catalog.errors import NotFound
from eocat.options import (
    EXIT_UPSTREAM,
    echo_json,
    err,
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


@click.command("import")
@click.argument("files", nargs=-1, required=True)
@format_option("table", "json", help="table: a summary on stderr; json: the report on stdout too.")
@json_alias
@click.pass_context
def import_command(ctx: click.Context, files: tuple[str, ...], output: str) -> None:
    """Import STAC items and collections: NDJSON, ItemCollection, single JSON (- for stdin), GeoParquet.

    Records that cannot be read or stored are reported with their line and skipped; the exit
    status is 1 when any were rejected.
    """
    from catalog.ingest import import_files

    for name in files:
        if name != "-" and not Path(name).exists():  # a directory holds GeoParquet files
            raise NotFound(f"no such file: {name}")
    store = open_catalog(ctx, must_exist=False)
    report = import_files(store, list(files))  # type: ignore[arg-type]
    store.optimize()
    if wants_json(ctx, output):
        echo_json(report.as_dict())
    err.print(
        f"imported {report.inserted} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.rejected} rejected"
    )
    for name in report.collections_created:
        err.print(f"created collection {name!r} (no collection document was given)")
    for message in report.notes:
        err.print(f"  {message}")
    for message in report.errors:
        err.print(f"  rejected {message}")
    if report.rejected > len(report.errors):
        err.print(f"  … and {report.rejected - len(report.errors)} more")
    if report.rejected:
        ctx.exit(EXIT_UPSTREAM)


@click.command()
@selection_options(fields=True, limit="Return at most N items (default: all).")
@format_option(
    "table", "ndjson", "geojson", "count", help="table for people; ndjson/geojson for programs; count: the number."
)
@click.option("--lake", metavar="DIR|s3://…", help="Search a GeoParquet lake (eocat export parquet) instead.")
@click.pass_context
def search(ctx: click.Context, query: Query, limit: int | None, output: str, lake: str | None) -> None:
    """Search the catalogue (bbox, intersects, datetime, CQL2 filter, sort, fields)."""
    from catalog.search import check_collections, count
    from eocat.cli_parquet import lake_catalog, lake_items

    store: Any = lake_catalog(ctx, lake) if lake else open_catalog(ctx, must_exist=True)
    if output == "count":
        check_collections(store, query)
        total = count(store, query)
        click.echo(str(min(total, limit) if limit else total))
        return
    items = lake_items(store, query, limit) if lake else select_items(store, query, limit)
    out = sys.stdout.buffer
    if output == "ndjson":
        for item in items:
            out.write(orjson.dumps(item) + b"\n")
    elif output == "geojson":
        out.write(b'{"type":"FeatureCollection","features":[')
        for index, item in enumerate(items):
            out.write((b"," if index else b"") + orjson.dumps(item))
        out.write(b"]}\n")
    else:
        _print_table(items)
    out.flush()


def _print_table(items: Iterable[dict[str, Any]]) -> None:
    table = Table("collection", "id", "datetime", "platform", "cloud %", box=None, header_style="bold")
    shown = 0
    for item in items:
        properties = item.get("properties", {})
        cloud = properties.get("eo:cloud_cover")
        table.add_row(
            str(item.get("collection", "")), str(item.get("id", "")),
            str(properties.get("datetime") or properties.get("start_datetime") or ""),
            str(properties.get("platform", "")), _number(cloud),
        )  # fmt: skip
        shown += 1
    out_console().print(table)
    err.print(f"{shown} item(s)")


def _number(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, int | float) else str(value)


@click.command()
@format_option("table", "json", help="table for people; json: one collection document per line.")
@click.pass_context
def collections(ctx: click.Context, output: str) -> None:
    """List the catalogue's collections with their item counts."""
    store = open_catalog(ctx, must_exist=True)
    counts = store.item_counts()
    documents = store.collections()
    if output == "json":
        for document in documents:
            echo_json(document)
        return
    table = Table("id", "items", "title", "temporal extent", box=None, header_style="bold")
    for document in documents:
        interval = (document.get("extent", {}).get("temporal", {}).get("interval") or [[None, None]])[0]
        table.add_row(
            document["id"], str(counts.get(document["id"], 0)), str(document.get("title", "")),
            f"{interval[0] or '..'} / {interval[1] or '..'}",
        )  # fmt: skip
    out_console().print(table)
