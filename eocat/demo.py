"""``make demo``: the main job end to end on the embedded default, against local emulators.

Starts the emulators on 127.0.0.1 and drives the real ``eocat`` command: harvests Sentinel-2 L2A (area,
dates, cloud cover) and Sentinel-1 SLC from CDSE, DestinE NDVI frames (one materialized, a timescan),
Sentinel-1 bursts from CDSE and ASF into one collection, runs catalogue queries, exports GeoParquet with
SQL and an inventory, and fetches one asset of each kind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from emulators.cdse import CdseEmulator, SyntheticProducts
from eocat import demo_ard, demo_destine, demo_parquet, fetch_demo
from eocat.demo_api import api_step
from eocat.demo_bursts import bursts_demo

DEMO = Path("data/demo")
AOI = {"type": "Polygon", "coordinates": [[[5.0, 44.0], [16.0, 44.0], [16.0, 52.0], [5.0, 52.0], [5.0, 44.0]]]}


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def eocat(*args: str, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).parent / "eocat"), "--db", str(DEMO / "eocat.db"), *args]
    print("$ eocat " + " ".join(args[:12]) + (" …" if len(args) > 12 else ""), flush=True)
    subprocess.run(command, env=env, check=True)


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    (DEMO / "alps.geojson").write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": AOI}))
    recipes = [
        SyntheticProducts(seed=1, count=40_000, start="2023-01-01T00:00:00Z", end="2023-04-01T00:00:00Z",
                          collections=("SENTINEL-2",), malformed_fraction=0.0005),
        SyntheticProducts(seed=2, count=8_000, start="2023-05-01T00:00:00Z", end="2023-09-01T00:00:00Z",
                          collections=("SENTINEL-2",), bbox=(0.0, 40.0, 20.0, 55.0)),
        SyntheticProducts(seed=3, count=20_000, start="2023-01-01T00:00:00Z", end="2023-12-31T00:00:00Z",
                          collections=("SENTINEL-1",), bbox=(-10.0, 35.0, 30.0, 60.0)),
    ]  # fmt: skip
    step("starting the CDSE emulator on 127.0.0.1 (68,000 synthetic products + the recorded ones)")
    with CdseEmulator(products=recipes, include_fixtures=True) as emulator:
        env = {**os.environ, **emulator.environment(), "EOCAT_TOKEN_CACHE": "0"}
        emulator.faults.set(rate_429=0.02, retry_after=0, rate_5xx=0.01)
        step("harvest: Sentinel-2 L2A over the Alps, summer 2023, cloud cover <= 20 % (with injected 429/5xx)")
        eocat("harvest", "cdse", "--collection", "SENTINEL-2", "--product-type", "S2MSI2A",
              "--intersects", str(DEMO / "alps.geojson"), "--datetime", "2023-05-01/2023-08-31",
              "--cloud-cover-max", "20", env=env)  # fmt: skip
        step("harvest: every Sentinel-2 product of the first quarter, worldwide (window splitting)")
        eocat("harvest", "cdse", "--collection", "SENTINEL-2", "--datetime", "2023-01-01/2023-03-31", env=env)
        step("harvest: Sentinel-1 IW SLC over the Alps in 2023")
        eocat("harvest", "cdse", "--collection", "SENTINEL-1", "--product-type", "IW_SLC__1S", "--bbox", "5,44,16,52",
              "--datetime", "2023-01-01/2023-12-31", env=env)  # fmt: skip
        step("harvest again with --since-last: nothing changed upstream, so nothing is fetched")
        eocat("harvest", "cdse", "--collection", "SENTINEL-1", "--product-type", "IW_SLC__1S", "--bbox", "5,44,16,52",
              "--datetime", "2023-01-01/2023-12-31", "--since-last", env=env)  # fmt: skip
    demo_destine.run(DEMO, eocat, step)
    demo_ard.run(DEMO, eocat, step)  # Sentinel-1 GRD -> ARD -> timescan/mosaic/animation (issue 17)
    env = dict(os.environ)
    bursts_demo(eocat, step, DEMO / "eocat.db")
    step("the catalogue")
    eocat("collections", env=env)
    step("query: the 5 least cloudy Sentinel-2 L2A scenes over the Alps in July 2023")
    eocat("search", "--collections", "sentinel-2-l2a", "--intersects", json.dumps(AOI),
          "--datetime", "2023-07-01T00:00:00Z/2023-07-31T23:59:59Z", "--sortby", "eo:cloud_cover", "--limit", "5",
          env=env)  # fmt: skip
    step("query: Sentinel-1 SLC inventory by track and direction (CQL2), as a count")
    eocat("search", "--collections", "sentinel-1-slc", "--format", "count",
          "--filter", "\"sat:orbit_state\" = 'descending' AND \"sat:relative_orbit\" < 100", env=env)  # fmt: skip
    step("query: items crossing the antimeridian (bbox 170,-60,-170,60), as NDJSON ids")
    eocat("search", "--bbox", "170,-60,-170,60", "--limit", "3", "--format", "ndjson", "--fields", "id,collection",
          env=env)  # fmt: skip
    demo_parquet.run(eocat, step, DEMO, env)  # GeoParquet export, SQL, inventory (issue 7)
    fetch_demo.run(DEMO, eocat, step)
    step("the STAC API over the catalogue (pystac-client as the client)")
    api_step(DEMO / "eocat.db")
    step(f"demo done: catalogue at {DEMO / 'eocat.db'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
