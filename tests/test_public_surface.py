"""The documented public surface: each package's ``__all__`` is exactly what it exports (as httpx checks)."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["catalog", "catalog.fetch"])
def test_all_is_exactly_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    public = [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)  # submodules are not exports
    ]
    assert sorted(module.__all__) == sorted(public)
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("package", ["catalog", "catalog.fetch"])
def test_every_export_is_documented(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__ and len(module.__doc__) > 200
    for name in module.__all__:
        assert getattr(module, name).__doc__, f"{package}.{name} has no docstring"


def test_the_library_quick_start_works(tmp_path: object) -> None:
    """The example in catalog's docstring, run against a real SQLite catalogue."""
    from catalog import Query, open_store, search
    from eocat import samples

    store = open_store(str(tmp_path) + "/c.db")
    store.upsert_items(samples.generate_items(40, seed=2, kinds=("s2-l2a",)))
    page = search(store, Query.parse(collections="sentinel-2-l2a", limit=20))
    assert len(page.items) == 20 and all(item["collection"] == "sentinel-2-l2a" for item in page.items)
