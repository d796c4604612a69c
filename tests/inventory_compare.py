"""Comparing two inventories (the catalogue's, computed by shapely, and a lake's, by DuckDB)."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.parquet.inventory import Inventory, area_km2


def assert_same_inventory(got: Inventory, expected: Inventory) -> None:
    """The same groups in the same order, the same passes (items, dates, platforms, coverage to 1e-9,
    footprint area to 1e-9 relative), the same item count and best group."""
    assert got.items == expected.items
    assert [group.label for group in got.groups] == [group.label for group in expected.groups]
    for mine, theirs in zip(got.groups, expected.groups, strict=True):
        assert mine.collections == theirs.collections
        assert [_pass(p) for p in mine.passes] == [_pass(p) for p in theirs.passes]
        assert [p.coverage for p in mine.passes] == pytest.approx([p.coverage for p in theirs.passes], abs=1e-9)
        assert [area_km2(p.footprint) for p in mine.passes] == pytest.approx(
            [area_km2(p.footprint) for p in theirs.passes], rel=1e-9
        )
        assert mine.full_dates == theirs.full_dates


def _pass(p: Any) -> tuple[Any, ...]:
    return p.date, p.start, p.item_ids, p.platforms
