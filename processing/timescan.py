"""Timescans of ARD items: per-pixel avg/max/min/std/cov/count of the backscatter in dB over a stack.

The stack must be one track and orbit direction (``sat:relative_orbit`` + ``sat:orbit_state``, the grouping
``eocat inventory`` reports) and one polarization and measure; items on another grid are resampled onto
the first item's grid. Each date is read, converted to dB and folded into :class:`catalog.timescan.RunningStats`
(one pass, memory flat in the number of dates); NaN (no data, layover/shadow) is skipped per pixel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.errors import InvalidQuery
from catalog.timescan import RunningStats
from processing.ard import to_db
from processing.dem import Grid
from processing.mosaic import local_path, read_on_grid


@dataclass
class ArdTimescan:
    dates: int
    first: str
    last: str
    track: str


def _grid(item: dict[str, Any]) -> Grid:
    props = item["properties"]
    t = props["proj:transform"]
    height, width = props["proj:shape"]
    return Grid(str(props["proj:code"]), float(t[2]), float(t[5]), float(t[0]), int(width), int(height))


def _group(item: dict[str, Any]) -> tuple[Any, ...]:
    p = item["properties"]
    return (p.get("sat:relative_orbit"), p.get("sat:orbit_state"), tuple(p.get("sar:polarizations") or ()),
            p.get("eocat:measure"))  # fmt: skip


def run_ard_timescan(items: Iterable[dict[str, Any]], metrics: Sequence[str], out: Path) -> ArdTimescan:
    """Write a multi-band COG (one band per metric, in dB except count) over the ARD ``items``."""
    import rasterio
    import rasterio.shutil

    stats: RunningStats | None = None
    grid: Grid | None = None
    group: tuple[Any, ...] | None = None
    first = last = ""
    dates = 0
    for item in items:
        if group is None:
            group, grid = _group(item), _grid(item)
        elif _group(item) != group:
            raise InvalidQuery(
                f"timescan stacks one track, direction, polarization and measure: {item['id']} is "
                f"{_group(item)}, the stack is {group}; narrow the selection with --filter "
                '(e.g. "sat:relative_orbit" = 117 AND "sat:orbit_state" = \'ascending\')'
            )
        assert grid is not None
        values = read_on_grid(local_path(item), grid)
        if not item["properties"].get("eocat:db_scale"):
            values = to_db(values)
        if stats is None:
            stats = RunningStats(values.shape)
        stats.update(values)
        when = str(item["properties"].get("datetime"))
        first = min(first, when) if first else when
        last = max(last, when)
        dates += 1
    if stats is None or grid is None or group is None:
        raise InvalidQuery("timescan: the query selected no ARD item")
    bands = [stats.result(m) for m in metrics]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.tif")
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": len(bands),
               "dtype": "float32", "crs": grid.crs, "transform": grid.transform, "nodata": float("nan")}  # fmt: skip
    with rasterio.open(tmp, "w", **profile) as dst:
        for n, (name, band) in enumerate(zip(metrics, bands, strict=True), start=1):
            dst.write(band, n)
            dst.set_band_description(n, name if name in ("count", "cov") else f"{name} (dB)")
    with rasterio.open(tmp) as src:
        rasterio.shutil.copy(src, out, driver="COG", compress="DEFLATE", blocksize=256)
    tmp.unlink()
    track = f"relative orbit {group[0]} {group[1]}, {'/'.join(group[2])} {group[3]}"
    return ArdTimescan(dates, first, last, track)
