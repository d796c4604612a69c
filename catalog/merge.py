"""Merging two versions of one STAC item: what upsert does when the item already exists.

The newer document wins field by field, but nothing the older one knew is lost: assets,
providers, links, extensions and properties that only the older one has are kept. This is how
one Sentinel-1 burst seen at two sources becomes one item with the assets of both, and how a
re-harvest keeps the local copies (alternate hrefs) that a fetch recorded.
"""

from __future__ import annotations

from typing import Any


def _union(old: list[Any], new: list[Any]) -> list[Any]:
    return old + [value for value in new if value not in old]


def _merge_providers(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = [dict(provider) for provider in old]
    by_name = {provider.get("name"): provider for provider in merged}
    for provider in new:
        existing = by_name.get(provider.get("name"))
        if existing is None:
            merged.append(dict(provider))
            continue
        roles = _union(existing.get("roles", []), provider.get("roles", []))
        existing.update(provider)
        if roles:
            existing["roles"] = roles
    return merged


def _merge_links(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {(link.get("rel"), link.get("href")) for link in new}
    return list(new) + [link for link in old if (link.get("rel"), link.get("href")) not in seen]


def merge_items(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Return ``new`` enriched with what only ``old`` has (neither argument is modified)."""
    merged = {**old, **new}
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    properties = {**old_props, **new_props}
    providers = _merge_providers(old_props.get("providers", []), new_props.get("providers", []))
    if providers:
        properties["providers"] = providers
    merged["properties"] = properties
    old_assets, new_assets = old.get("assets") or {}, new.get("assets") or {}
    merged["assets"] = {
        key: {**old_assets.get(key, {}), **new_assets.get(key, {})} for key in {**old_assets, **new_assets}
    }
    if "links" in old or "links" in new:
        merged["links"] = _merge_links(old.get("links", []), new.get("links", []))
    if "stac_extensions" in old or "stac_extensions" in new:
        merged["stac_extensions"] = _union(old.get("stac_extensions", []), new.get("stac_extensions", []))
    return merged


def merge_collections(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge two versions of one collection: new fields win, providers/links/extensions accumulate."""
    merged = {**old, **new}
    merged["providers"] = _merge_providers(old.get("providers", []), new.get("providers", []))
    if not merged["providers"]:
        del merged["providers"]
    if "links" in old or "links" in new:
        merged["links"] = _merge_links(old.get("links", []), new.get("links", []))
    if "stac_extensions" in old or "stac_extensions" in new:
        merged["stac_extensions"] = _union(old.get("stac_extensions", []), new.get("stac_extensions", []))
    return merged
