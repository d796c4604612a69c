"""Burst stacks: every acquisition of one burst location and polarization, with temporal baselines.

The stack of a burst item is the items of ``sentinel-1-bursts`` with the same ``s1:full_burst_id``
(track, relative burst id, subswath) and the same polarization, in time order; the temporal baseline
of each is counted in whole days from the reference acquisition's date, as ASF's baseline service does
(``(secondary date - reference date).days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from catalog.errors import NotFound
from catalog.search import Query, iter_items
from catalog.store import Store
from indexer.bursts.mapping import COLLECTION_ID


@dataclass(frozen=True)
class StackEntry:
    """One acquisition of the stack."""

    item: dict[str, Any]
    temporal_baseline: int  # days from the reference acquisition
    reference: bool

    @property
    def sources(self) -> list[str]:
        """Which sources the item's assets come from (cdse, asf)."""
        keys = self.item.get("assets", {})
        return [name for name, asset in (("cdse", "cdse"), ("asf", "tiff")) if asset in keys]


def _day(item: dict[str, Any]) -> date:
    return date.fromisoformat(str(item["properties"]["datetime"])[:10])


def burst_stack(store: Store, item_id: str) -> list[StackEntry]:
    """The time series of the burst location of ``item_id`` (same polarization), oldest first."""
    try:
        reference = store.get_item(COLLECTION_ID, item_id)
    except NotFound:
        raise NotFound(
            f"no burst item {item_id!r} in {COLLECTION_ID!r} (harvest cdse-bursts or asf-bursts first)"
        ) from None
    properties = reference["properties"]
    full_id = properties.get("s1:full_burst_id")
    if not isinstance(full_id, str) or "'" in full_id:
        raise NotFound(f"item {item_id!r} has no s1:full_burst_id")
    polarizations = properties.get("sar:polarizations") or []
    query = Query.parse(collections=COLLECTION_ID, filter=f"\"s1:full_burst_id\" = '{full_id}'", sortby="datetime")
    base = _day(reference)
    return [
        StackEntry(item, (_day(item) - base).days, item["id"] == item_id)
        for item in iter_items(store, query)
        if (item["properties"].get("sar:polarizations") or []) == polarizations
    ]
