"""``eocat ard`` (GRD → analysis-ready backscatter COGs + STAC items) and ``eocat mosaic`` (per date window).

Registered on the main CLI at the end of :mod:`eocat.cli`.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import click
import orjson

from catalog.errors import InvalidQuery
from catalog.search import check_collections, iter_items
from eocat.cli import _store, build_query, err, search_options


def _select(ctx: click.Context, item_id: str | None, limit: int | None, default: str, **options: Any) -> list[Any]:
    if item_id:
        options["ids"] = item_id
    if not any(options.get(k) for k in ("collections", "ids", "bbox", "intersects", "datetime_", "filter_")):
        raise InvalidQuery("give an ITEM_ID or search options (--collections, --bbox, --datetime, …)")
    if not options.get("collections") and not options.get("ids"):
        options["collections"] = default
    query = build_query(limit=limit, **options)
    store = _store(ctx)
    check_collections(store, query)
    items = iter_items(store, query, page_size=query.limit)
    return list(itertools.islice(items, limit) if limit else items)


@click.command("ard")
@click.argument("item_id", required=False)
@search_options
@click.option("--dem", default="auto", show_default=True,
              help="A DEM GeoTIFF with ellipsoidal heights in a projected CRS (its grid is the output grid), "
              "or 'auto': Copernicus DEM GLO-30 tiles through the fetch layer ($EOCAT_DEM_URL).")  # fmt: skip
@click.option("--measure", type=click.Choice(["gamma0_rtc", "sigma0_gtc", "beta0_gtc"]), default="gamma0_rtc",
              show_default=True, help="Radiometrically terrain-corrected gamma0, or geometric-only sigma0/beta0.")  # fmt: skip
@click.option("--resolution", type=click.FloatRange(min=1), default=20.0, show_default=True,
              help="Output pixel size in metres (with --dem auto).")  # fmt: skip
@click.option("--crs", default="utm", show_default=True, help="Output CRS with --dem auto: EPSG:… or utm.")
@click.option("--polarizations", help="Comma-separated, e.g. VV,VH (default: all of the product's).")
@click.option("--db", "db_scale", is_flag=True, help="Write dB instead of linear power.")
@click.option("--keep-noise", is_flag=True, help="Do not remove thermal noise.")
@click.option("--border", type=click.IntRange(0, 50), default=2, show_default=True,
              help="Samples trimmed next to no-data (border noise).")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("ard"), show_default=True,
              help="Output directory.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="Process at most N items.")
@click.option("--jobs", type=click.IntRange(1, 8), default=1, show_default=True, help="Products in parallel.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per ARD item made.")
@click.pass_context
def ard(
    ctx: click.Context, item_id: str | None, dem: str, measure: str, resolution: float, crs: str,
    polarizations: str | None, db_scale: bool, keep_noise: bool, border: int, out: Path, limit: int | None,
    jobs: int, as_json: bool, **options: Any,
) -> None:  # fmt: skip
    """Sentinel-1 GRD → analysis-ready backscatter: one float32 COG per product and polarization.

    \b
    eocat ard S1A_IW_GRDH_1SDV_… --dem auto --measure gamma0_rtc --resolution 20
    eocat ard --collections sentinel-1-grd --bbox 10,46,12,47 --datetime 2024-06-01/2024-06-30 --dem dem.tif
    Outputs are recorded as items of the sentinel-1-ard collection; existing, verified outputs are skipped.
    """
    from concurrent.futures import ThreadPoolExecutor

    from catalog.errors import EocatError
    from processing.run import ArdOptions, ArdReport, process_item

    if crs.lower() != "utm" and not crs.upper().startswith("EPSG:"):
        raise InvalidQuery(f"--crs {crs!r}: give EPSG:<code> or utm")
    items = _select(ctx, item_id, limit, "sentinel-1-grd", **options)
    if not items:
        raise InvalidQuery("the selection matched no GRD item")
    pols = tuple(p.strip().upper() for p in (polarizations or "").split(",") if p.strip())
    opts = ArdOptions(dem, measure, resolution, crs, db_scale, pols, not keep_noise, border)
    store = _store(ctx)
    report = ArdReport()

    def one(item: dict[str, Any]) -> None:
        try:
            process_item(store, item, opts, out, report)
        except EocatError as exc:
            report.failed.append((item["id"], str(exc)))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, items))
    for made in report.made:
        if as_json:
            click.echo(orjson.dumps({"id": made["id"], "href": made["assets"]["backscatter"]["href"]}).decode())
        err.print(f"made    {made['id']} ({report.seconds.get(made['id'], 0):.1f} s)", markup=False)
    for skipped in report.skipped:
        err.print(f"skipped {skipped} (exists, verified)", markup=False)
    for failed, why in report.failed:
        err.print(f"failed  {failed}: {why}", markup=False)
    err.print(f"ard: {len(report.made)} made, {len(report.skipped)} skipped, {len(report.failed)} failed", markup=False)
    if report.failed:
        ctx.exit(1)


@click.command("mosaic")
@search_options
@click.option("--window", default="1d", show_default=True, help="Date window per mosaic: Nd (days).")
@click.option("--overlap", type=click.Choice(["latest", "mean"]), default="latest", show_default=True,
              help="Where products overlap: the latest acquisition wins, or the mean of linear power.")  # fmt: skip
@click.option("--resolution", type=click.FloatRange(min=1), help="Mosaic pixel size (default: the inputs').")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("mosaics"), show_default=True,
              help="Output directory (one COG per window).")  # fmt: skip
@click.option("--animate", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an animation of the windows: .gif (Pillow) or .mp4 (PyAV), a date label per frame.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="Use at most N ARD items.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per mosaic.")
@click.pass_context
def mosaic(
    ctx: click.Context, window: str, overlap: str, resolution: float | None, out: Path, animate: Path | None,
    limit: int | None, as_json: bool, **options: Any,
) -> None:  # fmt: skip
    """Mosaic ARD items (several tracks/products) into one COG per date window, optionally animated.

    \b
    eocat mosaic --collections sentinel-1-ard --filter "\\"sar:polarizations\\" = 'VV'" --window 12d --animate s1.gif
    Inputs are reprojected onto one grid (the first item's CRS); values stay linear power.
    """
    from processing.animate import animate as write_animation
    from processing.mosaic import mosaic_windows, parse_window

    days = parse_window(window)
    if animate is not None and animate.suffix.lower() not in (".gif", ".mp4"):
        raise InvalidQuery(f"--animate {animate}: give a .gif or .mp4 file")
    items = _select(ctx, None, limit, "sentinel-1-ard", **options) if any(options.values()) else []
    if not items:
        items = _select(ctx, None, limit, "sentinel-1-ard", collections="sentinel-1-ard", **{
            k: v for k, v in options.items() if k != "collections"})  # fmt: skip
    if not items:
        raise InvalidQuery("the selection matched no ARD item (run eocat ard first)")
    made = mosaic_windows(items, days, overlap, out, resolution)
    for m in made:
        if as_json:
            click.echo(orjson.dumps({"window": m.label, "path": str(m.path), "items": m.count}).decode())
        err.print(f"mosaic  {m.label}: {m.count} item(s) -> {m.path}", markup=False)
    if animate is not None:
        frames = write_animation([m.path for m in made], [m.label for m in made], animate)
        err.print(f"animation: {frames} frame(s) -> {animate}", markup=False)
