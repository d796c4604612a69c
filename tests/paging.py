"""Walking search pages and the lake's rule for ties, shared by the lake tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from catalog.search import Query, SearchPage, search
from tests import oracle


def sort_values(item: dict[str, Any], query: Query) -> tuple[Any, ...]:
    properties = item["properties"]
    values: list[Any] = []
    for key in query.sortby:
        name = key.field.removeprefix("properties.")
        value = item.get(name) if name in ("id", "collection") else properties.get(name)
        if name == "datetime":
            value = oracle.ts(value or properties["start_datetime"])
        values.append(value)
    return tuple(values)


def walk(store: Any, query: Query) -> list[SearchPage]:
    pages = [search(store, query)]
    while pages[-1].next_token is not None:
        pages.append(search(store, replace(query, token=pages[-1].next_token)))
    return pages


def lake_order(catalogue_items: list[dict[str, Any]], query: Query) -> list[str]:
    """The catalogue's sequence with items of equal sort keys ordered by (collection, id) in the
    direction of the first key — the lake's (and pgstac's) rule for ties."""
    reverse = query.sortby[0].descending
    runs: list[list[dict[str, Any]]] = []
    for item in catalogue_items:
        if runs and sort_values(runs[-1][0], query) == sort_values(item, query):
            runs[-1].append(item)
        else:
            runs.append([item])
    ordered = [sorted(run, key=lambda i: (i["collection"], i["id"]), reverse=reverse) for run in runs]
    return [item["id"] for run in ordered for item in run]
