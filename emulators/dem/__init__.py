"""Copernicus DEM GLO-30 emulator: synthetic 1°×1° tiles laid out like the public bucket, on 127.0.0.1.

``GET /<tile>/<tile>.tif`` (``Copernicus_DSM_COG_10_N46_00_E011_00_DEM``) answers a float32 GeoTIFF in
EPSG:4326 of EGM2008 heights from a terrain function (default: flat at ``height`` metres; ``hills`` adds
Gaussian hills), ``size``×``size`` pixels per tile (real tiles: 3600). Point ``EOCAT_DEM_URL`` at
:attr:`DemEmulator.url`::

    with DemEmulator(height=120.0) as dem:
        os.environ["EOCAT_DEM_URL"] = dem.url
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Self

import numpy as np

from emulators.cdse.app import Response
from emulators.hosting import Host

_TILE = re.compile(r"^/(Copernicus_DSM_COG_10_([NS])(\d\d)_00_([EW])(\d\d\d)_00_DEM)/\1\.tif$")
Terrain = Callable[[np.ndarray, np.ndarray], np.ndarray]


def tile_bytes(lat: int, lon: int, size: int, terrain: Terrain) -> bytes:
    """One tile as GeoTIFF bytes (pixel-is-area grid over [lon, lon+1] × [lat, lat+1])."""
    from affine import Affine
    from rasterio.io import MemoryFile

    step = 1.0 / size
    lons = lon + (np.arange(size) + 0.5) * step
    lats = lat + 1 - (np.arange(size) + 0.5) * step
    grid_lon, grid_lat = np.meshgrid(lons, lats)
    heights = terrain(grid_lon, grid_lat).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(step, 0.0, float(lon), 0.0, -step, float(lat + 1)),
        "tiled": True,
        "compress": "deflate",
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(heights, 1)
        return bytes(mem.read())


class DemApp:
    """The tile host: one GET route; unknown tiles (the ocean) are 404 as on the bucket."""

    def __init__(self, terrain: Terrain, size: int, land: Callable[[int, int], bool]) -> None:
        self.terrain = terrain
        self.size = size
        self.land = land
        self.served: list[str] = []
        self._tile = lru_cache(maxsize=32)(self._render)

    def _render(self, lat: int, lon: int) -> bytes:
        return tile_bytes(lat, lon, self.size, self.terrain)

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        match = _TILE.match(path)
        if method not in ("GET", "HEAD") or match is None:
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
        lat = int(match[3]) * (1 if match[2] == "N" else -1)
        lon = int(match[5]) * (1 if match[4] == "E" else -1)
        if not self.land(lat, lon):
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
        self.served.append(match[1])
        data = self._tile(lat, lon)
        return Response(200, data, {"Content-Type": "image/tiff; application=geotiff"})


def flat(height: float) -> Terrain:
    return lambda lon, lat: np.full(lon.shape, height)


def hills(base: float, peaks: list[tuple[float, float, float, float]]) -> Terrain:
    """``base`` plus Gaussian hills ``(lon, lat, height m, sigma m)``."""

    def terrain(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        out = np.full(lon.shape, base, dtype=np.float64)
        for plon, plat, h, sigma in peaks:
            dx = (lon - plon) * 111_320.0 * np.cos(np.radians(plat))
            dy = (lat - plat) * 110_574.0
            out += h * np.exp(-(dx**2 + dy**2) / (2 * sigma**2))
        return out

    return terrain


class DemEmulator:
    """The GLO-30 tile host on 127.0.0.1 (a context manager); ``url`` is for ``EOCAT_DEM_URL``."""

    def __init__(
        self,
        height: float = 0.0,
        terrain: Terrain | None = None,
        size: int = 360,
        land: Callable[[int, int], bool] = lambda lat, lon: True,
        port: int = 0,
    ) -> None:
        self.app = DemApp(terrain or flat(height), size, land)
        self.port = port
        self._host: Host | None = None

    @property
    def url(self) -> str:
        if self._host is None:
            raise RuntimeError("the DEM emulator is not started")
        return self._host.url

    @property
    def requests(self) -> Any:
        assert self._host is not None
        return self._host.requests

    def __enter__(self) -> Self:
        self._host = Host(self.app, "dem-emulator", port=self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._host is not None:
            self._host.stop()
            self._host = None
