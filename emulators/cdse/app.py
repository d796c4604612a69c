"""Request routing and handlers of the CDSE emulator, independent of sockets (method, path, query → Response)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from emulators.cdse import burst_download, errors, nodes, options
from emulators.cdse.attributes import all_attributes, attributes_of
from emulators.cdse.bursts import BurstCatalogue
from emulators.cdse.download import payload_chunks, payload_length, quicklook_png
from emulators.cdse.fixtures_loader import load
from emulators.cdse.product import ODATA, Product
from emulators.cdse.store import ProductStore
from emulators.cdse.tokens import TokenService
from emulators.odata import FilterError
from emulators.streamfaults import StreamFaults

IDENTITY = "https://identity.dataspace.copernicus.eu"
_REALM = r"/auth/realms/(?:CDSE|cdse)"
_ID = r"\(\s*'?([^)'/]+)'?\s*\)"
_ROUTES = [
    ("products", re.compile(r"/odata/v1/Products/?")),
    ("filterlist", re.compile(r"/odata/v1/Products/OData\.CSC\.FilterList")),
    ("product", re.compile(rf"/odata/v1/Products{_ID}")),
    ("value", re.compile(rf"/odata/v1/Products{_ID}/\$value")),
    ("asset", re.compile(rf"/odata/v1/Assets{_ID}/\$value")),
    ("attributes", re.compile(r"/odata/v1/Attributes/?")),
    ("attributes_of", re.compile(rf"/odata/v1/Attributes{_ID}")),
    ("token", re.compile(rf"{_REALM}/protocol/openid-connect/token")),
    ("openid", re.compile(rf"{_REALM}/\.well-known/openid-configuration")),
    ("download", re.compile(rf"/zipper/odata/v1/Products{_ID}/\$value")),
    ("nodes", re.compile(rf"/(zipper/)?odata/v1/Products{_ID}((?:/Nodes\([^)/]+\))*)/(Nodes|\$value)")),
    ("burst_value", re.compile(rf"/(bursts/)?odata/v1/Bursts{_ID}/\$value")),
    ("bursts", re.compile(r"/odata/v1/Bursts/?")),
    ("burst", re.compile(rf"/odata/v1/Bursts{_ID}")),
]
METHODS = {
    "products": ("GET",),
    "filterlist": ("POST",),
    "product": ("GET",),
    "value": ("GET", "HEAD"),
    "asset": ("GET", "HEAD"),
    "attributes": ("GET",),
    "attributes_of": ("GET",),
    "token": ("POST",),
    "openid": ("GET",),
    "download": ("GET",),
    "nodes": ("GET", "HEAD"),
    "burst_value": ("POST",),
    "bursts": ("GET",),
    "burst": ("GET",),
}


@dataclass
class Response:
    """Status, headers and a body given as bytes or as chunks with a known total length."""

    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None

    @property
    def content_length(self) -> int:
        """Total body length in bytes."""
        if isinstance(self.body, bytes):
            return len(self.body)
        return self.length or 0


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A compact JSON response, as FastAPI sends."""
    return Response(status, orjson.dumps(body), {"Content-Type": "application/json", **(headers or {})})


@dataclass
class AppConfig:
    """Where the emulator lives and how it behaves (set by :class:`CdseEmulator`)."""

    base_url: str
    range_mode: str = "ignore"  # ignore | honour | reject
    reserialise_nextlink: bool = True
    rewrite_links: bool = False


