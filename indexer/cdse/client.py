"""The CDSE OData Products catalogue as a harvest source: query building and paging.

Queries follow what CDSE documents and real clients send: ``Collection/Name`` plus a half-open
``ContentDate/Start`` window, attribute lambdas for product type and cloud cover,
``OData.CSC.Intersects`` for the area, ``$orderby=ContentDate/Start asc`` (the server adds
``Id`` as tie-break, so pages neither skip nor repeat), ``$top=1000`` and ``nextLink`` paging,
with ``$count`` asked on a separate ``$top=0`` request per window.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import shapely
from shapely.geometry.base import BaseGeometry

from catalog.checkpoints import Checkpoints
from catalog.http import RetryPolicy, get_json, new_client
from catalog.store import Store
from catalog.timeutil import format_canonical, parse_canonical, utc_now
from indexer.cdse.mapping import collections, product_to_item
from indexer.endpoints import endpoint
from indexer.errors import UpstreamError
from indexer.harvest import HarvestReport, Window, fingerprint, harvest

PAGE_SIZE = 1000
MAX_SKIP = 10_000
MAX_WKT_POINTS = 200  # long URLs are refused upstream; a simplified AOI only adds candidates


@dataclass(frozen=True)
class ProductQuery:
    """What to harvest: the CLI options of ``eocat harvest cdse``."""

    collection: str  # CDSE Collection/Name, e.g. SENTINEL-2
    product_type: str | None = None
    area: BaseGeometry | None = None
    cloud_cover_max: float | None = None
    modified_since: str | None = None  # canonical UTC; ModificationDate > this (incremental)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def area_wkt(area: BaseGeometry) -> str:
    """WKT of an AOI for OData.CSC.Intersects, simplified to a covering shape when too detailed."""
    shape = area
    if shapely.get_num_coordinates(shape) > MAX_WKT_POINTS:
        shape = shape.convex_hull
        if shapely.get_num_coordinates(shape) > MAX_WKT_POINTS:
            shape = shape.envelope
    return shapely.to_wkt(shape, rounding_precision=6, output_dimension=2)


def product_filter(query: ProductQuery, window: Window) -> str:
    """The ``$filter`` for one window of a query."""
    terms = [
        f"Collection/Name eq {_literal(query.collection)}",
        f"ContentDate/Start ge {window.start}",
        f"ContentDate/Start lt {window.end}",
    ]
    if query.product_type:
        terms.append(
            "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
            f"att/OData.CSC.StringAttribute/Value eq {_literal(query.product_type)})"
        )
    if query.cloud_cover_max is not None:
        terms.append(
            "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
            f"att/OData.CSC.DoubleAttribute/Value le {float(query.cloud_cover_max):.2f})"
        )
    if query.area is not None:
        terms.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{area_wkt(query.area)}')")
    if query.modified_since:
        terms.append(f"ModificationDate gt {query.modified_since}")
    return " and ".join(terms)


def odata_pages(
    client: httpx.Client, url: str, params: dict[str, Any], policy: RetryPolicy
) -> Iterator[list[dict[str, Any]]]:
    """The ``value`` records of each page of an OData query, following ``@odata.nextLink`` (which
    must stay on the same service). A page's document is let go before the next is asked for, so
    a caller that empties each list as it goes holds one page at most."""
    base = httpx.URL(url)
    next_url: str | None = url
    next_params: dict[str, Any] | None = params
    while next_url:
        body = get_json(client, next_url, params=next_params, policy=policy)
        if not isinstance(body, dict):
            body = {}
        records, next_url, next_params = body.get("value"), body.get("@odata.nextLink"), None
        del body
        if next_url:
            link = httpx.URL(next_url)
            if (link.scheme, link.host, link.port) != (base.scheme, base.host, base.port):
                raise UpstreamError(f"CDSE nextLink points to another service: {link.host}")
        yield records if isinstance(records, list) else []
        del records


class CdseProducts:
    """Harvest source for ``/odata/v1/Products``."""

    name = "cdse"
    max_per_window = MAX_SKIP  # a window must be reachable by skip <= 10000

    def __init__(
        self,
        client: httpx.Client,
        query: ProductQuery,
        *,
        catalogue_url: str,
        download_url: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.client, self.query = client, query
        self.catalogue_url, self.download_url = catalogue_url.rstrip("/"), download_url.rstrip("/")
        self.policy = policy or RetryPolicy()

    @functools.cached_property
    def _collections(self) -> dict[str, dict[str, Any]]:
        """The mapping's collection documents, loaded when the first item needs one."""
        return {document["id"]: document for document in collections(self.download_url)}

    def fingerprint(self) -> dict[str, Any]:
        return {
            "catalogue": self.catalogue_url,
            "collection": self.query.collection,
            "product_type": self.query.product_type,
            "area": None if self.query.area is None else area_wkt(self.query.area),
            "cloud_cover_max": self.query.cloud_cover_max,
            "modified_since": self.query.modified_since,
        }

    def count(self, window: Window) -> int:
        params = {"$filter": product_filter(self.query, window), "$top": "0", "$count": "true"}
        body = get_json(self.client, f"{self.catalogue_url}/Products", params=params, policy=self.policy)
        try:
            return int(body["@odata.count"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamError("CDSE answered a $count request without @odata.count") from None

    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {
            "$filter": product_filter(self.query, window),
            "$orderby": "ContentDate/Start asc",
            "$top": str(PAGE_SIZE),
            "$expand": ["Attributes", "Assets"],
        }
        yield from odata_pages(self.client, f"{self.catalogue_url}/Products", params, self.policy)

    def record_id(self, record: dict[str, Any]) -> str:
        return str(record["Id"])

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        return product_to_item(record, download_url=self.download_url, catalogue_url=self.catalogue_url)

    def collection(self, collection_id: str) -> dict[str, Any] | None:
        return self._collections.get(collection_id)


def harvest_products(
    store: Store,
    query: ProductQuery,
    start: str,
    end: str,
    *,
    since_last: bool = False,
    jobs: int = 4,
    restart: bool = False,
    progress: bool | None = None,
    client: httpx.Client | None = None,
) -> HarvestReport:
    """Harvest CDSE products into the store (the body of ``eocat harvest cdse``).

    ``since_last`` asks only for products modified since the previous complete harvest of the
    same query (its watermark); without one (a first run) everything is harvested and the
    watermark set. ``restart`` forgets finished windows and harvests everything.
    """
    catalogue_url, download_url = endpoint("cdse_catalogue"), endpoint("cdse_download")
    owns_client = client is None
    client = client or new_client(max_connections=min(jobs, 4))
    try:
        base = CdseProducts(client, query, catalogue_url=catalogue_url, download_url=download_url)
        marks = Checkpoints(store, base.name, fingerprint(base))
        if since_last:
            watermark = marks.watermark()
            if watermark is not None:  # a first run harvests everything (and sets the watermark)
                query = replace(query, modified_since=watermark)
        source = CdseProducts(client, query, catalogue_url=catalogue_url, download_url=download_url)
        if restart:
            Checkpoints(store, source.name, fingerprint(source)).reset()
        began = utc_now()
        report = harvest(store, source, start, end, jobs=jobs, progress=progress)
        if not report.shortfalls:
            # Products modified while this harvest ran are caught by the next --since-last.
            marks.set_watermark(_minus_minutes(began, 10))
        return report
    finally:
        if owns_client:
            client.close()


def _minus_minutes(canonical: str, minutes: int) -> str:
    moment = parse_canonical(canonical) - timedelta(minutes=minutes)
    return format_canonical(moment)
