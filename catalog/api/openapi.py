"""The OpenAPI 3.0 description served at ``/api`` (and a plain HTML rendering at ``/api.html``)."""

from __future__ import annotations

import html
from typing import Any

MAX_LIMIT = 10_000


def _param(
    name: str, description: str, schema: dict[str, Any], where: str = "query", example: str | None = None
) -> dict[str, Any]:
    param = {"name": name, "in": where, "required": where == "path", "description": description, "schema": schema}
    if example is not None:
        param["example"] = example
    return param


_STRING = {"type": "string"}
_SEARCH_PARAMS = [
    _param("bbox", "W,S,E,N (or 6 numbers with heights); crossing the antimeridian when W > E", _STRING),
    _param("intersects", "GeoJSON geometry (not with bbox)", _STRING),
    _param("datetime", "RFC 3339 instant or interval START/END, '..' for an open end", _STRING),
    _param("ids", "comma-separated item ids (combined with the other filters)", _STRING),
    _param("collections", "comma-separated collection ids", _STRING),
    _param("limit", f"page size, 1..{MAX_LIMIT} (larger values are capped)", {"type": "integer", "minimum": 1}),
    _param("filter", "CQL2 filter (cql2-text, or cql2-json with filter-lang)", _STRING),
    _param("filter-lang", "cql2-text (default) or cql2-json", {"type": "string", "enum": ["cql2-text", "cql2-json"]}),
    _param(
        "sortby",
        "e.g. -properties.datetime,+id; any property may be named (items without it sort last)",
        _STRING,
    ),
    _param("fields", "e.g. id,properties.datetime,-assets", _STRING),
    _param("token", "paging token from a next/prev link", _STRING),
]
_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}
_ERRORS = {
    "400": {"description": "Invalid parameters", "content": _JSON},
    "404": {"description": "Not found", "content": _JSON},
    "414": {"description": "Request URL too long: use POST /search", "content": _JSON},
}


def _get(summary: str, content: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": params or [],
        "responses": {"200": {"description": "OK", "content": content}, **_ERRORS},
    }


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document, with ``base_url`` as its only server."""
    collection_id = _param("collectionId", "collection id", _STRING, "path", example="sentinel-2-l2a")
    item_id = _param("itemId", "item id", _STRING, "path")
    asset_key = _param("assetKey", "asset key", _STRING, "path")
    search_body = {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "bbox": {"type": "array", "items": {"type": "number"}},
                        "intersects": {"type": "object"},
                        "datetime": _STRING,
                        "ids": {"type": "array", "items": _STRING},
                        "collections": {"type": "array", "items": _STRING},
                        "limit": {"type": "integer"},
                        "filter": {},
                        "filter-lang": _STRING,
                        "sortby": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": _STRING,
                                    "direction": {"type": "string", "enum": ["asc", "desc"]},
                                },
                                "required": ["field"],
                            },
                        },
                        "fields": {
                            "type": "object",
                            "properties": {
                                "include": {"type": "array", "items": _STRING},
                                "exclude": {"type": "array", "items": _STRING},
                            },
                        },
                        "token": _STRING,
                    },
                }
            }
        },
    }
    paths: dict[str, Any] = {
        "/": {"get": _get("Landing page", _JSON)},
        "/conformance": {"get": _get("Conformance classes", _JSON)},
        "/api": {"get": _get("This OpenAPI document", {"application/vnd.oai.openapi+json;version=3.0": {}})},
        "/collections": {"get": _get("Collections", _JSON)},
        "/collections/{collectionId}": {"get": _get("One collection", _JSON, [collection_id])},
        "/collections/{collectionId}/items": {
            "get": _get(
                "Items of a collection",
                _GEOJSON,
                [collection_id, *_SEARCH_PARAMS[:1], *_SEARCH_PARAMS[2:3], *_SEARCH_PARAMS[5:]],
            )
        },
        "/collections/{collectionId}/items/{itemId}": {"get": _get("One item", _GEOJSON, [collection_id, item_id])},
        "/collections/{collectionId}/items/{itemId}/assets/{assetKey}": {
            "get": {
                "summary": "Materialize an asset on demand: 202 while it runs, 307 to the local copy when done",
                "parameters": [collection_id, item_id, asset_key],
                "responses": {
                    "202": {"description": "Materializing", "content": _JSON},
                    "307": {"description": "Redirect to the local copy"},
                    "501": {"description": "No materializer configured", "content": _JSON},
                    "502": {
                        "description": "Materializing failed upstream (retried on the next request)",
                        "content": _JSON,
                    },
                    **_ERRORS,
                },
            }
        },
        "/search": {
            "get": _get("Item search", _GEOJSON, _SEARCH_PARAMS),
            "post": {
                "summary": "Item search",
                "requestBody": search_body,
                "responses": {"200": {"description": "OK", "content": _GEOJSON}, **_ERRORS},
            },
        },
        "/queryables": {"get": _get("Queryables of all collections", {"application/schema+json": {}})},
        "/collections/{collectionId}/queryables": {
            "get": _get("Queryables of a collection", {"application/schema+json": {}}, [collection_id])
        },
        "/sortables": {"get": _get("Sortables", {"application/schema+json": {}})},
        "/collections/{collectionId}/sortables": {
            "get": _get("Sortables of a collection", {"application/schema+json": {}}, [collection_id])
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "eocat STAC API",
            "version": "1.0.0",
            "description": "STAC API over an eocat catalogue (core, features, item search, filter, sort, fields).",
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "paths": paths,
    }


def render_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page listing the operations (works offline, unlike Swagger UI from a CDN)."""
    rows = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            params = ", ".join(param["name"] for param in operation.get("parameters", []))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation['summary'])}</td><td>{html.escape(params)}</td></tr>"
            )
    title = html.escape(doc["info"]["title"])
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p>{html.escape(doc['info']['description'])} "
        f"Machine-readable: <a href='api'>OpenAPI document</a>.</p>"
        "<table border='1' cellpadding='4'><tr><th>method</th><th>path</th><th>summary</th><th>parameters</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
