"""Timescan: running statistics vs numpy, over frames decoded from the emulator's stream, in constant memory."""

from __future__ import annotations

import tracemalloc
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from catalog.errors import EocatError
from catalog.store import Store
from catalog.timescan import METRICS, RunningStats, parse_metrics, timescan
from emulators.destine import DestinEEmulator, VideoFormat
from indexer.auth import Credentials
from indexer.destine.auth import DespTokenProvider
from indexer.destine.client import harvest_frames
from indexer.destine.materialize import materialize_frames
from indexer.destine.timescan import run_timescan
from tests.destine_support import stored_items


def _numpy_stats(stack: np.ndarray) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels
        avg, std = np.nanmean(stack, axis=0), np.nanstd(stack, axis=0)
        return {
            "avg": avg,
            "std": std,
            "min": np.nanmin(stack, axis=0),
            "max": np.nanmax(stack, axis=0),
            "cov": std / avg,
            "count": (~np.isnan(stack)).sum(axis=0).astype(float),
        }


def test_running_stats_equal_numpy_with_nodata() -> None:
    rng = np.random.default_rng(3)
    stack = rng.normal(0.4, 0.2, size=(37, 21, 33))
    stack[rng.random(stack.shape) < 0.35] = np.nan
    stack[:, 0, :5] = np.nan  # never observed
    stack[:-1, 1, 0] = np.nan  # observed once
    stats, bands = timescan(iter(stack), METRICS)
    assert stats.frames == 37
    expected = _numpy_stats(stack)
    for name, band in zip(METRICS, bands, strict=True):
        np.testing.assert_allclose(band, expected[name], rtol=2e-6, atol=1e-6, equal_nan=True, err_msg=name)
    assert np.isnan(bands[0][0, :5]).all() and (bands[METRICS.index("count")][0, :5] == 0).all()
    assert bands[METRICS.index("std")][1, 0] == 0.0


def test_metric_names_and_shapes_are_checked() -> None:
    assert parse_metrics("avg, STD,avg") == ("avg", "std")
    for bad in ("avg,db", "", "power"):
        with pytest.raises(EocatError, match="timescan metric"):
            parse_metrics(bad)
    stats = RunningStats((2, 3))
    with pytest.raises(EocatError, match="shape"):
        stats.update(np.zeros((3, 2)))
    with pytest.raises(EocatError, match="no frames"):
        timescan(iter(()), ["avg"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DestinEEmulator, Store, Any]]:
    with (
        DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 9, 15), video=VideoFormat("ffv1", "matroska")) as emu,
        Store(tmp_path_factory.mktemp("ts") / "e.db") as store,
        DespTokenProvider(Credentials("u", "p"), auth_url=emu.auth_url, streamer_url=emu.base_url) as tokens,
    ):
        harvest_frames(
            store,
            "Europe",
            "2021-06-01T00:00:00Z",
            "2021-09-15T00:00:00Z",
            tokens=tokens,
            streamer_url=emu.base_url,
            progress=False,
        )
        yield emu, store, tokens


def _read(path: Path) -> tuple[dict[str, np.ndarray], Any]:
    with rasterio.open(path) as dataset:
        return {name: dataset.read(i + 1) for i, name in enumerate(dataset.descriptions)}, dataset


