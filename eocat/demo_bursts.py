"""The bursts part of ``make demo``: both burst emulators, both harvests, one merged item, one stack."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from catalog.search import Query, iter_items
from catalog.store import Store
from emulators.asf import AsfEmulator
from emulators.asf_extractor import AsfExtractorEmulator, burst_names
from emulators.cdse import CdseEmulator
from emulators.s1truth import SyntheticBursts
from indexer.bursts import collection

EUROPE = "-10,35,30,60"


def bursts_demo(eocat: Callable[..., None], step: Callable[[str], None], db: Path) -> None:
    """Harvest bursts from the CDSE and ASF emulators (one truth) and show a merged item and its stack."""
    truth = SyntheticBursts(seed=1, frames=4, start="2024-01-01T00:00:00Z", end="2025-01-01T00:00:00Z",
                            bbox=(-10.0, 35.0, 30.0, 60.0))  # fmt: skip
    with Store(db) as store:  # the generated samples bring a stand-in burst collection: use the harvesters' own
        store.upsert_collection(collection(), mode="replace")
    step("starting the CDSE Bursts and ASF SearchAPI emulators: one ground truth of Sentinel-1 bursts over Europe")
    with (
        CdseEmulator(include_fixtures=True, bursts=truth) as cdse,
        AsfEmulator(bursts=truth) as asf,
        AsfExtractorEmulator(names=burst_names(truth)) as extractor,
    ):
        credentials = {
            "CDSE_USERNAME": "demo",
            "CDSE_PASSWORD": "demo",
            "EARTHDATA_USERNAME": "demo",
            "EARTHDATA_PASSWORD": "demo",
            "EOCAT_ASF_POLL_INTERVAL": "0.2",
            "EOCAT_TOKEN_CACHE": "0",
        }
        env = {**os.environ, **cdse.environment(), **asf.environment(), **extractor.environment(), **credentials}
        asf.faults.set(rate_5xx=0.05, retry_after=0)
        step("harvest: Sentinel-1 bursts over Europe in 2024 from CDSE (OData /Bursts)")
        eocat("harvest", "cdse-bursts", "--bbox", EUROPE, "--datetime", "2024-01-01/2024-12-31", env=env)
        step("harvest: the same area from ASF (SearchAPI, count first, windows of <= 2000, 250 queries/min)")
        eocat("harvest", "asf-bursts", "--bbox", EUROPE, "--datetime", "2024-01-01/2024-12-31", env=env)
        with Store(db) as store:
            bursts = iter_items(store, Query.parse(collections="sentinel-1-bursts", sortby="id"))
            merged = next(item for item in bursts if {"cdse", "tiff"} <= item["assets"].keys())
        step(f"one burst, one item: {merged['id']} carries the assets of both sources")
        print(json.dumps(merged, indent=2), flush=True)
        step("fetch that burst from both sources: CDSE on-demand extraction (zip) and the ASF extractor (TIFF + XML)")
        eocat("fetch", merged["id"], "--asset", "cdse,tiff,xml", env=env)
    step("the time series of that burst location (same polarization), with temporal baselines")
    eocat("stack", merged["id"], env=dict(os.environ))
    full_id = merged["properties"]["s1:full_burst_id"]
    step(f"the same stack as a catalogue query (both polarizations): s1:full_burst_id = '{full_id}'")
    eocat("search", "--filter", f"s1:full_burst_id = '{full_id}'", "--sortby", "datetime", "--format", "count",
          env=dict(os.environ))  # fmt: skip
