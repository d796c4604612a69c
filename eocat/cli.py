"""The ``eocat`` command line: a thin shell over :mod:`catalog` (and later :mod:`indexer`).

Results go to stdout; messages and summaries go to stderr, so ``--format ndjson`` output can
be piped. Errors print one line without a traceback and exit non-zero (2 for a bad query,
3 for something not found, 1 otherwise).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table

from catalog.errors import EocatError, InvalidQuery
from catalog.ingest import import_files
from catalog.search import Query, check_collections, count, iter_items
from catalog.store import Store

DEFAULT_DB = "data/eocat.db"
F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _out_console() -> Console:
    """Console for tables on stdout: terminal width, or wide enough for full ids when piped."""
    return Console(width=None if sys.stdout.isatty() else 220)


class EocatGroup(click.Group):
    """Click group that turns eocat errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EocatError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)


@click.group(cls=EocatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", "db_path", envvar="EOCAT_DB", default=DEFAULT_DB, show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="Catalogue file (or set EOCAT_DB).",
)  # fmt: skip
@click.pass_context
def main(ctx: click.Context, db_path: Path) -> None:
    """eocat: one STAC catalogue over Copernicus / Sentinel portals."""
    ctx.obj = db_path


def _store(ctx: click.Context) -> Store:
    store = Store(ctx.obj)
    ctx.call_on_close(store.close)
    return store