def test_timescan_matches_numpy_over_the_truth(world: tuple[DestinEEmulator, Store, Any], tmp_path: Path) -> None:
    emulator, store, tokens = world
    items = stored_items(store, "Europe")[10:70]
    report = run_timescan(items, METRICS, tmp_path / "ts.tif", tokens=tokens)
    assert report.frames == report.decoded == 60 and report.from_local == 0 and len(report.streams) == 1
    bands, dataset = _read(tmp_path / "ts.tif")
    assert dataset.crs.to_epsg() == 4326 and dataset.count == len(METRICS) and np.isnan(dataset.nodata)
    assert dataset.shape == tuple(items[0]["properties"]["proj:shape"])
    numbers = [i["properties"]["destine:img_number"] for i in items]
    stack = np.stack([emulator.truth("Europe", n) for n in numbers])
    expected = _numpy_stats(stack)
    step = max((f.max_value - f.min_value) / 4095 for f in emulator.streams["Europe"].frames if f.img_number in numbers)
    np.testing.assert_array_equal(bands["count"], expected["count"])  # nodata (sea, clouds) skipped exactly
    for name in ("avg", "min", "max", "std"):
        np.testing.assert_array_equal(np.isnan(bands[name]), np.isnan(expected[name]))
        assert np.nanmax(np.abs(bands[name] - expected[name])) <= step, name
    vegetated = np.abs(expected["avg"]) > 0.2
    np.testing.assert_allclose(bands["cov"][vegetated], (bands["std"] / bands["avg"])[vegetated], rtol=1e-5)
    assert np.nanmax(np.abs(bands["cov"] - expected["cov"])[vegetated]) < 0.02
    assert (bands["count"] > 0).any() and (bands["count"] == 0).any()  # land and sea


def test_local_copies_are_used_and_give_the_same_result(
    world: tuple[DestinEEmulator, Store, Any], tmp_path: Path
) -> None:
    _emulator, store, tokens = world
    items = stored_items(store, "Europe")[:20]
    for item, path in zip(items[:7], materialize_frames(items[:7], tmp_path / "frames", tokens), strict=True):
        local = {"href": path.resolve().as_uri(), "file:size": path.stat().st_size}
        item["assets"]["ndvi"]["alternate"] = {"local": local}
    mixed = run_timescan(items, ["avg", "std"], tmp_path / "mixed.tif", tokens=tokens)
    plain = run_timescan(stored_items(store, "Europe")[:20], ["avg", "std"], tmp_path / "plain.tif", tokens=tokens)
    assert (mixed.from_local, mixed.decoded, plain.decoded) == (7, 13, 20)
    first, second = _read(tmp_path / "mixed.tif")[0], _read(tmp_path / "plain.tif")[0]
    for name in ("avg", "std"):
        np.testing.assert_allclose(first[name], second[name], rtol=1e-6, atol=1e-7, equal_nan=True)


def test_frames_of_different_grids_or_other_items_are_refused(
    world: tuple[DestinEEmulator, Store, Any], tmp_path: Path
) -> None:
    _, store, _ = world
    items = stored_items(store, "Europe")[:2]
    other = {**items[1], "properties": {**items[1]["properties"], "proj:shape": [10, 10]}}
    with pytest.raises(EocatError, match="another grid"):
        run_timescan([items[0], other], ["avg"], tmp_path / "x.tif")
    with pytest.raises(EocatError, match="not one"):
        run_timescan([{"id": "s2", "assets": {"B04": {"href": "x.tif"}}}], ["avg"], tmp_path / "x.tif")
    with pytest.raises(EocatError, match="no frames"):
        run_timescan([], ["avg"], tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


def _peak(items: list[dict[str, Any]], out: Path, tokens: Any) -> int:
    tracemalloc.start()
    try:
        report = run_timescan(items, ["avg", "max", "min", "std", "cov"], out, tokens=tokens)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.frames == len(items)
    return peak


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_number_of_frames(
    world: tuple[DestinEEmulator, Store, Any], tmp_path: Path
) -> None:
    _, store, tokens = world
    items = stored_items(store, "Europe")
    assert len(items) >= 200
    _peak(items[:3], tmp_path / "warm.tif", tokens)  # imports, caches
    small, large = _peak(items[:10], tmp_path / "10.tif", tokens), _peak(items[:200], tmp_path / "200.tif", tokens)
    frame_bytes = 4 * int(np.prod(items[0]["properties"]["proj:shape"]))
    print(f"timescan peak traced memory: 10 frames {small / 1e6:.2f} MB, 200 frames {large / 1e6:.2f} MB")
    assert large < 1.25 * small + frame_bytes  # not growing with the series ...
    assert large < 200 * frame_bytes / 2  # ... and well below holding the series (200 float32 frames)
