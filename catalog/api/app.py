"""The STAC API application: a thin Starlette shell over :mod:`catalog.search` and :class:`Store`.

Handlers are plain functions run in Starlette's thread pool; each thread keeps its own read
connection to the catalogue (WAL: reads never block a harvest that writes, and see each committed
batch). Every link is built on one base URL: ``ApiConfig.base_url`` when given (behind a proxy),
else the URL the request came in on. Errors are JSON ``{"code", "description"}`` with 400/404.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from catalog.api import openapi
from catalog.api.assets import AssetJobs, Materializer
from catalog.api.conformance import CONFORMANCE
from catalog.api.params import check_post_types, has_spatial_operator, parse_params
from catalog.api.queryables import queryables, sortables
from catalog.backend import open_store
from catalog.errors import EocatError, InvalidQuery, NotFound
from catalog.search import Query, SearchPage, count_upto, search
from catalog.stac import EXTENSIONS, STAC_VERSION
from catalog.store import Store

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SORTABLES = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
ALTERNATE_EXTENSION = EXTENSIONS["alternate"]
_OWN_RELS = {"self", "root", "parent", "collection", "items", "child", "item", REL_QUERYABLES, REL_SORTABLES}
COUNT_CAP = 100_000  # numberMatched: count no further than this (ApiConfig.count_cap's default)
FILTER_COUNT_CAP = 10_000  # CQL2 filters: count no further than this
MAX_URI_BYTES = 64 * 1024  # longer request targets get a JSON 414 (POST /search takes any size)
MAX_REQUEST_HEAD_BYTES = 1024 * 1024  # what uvicorn's parser accepts before answering a plain 400


def number_matched(store: Store, query: Query, page: SearchPage, cap: int) -> int | None:
    """``numberMatched`` of a first page: its length when it is the last page, else the count when counting
    is cheap, else None (the field is optional).

    Counting costs one exact geometry test per index candidate for spatial queries, one JSON lookup per
    row for filters on cold properties: counts stop at ``cap`` (filters: FILTER_COUNT_CAP), and spatial
    queries are counted only when the page's own index probe found few candidates.
    """
    if page.next_token is None:
        return len(page.items)
    if cap <= 0:
        return None
    if not page.count_is_cheap:  # the backend's judgement, from the page's own index probe
        return None
    if query.filter is not None:
        if has_spatial_operator(query.filter):
            return None
        cap = min(cap, FILTER_COUNT_CAP)
    return count_upto(store, query, cap)


@dataclass
class ApiConfig:
    """How to serve one catalogue file."""

    db_path: Path | str  # a SQLite file or a postgresql:// URL (catalog.backend.open_store)
    base_url: str | None = None  # e.g. https://example.org/stac/ behind a proxy; None: from each request
    title: str = "eocat"
    description: str = "Copernicus / Sentinel STAC catalogue harvested by eocat."
    browser_dir: Path | None = None  # a STAC Browser build (browser/build.sh), served at /browser/
    materializer: Materializer | None = None  # on-demand assets; None answers 501
    assets_dir: Path = field(default_factory=lambda: Path("data/assets"))
    count_cap: int = COUNT_CAP  # numberMatched on first pages when the match count is below this; 0: never


class JsonResponse(Response):
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class _Api:
    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self._local = threading.local()
        self.jobs = AssetJobs(config.materializer, config.assets_dir)

    # -- plumbing ---------------------------------------------------------------------------
    def store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = cast(Store, open_store(self.config.db_path))  # or a PgstacStore: same interface
            self._local.store = store
        return store

    def base(self, request: Request) -> str:
        base = self.config.base_url or str(request.base_url)
        return base.rstrip("/")

    # -- documents --------------------------------------------------------------------------
    def landing(self, request: Request) -> Response:
        base = self.base(request)
        store = self.store()
        links = [
            _link("self", f"{base}/", JSON, "This catalogue"),
            _link("root", f"{base}/", JSON, "This catalogue"),
            _link("data", f"{base}/collections", JSON, "Collections"),
            _link("conformance", f"{base}/conformance", JSON, "Conformance classes"),
            _link("service-desc", f"{base}/api", OPENAPI, "OpenAPI description"),
            _link("service-doc", f"{base}/api.html", "text/html", "API documentation"),
            {**_link("search", f"{base}/search", GEOJSON, "Item search"), "method": "GET"},
            {**_link("search", f"{base}/search", GEOJSON, "Item search"), "method": "POST"},
            _link(REL_QUERYABLES, f"{base}/queryables", SCHEMA_JSON, "Queryables"),
            _link(REL_SORTABLES, f"{base}/sortables", SCHEMA_JSON, "Sortables"),
        ]
        if self.config.browser_dir is not None:
            links.append(_link("alternate", f"{base}/browser/", "text/html", "STAC Browser"))
        for collection in store.collections():
            links.append(_link("child", f"{base}/collections/{_q(collection['id'])}", JSON, collection.get("title")))
        return JsonResponse(
            {
                "type": "Catalog",
                "stac_version": STAC_VERSION,
                "id": self.config.title,
                "title": self.config.title,
                "description": self.config.description,
                "conformsTo": list(CONFORMANCE),
                "links": links,
            }
        )

    def conformance(self, request: Request) -> Response:
        return JsonResponse({"conformsTo": list(CONFORMANCE)})

    def api(self, request: Request) -> Response:
        return JsonResponse(openapi.document(self.base(request)), media_type=OPENAPI)

    def api_html(self, request: Request) -> Response:
        return HTMLResponse(openapi.render_html(openapi.document(self.base(request))))

    def collections(self, request: Request) -> Response:
        base = self.base(request)
        documents = [self._collection_doc(base, document) for document in self.store().collections()]
        links = [
            _link("self", f"{base}/collections", JSON),
            _link("root", f"{base}/", JSON),
            _link("parent", f"{base}/", JSON),
        ]
        return JsonResponse(
            {
                "collections": documents,
                "links": links,
                "numberMatched": len(documents),
                "numberReturned": len(documents),
            }
        )

    def collection_doc(self, request: Request) -> Response:
        collection_id = request.path_params["collection_id"]
        return JsonResponse(self._collection_doc(self.base(request), self.store().get_collection(collection_id)))

    def _collection_doc(self, base: str, document: dict[str, Any]) -> dict[str, Any]:
        url = f"{base}/collections/{_q(document['id'])}"
        kept = [link for link in document.get("links", []) if link.get("rel") not in _OWN_RELS]
        document["links"] = [
            _link("self", url, JSON),
            _link("root", f"{base}/", JSON),
            _link("parent", f"{base}/", JSON),
            _link("items", f"{url}/items", GEOJSON, "Items"),
            _link(REL_QUERYABLES, f"{url}/queryables", SCHEMA_JSON, "Queryables"),
            _link(REL_SORTABLES, f"{url}/sortables", SCHEMA_JSON, "Sortables"),
            *kept,
        ]
        return document

    def queryables(self, request: Request) -> Response:
        base = self.base(request)
        collection_id = request.path_params.get("collection_id")
        store = self.store()
        if collection_id is None:
            document = queryables(store.collections(), f"{base}/queryables", f"Queryables of {self.config.title}")
        else:
            collection = store.get_collection(collection_id)
            url = f"{base}/collections/{_q(collection_id)}/queryables"
            document = queryables([collection], url, f"Queryables of {collection_id}")
        return JsonResponse(document, media_type=SCHEMA_JSON)

    def sortables(self, request: Request) -> Response:
        base = self.base(request)
        collection_id = request.path_params.get("collection_id")
        if collection_id is None:
            return JsonResponse(sortables(f"{base}/sortables", "Sortables"), media_type=SCHEMA_JSON)
        self.store().get_collection(collection_id)
        url = f"{base}/collections/{_q(collection_id)}/sortables"
        return JsonResponse(sortables(url, f"Sortables of {collection_id}"), media_type=SCHEMA_JSON)

    # -- items ------------------------------------------------------------------------------
    def item(self, request: Request) -> Response:
        collection_id, item_id = request.path_params["collection_id"], request.path_params["item_id"]
        item = self.store().get_item(collection_id, item_id)
        return JsonResponse(self._item_doc(self.base(request), item), media_type=GEOJSON)

    def collection_items(self, request: Request) -> Response:
        collection_id = request.path_params["collection_id"]
        store = self.store()
        store.get_collection(collection_id)  # 404 for an unknown collection
        params = _get_params(request.query_params, ("ids", "collections", "intersects"))
        query = parse_params(dict(params, collections=[collection_id]))
        base = self.base(request)
        url = f"{base}/collections/{_q(collection_id)}/items"
        extra = [
            _link("collection", f"{base}/collections/{_q(collection_id)}", JSON),
            _link("parent", f"{base}/collections/{_q(collection_id)}", JSON),
        ]
        return self._page(request, store, query, url, extra, post_body=None)

    def search_get(self, request: Request) -> Response:
        query = parse_params(_get_params(request.query_params, ()))
        return self._page(request, self.store(), query, f"{self.base(request)}/search", [], post_body=None)

    async def search_post(self, request: Request) -> Response:
        raw = await request.body()
        return await run_in_threadpool(self._search_post, request, raw)

    def _search_post(self, request: Request, raw: bytes) -> Response:
        try:
            body = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidQuery(f"the request body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise InvalidQuery("the request body must be a JSON object")
        check_post_types(body)
        query = parse_params(body)
        return self._page(request, self.store(), query, f"{self.base(request)}/search", [], post_body=body)

    def _page(
        self,
        request: Request,
        store: Store,
        query: Query,
        url: str,
        extra_links: list[dict[str, Any]],
        post_body: dict[str, Any] | None,
    ) -> Response:
        page = search(store, query)
        base = self.base(request)
        features = [self._item_doc(base, item) for item in page.items]
        links = [_link("root", f"{base}/", JSON), *extra_links]
        if post_body is None:
            links.insert(0, _link("self", _with_token(url, request.query_params, query.token), GEOJSON))
        else:
            links.insert(0, {**_link("self", url, GEOJSON), "method": "POST", "body": post_body})
        for rel, token in (("next", page.next_token), ("prev", page.prev_token)):
            if token is None:
                continue
            if post_body is None:
                links.append(_link(rel, _with_token(url, request.query_params, token), GEOJSON))
            else:
                links.append(
                    {
                        **_link(rel, url, GEOJSON),
                        "method": "POST",
                        "body": {**post_body, "token": token},
                        "merge": False,
                    }
                )
        result: dict[str, Any] = {"type": "FeatureCollection", "features": features, "links": links}
        if query.token is None:
            matched = number_matched(store, query, page, self.config.count_cap)
            if matched is not None:
                result["numberMatched"] = matched
        result["numberReturned"] = len(features)
        return JsonResponse(result, media_type=GEOJSON)

    def _item_doc(self, base: str, item: dict[str, Any]) -> dict[str, Any]:
        collection_id = item.get("collection")
        if "links" in item and collection_id is not None:
            collection_url = f"{base}/collections/{_q(collection_id)}"
            kept = [link for link in item["links"] if link.get("rel") not in _OWN_RELS]
            item["links"] = [
                _link("self", f"{collection_url}/items/{_q(item['id'])}", GEOJSON),
                _link("parent", collection_url, JSON),
                _link("collection", collection_url, JSON),
                _link("root", f"{base}/", JSON),
                *kept,
            ]
        if self.jobs.available and isinstance(item.get("assets"), dict) and collection_id is not None:
            prefix = f"{base}/collections/{_q(collection_id)}/items/{_q(item['id'])}/assets/"
            for key, asset in item["assets"].items():
                alternates = asset.setdefault("alternate", {})
                alternates["eocat"] = {"href": prefix + _q(key), "title": "Materialized on demand by this API"}
            extensions = item.setdefault("stac_extensions", [])
            if not any("/alternate-assets/" in url for url in extensions):
                extensions.append(ALTERNATE_EXTENSION)
        return item

    # -- on-demand assets -------------------------------------------------------------------
    def asset(self, request: Request) -> Response:
        params = request.path_params
        try:
            item = self.store().get_item(params["collection_id"], params["item_id"])
        except NotFound:  # an item whose id itself ends in "/assets/<x>"
            whole_id = f"{params['item_id']}/assets/{params['asset_key']}"
            item = self.store().get_item(params["collection_id"], whole_id)
            return JsonResponse(self._item_doc(self.base(request), item), media_type=GEOJSON)
        key = params["asset_key"]
        if key not in (item.get("assets") or {}):
            raise NotFound(f"item {item['id']!r} has no asset {key!r} (it has: {', '.join(item.get('assets', {}))})")
        if not self.jobs.available:
            return _error(
                501,
                "NotImplemented",
                "no materializer is configured on this server: fetch the asset with `eocat fetch`",
            )
        state = self.jobs.request(item, key)
        if state.status == "running":
            return JsonResponse(
                {"status": "running", "item": item["id"], "asset": key}, status_code=202, headers={"Retry-After": "2"}
            )
        if state.status == "failed":
            return _error(502, "MaterializationFailed", f"materializing {item['id']}/{key} failed: {state.error}")
        assert state.path is not None
        relative = state.path.relative_to(self.jobs.root).as_posix()
        return RedirectResponse(f"{self.base(request)}/assets/{quote(relative)}", status_code=307)

    def local_asset(self, request: Request) -> Response:
        path = self.jobs.local_path(request.path_params["path"])
        if path is None:
            raise NotFound(f"no materialized asset at {request.url.path}")
        return FileResponse(path)

    # -- STAC Browser -----------------------------------------------------------------------
    def browser_config(self, request: Request) -> Response:
        options = {
            "catalogUrl": self.base(request) + "/",
            "catalogTitle": self.config.title,
            "historyMode": "hash",
            "pathPrefix": "/browser/",
            "allowExternalAccess": True,
            "apiCatalogPriority": "collections",  # list what /collections returns, not the child links too
        }
        body = "window.STAC_BROWSER_CONFIG = " + orjson.dumps(options).decode() + ";\n"
        return Response(body, media_type="application/javascript", headers={"Cache-Control": "no-store"})


def _link(rel: str, href: str, media_type: str | None = None, title: str | None = None) -> dict[str, Any]:
    link = {"rel": rel, "href": href}
    if media_type:
        link["type"] = media_type
    if title:
        link["title"] = title
    return link


def _q(value: str) -> str:
    return quote(value, safe="")


def _with_token(url: str, params: Mapping[str, str], token: str | None) -> str:
    pairs = [(key, value) for key, value in params.items() if key != "token"]
    if token is not None:
        pairs.append(("token", token))
    return url + ("?" + urlencode(pairs) if pairs else "")


def _get_params(params: Mapping[str, str], ignored: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key not in ignored}


def _error(status: int, code: str, description: str) -> Response:
    return JsonResponse({"code": code, "description": description}, status_code=status)


def _eocat_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return _error(404, "NotFound", str(exc))
    if isinstance(exc, InvalidQuery):
        return _error(400, "InvalidQuery", str(exc))
    return _error(500, type(exc).__name__, str(exc))


def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug, not a bad request: still JSON, with a message a client can report."""
    return _error(500, "InternalError", f"{type(exc).__name__}: {exc}")


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    names = {404: "NotFound", 405: "MethodNotAllowed"}
    description = "no such endpoint: see /api" if exc.status_code == 404 else str(exc.detail)
    return _error(exc.status_code, names.get(exc.status_code, "HTTPError"), description)


