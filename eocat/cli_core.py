"""The catalogue commands: ``eocat import``, ``eocat search``, ``eocat collections``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
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
@click.option("--token", metavar="TOKEN", help="Continue after a previous page (the token it printed on stderr).")
@click.pass_context
def search(
    ctx: click.Context, query: Query, limit: int | None, output: str, lake: str | None, token: str | None
) -> None:
    """Search the catalogue (bbox, intersects, datetime, CQL2 filter, sort, fields).

    With ``--limit`` the answer is a page: when more items match, the token of the next page is
    printed on stderr (``next page: --token …``); pass it with the same options to continue.
    """
    from catalog.search import check_collections, count
    from eocat.cli_parquet import lake_catalog, lake_items

    store: Any = lake_catalog(ctx, lake) if lake else open_catalog(ctx, must_exist=True)
    if output == "count":
        check_collections(store, query)
        total = count(store, query)
        click.echo(str(min(total, limit) if limit else total))
        return
    pages: _Pages | None = None
    if lake and limit is None and token is None:
        items: Iterable[dict[str, Any]] = lake_items(store, query, None)  # one streamed query
    elif limit is None and token is None:
        items = select_items(store, query)
    else:
        check_collections(store, query)
        items = pages = _Pages(store, replace(query, token=token), limit)
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
    if pages is not None and pages.next_token is not None:
        click.echo(f"next page: --token {pages.next_token}", err=True)


class _Pages:
    """The items of consecutive pages from ``query.token`` on, at most ``limit`` of them; then
    ``next_token`` continues right after the last one (None when nothing is left)."""

    def __init__(self, store: Any, query: Query, limit: int | None) -> None:
        self.store, self.query, self.limit = store, query, limit
        self.next_token: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from catalog.search import search

        current, remaining = self.query, self.limit
        while True:
            if remaining is not None:
                current = replace(current, limit=min(current.limit, remaining))
            page = search(self.store, current)
            yield from page.items
            remaining = None if remaining is None else remaining - len(page.items)
            if page.next_token is None or remaining == 0:
                self.next_token = page.next_token
                return
            current = replace(current, token=page.next_token)


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