class CdseApp:
    """The emulated services: OData catalogue, identity (token, discovery) and the download host."""

    def __init__(self, store: ProductStore, tokens: TokenService, config: AppConfig) -> None:
        self.store = store
        self.tokens = tokens
        self.config = config
        self.streams = StreamFaults()  # body faults (cut, corrupt, slow) and byte counts of downloads
        self.bursts = BurstCatalogue()  # the /Bursts entity set (the emulator fills it)
        self.burst_downloads = burst_download.BurstDownloads(lookup=self._burst_info)

    def _burst_info(self, burst_id: str) -> burst_download.BurstInfo | None:
        """What on-demand extraction needs of a burst: from ``/Bursts`` when it serves any, else derived."""
        if not len(self.bursts):
            return burst_download.derived_burst(burst_id)
        entry = self.bursts.get(burst_id)
        if entry is None:
            return None
        record = entry.record()
        name = f"{record['Name']}.SAFE"
        swath, polarisation = str(record["SwathIdentifier"]), str(record["PolarisationChannels"])
        return burst_download.BurstInfo(entry.id, name, swath, polarisation)

    @property
    def catalogue_url(self) -> str:
        """Base of the OData catalogue."""
        return f"{self.config.base_url}/odata/v1"

    @property
    def download_url(self) -> str:
        """Base of the download (zipper) host."""
        return f"{self.config.base_url}/zipper/odata/v1"

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Route one request; errors become their JSON responses."""
        for name, pattern in _ROUTES:
            m = pattern.fullmatch(path)
            if m is None:
                continue
            if method not in METHODS[name]:
                return json_response(405, {"detail": "Method Not Allowed"})
            handler: Callable[..., Response] = getattr(self, f"_{name}")
            try:
                return handler(method, query, headers, body, *m.groups())
            except errors.HttpError as exc:
                return json_response(exc.status, exc.body, exc.headers)
        return json_response(404, {"detail": "Not Found"})

    # -- catalogue
    def _products(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        opts = options.parse_options(parse_qsl(query, keep_blank_values=True))
        try:
            positions = self.store.query(opts.filter, opts.orderby)
        except FilterError as exc:
            raise errors.detail(400, str(exc)) from None
        page = positions[opts.skip : opts.skip + opts.top]
        out: dict[str, Any] = {"@odata.context": options.context("Products", opts.expand)}
        if opts.count:
            out["@odata.count"] = len(positions)
        out["value"] = [self._record(r, opts.select) for r in self.store.render(page, opts.expand)]
        link = options.next_link(
            f"{self.catalogue_url}/Products", opts, len(positions), self.config.reserialise_nextlink
        )
        if link is not None:
            out["@odata.nextLink"] = link
        return json_response(200, out)

    def _record(self, record: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
        record = options.apply_select(record, select)
        if self.config.rewrite_links:
            record = self._rewrite(record)
        return record

    def _rewrite(self, record: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(record).replace(ODATA, self.catalogue_url)
        rewritten: dict[str, Any] = json.loads(text)
        return rewritten

    def _product(self, method: str, query: str, headers: Mapping[str, str], body: bytes, pid: str) -> Response:
        opts = options.parse_options(parse_qsl(query, keep_blank_values=True))
        product = self._find(pid, "Not Found")
        record = self._record(product.render(opts.expand), opts.select)
        return json_response(200, {"@odata.context": options.context("Products", opts.expand, entity=True), **record})

    def _find(self, pid: str, message: str) -> Product:
        product = self.store.get(pid)
        if product is None:
            raise errors.detail(404, message)
        return product

    def _filterlist(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        opts = options.parse_options(parse_qsl(query, keep_blank_values=True))
        try:
            names = [str(entry["Name"]) for entry in json.loads(body or b"{}")["FilterProducts"]]
        except (ValueError, KeyError, TypeError):
            raise errors.detail(422, 'Body must be {"FilterProducts": [{"Name": "…"}, …]}') from None
        found = [p for p in (self.store.by_name(n) for n in names) if p is not None]
        value = [self._record(p.render(opts.expand), opts.select) for p in found]
        return json_response(200, {"@odata.context": options.context("Products", opts.expand), "value": value})

    def _attributes(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        return json_response(200, all_attributes())

    def _attributes_of(self, method: str, query: str, headers: Mapping[str, str], body: bytes, coll: str) -> Response:
        listed = attributes_of(coll)
        if listed is None:
            raise errors.detail(404, f"Collection {coll!r} not found")
        return json_response(200, listed)

    def _value(self, method: str, query: str, headers: Mapping[str, str], body: bytes, pid: str) -> Response:
        product = self._find(pid, "Product not found in catalogue")
        location = f"{self.download_url}/Products({product.id})/$value" + (f"?{query}" if query else "")
        return Response(307, b"", {"Location": location, "Content-Type": "text/plain"})

    def _asset(self, method: str, query: str, headers: Mapping[str, str], body: bytes, aid: str) -> Response:
        if self.store.by_asset(aid) is None:
            raise errors.detail(404, "Not Found")
        return Response(200, quicklook_png(aid), {"Content-Type": "image/png"})

    def _bursts(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        return json_response(*self.bursts.handle_list(query, self.catalogue_url, self.config.reserialise_nextlink))

    def _burst(self, method: str, query: str, headers: Mapping[str, str], body: bytes, bid: str) -> Response:
        return json_response(*self.bursts.handle_one(query, bid))

    # -- identity
    def _token(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        status, out = self.tokens.grant(form)
        return json_response(status, out)

    def _openid(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        text = json.dumps(load("openid_configuration.json")).replace(IDENTITY, self.config.base_url)
        return json_response(200, json.loads(text))

    # -- download host
    def _download(self, method: str, query: str, headers: Mapping[str, str], body: bytes, pid: str) -> Response:
        self.authorize(headers, query)
        product = self._find(pid, "Product not found in catalogue")
        if product.online is False:
            raise errors.detail(403, "Forbidden: product is offline (Deferred Available Data)")
        return self.ranged(
            f"/products/{product.id}",
            payload_length(product),
            lambda start, stop: payload_chunks(product, start, stop),
            headers,
            {"Content-Type": "application/zip"},
        )

    # -- Nodes tree and on-demand bursts (emulators/cdse/nodes.py, burst_download.py)
    def _nodes(
        self, method: str, query: str, headers: Mapping[str, str], body: bytes,
        host: str | None, pid: str, path: str, tail: str,
    ) -> Response:  # fmt: skip
        return nodes.handle(self, method, query, headers, host or "", pid, path, tail)

    def _burst_value(
        self, method: str, query: str, headers: Mapping[str, str], body: bytes, host: str | None, bid: str
    ) -> Response:
        return burst_download.handle(self, method, query, headers, host or "", bid)

    def authorize(self, headers: Mapping[str, str], query: str) -> None:
        """Download hosts: a live Bearer token (or ``?token=``), else 401 with the zipper's detail."""
        token = _bearer(headers) or dict(parse_qsl(query)).get("token")
        if not token:
            raise errors.detail(401, "Unauthorized")
        state = self.tokens.status(token)
        if state == "expired":
            raise errors.detail(401, "Expired signature!")
        if state != "valid":
            raise errors.detail(401, "Unauthorized")

    def ranged(
        self,
        key: str,
        total: int,
        chunks: Callable[[int, int], Iterable[bytes]],
        headers: Mapping[str, str],
        extra: Mapping[str, str],
    ) -> Response:
        """A download body honouring the Range mode, with stream faults applied and bytes counted."""
        common = {**extra, "Accept-Ranges": "bytes"}
        wanted = _range(headers.get("range") or headers.get("Range"), total)
        if wanted is not None and self.config.range_mode == "reject":
            raise errors.HttpError(416, {"detail": "Range Not Satisfiable"}, {"Content-Range": f"bytes */{total}"})
        if wanted is not None and self.config.range_mode == "honour":
            start, stop = wanted
            common["Content-Range"] = f"bytes {start}-{stop - 1}/{total}"
            return Response(206, self.streams.wrap(key, chunks(start, stop), start), common, stop - start)
        return Response(200, self.streams.wrap(key, chunks(0, total), 0), common, total)


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _range(header: str | None, total: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` as [start, stop), or None when absent or unusable."""
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        n = int(m.group(2))
        return max(0, total - n), total
    start = int(m.group(1))
    stop = min(int(m.group(2)) + 1, total) if m.group(2) else total
    if start >= total or stop <= start:
        return None
    return start, stop
