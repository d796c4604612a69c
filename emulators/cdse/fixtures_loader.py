"""The recorded CDSE responses shipped in ``emulators/cdse/fixtures``: product records and other bodies."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"

PRODUCT_FILES = (
    *(f"products_s1_aux_paging/page_{i}.json" for i in range(1, 6)),
    "products_s2_l1c_expand_attributes_assets.json",
    "product_s1_grd_entity_expand_attributes.json",
    "products_s1_slc_legacy_expand_attributes_locations_assets.json",
    "product_s2_l2a_reconstructed.json",
)
"""Files whose records join the product set (the pre-2024-09 GRD entity repeats an Id and is left out)."""


@lru_cache(maxsize=64)
def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def load(name: str) -> Any:
    """A fixture file parsed as JSON (a fresh deep copy)."""
    return json.loads(json.dumps(_load(name)))


def product_records() -> list[dict[str, Any]]:
    """Every recorded product record, as recorded (key order kept), without ``@odata.context``."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in PRODUCT_FILES:
        body = load(name)
        records = body.get("value", [body])
        for record in records:
            record.pop("@odata.context", None)
            if record["Id"] not in seen:
                seen.add(record["Id"])
                out.append(record)
    return out
