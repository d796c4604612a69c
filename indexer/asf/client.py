"""The ASF SearchAPI as a burst harvest source: count first, windows of at most 2000, quota, retries.

SearchAPI has no paging: one response holds every result up to ``maxResults``, and a query whose count
is over 2000 without ``maxResults`` is refused (``reference/asf.md`` §2.3). So every window is counted
first (``output=count``); the harvest engine splits windows until each holds at most 2000, then fetches
it with ``output=geojson`` (the only output with the XML URL) and ``maxResults=2000``. Every query goes
through a sliding-window rate limiter (250 per minute by default, ASF's documented quota); 429, 5xx and
dropped connections are retried with backoff (honouring ``Retry-After``).

SearchAPI's ``start``/``end`` select bursts whose acquisition *overlaps* ``[start, end]``, so a burst on
a window boundary comes back in both windows; the store's idempotent upsert makes that harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from shapely.geometry.base import BaseGeometry

from catalog.checkpoints import Checkpoints
from catalog.http import RetryPolicy, get_json, new_client, request
from catalog.store import Store
from indexer.asf.ratelimit import RateLimiter
from indexer.bursts.mapping import COLLECTION_ID, asf_feature_to_item, collection
from indexer.cdse.client import area_wkt
from indexer.endpoints import endpoint
from indexer.errors import UpstreamError
from indexer.harvest import HarvestReport, Window, fingerprint, harvest

MAX_RESULTS = 2000
QUERIES_PER_MINUTE = 250


@dataclass(frozen=True)
class AsfBurstQuery:
    """What to harvest: the options of ``eocat harvest asf-bursts``."""

    area: BaseGeometry | None = None
    polarisation: str | None = None


class AsfBursts:
    """Harvest source for SearchAPI ``dataset=SLC-BURST``."""

    name = "asf-bursts"
    max_per_window = MAX_RESULTS

    def __init__(
        self,
        client: httpx.Client,
        query: AsfBurstQuery,
        *,
        search_url: str,
        burst_url: str,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.client, self.query = client, query
        self.search_url, self.burst_url = search_url, burst_url.rstrip("/")
        self.limiter = limiter or RateLimiter(QUERIES_PER_MINUTE)
        self.policy = policy or RetryPolicy()

    def params(self, window: Window, output: str) -> dict[str, str]:
        """The SearchAPI keywords for one window."""
        params = {"dataset": "SLC-BURST", "start": window.start, "end": window.end, "output": output}
        if self.query.polarisation:
            params["polarization"] = self.query.polarisation
        if self.query.area is not None:
            params["intersectsWith"] = area_wkt(self.query.area)
        if output != "count":
            params["maxResults"] = str(MAX_RESULTS)
        return params

    def fingerprint(self) -> dict[str, Any]:
        return {
            "search": self.search_url,
            "polarisation": self.query.polarisation,
            "area": None if self.query.area is None else area_wkt(self.query.area),
        }

    def count(self, window: Window) -> int:
        self.limiter.acquire()
        response = request(self.client, "GET", self.search_url, params=self.params(window, "count"),
                           policy=self.policy)  # fmt: skip
        if response.status_code != 200:
            raise UpstreamError(f"ASF SearchAPI count answered HTTP {response.status_code}: {_report(response)}")
        try:
            return int(response.text.strip())
        except ValueError:
            raise UpstreamError(f"ASF SearchAPI count is not a number: {response.text[:200]!r}") from None

    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        self.limiter.acquire()
        try:
            body = get_json(self.client, self.search_url, params=self.params(window, "geojson"), policy=self.policy)
        except UpstreamError as exc:
            raise UpstreamError(f"ASF SearchAPI: {exc}") from None
        features = body.get("features") if isinstance(body, dict) else None
        if not isinstance(features, list):
            raise UpstreamError("ASF SearchAPI answered output=geojson without a features list")
        yield features

    def record_id(self, record: dict[str, Any]) -> str:
        return str(record["properties"]["fileID"])

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        return asf_feature_to_item(record, burst_url=self.burst_url)

    def collection(self, collection_id: str) -> dict[str, Any] | None:
        return collection() if collection_id == COLLECTION_ID else None


def _report(response: httpx.Response) -> str:
    """SearchAPI's error report (``{"error":{"report":…}}``) or the start of the body."""
    try:
        return str(response.json()["error"]["report"])[:500]
    except (ValueError, KeyError, TypeError):
        return response.text[:500]


def harvest_asf_bursts(
    store: Store,
    query: AsfBurstQuery,
    start: str,
    end: str,
    *,
    jobs: int = 2,
    restart: bool = False,
    progress: bool | None = None,
    queries_per_minute: int | None = QUERIES_PER_MINUTE,
    client: httpx.Client | None = None,
    policy: RetryPolicy | None = None,
) -> HarvestReport:
    """Harvest ASF bursts into the store (the body of ``eocat harvest asf-bursts``); resumable."""
    owns_client = client is None
    client = client or new_client(max_connections=jobs, timeout=300.0)
    try:
        source = AsfBursts(client, query, search_url=endpoint("asf_search"), burst_url=endpoint("asf_burst"),
                           limiter=RateLimiter(queries_per_minute), policy=policy)  # fmt: skip
        if restart:
            Checkpoints(store, source.name, fingerprint(source)).reset()
        return harvest(store, source, start, end, jobs=jobs, progress=progress)
    finally:
        if owns_client:
            client.close()
