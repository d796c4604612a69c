"""``eocat fetch``: materialize assets of one item, or of every item a search selects."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from catalog.errors import InvalidQuery
from catalog.fetch import FetchReport, fetch, fetch_items
from catalog.fetch.progress import NullReporter, Reporter, RichReporter
from catalog.search import iter_items
from eocat.cli import _store, build_query, err, search_options

_SEARCH_KEYS = ("collections", "ids", "bbox", "intersects", "datetime_", "filter_")


@click.command("fetch")
@click.argument("item_id", required=False)
@click.option("--asset", help="Asset key(s), comma-separated (default: the item's data assets). "
              "CDSE products also take a file name inside the product, e.g. SCL, B04, TCI, MTD.")  # fmt: skip
@click.option("--node", metavar="PATTERN", help="A file inside a CDSE product, by glob on its path below the "
              "SAFE root, e.g. 'GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2' (only that file is transferred).")  # fmt: skip
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), help="Put the files in DIR "
              "(default: the asset store, assets/ next to the catalogue, or $EOCAT_ASSET_DIR).")  # fmt: skip
@click.option("--collection", help="The item's collection, when its id exists in several.")
@search_options
@click.option("--limit", type=click.IntRange(min=1), help="Fetch for at most N items of the search.")
@click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Parallel downloads (per-host limits still apply: CDSE 4).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result per asset on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_context
def fetch_command(
    ctx: click.Context, item_id: str | None, asset: str | None, node: str | None, dest: Path | None,
    collection: str | None, limit: int | None, jobs: int, as_json: bool, quiet: bool, **options: Any,
) -> None:  # fmt: skip
    """Download assets into the local asset store, verified, resumable, recorded in the catalogue.

    \b
    eocat fetch ITEM_ID [--asset KEY] [--dest DIR]
    eocat fetch --collections sentinel-2-l2a --bbox 5,44,16,52 --datetime 2023-07-01/2023-07-31 --asset SCL
    A second fetch of the same asset is instant; an interrupted one resumes where it stopped.
    Credentials come from the environment or ~/.netrc (CDSE_*, EARTHDATA_*), never the command line.
    """
    store = _store(ctx)
    reporter: Reporter = RichReporter() if sys.stderr.isatty() and not quiet else NullReporter()
    try:
        if item_id is not None:
            report = fetch(store, item_id, asset, dest, collection=collection, node=node, jobs=jobs, reporter=reporter)
        else:
            if not any(options.get(key) for key in _SEARCH_KEYS) and not collection:
                raise InvalidQuery("give an ITEM_ID or search options (--collections, --bbox, --datetime, …)")
            if collection and not options.get("collections"):
                options["collections"] = collection
            query = build_query(**options, limit=limit)
            items = iter_items(store, query)
            if limit:
                items = (item for _, item in zip(range(limit), items, strict=False))
            report = fetch_items(store, items, asset=asset, node=node, dest=dest, jobs=jobs, reporter=reporter)
    finally:
        reporter.close()
    _print(report, as_json)
    if report.failed:
        ctx.exit(1)


def _print(report: FetchReport, as_json: bool) -> None:
    for r in report.results:
        if as_json:
            row = {"item": r.item_id, "collection": r.collection, "asset": r.asset, "status": r.status,
                   "path": str(r.path) if r.path else None, "size": r.size, "checksum": r.checksum,
                   "transferred": r.transferred, "resumed_from": r.resumed_from, "error": r.error}  # fmt: skip
            click.echo(orjson.dumps(row).decode())
        elif r.status == "failed":
            err.print(f"failed  {r.item_id} [{r.asset}]: {r.error}", markup=False, highlight=False)
        else:
            resumed = f", resumed at {r.resumed_from:,} B" if r.resumed_from and r.status == "fetched" else ""
            err.print(f"{r.status:7} {r.item_id} [{r.asset}] {r.path} ({r.size:,} B{resumed})", markup=False,
                      highlight=False)  # fmt: skip
    mib = report.transferred / 2**20
    rate = mib / report.elapsed if report.elapsed > 0 else 0.0
    err.print(
        f"fetched {report.count('fetched')}, already local {report.count('cached')}, failed {report.count('failed')}; "
        f"{mib:,.1f} MiB transferred in {report.elapsed:.1f} s ({rate:,.1f} MiB/s)",
        highlight=False,
    )
