"""``make demo`` step for GeoParquet: export, incremental re-export, a SQL query and an S1 inventory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

# A valley in the Tyrol: small enough that single Sentinel-1 frames cover it completely.
INVENTORY_AOI = {"type": "Polygon", "coordinates": [[[11.0, 47.0], [11.6, 47.0], [11.6, 47.4], [11.0, 47.4],
                                                     [11.0, 47.0]]]}  # fmt: skip


def run(eocat: Callable[..., None], step: Callable[[str], None], demo: Path, env: dict[str, str]) -> None:
    out = demo / "parquet"
    step("export the catalogue as stac-geoparquet (hive partitions collection=/year=, Hilbert-ordered rows)")
    eocat("export", "parquet", str(out), env=env)
    step("export again: nothing changed, so no partition is rewritten")
    eocat("export", "parquet", str(out), env=env)
    step("SQL (DuckDB over the export): Sentinel-2 L2A scenes per month and their mean cloud cover")
    eocat("sql", "--parquet", str(out),
          'SELECT strftime(datetime, \'%Y-%m\') AS month, count(*) AS scenes, round(avg("eo:cloud_cover"), 1) '
          'AS mean_cloud FROM "sentinel-2-l2a" GROUP BY 1 ORDER BY 1', env=env)  # fmt: skip
    aoi = demo / "tyrol.geojson"
    aoi.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": INVENTORY_AOI}))
    step("inventory: which Sentinel-1 SLC tracks cover a Tyrolean valley in 2023, and how completely (plot)")
    eocat("inventory", "--intersects", str(aoi), "--collections", "sentinel-1-slc", "--datetime",
          "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z", "--plot", str(demo / "inventory.png"), env=env)  # fmt: skip
