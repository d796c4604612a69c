"""The DestinE part of ``make demo``: harvest the emulator's streams, materialize a frame, compute a timescan."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import rasterio

from emulators.destine import DestinEEmulator


def run(demo_dir: Path, eocat: Callable[..., None], step: Callable[[str], None]) -> None:
    """Start the DestinE emulator, then harvest, fetch one frame and run a timescan through the real CLI."""
    step("starting the DestinE emulator (S3 NDVI streams of Europe and Africa, June-July 2021, 12-bit HEVC)")
    with DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 8, 1)) as emulator:
        env = {**os.environ, **emulator.environment(), "EOCAT_TOKEN_CACHE": "0"}
        step("harvest: every DestinE NDVI frame of Europe and Africa, summer 2021 (DESP login, one item per frame)")
        for continent in ("Europe", "Africa"):
            eocat("harvest", "destine", "--continent", continent, "--datetime", "2021-06-01/2021-07-31", env=env)
        step("fetch: decode one Europe frame from the video stream into a Cloud-Optimized GeoTIFF")
        emulator.video_bytes("Europe")  # encode the stream up front (the first request would otherwise wait)
        frame = _first_id(demo_dir, "Europe", "2021-07-01")
        frames = demo_dir / "frames"
        eocat("fetch", frame, "--dest", str(frames), env=env)
        with rasterio.open(frames / f"{frame}.tif") as dataset:
            values = dataset.read(1)
            print(
                f"  {frame}.tif: {dataset.width}x{dataset.height} {dataset.crs} NDVI "
                f"{np.nanmin(values):.3f}..{np.nanmax(values):.3f}, {np.isnan(values).mean():.0%} no-data"
            )
        step("timescan: NDVI avg/max/min/std/cov over Europe's July 2021 frames, streamed (one pass)")
        out = demo_dir / "timescan-europe-2021-07.tif"
        eocat(
            "timescan",
            "--filter",
            "\"destine:continent\" = 'Europe'",
            "--datetime",
            "2021-07-01T00:00:00Z/2021-07-31T23:59:59Z",
            "--out",
            str(out),
            env=env,
        )


def _first_id(demo_dir: Path, continent: str, day: str) -> str:
    from catalog.search import Query, iter_items
    from catalog.store import Store

    with Store(demo_dir / "eocat.db") as store:
        query = Query.parse(
            collections="destine-s3-ndvi",
            datetime=f"{day}T00:00:00Z/..",
            sortby="datetime",
            filter=f"\"destine:continent\" = '{continent}'",
            limit=1,
        )
        return str(next(iter_items(store, query))["id"])
