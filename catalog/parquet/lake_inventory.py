"""``eocat inventory --lake``: the inventory (:mod:`catalog.parquet.inventory`) computed in DuckDB.

The same definition, evaluated where the lake is: DuckDB streams the selected items from Parquet
(the query's bbox covering terms skip row groups; the exact ``ST_Intersects`` keeps the items that
touch the AOI), groups them by (orbit direction, relative orbit, polarization combination) and
pass (platform + absolute orbit, else the UTC day), unions each pass's footprints
(``ST_Union_Agg``), intersects the union with the AOI and measures it in the cylindrical
equal-area plane (PROJ's ``cea`` on the unit sphere: x = lon in radians, y = sin lat, the
catalogue inventory's plane). Only one row per pass comes back to Python, so the memory it needs
grows with the number of passes, not of items; DuckDB's own is capped by the catalogue's
``memory_limit``.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from catalog.parquet.inventory import Group, Inventory, Pass, equal_area
from catalog.parquet.lake_search import LakeCatalog
from catalog.search import Query

_FIELDS = {
    "id": "id", "collection": "collection", "t": "datetime", "platform": "platform", "geometry": "geometry",
    "state": "sat:orbit_state", "relative": "sat:relative_orbit", "absolute": "sat:absolute_orbit",
    "pols": "sar:polarizations",
}  # fmt: skip
# polarization_key() in SQL: distinct, upper case, in the order HH, HV, VV, VH, then the others by name
_POLS = """coalesce(nullif(array_to_string(list_transform(list_sort(list_distinct(list_transform(pols, p ->
    CASE upper(p) WHEN 'HH' THEN '0' WHEN 'HV' THEN '1' WHEN 'VV' THEN '2' WHEN 'VH' THEN '3' ELSE '9' END
    || upper(p)))), p -> p[2:]), '+'), ''), '-')"""
_EQUAL_AREA = "'+proj=longlat +R=1 +no_defs', '+proj=cea +R=1 +no_defs', always_xy := true"


def compute_lake(catalog: LakeCatalog, query: Query, aoi: BaseGeometry) -> Inventory:
    """The inventory of ``query``'s items over ``aoi`` (the query's own area), computed by DuckDB."""
    aoi_area = equal_area(aoi).area
    if aoi_area <= 0:
        raise ValueError("the AOI has no area")
    selected = catalog.select_sql(query, _FIELDS)
    if selected is None:
        return Inventory(aoi, [], 0)
    items_sql, params = selected
    aoi_marker = f"ST_GeomFromWKB(?{len(params) + 1})"
    sql = f"""
        WITH items AS (
            SELECT id, collection, t, platform, ST_GeomFromWKB(geometry) AS shape,
                   coalesce(nullif(CAST(state AS VARCHAR), ''), '-') AS state,
                   TRY_CAST(relative AS BIGINT) AS relative, {_POLS} AS pols,
                   TRY_CAST(absolute AS BIGINT) AS absolute
            FROM ({items_sql}) WHERE geometry IS NOT NULL AND t IS NOT NULL
        ), passes AS (
            SELECT state, relative, pols,
                   CASE WHEN absolute IS NOT NULL THEN platform END AS pass_platform, absolute,
                   CASE WHEN absolute IS NULL THEN strftime(t, '%Y-%m-%d') END AS pass_day,
                   list(id ORDER BY t, id) AS ids, min(t) AS start, count(*) AS n,
                   list_sort(list_distinct(list(platform) FILTER (WHERE platform IS NOT NULL AND platform <> '')))
                       AS platforms,
                   list_distinct(list(collection)) AS collections,
                   ST_Union_Agg(shape) AS footprint
            FROM items GROUP BY ALL
        )
        SELECT state, relative, pols, ids, strftime(start, '%Y-%m-%dT%H:%M:%S.%fZ'), n, platforms, collections,
               ST_AsWKB(footprint),
               ST_Area(ST_Transform(ST_Intersection(footprint, {aoi_marker}), {_EQUAL_AREA})) AS covered
        FROM passes"""
    rows = catalog.execute(sql, [*params, shapely.to_wkb(aoi)]).fetchall()
    return _inventory(rows, aoi, aoi_area)


def _inventory(rows: list[tuple[Any, ...]], aoi: BaseGeometry, aoi_area: float) -> Inventory:
    """Groups and passes (sorted as the catalogue inventory sorts them) from one row per pass."""
    groups: dict[tuple[Any, ...], Group] = {}
    collections: dict[tuple[Any, ...], set[str]] = {}
    items = 0
    for state, relative, pols, ids, start, n, platforms, names, footprint, covered in rows:
        key = (state, relative, pols)
        group = groups.setdefault(key, Group(*key))
        collections.setdefault(key, set()).update(names)
        group.passes.append(Pass(
            date=start[:10], start=start, coverage=min(1.0, (covered or 0.0) / aoi_area), item_ids=list(ids),
            platforms=list(platforms), footprint=shapely.from_wkb(bytes(footprint)),
        ))  # fmt: skip
        items += n
    for key, group in groups.items():
        group.collections = sorted(collections[key])
        group.passes.sort(key=lambda p: (p.start, p.item_ids))
    return Inventory(aoi, sorted(groups.values(), key=Group.rank), items)
