"""Cloud-Optimized GeoTIFF writing (rasterio/GDAL), atomic: a temporary file, fsync, then rename.

Provider-free: callers give float arrays, an affine transform and a CRS. The file is written by GDAL's
COG driver (tiled, DEFLATE with the floating-point predictor, overviews when the raster is larger than
a tile) and appears under its final name only once complete, so readers never see half a file.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"


def write_cog(
    path: str | Path,
    bands: Sequence[np.ndarray],
    *,
    transform: Affine,
    crs: str = "EPSG:4326",
    nodata: float = math.nan,
    tags: Mapping[str, str] | None = None,
    descriptions: Sequence[str] | None = None,
    blocksize: int = 512,
) -> Path:
    """Write ``bands`` (2-D arrays of one shape) as a float32 COG at ``path``; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    height, width = bands[0].shape
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": len(bands),
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    try:
        with rasterio.MemoryFile() as memory, memory.open(**profile) as dataset:
            for index, band in enumerate(bands, start=1):
                dataset.write(np.asarray(band, dtype=np.float32), index)
                if descriptions:
                    dataset.set_band_description(index, descriptions[index - 1])
            if tags:
                dataset.update_tags(**{k: str(v) for k, v in tags.items()})
            rasterio.shutil.copy(
                dataset,
                temporary,
                driver="COG",
                compress="DEFLATE",
                predictor="3",
                blocksize=str(blocksize),
                overview_resampling="average",
            )
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return target


def grid_transform(bbox: Sequence[float], width: int, height: int) -> Affine:
    """The affine transform of a north-up grid over ``[W, S, E, N]`` (rasterio's ``from_bounds``)."""
    west, south, east, north = (float(v) for v in bbox)
    return Affine((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
