"""Hot properties: STAC item properties copied into indexed columns so queries never scan JSON.

This table is data: adding a row adds a column, backfills it and indexes it the next time a
store is opened (see :mod:`catalog.migrations`). Every other property is still queryable
through ``json_extract`` on the stored item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class HotProperty:
    """One STAC property mirrored into an indexed column."""

    name: str
    sqltype: str  # "REAL" | "INTEGER" | "TEXT"
    is_array: bool = False

    @property
    def column(self) -> str:
        return "p_" + re.sub(r"[^0-9a-zA-Z]+", "_", self.name)

    def value(self, properties: dict[str, Any]) -> Any:
        """The column value for an item's properties (arrays as compact JSON text)."""
        value = properties.get(self.name)
        if value is None:
            return None
        if self.is_array or isinstance(value, list | dict):
            return orjson.dumps(value).decode()
        return value


HOT_PROPERTIES: tuple[HotProperty, ...] = (
    HotProperty("eo:cloud_cover", "REAL"),
    HotProperty("platform", "TEXT"),
    HotProperty("constellation", "TEXT"),
    HotProperty("sat:relative_orbit", "INTEGER"),
    HotProperty("sat:absolute_orbit", "INTEGER"),
    HotProperty("sat:orbit_state", "TEXT"),
    HotProperty("sar:instrument_mode", "TEXT"),
    HotProperty("sar:polarizations", "TEXT", is_array=True),
    HotProperty("product:type", "TEXT"),
    HotProperty("grid:code", "TEXT"),
    HotProperty("s1:full_burst_id", "TEXT"),
    HotProperty("s1:relative_burst_id", "INTEGER"),
)

HOT_BY_NAME: dict[str, HotProperty] = {hot.name: hot for hot in HOT_PROPERTIES}

# Timestamps kept in canonical form in their own columns (see catalog.timeutil).
TIME_COLUMNS = ("datetime", "start_datetime", "end_datetime")
