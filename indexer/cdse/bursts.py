"""CDSE OData ``/Bursts`` as a harvest source (Sentinel-1 SLC bursts, one item per burst acquisition).

Queries a half-open ``ContentDate/Start`` window, optionally ``OData.CSC.Intersects``, ``SwathIdentifier``
and ``PolarisationChannels``, ordered by ``ContentDate/Start asc`` (the server breaks ties by ``Id``),
``$top=1000`` pages followed through ``nextLink``, with ``$count`` asked on a ``$top=0`` request per window.
The windows, checkpoints, retries and progress are the harvest engine's (:mod:`indexer.harvest`), as
for products; items go to the ``sentinel-1-bursts`` collection that ASF bursts merge into.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from shapely.geometry.base import BaseGeometry

from catalog.checkpoints import Checkpoints
from catalog.http import RetryPolicy, get_json, new_client
from catalog.store import Store
from indexer.bursts.mapping import COLLECTION_ID, cdse_burst_to_item, collection
from indexer.cdse.client import MAX_SKIP, PAGE_SIZE, area_wkt, odata_pages
from indexer.endpoints import endpoint
from indexer.errors import UpstreamError
from indexer.harvest import HarvestReport, Window, fingerprint, harvest


@dataclass(frozen=True)
class BurstQuery:
    """What to harvest: the options of ``eocat harvest cdse-bursts``."""

    area: BaseGeometry | None = None
    swath: str | None = None  # IW1..IW3, EW1..EW5
    polarisation: str | None = None  # VV, VH, HH, HV


def burst_filter(query: BurstQuery, window: Window) -> str:
    """The ``$filter`` for one window of a query."""
    terms = [f"ContentDate/Start ge {window.start}", f"ContentDate/Start lt {window.end}"]
    if query.swath:
        terms.append(f"SwathIdentifier eq '{query.swath}'")
    if query.polarisation:
        terms.append(f"PolarisationChannels eq '{query.polarisation}'")
    if query.area is not None:
        terms.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{area_wkt(query.area)}')")
    return " and ".join(terms)


class CdseBursts:
    """Harvest source for ``/odata/v1/Bursts``."""

    name = "cdse-bursts"
    max_per_window = MAX_SKIP

    def __init__(self, client: httpx.Client, query: BurstQuery, *, catalogue_url: str,
                 policy: RetryPolicy | None = None) -> None:  # fmt: skip
        self.client, self.query = client, query
        self.catalogue_url = catalogue_url.rstrip("/")
        self.policy = policy or RetryPolicy()

    def fingerprint(self) -> dict[str, Any]:
        return {
            "catalogue": self.catalogue_url,
            "swath": self.query.swath,
            "polarisation": self.query.polarisation,
            "area": None if self.query.area is None else area_wkt(self.query.area),
        }

    def count(self, window: Window) -> int:
        params = {"$filter": burst_filter(self.query, window), "$top": "0", "$count": "true"}
        body = get_json(self.client, f"{self.catalogue_url}/Bursts", params=params, policy=self.policy)
        try:
            return int(body["@odata.count"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamError("CDSE answered a Bursts $count request without @odata.count") from None

    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {
            "$filter": burst_filter(self.query, window),
            "$orderby": "ContentDate/Start asc",
            "$top": str(PAGE_SIZE),
        }
        yield from odata_pages(self.client, f"{self.catalogue_url}/Bursts", params, self.policy)

    def record_id(self, record: dict[str, Any]) -> str:
        return str(record["Id"])

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        return cdse_burst_to_item(record, catalogue_url=self.catalogue_url)

    def collection(self, collection_id: str) -> dict[str, Any] | None:
        return collection() if collection_id == COLLECTION_ID else None


def harvest_cdse_bursts(
    store: Store,
    query: BurstQuery,
    start: str,
    end: str,
    *,
    jobs: int = 4,
    restart: bool = False,
    progress: bool | None = None,
    client: httpx.Client | None = None,
) -> HarvestReport:
    """Harvest CDSE bursts into the store (the body of ``eocat harvest cdse-bursts``); resumable."""
    owns_client = client is None
    client = client or new_client(max_connections=min(jobs, 4))
    try:
        source = CdseBursts(client, query, catalogue_url=endpoint("cdse_catalogue"))
        if restart:
            Checkpoints(store, source.name, fingerprint(source)).reset()
        return harvest(store, source, start, end, jobs=jobs, progress=progress)
    finally:
        if owns_client:
            client.close()
