"""A multi-level grid cell per item: the spatial key of the ``items_cell`` index.

Each item gets one cell, on the finest level whose cells are at least as large as the item's bbox;
the cell is the one holding the bbox's lower-left corner, so the item lies inside the cell
*enlarged* to twice its size up and right (the XZ-ordering of GeoMesa). The cell is a virtual
generated column computed by SQLite from the bbox columns (:data:`CELL_SQL`), so every write path
keeps it right without code, and the index ``items_cell (cell, datetime, …)`` lists the items of a
cell in time order: a small area over a long window is a few short index ranges per level, where
the R*Tree had to visit every node whose box overlaps it in space (most of them, across the time
dimension). Its twin ``items_cell_collection (cell, collection, datetime, …)`` serves searches for
given collections (:data:`catalog.migrations.CORE_INDEXES`). Longitudes are unwrapped as in the
R*Tree: an item crossing the antimeridian spans ``minx .. maxx + 360``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from catalog.geo import UNWRAPPED_MAXX_SQL, Box

BASE_DEG = 0.25  # the finest cell side; level k has cells of BASE_DEG * 2**k degrees
LEVELS = 12  # the coarsest (512 degrees) holds anything
_LEVEL_SHIFT = 1 << 40
_X_SHIFT = 1 << 20


def cell_size(level: int) -> float:
    return BASE_DEG * (1 << level)


def level_range(level: int) -> tuple[int, int]:
    """The cell numbers of one level: [low, high)."""
    return level * _LEVEL_SHIFT, (level + 1) * _LEVEL_SHIFT


def _cell_sql() -> str:
    width = f"({UNWRAPPED_MAXX_SQL} - minx)"
    extent = f"max({width}, maxy - miny)"
    cases = []
    for level in range(LEVELS):
        size = cell_size(level)
        cell = (
            f"{level * _LEVEL_SHIFT} + CAST((minx + 180) / {size!r} AS INTEGER) * {_X_SHIFT} "
            f"+ CAST((miny + 90) / {size!r} AS INTEGER)"
        )
        test = "ELSE" if level == LEVELS - 1 else f"WHEN {extent} <= {size!r} THEN"
        cases.append(f"{test} {cell}")
    return f"CASE WHEN minx IS NULL THEN NULL {' '.join(cases)} END"


#: The item's cell from its bbox columns, in SQL (the generated column ``items.cell``).
CELL_SQL = _cell_sql()


def _span(low: float, high: float, origin: float, size: float) -> range:
    """Cell indexes along one axis whose enlarged cells (two cells long) meet [low, high].

    An item's corner lies within the axis (longitude -180..180, latitude -90..90), so no cell
    starts past its end: the +360 copy of a query box only reads the cells of items crossing the
    antimeridian.
    """
    first = max(0, math.floor((low + origin) / size - 1 - 1e-9))
    last = min(math.floor(2 * origin / size + 1e-9), math.floor((high + origin) / size + 1e-9))
    return range(first, last + 1)


def cells_count(boxes: Sequence[Box], levels: Iterable[int]) -> int:
    """How many cells :func:`query_cells` lists at most (boxes that overlap share some), without listing them."""
    total = 0
    for level in levels:
        size = cell_size(level)
        for minx, miny, maxx, maxy in boxes:
            total += len(_span(minx, maxx, 180, size)) * len(_span(miny, maxy, 90, size))
    return total


def query_cells(boxes: Sequence[Box], levels: Iterable[int]) -> list[int]:
    """Every cell (of the given levels) whose items may meet one of the boxes (unwrapped longitudes)."""
    found: set[int] = set()
    for level in levels:
        size = cell_size(level)
        for minx, miny, maxx, maxy in boxes:
            for ix in _span(minx, maxx, 180, size):
                base = level * _LEVEL_SHIFT + ix * _X_SHIFT
                found.update(base + iy for iy in _span(miny, maxy, 90, size))
    return sorted(found)
