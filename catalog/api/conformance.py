"""Conformance classes the API advertises.

STAC API URIs are listed under both v1.0.0 and v1.1.0: pystac-client matches ``v1.0.*`` only,
stac-fastapi and newer clients use v1.1.0, STAC Browser matches ``v1.*``.
"""

from __future__ import annotations

_STAC = "https://api.stacspec.org/{version}/"
_STAC_CLASSES = (
    "core",
    "collections",
    "ogcapi-features",
    "item-search",
    "item-search#sort",
    "item-search#fields",
    "item-search#filter",
    "ogcapi-features#sort",
    "ogcapi-features#fields",
    "ogcapi-features#filter",
)
_OGC = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
)
# The filter extension's own URI as published (rc.2 in stac-fastapi, rc.3 in the spec README).
_FILTER_RC = (
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "https://api.stacspec.org/v1.0.0-rc.3/item-search#filter",
)

CONFORMANCE: tuple[str, ...] = (
    *(_STAC.format(version=version) + name for version in ("v1.0.0", "v1.1.0") for name in _STAC_CLASSES),
    *_FILTER_RC,
    *_OGC,
)
