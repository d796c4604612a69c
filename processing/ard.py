"""One Sentinel-1 GRD polarization → analysis-ready backscatter on a DEM grid (sarsen + eocat's extras).

sarsen terrain-corrects (geometric: β0 on the DEM grid; radiometric: γ0 flattened by the simulated
illuminated area) and writes on the DEM's grid. eocat adds what sarsen leaves out:

* **thermal noise removal**: DN² − noise (range LUT × azimuth LUT from the product's noise XML), clipped at 0;
* **border noise**: DN 0 is no data, and ``border`` more samples next to no data are trimmed (edge artefacts);
* **layover/shadow mask** (active, per DEM facet, in the zero-Doppler plane): *shadow* where the facet
  faces away from the sensor (local incidence ≥ 90°), *layover* where its normal is tilted towards the
  sensor beyond the look direction (slope towards the sensor > incidence). Masked pixels are NaN in the
  backscatter and coded 1 (layover) / 2 (shadow) in the mask raster;
* **COG writing**: float32, NaN no data, linear power (or dB with ``db=True``).
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catalog.errors import EocatError

MEASURES = {"gamma0_rtc": "gamma_bilinear", "sigma0_gtc": None, "beta0_gtc": None}
LAYOVER, SHADOW = 1, 2


@dataclass
class ArdResult:
    """What one run produced: the backscatter array (on the DEM grid), the mask and run facts."""

    values: np.ndarray
    mask: np.ndarray
    seconds: float
    facts: dict[str, Any] = field(default_factory=dict)


def _erode(valid: np.ndarray, k: int) -> np.ndarray:
    """``valid`` minus every pixel within ``k`` pixels (chessboard) of an invalid one."""
    out = valid.copy()
    for _ in range(k):
        shrunk = out.copy()
        shrunk[1:, :] &= out[:-1, :]
        shrunk[:-1, :] &= out[1:, :]
        shrunk[:, 1:] &= out[:, :-1]
        shrunk[:, :-1] &= out[:, 1:]
        out = shrunk
    return out


def _product_class() -> Any:
    import sarsen
    import xarray as xr

    class CleanGrd(sarsen.Sentinel1SarProduct):
        """sarsen's product with noise removal, border trimming and a sigma0 option in ``beta_nought``."""

        remove_noise: bool = True
        border: int = 2
        as_sigma0: bool = False

        @functools.cached_property
        def measurement(self) -> xr.Dataset:
            """Opened once (sarsen re-opens it on every access, re-parsing the annotation each time)."""
            return super().measurement

        @functools.cache  # noqa: B019  (one product object per run)
        def beta_nought(self, persist: bool = False) -> xr.DataArray:
            """Calibrated intensity, lazily per measurement chunk (memory bounded by the chunk size)."""
            import dask.array as da

            measurement = self.measurement.data_vars["measurement"]
            data = measurement.data
            dn = data if isinstance(data, da.Array) else da.from_array(data, chunks=2048)
            valid = dn > 0
            if self.border:
                valid = da.map_overlap(
                    lambda block: _erode(block, self.border), valid, depth=self.border, boundary=False, dtype=bool
                )
            lines, pixels = measurement.line.values, measurement.pixel.values
            cal = self.calibration
            lut = cal.sigmaNought if self.as_sigma0 else cal.betaNought
            noise = self._noise_luts() if self.remove_noise else None

            def calibrate(block: np.ndarray, ok: np.ndarray, block_info: Any = None) -> np.ndarray:
                (r0, r1), (c0, c1) = block_info[0]["array-location"]
                at = {"line": lines[r0:r1], "pixel": pixels[c0:c1], "kwargs": {"fill_value": "extrapolate"}}
                gain = lut.interp(**at).values.astype(np.float32)
                power = block.astype(np.float32) ** 2
                if noise is not None:
                    rng, az = noise
                    floor = rng.interp(**at).values.astype(np.float32)
                    if az is not None:
                        floor *= az.interp(line=lines[r0:r1], kwargs={"fill_value": "extrapolate"}).values[:, None]
                    power -= floor
                return np.where(ok, np.clip(power, 0.0, None) / gain**2, np.nan).astype(np.float32)

            beta = da.map_blocks(calibrate, dn, valid, dtype=np.float32)
            return measurement.copy(data=beta).drop_vars(["pixel", "line"])

        def _noise_luts(self) -> tuple[xr.DataArray, xr.DataArray | None]:
            import xarray_sentinel  # noqa: F401  (registers the engine)

            group = self.measurement_group
            rng = xr.open_dataset(self.product_urlpath, engine="sentinel-1", group=f"{group}/noise_range")
            az = xr.open_dataset(self.product_urlpath, engine="sentinel-1", group=f"{group}/noise_azimuth")
            return rng.noiseRangeLut.load(), az.noiseAzimuthLut.load() if "noiseAzimuthLut" in az else None

    return CleanGrd


