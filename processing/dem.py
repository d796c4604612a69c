"""The DEM a GRD is terrain-corrected on: a UTM grid around the footprint, ellipsoidal heights.

sarsen writes its output on the DEM's grid, so the grid *is* the output grid: :func:`grid_for` snaps a
UTM (or given CRS) grid to whole multiples of the resolution, so every date of a track lands on the same
pixels. ``--dem auto`` (:func:`auto_dem`) materializes the Copernicus DEM GLO-30 tiles covering the
footprint through the fetch layer (``EOCAT_DEM_URL``; default the public AWS bucket), reprojects them onto
the grid (bilinear) and converts EGM2008 heights to WGS84 ellipsoidal ones: with PROJ's
``us_nga_egm08_25.tif`` grid when it is installed, otherwise by adding a constant undulation
(``EOCAT_GEOID_UNDULATION`` metres, default 0) — an approximation recorded in the output's metadata.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from catalog.errors import EocatError

DEM_URL = "https://copernicus-dem-30m.s3.amazonaws.com"
_TILES_LOCK = threading.Lock()  # products processed in parallel (--jobs) share tiles: fetch each once


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: CRS, origin (top-left corner), pixel size and shape."""

    crs: str
    x0: float
    y0: float
    resolution: float
    width: int
    height: int

    @property
    def transform(self) -> Any:
        from affine import Affine

        return Affine(self.resolution, 0.0, self.x0, 0.0, -self.resolution, self.y0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        r = self.resolution
        return self.x0, self.y0 - self.height * r, self.x0 + self.width * r, self.y0

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (2-D arrays)."""
        r = self.resolution
        xs = self.x0 + (np.arange(self.width) + 0.5) * r
        ys = self.y0 - (np.arange(self.height) + 0.5) * r
        return np.meshgrid(xs, ys)


def utm_crs(lon: float, lat: float) -> str:
    """The WGS84 UTM zone of a point, as ``EPSG:326xx`` (north) / ``EPSG:327xx`` (south)."""
    zone = min(60, max(1, int((lon + 180) // 6) + 1))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def grid_for(
    footprint: Sequence[tuple[float, float]], crs: str = "utm", resolution: float = 20.0, margin: float = 0.0
) -> Grid:
    """The grid covering a lon/lat ``footprint`` ring in ``crs`` (``utm``: the zone of its centre), snapped."""
    from pyproj import Transformer

    lons, lats = [p[0] for p in footprint], [p[1] for p in footprint]
    if crs.lower() == "utm":
        crs = utm_crs((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    # densify the ring so curved edges in the target CRS are covered
    dense_lon, dense_lat = [], []
    for (a, b), (c, d) in zip(footprint, [*footprint[1:], footprint[0]], strict=True):
        for f in np.linspace(0, 1, 11):
            dense_lon.append(a + (c - a) * f)
            dense_lat.append(b + (d - b) * f)
    xs, ys = to.transform(dense_lon, dense_lat)
    r = resolution
    x0 = math.floor((min(xs) - margin) / r) * r
    x1 = math.ceil((max(xs) + margin) / r) * r
    y0 = math.floor((min(ys) - margin) / r) * r
    y1 = math.ceil((max(ys) + margin) / r) * r
    return Grid(crs, x0, y1, r, round((x1 - x0) / r), round((y1 - y0) / r))


def write_dem(path: Path, heights: np.ndarray, grid: Grid) -> Path:
    """A float32 GeoTIFF of ellipsoidal heights on ``grid`` (what sarsen opens)."""
    import rasterio

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
        "tiled": True,
        "compress": "deflate",
    }
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(heights.astype(np.float32), 1)
    tmp.replace(path)
    return path


def read_dem_grid(path: Path) -> Grid:
    """The grid of an existing DEM GeoTIFF (north-up, square pixels)."""
    import rasterio

    with rasterio.open(path) as src:
        t = src.transform
        if abs(abs(t.a) - abs(t.e)) > 1e-9 or t.b or t.d:
            raise EocatError(f"{path}: the DEM must be north-up with square pixels")
        if src.crs is None or src.crs.is_geographic:
            raise EocatError(f"{path}: the DEM must be in a projected CRS (metres), e.g. UTM; got {src.crs}")
        return Grid(src.crs.to_string(), t.c, t.f, abs(t.a), src.width, src.height)


# -- Copernicus DEM GLO-30
def tile_name(lat: int, lon: int) -> str:
    """``Copernicus_DSM_COG_10_N46_00_E011_00_DEM`` for the 1°×1° tile with south-west corner (lat, lon)."""
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def tiles_for(bounds: tuple[float, float, float, float]) -> list[str]:
    """The GLO-30 tiles intersecting a lon/lat bbox."""
    west, south, east, north = bounds
    return [
        tile_name(lat, lon)
        for lat in range(math.floor(south), math.floor(north - 1e-12) + 1)
        for lon in range(math.floor(west), math.floor(east - 1e-12) + 1)
    ]


def dem_url() -> str:
    return (os.environ.get("EOCAT_DEM_URL") or DEM_URL).rstrip("/")


def geoid_undulation() -> float:
    """The constant EGM2008 undulation used when PROJ's geoid grid is missing (``EOCAT_GEOID_UNDULATION``)."""
    text = os.environ.get("EOCAT_GEOID_UNDULATION", "0")
    try:
        return float(text)
    except ValueError:
        raise EocatError(f"EOCAT_GEOID_UNDULATION={text!r} is not a number of metres") from None


def to_ellipsoidal(heights: np.ndarray, grid: Grid) -> tuple[np.ndarray, str]:
    """EGM2008 → WGS84 ellipsoidal heights; returns the heights and how it was done."""
    from pyproj import Transformer
    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup("EPSG:4326+3855", "EPSG:4979", always_xy=True)
    if group.best_available:
        xs, ys = grid.xy()
        lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
        _, _, h = group.transformers[0].transform(lon, lat, heights)
        return np.asarray(h, dtype=np.float32), "EGM2008 grid (PROJ us_nga_egm08_25)"
    n = geoid_undulation()
    return heights + np.float32(n), f"EGM2008 approximated by a constant undulation of {n:g} m (EOCAT_GEOID_UNDULATION)"


def auto_dem(footprint: Sequence[tuple[float, float]], grid: Grid, cache: Path, store: Any) -> tuple[Path, str]:
    """Materialize the GLO-30 tiles under ``footprint`` (fetch layer, cached), mosaic them onto ``grid``."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    lons, lats = [p[0] for p in footprint], [p[1] for p in footprint]
    names = tiles_for((min(lons) - 0.01, min(lats) - 0.01, max(lons) + 0.01, max(lats) + 0.01))
    tiles_dir = cache / "glo30"
    with _TILES_LOCK:
        ocean = _materialize(names, tiles_dir, store)
    mosaic = np.full((grid.height, grid.width), np.nan, dtype=np.float32)
    for name in names:
        if name in ocean:
            continue
        with rasterio.open(tiles_dir / f"{name}.tif") as src:
            part = np.full_like(mosaic, np.nan)
            reproject(
                rasterio.band(src, 1),
                part,
                dst_transform=grid.transform,
                dst_crs=grid.crs,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
            mosaic = np.where(np.isnan(mosaic), part, mosaic)
    if ocean:
        mosaic[np.isnan(mosaic)] = 0.0  # no tile = sea (the bucket has no ocean tiles): height 0 above the geoid
    if np.isnan(mosaic).any():
        raise EocatError(f"the GLO-30 tiles {', '.join(names)} do not cover the product's grid")
    heights, how = to_ellipsoidal(mosaic, grid)
    key = f"{grid.crs.replace(':', '')}_{grid.x0:.0f}_{grid.y0:.0f}_{grid.resolution:g}_{grid.width}x{grid.height}"
    return write_dem(cache / f"dem_{key}.tif", heights, grid), f"Copernicus DEM GLO-30 ({', '.join(names)}); {how}"


def _materialize(names: list[str], tiles_dir: Path, store: Any) -> set[str]:
    """Fetch the tiles not cached yet (fetch layer: resumable, verified, retried); returns the ocean tiles (404)."""
    from catalog.fetch import fetch_items

    base = dem_url()
    items = [
        {
            "type": "Feature",
            "id": name,
            "collection": "cop-dem-glo-30",
            "assets": {"dem": {"href": f"{base}/{name}/{name}.tif", "type": "image/tiff", "roles": ["data"]}},
        }
        for name in names
        if not (tiles_dir / f"{name}.tif").exists()
    ]
    ocean: set[str] = set()
    if items:
        report = fetch_items(store, items, dest=tiles_dir, jobs=2)
        for result in report.failed:
            if result.missing:
                ocean.add(result.item_id)
                continue
            raise EocatError(f"DEM tile {result.item_id}: {result.error}")
    return ocean
