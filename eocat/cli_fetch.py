"""``eocat fetch``: materialize assets of one item, or of every item a search selects."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from catalog.errors import InvalidQuery
from catalog.fetch import FetchReport, fetch, fetch_items
from catalog.fetch.progress import NullReporter, Reporter, RichReporter
from eocat.options import (
    EXIT_UPSTREAM,
    echo_json,
    err,
    format_option,
    has_selection,
    json_alias,
    open_catalog,
    select_items,
    selection_options,
    wants_json,
)

if TYPE_CHECKING:
    from catalog.search import Query


def _collection_alias(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta["eocat.fetch.collection"] = value


@click.command("fetch")
@click.argument("item_id", required=False)
@click.option("--asset", help="Asset key(s), comma-separated (default: the item's data assets). "
              "CDSE products also take a file name inside the product, e.g. SCL, B04, TCI, MTD.")  # fmt: skip
@click.option("--node", metavar="PATTERN", help="A file inside a CDSE product, by glob on its path below the "
              "SAFE root, e.g. 'GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2' (only that file is transferred).")  # fmt: skip
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), help="Put the files in DIR "
              "(default: the asset store, assets/ next to the catalogue, or $EOCAT_ASSET_DIR).")  # fmt: skip
@selection_options(limit="Fetch for at most N items of the selection.")
@click.option("--collection", hidden=True, expose_value=False, callback=_collection_alias,
              help="Deprecated: use --collections.")  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Parallel downloads (per-host limits still apply: CDSE 4).")  # fmt: skip
@format_option("table", "json", help="table: one line per asset on stderr; json: one JSON result per asset on stdout.")
@json_alias
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_context
def fetch_command(
    ctx: click.Context, item_id: str | None, asset: str | None, node: str | None, dest: Path | None,
    query: Query, limit: int | None, jobs: int, output: str, quiet: bool,
) -> None:  # fmt: skip
    """Download assets into the local asset store, verified, resumable, recorded in the catalogue.

    \b
    eocat fetch ITEM_ID [--collections ID] [--asset KEY] [--dest DIR]
    eocat fetch --collections sentinel-2-l2a --bbox 5,44,16,52 --datetime 2023-07-01/2023-07-31 --asset SCL
    With ITEM_ID, --collections names its collection when the id exists in several.
    A second fetch of the same asset is instant; an interrupted one resumes where it stopped.
    Credentials come from the environment or ~/.netrc (CDSE_*, EARTHDATA_*), never the command line.
    """
    from dataclasses import replace

    from catalog.search import check_collections

    alias = ctx.meta.get("eocat.fetch.collection")
    if alias and not query.collections:
        query = replace(query, collections=(alias,))
    store: Any = open_catalog(ctx, must_exist=True)
    check_collections(store, query)
    reporter: Reporter = RichReporter() if sys.stderr.isatty() and not quiet else NullReporter()
    try:
        if item_id is not None:
            if len(query.collections) > 1:
                raise InvalidQuery("with ITEM_ID, --collections names one collection")
            collection = query.collections[0] if query.collections else None
            report = fetch(store, item_id, asset, dest, collection=collection, node=node, jobs=jobs, reporter=reporter)
        else:
            if not has_selection(query):
                raise InvalidQuery("give an ITEM_ID or search options (--collections, --bbox, --datetime, …)")
            items = select_items(store, query, limit)
            report = fetch_items(store, items, asset=asset, node=node, dest=dest, jobs=jobs, reporter=reporter)
    finally:
        reporter.close()
    _print(report, wants_json(ctx, output))
    if report.failed:
        ctx.exit(EXIT_UPSTREAM)


def _print(report: FetchReport, as_json: bool) -> None:
    for r in report.results:
        if as_json:
            row = {"item": r.item_id, "collection": r.collection, "asset": r.asset, "status": r.status,
                   "path": str(r.path) if r.path else None, "size": r.size, "checksum": r.checksum,
                   "transferred": r.transferred, "resumed_from": r.resumed_from, "error": r.error}  # fmt: skip
            echo_json(row)
        elif r.status == "failed":
            err.print(f"failed  {r.item_id} [{r.asset}]: {r.error}")
        else:
            resumed = f", resumed at {r.resumed_from:,} B" if r.resumed_from and r.status == "fetched" else ""
            err.print(f"{r.status:7} {r.item_id} [{r.asset}] {r.path} ({r.size:,} B{resumed})")
    mib = report.transferred / 2**20
    rate = mib / report.elapsed if report.elapsed > 0 else 0.0
    err.print(
        f"fetched {report.count('fetched')}, already local {report.count('cached')}, failed {report.count('failed')}; "
        f"{mib:,.1f} MiB transferred in {report.elapsed:.1f} s ({rate:,.1f} MiB/s)"
    )
