"""Timescan over DestinE NDVI frame items: one pass over the frames, running statistics, one multi-band COG.

Frames with a materialized local copy (``alternate.local``) are read from it; the others are decoded
from their streams on the fly (each stream in one pass), without writing them. Only the running
statistics and one frame are in memory at a time, so memory does not grow with the number of frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import rasterio

from catalog.errors import EocatError
from catalog.raster import grid_transform, write_cog
from catalog.timescan import timescan
from indexer.destine.materialize import PROTOCOL, FrameRequest, Tokens, frame_arrays


@dataclass
class TimescanReport:
    frames: int = 0
    from_local: int = 0
    decoded: int = 0
    streams: set[str] = field(default_factory=set)
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "from_local": self.from_local,
            "decoded": self.decoded,
            "streams": len(self.streams),
            "first": self.first,
            "last": self.last,
        }


def frame_requests(
    items: Iterable[Mapping[str, Any]], asset_key: str = "ndvi"
) -> tuple[list[FrameRequest], dict[str, Path]]:
    """The frame requests of the items (all on one grid) and the local copies some of them have."""
    requests: list[FrameRequest] = []
    local: dict[str, Path] = {}
    grid: tuple[Any, ...] | None = None
    for item in items:
        asset = (item.get("assets") or {}).get(asset_key) or {}
        if asset.get("eocat:protocol") != PROTOCOL:
            raise EocatError(
                f"timescan works on DestinE NDVI frames; item {item.get('id')!r} is not one "
                "(add --collections destine-s3-ndvi)"
            )
        request = FrameRequest.from_item(item, asset_key)
        if grid is None:
            grid = (request.bbox, request.shape)
        elif (request.bbox, request.shape) != grid:
            raise EocatError(
                f"item {request.item_id!r} is on another grid than the first frame; select one continent "
                """(e.g. --filter "\"destine:continent\" = 'Europe'")"""
            )
        requests.append(request)
        href = ((asset.get("alternate") or {}).get("local") or {}).get("href")
        if href and href.startswith("file:"):
            path = Path(unquote(urlsplit(href).path))
            if path.is_file():
                local[request.item_id] = path
    return requests, local


def _rasters(
    requests: Sequence[FrameRequest],
    local: Mapping[str, Path],
    tokens: Tokens | None,
    nodata: str,
    report: TimescanReport,
) -> Iterator[np.ndarray]:
    for request in requests:
        if request.item_id in local:
            with rasterio.open(local[request.item_id]) as dataset:
                values = dataset.read(1).astype(np.float32)
            report.from_local += 1
            yield values
    remote = [r for r in requests if r.item_id not in local]
    for request, values in frame_arrays(remote, tokens=tokens, nodata=nodata):
        report.decoded += 1
        report.streams.add(request.href)
        yield values


def run_timescan(
    items: Iterable[Mapping[str, Any]],
    metrics: Sequence[str],
    out: str | Path,
    *,
    tokens: Tokens | None = None,
    nodata: str = "zero",
    asset_key: str = "ndvi",
) -> TimescanReport:
    """Compute ``metrics`` over the items' frames and write them as bands of one COG at ``out``."""
    requests, local = frame_requests(items, asset_key)
    if not requests:
        raise EocatError("timescan: the query selected no frames")
    report = TimescanReport()
    times = sorted(r.tags["datetime"] for r in requests)
    report.first, report.last = times[0], times[-1]
    stats, bands = timescan(_rasters(requests, local, tokens, nodata, report), metrics)
    report.frames = stats.frames
    west, south, east, north = requests[0].bbox
    ny, nx = requests[0].shape
    tags = {
        "timescan_frames": str(stats.frames),
        "timescan_first": times[0],
        "timescan_last": times[-1],
        "timescan_std": "population (ddof=0)",
        "timescan_cov": "std / avg",
        "nodata_rule": nodata,
    }
    write_cog(
        out,
        bands,
        transform=grid_transform((west, south, east, north), nx, ny),
        crs="EPSG:4326",
        nodata=math.nan,
        tags=tags,
        descriptions=list(metrics),
    )
    return report
