"""DestinE frames through the generic fetch layer: ``eocat:protocol: destine-frame`` over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from catalog.fetch import fetch, fetch_items, fetch_one
from catalog.store import Store
from emulators.destine import DestinEEmulator
from tests.destine_support import END, START, harvest, stored_items


def test_fetch_decodes_the_frame_records_it_and_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with DestinEEmulator(start=START, end=END) as emulator, Store(tmp_path / "e.db") as store:
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("EOCAT_ASSET_DIR", str(tmp_path / "assets"))
        harvest(store, emulator, ("Europe",), "2021-06-01T00:00:00Z", "2021-07-15T00:00:00Z")
        items = stored_items(store, "Europe")
        item = items[len(items) // 2]
        props = item["properties"]

        path = fetch_one(store, item["id"], "ndvi")
        assert path.is_file() and path.resolve().is_relative_to((tmp_path / "assets").resolve())
        truth = emulator.truth("Europe", props["destine:img_number"])
        with rasterio.open(path) as dataset:
            assert dataset.crs.to_epsg() == 4326 and dataset.shape == tuple(props["proj:shape"])
            values = dataset.read(1)
        np.testing.assert_array_equal(np.isnan(values), np.isnan(truth))
        valid = ~np.isnan(truth)
        step = (props["destine:scale_max"] - props["destine:scale_min"]) / 4095
        assert np.abs(values[valid] - truth[valid]).max() <= step

        stored = store.get_item(item["collection"], item["id"])
        local = stored["assets"]["ndvi"]["alternate"]["local"]
        assert local["href"] == path.resolve().as_uri() and local["file:size"] == path.stat().st_size
        assert stored["assets"]["ndvi"]["href"] == item["assets"]["ndvi"]["href"]  # upstream href kept

        again = fetch(store, item["id"], "ndvi")
        assert again.count("cached") == 1 and again.count("fetched") == 0


def test_fetch_without_desp_credentials_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with DestinEEmulator(start=START, end=END) as emulator, Store(tmp_path / "e.db") as store:
        harvest(store, emulator, ("Africa",), "2021-06-01T00:00:00Z", "2021-07-15T00:00:00Z")
        for key, value in emulator.environment().items():
            if not key.startswith("DESP_"):
                monkeypatch.setenv(key, value)
        monkeypatch.delenv("DESP_USERNAME", raising=False)
        monkeypatch.delenv("DESP_PASSWORD", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
        monkeypatch.setenv("EOCAT_ASSET_DIR", str(tmp_path / "assets"))
        item = stored_items(store, "Africa")[0]
        report = fetch(store, item["id"], "ndvi")
        (failure,) = report.failed
        assert "DESP" in (failure.error or "")
        assert not list((tmp_path / "assets").rglob("*.tif"))


def test_a_bulk_fetch_decodes_each_stream_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.destine import materialize

    passes: list[tuple[str, list[int]]] = []
    decode = materialize.decode_frames

    def counting(href: str, numbers: list[int], **kwargs: Any) -> Any:
        passes.append((href.split("?")[0], sorted(numbers)))
        return decode(href, numbers, **kwargs)

    monkeypatch.setattr(materialize, "decode_frames", counting)
    with DestinEEmulator(start=START, end=END) as emulator, Store(tmp_path / "e.db") as store:
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("EOCAT_ASSET_DIR", str(tmp_path / "assets"))
        harvest(store, emulator, ("Europe", "Africa"), "2021-06-01T00:00:00Z", "2021-06-10T00:00:00Z")
        items = stored_items(store)
        report = fetch_items(store, items, asset="ndvi", jobs=3)
        assert not report.failed and report.count("fetched") == len(items) >= 6
        # one decoding pass per stream, each asking for every frame of that stream the run wanted
        assert len(passes) == 2
        for continent in ("Europe", "Africa"):
            numbers = sorted(i["assets"]["ndvi"]["eocat:frame"] for i in stored_items(store, continent))
            assert [n for href, n in passes if continent in href] == [numbers]
        for item in items:
            props = item["properties"]
            path = fetch_one(store, item["id"], "ndvi")  # recorded: served from the local copy
            with rasterio.open(path) as dataset:
                values = dataset.read(1)
            truth = emulator.truth(props["destine:continent"], props["destine:img_number"])
            valid = ~np.isnan(truth)
            step = (props["destine:scale_max"] - props["destine:scale_min"]) / 4095
            assert np.abs(values[valid] - truth[valid]).max() <= step
        assert len(passes) == 2
