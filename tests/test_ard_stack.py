"""Timescan, mosaic and animation over ARD items (stacks of synthetic sentinel-1-ard COGs, no sarsen run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from PIL import Image

from catalog.store import Store
from eocat.cli import main
from processing.ard import write_cog
from processing.dem import Grid
from processing.items import ard_item
from processing.run import ArdOptions, collection

T0 = datetime(2024, 5, 1, 5, 26, tzinfo=UTC)


def make_items(db: Path, out: Path, stacks: list[tuple[np.ndarray, Grid, int, str]], seconds: int = 0) -> None:
    """ARD items: one per (linear power array, grid, relative orbit, date offset) entry."""
    items = []
    for n, (values, grid, orbit, day) in enumerate(stacks):
        when = T0 + timedelta(days=int(day), seconds=seconds)
        grd = {"id": f"S1A_GRD_{n:02d}_{orbit}", "collection": "sentinel-1-grd",
               "properties": {"datetime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "sat:relative_orbit": orbit,
                              "sat:orbit_state": "ascending", "platform": "sentinel-1a",
                              "constellation": "sentinel-1", "instruments": ["sar"]}}  # fmt: skip
        path = out / f"{grd['id']}.tif"
        write_cog(path, values.astype(np.float32), grid.crs, grid.transform, float("nan"))
        write_cog(out / f"{grd['id']}_mask.tif", np.zeros(values.shape, np.uint8), grid.crs, grid.transform, None)
        items.append(ard_item(grd, "VV", ArdOptions(), grid, path, out / f"{grd['id']}_mask.tif", "test DEM",
                              f"{grd['id']}_VV"))  # fmt: skip
    with Store(db) as store:
        store.upsert_items(items, collections=lambda _: collection())


def run(db: Path, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(7)
    grid = Grid("EPSG:32632", 600_000.0, 5_150_000.0, 20.0, 60, 40)
    cube = rng.gamma(4.0, 0.02, size=(10, 40, 60))
    cube[rng.random(cube.shape) < 0.1] = np.nan  # no data / masked pixels
    cube[:, :3, :3] = np.nan  # never observed
    db = tmp_path / "eocat.db"
    make_items(db, tmp_path, [(cube[i], grid, 117, str(i * 12)) for i in range(10)])
    return db, cube


def test_timescan_over_ten_dates_equals_numpy(stack: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    db, cube = stack
    out = tmp_path / "ts.tif"
    run(db, "timescan", "--collections", "sentinel-1-ard", "--metrics", "avg,max,min,std,cov,count", "--out", str(out))
    with rasterio.open(out) as src:
        bands = src.read()
        assert src.descriptions[0] == "avg (dB)"
    cube_db = 10 * np.log10(cube)
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        expected = [np.nanmean(cube_db, 0), np.nanmax(cube_db, 0), np.nanmin(cube_db, 0), np.nanstd(cube_db, 0)]
    expected.append(expected[3] / expected[0])
    expected.append(np.sum(np.isfinite(cube_db), 0).astype(float))
    for got, want in zip(bands, expected, strict=True):
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-5, atol=1e-5)
    assert np.isnan(bands[0][0, 0]) and bands[5][0, 0] == 0


def test_timescan_refuses_mixed_tracks(stack: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    db, cube = stack
    make_items(db, tmp_path, [(cube[0], Grid("EPSG:32632", 600_000.0, 5_150_000.0, 20.0, 60, 40), 15, "3")])
    result = run(db, "timescan", "--collections", "sentinel-1-ard", "--out", str(tmp_path / "x.tif"), code=2)
    assert "one track" in result.output
    run(db, "timescan", "--collections", "sentinel-1-ard", "--filter", '"sat:relative_orbit" = 117',
        "--out", str(tmp_path / "x.tif"))  # fmt: skip


def test_mosaic_overlap_rules_and_animation(tmp_path: Path) -> None:
    db = tmp_path / "eocat.db"
    west = Grid("EPSG:32632", 600_000.0, 5_150_000.0, 20.0, 50, 30)
    east = Grid("EPSG:32632", 600_600.0, 5_150_000.0, 20.0, 50, 30)  # overlaps west by 20 columns
    entries = []
    for day in range(3):  # three 12-day windows, two tracks each (a day apart)
        entries.append((np.full((30, 50), 0.01 * (day + 1)), west, 117, str(day * 12)))
        entries.append((np.full((30, 50), 0.04 * (day + 1)), east, 15, str(day * 12 + 1)))
    make_items(db, tmp_path, entries)
    out = tmp_path / "mosaics"
    result = run(db, "mosaic", "--collections", "sentinel-1-ard", "--window", "12d", "--overlap", "latest",
                 "--out", str(out), "--animate", str(tmp_path / "s1.gif"), "--json")  # fmt: skip
    made = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [m["items"] for m in made] == [2, 2, 2]
    with rasterio.open(made[1]["path"]) as src:
        mosaic = src.read(1)
        assert src.shape == (30, 80)
    assert np.allclose(mosaic[:, :30], 0.02) and np.allclose(mosaic[:, 30:], 0.08)  # east is later: it wins
    with Image.open(tmp_path / "s1.gif") as gif:
        assert gif.n_frames == 3
    result = run(db, "mosaic", "--collections", "sentinel-1-ard", "--window", "12d", "--overlap", "mean",
                 "--out", str(out), "--animate", str(tmp_path / "s1.mp4"), "--json")  # fmt: skip
    made = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    with rasterio.open(made[0]["path"]) as src:
        mosaic = src.read(1)
    assert np.allclose(mosaic[:, 30:50], 0.025) and np.allclose(mosaic[:, :30], 0.01)
    with av.open(str(tmp_path / "s1.mp4")) as video:
        assert sum(1 for _ in video.decode(video=0)) == 3