def layover_shadow(dem_ecef: Any, acquisition: Any) -> np.ndarray:
    """The active layover (1) / shadow (2) code of every DEM pixel (0 = neither)."""
    from sarsen import scene

    area = scene.compute_dem_oriented_area(dem_ecef).transpose("y", "x", "axis").values
    points = dem_ecef.transpose("y", "x", "axis").values
    to_sat = -acquisition.dem_distance.transpose("y", "x", "axis").values
    vel = acquisition.satellite_velocity.transpose("y", "x", "axis").values

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    a, b = 6_378_137.0, 6_356_752.314245
    up = unit(points / np.array([a * a, a * a, b * b]))
    v = unit(vel)
    look = unit(to_sat)
    normal = unit(area)
    if np.nanmean(np.sum(normal * up, axis=-1)) < 0:
        normal = -normal

    def in_plane(x: np.ndarray) -> np.ndarray:
        return unit(x - np.sum(x * v, axis=-1, keepdims=True) * v)

    n_p, u_p, l_p = in_plane(normal), in_plane(up), in_plane(look)

    def angle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.arctan2(np.sum(np.cross(x, y) * v, axis=-1), np.sum(x * y, axis=-1))

    theta = angle(u_p, l_p)  # signed incidence
    tilt = angle(u_p, n_p) * np.sign(theta)  # >0: facet tilted towards the sensor
    code = np.zeros(theta.shape, dtype=np.uint8)
    code[tilt > np.abs(theta)] = LAYOVER
    code[np.sum(n_p * l_p, axis=-1) <= 0] = SHADOW
    return code


def mask_in_blocks(dem_raster: Any, interpolator: Any, pixels: int = 1_000_000) -> np.ndarray:
    """:func:`layover_shadow` over row blocks of about ``pixels`` DEM pixels (one-row halo: facets are exact)."""
    from sarsen import geocoding, scene

    ny, nx = dem_raster.sizes["y"], dem_raster.sizes["x"]
    rows = max(16, pixels // max(nx, 1))
    code = np.zeros((ny, nx), dtype=np.uint8)
    for r0 in range(0, ny, rows):
        r1 = min(ny, r0 + rows)
        a, b = max(0, r0 - 1), min(ny, r1 + 1)
        ecef = scene.convert_to_dem_ecef(dem_raster.isel(y=slice(a, b)).compute())
        part = layover_shadow(ecef, geocoding.backward_geocode(ecef, interpolator))
        code[r0:r1] = part[r0 - a : r0 - a + (r1 - r0)]
    return code


def terrain_correct(
    safe_dir: Path,
    polarization: str,
    dem_path: Path,
    measure: str = "gamma0_rtc",
    remove_noise: bool = True,
    border: int = 2,
    mask: bool = True,
) -> ArdResult:
    """Run sarsen on one polarization of a GRD SAFE directory over the DEM at ``dem_path``."""
    import dask
    from sarsen import apps, orbit, scene

    if measure not in MEASURES:
        raise EocatError(f"unknown --measure {measure!r}; choose from {', '.join(MEASURES)}")
    started = time.perf_counter()
    product = _product_class()(str(safe_dir), measurement_group=f"IW/{polarization.upper()}")
    product.remove_noise, product.border = remove_noise, border
    product.as_sigma0 = measure == "sigma0_gtc"
    if f"IW/{polarization.upper()}" not in product.all_measurement_groups():
        raise EocatError(f"{safe_dir.name} has no {polarization.upper()} measurement")
    dem_raster = scene.open_dem_raster(str(dem_path), chunks=1024)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        # γ0 = β0 / simulated area: the area is 0 in shadow (masked below); dask threads ignore np.errstate
        warnings.filterwarnings("ignore", "(divide by zero|invalid value) encountered", RuntimeWarning)
        geocoded, _ = apps.do_terrain_correction(product, dem_raster, correct_radiometry=MEASURES[measure])
        # sarsen works on y ascending (south up); outputs are north-up like the DEM file
        values = np.asarray(geocoded.sortby("y", ascending=False).transpose("y", "x").values, dtype=np.float32)
        code = np.zeros(values.shape, dtype=np.uint8)
        if mask:
            interpolator = orbit.OrbitPolyfitInterpolator.from_position(product.state_vectors())
            code = mask_in_blocks(dem_raster.sortby("y", ascending=False), interpolator)
            values[code > 0] = np.nan
    values[~np.isfinite(values)] = np.nan
    return ArdResult(values, code, time.perf_counter() - started, {"measure": measure, "noise_removed": remove_noise})


def write_cog(path: Path, data: np.ndarray, crs: str, transform: Any, nodata: float | int | None) -> None:
    """A Cloud-Optimized GeoTIFF (deflate, 256-px tiles, overviews), written atomically."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": str(data.dtype),
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    tmp = path.with_name(path.name + ".part")
    with MemoryFile() as mem:
        with mem.open(**profile) as src:
            src.write(data, 1)
        with mem.open() as src:
            cog = {"driver": "COG", "compress": "DEFLATE", "blocksize": 256, "overview_resampling": "average"}
            rasterio.shutil.copy(src, tmp, **cog)
    tmp.replace(path)


def to_db(values: np.ndarray) -> np.ndarray:
    """10·log10 of linear power (NaN where not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, 10 * np.log10(values), np.nan).astype(np.float32)