@main.command("import")
@click.argument("files", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def import_command(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Import STAC items and collections: NDJSON, ItemCollection, single JSON (- for stdin), GeoParquet.

    Records that cannot be read or stored are reported with their line and skipped; the exit
    status is 1 when any were rejected.
    """
    for name in files:
        if name != "-" and not Path(name).exists():  # a directory holds GeoParquet files
            raise EocatError(f"no such file: {name}")
    store = _store(ctx)
    report = import_files(store, list(files))
    store.optimize()
    if as_json:
        click.echo(orjson.dumps(report.as_dict()).decode())
    err.print(
        f"imported {report.inserted} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.rejected} rejected",
        highlight=False,
    )
    for name in report.collections_created:
        err.print(f"created collection {name!r} (no collection document was given)", highlight=False)
    for message in report.errors:
        err.print(f"  rejected {message}", highlight=False, markup=False)
    if report.rejected > len(report.errors):
        err.print(f"  … and {report.rejected - len(report.errors)} more", highlight=False)
    if report.rejected:
        ctx.exit(1)


def search_options(function: F) -> F:
    """The DESIGN §4 search options, shared by every command that selects items."""
    options = [
        click.option("--collections", help="Comma-separated collection ids."),
        click.option("--ids", help="Comma-separated item ids (overrides every other filter)."),
        click.option("--bbox", help="W,S,E,N (or 6 numbers); W > E crosses the antimeridian."),
        click.option("--intersects", help="A GeoJSON geometry, inline or as a file path."),
        click.option("--datetime", "datetime_", metavar="INTERVAL", help="RFC 3339 instant or START/END, '..' open."),
        click.option("--filter", "filter_", metavar="CQL2", help="CQL2 text (or JSON) filter."),
        click.option("--filter-lang", type=click.Choice(["cql2-text", "cql2-json"]), help="Default: guessed."),
        click.option("--sortby", help="e.g. -datetime,+id or -eo:cloud_cover (default -datetime)."),
        click.option("--fields", help="Fields extension, e.g. id,properties.datetime,-assets."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def build_query(
    *, collections: str | None, ids: str | None, bbox: str | None, intersects: str | None,
    datetime_: str | None, filter_: str | None, filter_lang: str | None, sortby: str | None,
    fields: str | None, limit: int | None = None,
) -> Query:  # fmt: skip
    """A Query from command-line option values (an --intersects file path is read)."""
    geometry: str | None = intersects
    if intersects and not intersects.lstrip().startswith("{"):
        path = Path(intersects)
        if not path.is_file():
            raise InvalidQuery(f"--intersects: {intersects!r} is neither GeoJSON nor a file")
        geometry = path.read_text()
    if geometry is not None:
        try:
            document = orjson.loads(geometry)
        except orjson.JSONDecodeError as exc:
            raise InvalidQuery(f"--intersects: malformed JSON: {exc}") from None
        if isinstance(document, dict) and document.get("type") == "Feature":
            document = document.get("geometry")
        elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
            features = document.get("features") or []
            if len(features) != 1:
                raise InvalidQuery("--intersects: give one geometry (a FeatureCollection of one feature)")
            document = features[0].get("geometry")
        geometry = orjson.dumps(document).decode()
    return Query.parse(
        collections=collections, ids=ids, bbox=bbox, intersects=geometry, datetime=datetime_,
        filter=filter_, filter_lang=filter_lang, sortby=sortby, fields=fields,
        limit=min(limit, 1000) if limit else 1000,
    )  # fmt: skip


@main.command()
@search_options
@click.option("--limit", type=click.IntRange(min=1), help="Return at most N items (default: all).")
@click.option(
    "--format", "output", type=click.Choice(["table", "ndjson", "geojson", "count"]), default="table",
    show_default=True, help="table for people; ndjson/geojson for programs; count prints the number.",
)  # fmt: skip
@click.pass_context
def search(ctx: click.Context, limit: int | None, output: str, **options: Any) -> None:
    """Search the catalogue (bbox, intersects, datetime, CQL2 filter, sort, fields)."""
    query = build_query(limit=limit, **options)
    store = _store(ctx)
    check_collections(store, query)
    if output == "count":
        total = count(store, query)
        click.echo(str(min(total, limit) if limit else total))
        return
    items: Iterable[dict[str, Any]] = iter_items(store, query, page_size=query.limit)
    if limit:
        items = itertools.islice(items, limit)
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
            item.get("collection", ""), item.get("id", ""),
            properties.get("datetime") or properties.get("start_datetime") or "",
            properties.get("platform", ""), "" if cloud is None else f"{cloud:.1f}",
        )  # fmt: skip
        shown += 1
    _out_console().print(table)
    err.print(f"{shown} item(s)", highlight=False)


@main.command()
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def collections(ctx: click.Context, output: str) -> None:
    """List the catalogue's collections with their item counts."""
    store = _store(ctx)
    counts = store.item_counts()
    documents = store.collections()
    if output == "json":
        for document in documents:
            click.echo(orjson.dumps(document).decode())
        return
    table = Table("id", "items", "title", "temporal extent", box=None, header_style="bold")
    for document in documents:
        interval = (document.get("extent", {}).get("temporal", {}).get("interval") or [[None, None]])[0]
        table.add_row(
            document["id"], str(counts.get(document["id"], 0)), document.get("title", ""),
            f"{interval[0] or '..'} / {interval[1] or '..'}",
        )  # fmt: skip
    _out_console().print(table)


# -- harvesting -------------------------------------------------------------------------------


def _time_option(value: str, *, end: bool) -> str:
    """RFC 3339, or a date (YYYY-MM-DD): midnight for a start, the day after for an (exclusive) end."""
    from datetime import date, timedelta

    from catalog.timeutil import canonical_strict

    try:
        day = date.fromisoformat(value)
    except ValueError:
        return canonical_strict(value)
    if end:
        day += timedelta(days=1)
    return f"{day.isoformat()}T00:00:00.000000Z"


def _area(bbox: str | None, aoi: Path | None) -> Any:
    """The harvest area as a shapely geometry (None for everywhere)."""
    import shapely

    from catalog.geo import SpatialFilter, parse_bbox

    if bbox and aoi:
        raise InvalidQuery("give --bbox or --aoi, not both")
    if bbox:
        return SpatialFilter.from_bbox(parse_bbox(bbox)).geometry
    if aoi is None:
        return None
    try:
        document = orjson.loads(aoi.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidQuery(f"--aoi {aoi}: cannot read GeoJSON: {exc}") from None
    features = document.get("features") if document.get("type") == "FeatureCollection" else [document]
    geometries = [SpatialFilter.from_geojson(f.get("geometry", f)).geometry for f in features or []]
    if not geometries:
        raise InvalidQuery(f"--aoi {aoi}: no geometry in the file")
    return shapely.union_all(geometries)


@main.group()
def harvest() -> None:
    """Harvest an upstream catalogue into this one (resumable; run again to continue)."""


@harvest.command("cdse")
@click.option("--collection", required=True, help="CDSE collection, e.g. SENTINEL-1, SENTINEL-2, SENTINEL-3.")
@click.option("--product-type", help="e.g. S2MSI2A, S2MSI1C, IW_SLC__1S, IW_GRDH_1S.")
@click.option("--bbox", help="W,S,E,N area (W > E crosses the antimeridian).")
@click.option("--aoi", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="GeoJSON area file.")
@click.option("--start", required=True, help="RFC 3339 time or YYYY-MM-DD (inclusive).")
@click.option("--end", required=True, help="RFC 3339 time (exclusive) or YYYY-MM-DD (inclusive day).")
@click.option("--cloud-cover-max", type=click.FloatRange(0, 100), help="Only products at most this cloudy.")
@click.option("--since-last", is_flag=True, help="Only products modified since the last complete harvest.")
@click.option("--restart", is_flag=True, help="Forget finished windows and harvest everything again.")
@click.option("--jobs", type=click.IntRange(1, 4), default=4, show_default=True, help="Parallel connections.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def harvest_cdse(
    ctx: click.Context, collection: str, product_type: str | None, bbox: str | None, aoi: Path | None,
    start: str, end: str, cloud_cover_max: float | None, since_last: bool, restart: bool, jobs: int, as_json: bool,
) -> None:  # fmt: skip
    """CDSE OData products (Sentinel-1/2/3 …) by collection, type, area, dates and cloud cover."""
    from indexer.cdse.client import ProductQuery, harvest_products
    from indexer.harvest import print_summary

    window = (_time_option(start, end=False), _time_option(end, end=True))
    if window[0] >= window[1]:
        raise InvalidQuery(f"--start {start} is not before --end {end}")
    query = ProductQuery(collection, product_type, _area(bbox, aoi), cloud_cover_max)
    store = _store(ctx)
    report = harvest_products(store, query, *window, since_last=since_last, jobs=jobs, restart=restart)
    store.optimize()
    if as_json:
        click.echo(orjson.dumps(report.as_dict()).decode())
    print_summary(report, err)
    if report.shortfalls:  # malformed upstream records are reported, not fatal; gaps are
        ctx.exit(1)


# -- emulators -------------------------------------------------------------------------------


@main.group()
def emulate() -> None:
    """Serve a local stand-in for an upstream on 127.0.0.1 (for tests, demos, benchmarks)."""


@emulate.command("cdse", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                 add_help_option=False)  # fmt: skip
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_cdse(args: tuple[str, ...]) -> None:
    """The CDSE OData catalogue, identity and download services (--help for its options)."""
    from emulators.cdse import main as serve_cdse

    sys.exit(serve_cdse(list(args)))


# -- GeoParquet export, DuckDB SQL, inventories (issue 7; eocat/cli_parquet.py) ------------------
from eocat.cli_parquet import export, inventory, sql  # noqa: E402

main.add_command(export)
main.add_command(sql)
main.add_command(inventory)
# -- DestinE (issue 6) ------------------------------------------------------------------------
from eocat.cli_destine import emulate_destine, harvest_destine, timescan_command  # noqa: E402

harvest.add_command(harvest_destine)
emulate.add_command(emulate_destine)
main.add_command(timescan_command)
# -- issue 5: the fetch layer (eocat/cli_fetch.py)
from eocat.cli_fetch import fetch_command  # noqa: E402

main.add_command(fetch_command)
# -- Sentinel-1 bursts (issue 4) ---------------------------------------------------------------
from eocat.cli_bursts import emulate_asf, harvest_asf_bursts, harvest_cdse_bursts, stack  # noqa: E402

harvest.add_command(harvest_cdse_bursts)
harvest.add_command(harvest_asf_bursts)
emulate.add_command(emulate_asf)
main.add_command(stack)
# -- STAC API (issue 8) ----------------------------------------------------------------------
from eocat.cli_serve import serve as _serve_command  # noqa: E402

main.add_command(_serve_command)


@emulate.command("all")
@click.option("--products", default=20_000, show_default=True, help="Synthetic CDSE products (2021-2025, worldwide).")
@click.option("--burst-frames", default=4, show_default=True, help="Burst frame locations of the CDSE/ASF truth.")
def emulate_all(products: int, burst_frames: int) -> None:
    """Every stand-in at once: CDSE, ASF (SearchAPI, extractor, Earthdata Login) and DestinE."""
    from emulators.everything import serve_all

    serve_all(products, burst_frames)

from eocat.cli_ard import ard, mosaic  # noqa: E402

main.add_command(ard)
main.add_command(mosaic)
