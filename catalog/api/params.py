"""Search parameters from a GET query string or a POST body, validated into a :class:`Query`.

The limit is capped (not rejected), POST values must have their JSON types, and two CQL2 forms
that clients send but CQL2 1.0 does not allow are accepted (see :func:`_lenient_cql2`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from catalog.api.openapi import MAX_LIMIT
from catalog.errors import EocatError, InvalidQuery
from catalog.search import Query

_CRS84 = {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"}


def parse_params(params: dict[str, Any]) -> Query:
    """A Query from GET parameters or a POST body; the limit is capped, not rejected."""
    crs = params.get("filter-crs")
    if crs not in (None, "") and crs not in _CRS84:
        raise InvalidQuery(f"unsupported filter-crs {crs!r}: only CRS84 is supported")
    filter_, filter_lang = _lenient_cql2(params.get("filter")), params.get("filter-lang") or params.get("filter_lang")
    if isinstance(filter_, dict):
        # As text, the parsed filter is memoised (cql2 validation costs 40-200 ms; clients repeat filters).
        filter_, filter_lang = orjson.dumps(filter_, option=orjson.OPT_SORT_KEYS).decode(), "cql2-json"
    intersects = params.get("intersects")
    if isinstance(intersects, str):
        try:
            intersects = orjson.loads(intersects)
        except orjson.JSONDecodeError as exc:
            raise InvalidQuery(f"intersects is not a GeoJSON geometry: {exc}") from None
    try:
        query = Query.parse(
            ids=params.get("ids"),
            collections=params.get("collections"),
            bbox=params.get("bbox"),
            intersects=intersects,
            datetime=params.get("datetime"),
            filter=filter_,
            filter_lang=filter_lang,
            sortby=params.get("sortby"),
            fields=params.get("fields"),
            limit=params.get("limit"),
            token=params.get("token"),
        )
    except EocatError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidQuery(f"invalid search parameters: {exc}") from None
    return replace(query, limit=min(query.limit, MAX_LIMIT))


_POST_TYPES: dict[str, tuple[type, ...]] = {
    "bbox": (list,),
    "intersects": (dict,),
    "ids": (list,),
    "collections": (list,),
    "datetime": (str,),
    "limit": (int,),
    "sortby": (list, str),
    "fields": (dict,),
    "token": (str,),
    "filter": (dict, str),
}


def check_post_types(body: dict[str, Any]) -> None:
    """POST bodies carry JSON values: a bbox is an array of numbers, not a CSV string, and so on."""
    for name, types in _POST_TYPES.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            expected = " or ".join(
                {list: "an array", dict: "an object", str: "a string", int: "an integer"}[kind] for kind in types
            )
            raise InvalidQuery(f"invalid {name!r} in the request body: expected {expected}")


def _lenient_cql2(node: Any) -> Any:
    """Accept two forms clients send that CQL2 JSON 1.0 does not allow.

    The pre-1.0 ``between`` form ``[x, [low, high]]`` (stac-api-validator) becomes ``[x, low, high]``;
    an ``and``/``or`` of one argument (STAC Browser with one filter row) becomes that argument, and
    of none, no filter.
    """
    if isinstance(node, list):
        return [_lenient_cql2(element) for element in node]
    if not isinstance(node, dict):
        return node
    result = {key: _lenient_cql2(value) for key, value in node.items()}
    op, args = str(result.get("op", "")).lower(), result.get("args")
    if op == "between" and isinstance(args, list) and len(args) == 2:
        bounds = args[1]
        if isinstance(bounds, list) and len(bounds) == 2:
            result["args"] = [args[0], *bounds]
    if op in ("and", "or") and isinstance(args, list) and len(args) < 2:
        return args[0] if args else None
    return result


def has_spatial_operator(node: Any) -> bool:
    if isinstance(node, dict):
        if str(node.get("op", "")).lower().startswith("s_"):
            return True
        return any(has_spatial_operator(value) for value in node.values())
    if isinstance(node, list):
        return any(has_spatial_operator(value) for value in node)
    return False
