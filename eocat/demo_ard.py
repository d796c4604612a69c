"""The Sentinel-1 ARD part of ``make demo``: GRD → ard → timescan → mosaic + animation, against emulators.

The CDSE emulator serves four small GRDs with real SAFE content (three dates of relative orbit 117 and one
of a neighbouring track), the DEM emulator the Copernicus GLO-30 tiles under them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulators.cdse import CdseEmulator
from emulators.cdse.grd.safe import GrdScene
from emulators.dem import DemEmulator

START = datetime(2024, 6, 4, 5, 26, 23, tzinfo=UTC)


def scenes() -> list[GrdScene]:
    """Three 12-day repeats of track 117 over the same ground, one pass of track 15 a day later, further east."""
    track = [
        GrdScene(
            lon=11.0,
            lat=46.5,
            start=START + timedelta(days=12 * n),
            absolute_orbit=50_000 + 175 * n,
            relative_orbit=117,
            sigma0=0.05 * (1 + 0.15 * n),
            noise=0.2,
        )
        for n in range(3)
    ]
    other = GrdScene(lon=11.05, lat=46.5, start=START + timedelta(days=1, minutes=1), absolute_orbit=50_015,
                     relative_orbit=15, sigma0=0.04, noise=0.2)  # fmt: skip
    return [*track, other]


def run(demo_dir: Path, eocat: Callable[..., None], step: Callable[[str], None]) -> None:
    """Harvest the GRDs, make gamma0 ARD with --dem auto, a timescan of track 117 and 12-day mosaics."""
    step("starting the CDSE emulator with 4 Sentinel-1 GRDs (real SAFE content) and the GLO-30 DEM emulator")
    with CdseEmulator(include_fixtures=False, grd_scenes=scenes()) as cdse, DemEmulator(height=-47.0) as dem:
        env = {**os.environ, **cdse.environment(), "CDSE_USERNAME": "demo", "CDSE_PASSWORD": "demo",
               "EOCAT_TOKEN_CACHE": "0", "EOCAT_DEM_URL": dem.url, "EOCAT_GEOID_UNDULATION": "47"}  # fmt: skip
        step("harvest: Sentinel-1 IW GRD over the eastern Alps, June-July 2024")
        eocat("harvest", "cdse", "--collection", "SENTINEL-1", "--product-type", "IW_GRDH_1S",
              "--bbox", "10.5,46,11.5,47", "--start", "2024-06-01", "--end", "2024-07-31", env=env)  # fmt: skip
        step("ard: gamma0 RTC (sarsen) on GLO-30 tiles fetched on demand; noise removed, layover/shadow masked")
        out = demo_dir / "ard"
        eocat("ard", "--collections", "sentinel-1-grd", "--polarizations", "VV", "--dem", "auto",
              "--measure", "gamma0_rtc", "--resolution", "20", "--out", str(out), env=env)  # fmt: skip
        step("timescan: gamma0 avg/max/min/std/cov/count in dB over track 117 (3 dates, one pass)")
        eocat("timescan", "--collections", "sentinel-1-ard", "--filter", '"sat:relative_orbit" = 117',
              "--metrics", "avg,max,min,std,cov,count", "--out", str(demo_dir / "timescan-s1-117.tif"),
              env=env)  # fmt: skip
        step("mosaic: one COG per 12-day window over both tracks (latest wins), animated as a GIF")
        eocat("mosaic", "--collections", "sentinel-1-ard", "--window", "12d", "--overlap", "latest",
              "--out", str(demo_dir / "mosaics"), "--animate", str(demo_dir / "s1-mosaics.gif"), env=env)  # fmt: skip
