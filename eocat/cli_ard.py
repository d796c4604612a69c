"""``eocat ard`` (GRD → analysis-ready backscatter COGs + STAC items) and ``eocat mosaic`` (per date window).

Registered on the main CLI at the end of :mod:`eocat.cli`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from catalog.errors import InvalidQuery
from catalog.search import Query
from eocat.options import echo_json, err, has_selection, open_catalog, select_items, selection_options


def _select(ctx: click.Context, query: Query, item_id: str | None, limit: int | None, default: str) -> list[Any]:
    if item_id:
        query = replace(query, ids=(item_id,))
    if not has_selection(query) and default == "sentinel-1-grd":
        raise InvalidQuery("give an ITEM_ID or selection options (--collections, --bbox, --datetime, …)")
    if not query.collections and not query.ids:
        query = replace(query, collections=(default,))
    return list(select_items(open_catalog(ctx, must_exist=True), query, limit))


@click.command("ard")
@click.argument("item_id", required=False)
@selection_options(limit="Process at most N items.")
@click.option("--dem", default="auto", show_default=True,
              help="A DEM GeoTIFF with ellipsoidal heights in a projected CRS (its grid is the output grid), "
              "or 'auto': Copernicus DEM GLO-30 tiles through the fetch layer ($EOCAT_DEM_URL).")  # fmt: skip
@click.option("--measure", type=click.Choice(["gamma0_rtc", "sigma0_gtc", "beta0_gtc"]), default="gamma0_rtc",
              show_default=True, help="Terrain-flattened gamma0, or geometric-only sigma0/beta0.")  # fmt: skip
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
@click.option("--jobs", type=click.IntRange(1, 8), default=1, show_default=True, help="Products in parallel.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per ARD item made.")
@click.pass_context
def ard(
    ctx: click.Context, item_id: str | None, dem: str, measure: str, resolution: float, crs: str,
    polarizations: str | None, db_scale: bool, keep_noise: bool, border: int, out: Path, limit: int | None,
    jobs: int, as_json: bool, query: Query,
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
    items = _select(ctx, query, item_id, limit, "sentinel-1-grd")
    if not items:
        raise InvalidQuery("the selection matched no GRD item")
    pols = tuple(p.strip().upper() for p in (polarizations or "").split(",") if p.strip())
    opts = ArdOptions(dem, measure, resolution, crs, db_scale, pols, not keep_noise, border)
    store = open_catalog(ctx, must_exist=True)
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
            echo_json({"id": made["id"], "href": made["assets"]["backscatter"]["href"]})
        err.print(f"made    {made['id']} ({report.seconds.get(made['id'], 0):.1f} s)")
    for skipped in report.skipped:
        err.print(f"skipped {skipped} (exists, verified)")
    for failed, why in report.failed:
        err.print(f"failed  {failed}: {why}")
    err.print(f"ard: {len(report.made)} made, {len(report.skipped)} skipped, {len(report.failed)} failed")
    if report.failed:
        ctx.exit(1)


@click.command("mosaic")
@selection_options(limit="Use at most N ARD items.")
@click.option("--window", default="1d", show_default=True, help="Date window per mosaic: Nd (days).")
@click.option("--overlap", type=click.Choice(["latest", "mean"]), default="latest", show_default=True,
              help="Where products overlap: the latest acquisition wins, or the mean of linear power.")  # fmt: skip
@click.option("--resolution", type=click.FloatRange(min=1), help="Mosaic pixel size (default: the inputs').")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("mosaics"), show_default=True,
              help="Output directory (one COG per window).")  # fmt: skip
@click.option("--animate", type=click.Path(dir_okay=False, path_type=Path),
              help="Also animate the windows: .gif (Pillow) or .mp4 (PyAV), a date label per frame.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per mosaic.")
@click.pass_context
def mosaic(
    ctx: click.Context, window: str, overlap: str, resolution: float | None, out: Path, animate: Path | None,
    limit: int | None, as_json: bool, query: Query,
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
    items = _select(ctx, query, None, limit, "sentinel-1-ard")
    if not items:
        raise InvalidQuery("the selection matched no ARD item (run eocat ard first)")
    made = mosaic_windows(items, days, overlap, out, resolution)
    for m in made:
        if as_json:
            echo_json({"window": m.label, "path": str(m.path), "items": m.count})
        err.print(f"mosaic  {m.label}: {m.count} item(s) -> {m.path}")
    if animate is not None:
        frames = write_animation([m.path for m in made], [m.label for m in made], animate)
        err.print(f"animation: {frames} frame(s) -> {animate}")
