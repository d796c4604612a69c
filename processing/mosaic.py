"""Mosaics of ARD items: one COG per date window over several tracks/products, on one grid.

Overlap rule (``--overlap``): ``latest`` — where products overlap, the most recent acquisition's valid
pixel wins (ties: the later item id); ``mean`` — the mean of the valid linear-power values. NaN (no data,
masked layover/shadow) never wins. Windows start at the first acquisition's UTC day and are ``days`` long.
Memory holds one output grid (plus a count for ``mean``) and one input at a time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from catalog.errors import EocatError, InvalidQuery
from processing.ard import write_cog
from processing.dem import Grid


@dataclass
class Mosaic:
    label: str
    path: Path
    count: int


def parse_window(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*d\s*", text.lower())
    if not match or int(match[1]) < 1:
        raise InvalidQuery(f"--window {text!r}: give a number of days, e.g. 1d or 12d")
    return int(match[1])


def _when(item: dict[str, Any]) -> datetime:
    props = item["properties"]
    text = props.get("datetime") or props.get("start_datetime")
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def local_path(item: dict[str, Any], key: str = "backscatter") -> Path:
    """The local file of an ARD item's asset (``file://`` href)."""
    from urllib.parse import unquote, urlparse

    href = str(item.get("assets", {}).get(key, {}).get("href") or "")
    parsed = urlparse(href)
    if parsed.scheme not in ("file", ""):
        raise EocatError(f"{item['id']}: asset {key} is not a local file ({href})")
    path = Path(unquote(parsed.path))
    if not path.exists():
        raise EocatError(f"{item['id']}: {path} is missing (run eocat ard again)")
    return path


def union_grid(items: list[dict[str, Any]], resolution: float | None) -> Grid:
    """A grid in the first item's CRS covering every item, snapped to the resolution."""
    from rasterio.warp import transform_bounds

    crs = str(items[0]["properties"]["proj:code"])
    res = float(resolution or items[0]["properties"]["proj:transform"][0])
    xs0, ys0, xs1, ys1 = [], [], [], []
    for item in items:
        props = item["properties"]
        bounds = props["proj:bbox"]
        if props["proj:code"] != crs:
            bounds = transform_bounds(props["proj:code"], crs, *bounds)
        xs0.append(bounds[0])
        ys0.append(bounds[1])
        xs1.append(bounds[2])
        ys1.append(bounds[3])
    x0, y0 = math.floor(min(xs0) / res) * res, math.floor(min(ys0) / res) * res
    x1, y1 = math.ceil(max(xs1) / res) * res, math.ceil(max(ys1) / res) * res
    return Grid(crs, x0, y1, res, round((x1 - x0) / res), round((y1 - y0) / res))


def read_on_grid(path: Path, grid: Grid) -> np.ndarray:
    """A raster resampled (bilinear, NaN aware) onto ``grid``; outside its extent NaN."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    out = np.full((grid.height, grid.width), np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        same = (
            src.crs is not None
            and src.crs.to_string() == grid.crs
            and tuple(src.transform)[:6] == tuple(grid.transform)[:6]
            and src.shape == (grid.height, grid.width)
        )
        if same:
            return np.asarray(src.read(1), dtype=np.float32)
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return out


def mosaic_windows(
    items: list[dict[str, Any]], days: int, overlap: str, out: Path, resolution: float | None = None
) -> list[Mosaic]:
    """One COG per ``days``-long window (windows without items are skipped), in time order."""
    if overlap not in ("latest", "mean"):
        raise InvalidQuery(f"--overlap {overlap!r}: choose latest or mean")
    if any(i["properties"].get("eocat:db_scale") for i in items):
        raise InvalidQuery("mosaic needs linear-power ARD items (made without --db)")
    items = sorted(items, key=lambda i: (_when(i), i["id"]))
    grid = union_grid(items, resolution)
    first = _when(items[0]).replace(hour=0, minute=0, second=0, microsecond=0)
    windows: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        windows.setdefault((_when(item) - first).days // days, []).append(item)
    made = []
    for index, members in sorted(windows.items()):
        start = first + timedelta(days=index * days)
        label = start.strftime("%Y-%m-%d") + (f"/{(start + timedelta(days=days - 1)):%Y-%m-%d}" if days > 1 else "")
        total = np.full((grid.height, grid.width), np.nan, dtype=np.float32)
        count = np.zeros(total.shape, dtype=np.uint16) if overlap == "mean" else None
        for item in members:
            values = read_on_grid(local_path(item), grid)
            valid = np.isfinite(values)
            if count is None:
                total[valid] = values[valid]
            else:
                total[valid] = np.where(count[valid] > 0, total[valid], 0.0) + values[valid]
                count[valid] += 1
        if count is not None:
            seen = count > 0
            total[seen] /= count[seen]
        path = out / f"mosaic_{start:%Y%m%d}_{days}d_{overlap}.tif"
        write_cog(path, total, grid.crs, grid.transform, float("nan"))
        made.append(Mosaic(label, path, len(members)))
    return made
