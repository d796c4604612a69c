"""Columns beside the stored item: hot properties copied into indexed columns so queries never scan JSON,
the R*Tree's time axis, and the geometry as WKB for exact tests.

This table is data: adding a row adds a column, backfills it and indexes it the next time a
store is opened (see :mod:`catalog.migrations`). Every other property is still queryable
through ``json_extract`` on the stored item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import shapely


@dataclass(frozen=True)
class HotProperty:
    """One STAC property mirrored into an indexed column."""

    name: str
    sqltype: str  # "REAL" | "INTEGER" | "TEXT"
    is_array: bool = False
    # A B-tree index pays off only for selective values; a column of a handful of values
    # (orbit state, platform, polarizations) is read as a column, without an index.
    indexed: bool = True
    # Copied into the entries of the grid and collection-datetime indexes (catalog.migrations.CORE_INDEXES):
    # a filter on it is then tested on the entries a search reads, and only matching items' rows are read.
    in_entries: bool = False

    @property
    def column(self) -> str:
        return "p_" + re.sub(r"[^0-9a-zA-Z]+", "_", self.name)


HOT_PROPERTIES: tuple[HotProperty, ...] = (
    HotProperty("eo:cloud_cover", "REAL", in_entries=True),
    HotProperty("platform", "TEXT", indexed=False),
    HotProperty("constellation", "TEXT", indexed=False),
    HotProperty("sat:relative_orbit", "INTEGER"),
    HotProperty("sat:absolute_orbit", "INTEGER"),
    HotProperty("sat:orbit_state", "TEXT", indexed=False),
    HotProperty("sar:instrument_mode", "TEXT", indexed=False),
    HotProperty("sar:polarizations", "TEXT", is_array=True, indexed=False),
    HotProperty("product:type", "TEXT", indexed=False),
    HotProperty("grid:code", "TEXT"),
    HotProperty("s1:full_burst_id", "TEXT"),
    HotProperty("s1:relative_burst_id", "INTEGER"),
)

HOT_BY_NAME: dict[str, HotProperty] = {hot.name: hot for hot in HOT_PROPERTIES}
ENTRY_PROPERTIES: tuple[HotProperty, ...] = tuple(hot for hot in HOT_PROPERTIES if hot.in_entries)
_HOT_NAMES = tuple(hot.name for hot in HOT_PROPERTIES)


def hot_values(properties: dict[str, Any]) -> list[Any]:
    """Column values of every hot property (arrays and objects as compact JSON text)."""
    values = list(map(properties.get, _HOT_NAMES))
    for index, value in enumerate(values):
        if value.__class__ is list or value.__class__ is dict:  # the hot path: cheaper than isinstance
            values[index] = orjson.dumps(value).decode()
    return values


EPOCH = datetime(1970, 1, 1)


def index_days(canonical: str) -> float:
    """A canonical UTC time as days since 1970 (the R*Tree's time axis; SQLite: julianday(t) - 2440587.5)."""
    return (datetime.fromisoformat(canonical[:-1]) - EPOCH).total_seconds() / 86400.0


def geometry_wkb(geometries: list[bytes | None]) -> list[bytes | None]:
    """WKB of GeoJSON geometry texts (None for null or unreadable ones), vectorized with shapely."""
    shapes = shapely.from_geojson(geometries, on_invalid="ignore")
    return [None if shape is None or shape.is_empty else bytes(shape.wkb) for shape in shapes]