def _browser_missing(request: Request) -> Response:
    return _error(503, "BrowserNotBuilt", "STAC Browser is not built: run `make browser` (or browser/build.sh)")


class UriLengthLimit:
    """414 (JSON) for a request target longer than ``MAX_URI_BYTES``: use POST /search for big queries.

    uvicorn is told to accept request heads up to ``MAX_REQUEST_HEAD_BYTES`` (server.py), so such a
    request reaches this check instead of being cut off with a plain-text 400 by the HTTP parser.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            length = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
            if length > MAX_URI_BYTES:
                message = (
                    f"the request URL has {length:,} bytes, more than {MAX_URI_BYTES:,}: "
                    "send large queries (e.g. an intersects geometry) as POST /search"
                )
                response = _error(414, "URITooLong", message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _lifespan(api: _Api) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What starting made (modules, the app, its stores) lives as long as the server: frozen, a full
        # collection does not rescan it (10M items, 150 searches: 60 ms -> 1 ms in full collections).
        gc.freeze()
        try:
            yield
        finally:
            api.jobs.close()
            gc.unfreeze()

    return lifespan


def create_app(config: ApiConfig) -> Starlette:
    """The ASGI application for one catalogue."""
    api = _Api(config)
    routes: list[BaseRoute] = [
        Route("/", api.landing),
        Route("/conformance", api.conformance),
        Route("/api", api.api),
        Route("/api.html", api.api_html),
        Route("/collections", api.collections),
        Route("/collections/{collection_id}", api.collection_doc),
        Route("/collections/{collection_id}/items", api.collection_items),
        # item ids may contain "/" (sent as %2F, decoded by the server): the asset route is tried first
        Route("/collections/{collection_id}/items/{item_id:path}/assets/{asset_key}", api.asset),
        Route("/collections/{collection_id}/items/{item_id:path}", api.item),
        Route("/collections/{collection_id}/queryables", api.queryables),
        Route("/collections/{collection_id}/sortables", api.sortables),
        Route("/search", api.search_get, methods=["GET"]),
        Route("/search", api.search_post, methods=["POST"]),
        Route("/queryables", api.queryables),
        Route("/sortables", api.sortables),
        Route("/assets/{path:path}", api.local_asset),
        Route("/browser/config.js", api.browser_config),
    ]
    if config.browser_dir is not None and (config.browser_dir / "index.html").is_file():
        routes.append(Mount("/browser", StaticFiles(directory=config.browser_dir, html=True)))
    else:
        routes.append(Route("/browser/{path:path}", _browser_missing))
    middleware = [
        Middleware(UriLengthLimit),
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "Retry-After"],
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={EocatError: _eocat_error, HTTPException: _http_error, Exception: _unexpected_error},
        lifespan=_lifespan(api),
    )
    app.state.api = api
    return app
