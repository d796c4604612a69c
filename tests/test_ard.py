"""Sentinel-1 GRD → ARD end to end: CDSE emulator GRDs (real SAFE content), DEM emulator, eocat ard/timescan/mosaic.

Truth comes from the emulator's geometry (emulators/cdse/grd), never from sarsen: the incidence angle of
every output pixel, the lon/lat of every point target, the facets that must be in layover or shadow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from pyproj import Transformer

from catalog.store import Store
from emulators.cdse import CdseEmulator
from emulators.cdse.app import Response
from emulators.cdse.grd.geometry import ecef_of
from emulators.cdse.grd.safe import GrdScene
from emulators.dem import DemEmulator
from eocat.cli import main
from tests.stac_validation import validate_item

LON, LAT = 11.0, 46.5
START = datetime(2024, 6, 4, 5, 26, 23, tzinfo=UTC)
UNDULATION = 47.0  # EGM2008 above the ellipsoid here; the DEM emulator serves orthometric heights


def scene(**kw: Any) -> GrdScene:
    return GrdScene(**{"lon": LON, "lat": LAT, "start": START, **kw})


def run(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two GRDs (noise-free, noisy) harvested from the CDSE emulator, a flat DEM at −47 m (EGM2008)."""
    tmp = tmp_path_factory.mktemp("ard")
    clean = scene(noise=0.0, polarizations=("VV",))
    noisy = scene(noise=0.5, polarizations=("VV",), absolute_orbit=50_175,
                  start=START + timedelta(days=12))  # fmt: skip
    mp = pytest.MonkeyPatch()
    with (
        CdseEmulator(include_fixtures=False, grd_scenes=[clean, noisy]) as cdse,
        DemEmulator(height=-UNDULATION) as dem,
    ):
        for key, value in {**cdse.environment(), "CDSE_USERNAME": "alice", "CDSE_PASSWORD": "secret",
                           "EOCAT_TOKEN_CACHE": "0", "EOCAT_DEM_URL": dem.url,
                           "EOCAT_GEOID_UNDULATION": str(UNDULATION)}.items():  # fmt: skip
            mp.setenv(key, value)
        mp.delenv("EOCAT_ASSET_DIR", raising=False)
        db = tmp / "eocat.db"
        run(db, "harvest", "cdse", "--collection", "SENTINEL-1", "--product-type", "IW_GRDH_1S",
            "--bbox", "10.5,46,11.5,47", "--start", "2024-06-01", "--end", "2024-06-30")  # fmt: skip
        out = tmp / "out"
        for measure in ("gamma0_rtc", "beta0_gtc"):
            run(db, "ard", "--collections", "sentinel-1-grd", "--dem", "auto", "--measure", measure,
                "--resolution", "20", "--out", str(out))  # fmt: skip
        yield {"db": db, "out": out, "clean": clean, "noisy": noisy, "cdse": cdse, "dem": dem}
    mp.undo()


def ard_items(db: Path, measure: str) -> dict[str, dict[str, Any]]:
    with Store(db) as store:
        from catalog.search import Query, iter_items

        items = list(iter_items(store, Query(collections=("sentinel-1-ard",))))
    return {i["properties"]["eocat:grd"]: i for i in items if i["properties"]["eocat:measure"] == measure}


def read(item: dict[str, Any]) -> tuple[np.ndarray, Any]:
    with rasterio.open(item["assets"]["backscatter"]["href"].removeprefix("file://")) as src:
        return src.read(1), src


def truth_incidence(grid_item: dict[str, Any], s: GrdScene) -> np.ndarray:
    p = grid_item["properties"]
    height, width = p["proj:shape"]
    t = p["proj:transform"]
    xs = t[2] + (np.arange(width) + 0.5) * t[0]
    ys = t[5] + (np.arange(height) + 0.5) * t[4]
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(p["proj:code"], "EPSG:4326", always_xy=True).transform(gx, gy)
    return s.geometry.incidence(ecef_of(lon, lat))


def interior(values: np.ndarray, margin: int = 4) -> np.ndarray:
    """Valid pixels at least ``margin`` pixels from any no-data pixel (the border is excluded)."""
    ok = np.isfinite(values)
    for _ in range(margin):
        ok[1:, :] &= ok[:-1, :].copy()
        ok[:-1, :] &= ok[1:, :].copy()
        ok[:, 1:] &= ok[:, :-1].copy()
        ok[:, :-1] &= ok[:, 1:].copy()
    return ok


def grd_id(world: Any, s: GrdScene) -> str:
    return s.stem


def test_output_grid_is_the_dem_grid(world: Any) -> None:
    item = ard_items(world["db"], "gamma0_rtc")[grd_id(world, world["clean"])]
    dem = next((world["out"] / ".dem").glob("dem_*.tif"))
    with rasterio.open(dem) as d, rasterio.open(item["assets"]["backscatter"]["href"].removeprefix("file://")) as o:
        assert o.crs == d.crs and o.crs.to_epsg() == 32632
        assert o.transform == d.transform and o.shape == d.shape
        assert o.dtypes == ("float32",)
        assert o.overviews(1) or max(o.shape) <= 512  # COG layout (small outputs have no overviews)
    served = world["dem"].app.served  # the two tiles under the footprint, each fetched once
    assert sorted(served) == [f"Copernicus_DSM_COG_10_N46_00_E0{lon}_00_DEM" for lon in (10, 11)]


def test_beta0_median_matches_truth(world: Any) -> None:
    s = world["clean"]
    item = ard_items(world["db"], "beta0_gtc")[grd_id(world, s)]
    values, _ = read(item)
    truth = s.sigma0 / np.sin(np.radians(truth_incidence(item, s)))
    ok = interior(values)
    assert ok.sum() > 20_000
    ratio = np.median(values[ok] / truth[ok])
    assert abs(ratio - 1) < 0.001, ratio


def test_flat_gamma0_is_beta0_tan_theta(world: Any) -> None:
    s = world["clean"]
    gamma = read(ard_items(world["db"], "gamma0_rtc")[grd_id(world, s)])[0]
    beta = read(ard_items(world["db"], "beta0_gtc")[grd_id(world, s)])[0]
    inc = truth_incidence(ard_items(world["db"], "beta0_gtc")[grd_id(world, s)], s)
    ok = interior(gamma) & interior(beta)
    ratio = np.median(gamma[ok] / (beta[ok] * np.tan(np.radians(inc[ok]))))
    assert abs(ratio - 1) < 0.01, ratio


def test_noise_removal_restores_the_background(world: Any) -> None:
    s = world["noisy"]
    item = ard_items(world["db"], "beta0_gtc")[grd_id(world, s)]
    values, _ = read(item)
    truth = s.sigma0 / np.sin(np.radians(truth_incidence(item, s)))
    ok = interior(values)
    error_db = 10 * np.log10(np.median(values[ok] / truth[ok]))
    assert abs(error_db) < 0.1, error_db
    # and the noise really is there: without removal the background is more than 1 dB too bright
    assert item["properties"]["processing:lineage"].count("noise removed") == 1


def test_point_targets_within_one_pixel(world: Any) -> None:
    s = world["clean"]
    item = ard_items(world["db"], "beta0_gtc")[grd_id(world, s)]
    values, src = read(item)
    to = Transformer.from_crs("EPSG:4326", item["properties"]["proj:code"], always_xy=True)
    for lon, lat in s.target_lonlat():
        x, y = to.transform(lon, lat)
        row, col = src.index(x, y)
        window = np.nan_to_num(values[row - 6 : row + 7, col - 6 : col + 7], nan=0.0)
        assert window.max() > 20 * np.nanmedian(values)  # the target is there, bright
        excess = np.clip(window - 2 * np.nanmedian(values), 0, None)
        rows, cols = np.mgrid[-6:7, -6:7]
        centroid = (float((excess * rows).sum() / excess.sum()), float((excess * cols).sum() / excess.sum()))
        assert np.hypot(*centroid) <= 1.0, (lon, lat, centroid)


def test_items_validate_and_are_searchable(world: Any) -> None:
    items = ard_items(world["db"], "gamma0_rtc")
    assert set(items) == {world["clean"].stem, world["noisy"].stem}
    for item in items.values():
        validate_item(item)
        assert item["properties"]["processing:software"]["sarsen"] == "0.9.6"
        assert any(link["rel"] == "derived_from" and link["title"] == item["properties"]["eocat:grd"]
                   for link in item["links"])  # fmt: skip
        assert item["properties"]["sat:relative_orbit"] == 117
    result = run(world["db"], "search", "--collections", "sentinel-1-ard", "--format", "ndjson", "--fields", "id",
                 "--filter", "\"eocat:measure\" = 'gamma0_rtc'")  # fmt: skip
    found = {json.loads(line)["id"] for line in result.output.splitlines() if line.strip()}
    assert found == {i["id"] for i in items.values()}


def test_rerun_skips_verified_outputs_and_redoes_corrupt_ones(world: Any) -> None:
    item = ard_items(world["db"], "beta0_gtc")[world["clean"].stem]
    path = Path(item["assets"]["backscatter"]["href"].removeprefix("file://"))
    result = run(world["db"], "ard", world["clean"].stem, "--dem", "auto", "--measure", "beta0_gtc",
                 "--out", str(world["out"]))  # fmt: skip
    assert "skipped" in result.output and "1 made" not in result.output
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    result = run(world["db"], "ard", world["clean"].stem, "--dem", "auto", "--measure", "beta0_gtc",
                 "--out", str(world["out"]))  # fmt: skip
    assert "1 made" in result.output
    assert ard_items(world["db"], "beta0_gtc")[world["clean"].stem]["assets"]["backscatter"]["file:checksum"] != (
        "d50110"
    )


def test_without_noise_removal_the_background_is_too_bright(world: Any) -> None:
    from processing.ard import terrain_correct

    s = world["noisy"]
    safe = world["out"] / ".safe" / s.name
    dem = next((world["out"] / ".dem").glob("dem_*.tif"))
    kept = terrain_correct(safe, "VV", dem, "beta0_gtc", remove_noise=False, mask=False).values
    item = ard_items(world["db"], "beta0_gtc")[s.stem]
    truth = s.sigma0 / np.sin(np.radians(truth_incidence(item, s)))
    ok = interior(kept)
    assert 10 * np.log10(np.median(kept[ok] / truth[ok])) > 1.0  # 0.5 × background of noise: ≈ +1.6 dB


def test_hill_layover_and_shadow_masked_where_geometry_says(world: Any, tmp_path: Path) -> None:
    """A steep Gaussian hill: facets facing the sensor steeper than the incidence are layover, facets
    facing away with local incidence ≥ 90° are shadow (truth: analytic slopes + the emulator's orbit)."""
    from processing.ard import LAYOVER, SHADOW, terrain_correct
    from processing.dem import grid_for, write_dem

    s = world["clean"]
    grid = grid_for(s.corners(), "utm", 20.0)
    xs, ys = grid.xy()
    cx, cy = float(xs.mean()), float(ys.mean())
    height, sigma = 1500.0, 400.0
    r2 = ((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)
    h = height * np.exp(-r2)
    dem = write_dem(tmp_path / "hill.tif", h, grid)
    result = terrain_correct(world["out"] / ".safe" / s.name, "VV", dem, "gamma0_rtc")
    # truth: ENU normal from the analytic gradient, look vector to the satellite at zero Doppler
    dhdx, dhdy = -h * (xs - cx) / sigma**2, -h * (ys - cy) / sigma**2
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    p = ecef_of(lon, lat, h)
    sat = s.geometry.orbit.position(s.geometry.orbit.zero_doppler_time(p))
    lo, la = np.radians(lon), np.radians(lat)
    east = np.stack([-np.sin(lo), np.cos(lo), np.zeros_like(lo)], -1)
    north = np.stack([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)], -1)
    up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    normal = -dhdx[..., None] * east - dhdy[..., None] * north + up[...]
    look = sat - p
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    shadow = np.sum(normal * look, -1) < 0
    # layover: stepping away from the sensor along the ground brings the surface closer to it
    away = -(look - np.sum(look * up, -1, keepdims=True) * up)
    away /= np.linalg.norm(away, axis=-1, keepdims=True)
    ax, ay = np.sum(away * east, -1), np.sum(away * north, -1)
    step = 5.0
    hn = height * np.exp(-(((xs + ax * step) - cx) ** 2 + ((ys + ay * step) - cy) ** 2) / (2 * sigma**2))
    further = p + away * step + up * (hn - h)[..., None]
    layover = np.linalg.norm(sat - further, axis=-1) < np.linalg.norm(sat - p, axis=-1)
    core = interior(np.where(layover, 1.0, np.nan), 1)
    assert core.sum() > 50 and (result.mask[core] == LAYOVER).mean() > 0.95
    core = interior(np.where(shadow, 1.0, np.nan), 1)
    assert core.sum() > 50 and (result.mask[core] == SHADOW).mean() > 0.95
    assert np.isnan(result.values[result.mask > 0]).all()
    flat = r2 > 4.5  # beyond 3 sigma the ground is flat: nothing masked
    assert (result.mask[flat] == 0).mean() > 0.999


def test_whole_product_zip_when_the_item_has_no_nodes(world: Any, tmp_path: Path) -> None:
    from catalog.search import Query, iter_items
    from processing.run import fetch_safe

    with Store(world["db"]) as store:
        item = next(iter_items(store, Query(collections=("sentinel-1-grd",), ids=(world["clean"].stem,))))
        item["assets"].pop("nodes")
        root = fetch_safe(store, item, ("VV",), tmp_path)
    assert root.name == world["clean"].name
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    from emulators.cdse.grd.safe import render_safe

    expected = render_safe(world["clean"]).files
    assert files == set(expected)
    assert (root / "manifest.safe").read_bytes() == expected["manifest.safe"]


def test_bad_requests_exit_2(world: Any) -> None:
    for args in (["ard"], ["ard", "--collections", "sentinel-1-grd", "--crs", "mercator"],
                 ["mosaic", "--window", "soon"], ["ard", "--ids", "nope"]):  # fmt: skip
        result = CliRunner().invoke(main, ["--db", str(world["db"]), *args])
        assert result.exit_code == 2, (args, result.output)


def test_product_zips_and_node_trees_cannot_write_outside_the_work_directory(tmp_path: Path) -> None:
    import zipfile

    from catalog.errors import EocatError
    from processing.run import _needed, extract_safe

    for bad in ("../evil.SAFE/manifest.safe", "S1A.SAFE/../../evil.txt", "S1A.SAFE/annotation/../../../x"):
        archive = tmp_path / "p.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("S1A.SAFE/manifest.safe", b"ok")
            zf.writestr(bad, b"evil")
        with pytest.raises(EocatError, match="unsafe path"):
            extract_safe(archive, tmp_path / "work", "item")
    assert not (tmp_path / "evil.SAFE").exists() and not (tmp_path / "evil.txt").exists()
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("S1A.SAFE/manifest.safe", b"ok")
    assert (extract_safe(good, tmp_path / "work", "item") / "manifest.safe").read_bytes() == b"ok"
    listed = ["manifest.safe", "annotation/s1a-iw-grd-vv-1.xml", "annotation/../../s1a-iw-grd-vv-2.xml",
              "measurement/..", "measurement/s1a-iw-grd-vh-1.tiff"]  # fmt: skip
    assert _needed(listed, ("VV",)) == ["manifest.safe", "annotation/s1a-iw-grd-vv-1.xml"]


def test_auto_dem_treats_missing_tiles_as_sea_but_stops_on_other_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.errors import EocatError
    from processing.dem import auto_dem, grid_for

    footprint = [(10.8, 46.2), (11.2, 46.2), (11.2, 46.8), (10.8, 46.8), (10.8, 46.2)]  # tiles E010 and E011
    grid = grid_for(footprint, "utm", 200.0)
    monkeypatch.setenv("EOCAT_GEOID_UNDULATION", "0")
    with Store(tmp_path / "eocat.db") as store, DemEmulator(height=500.0, land=lambda lat, lon: lon == 11) as dem:
        monkeypatch.setenv("EOCAT_DEM_URL", dem.url)
        path, note = auto_dem(footprint, grid, tmp_path / "dem", store)
        with rasterio.open(path) as src:
            heights = src.read(1)
    assert "N46_00_E010_00" in note and "N46_00_E011_00" in note
    assert set(np.unique(heights)) <= {0.0, 500.0} and {0.0, 500.0} <= set(np.unique(heights))
    with Store(tmp_path / "eocat.db") as store, DemEmulator() as dem:
        monkeypatch.setenv("EOCAT_DEM_URL", dem.url)
        dem.app.handle = lambda *request: Response(400, b"bad request", {})  # type: ignore[method-assign]
        with pytest.raises(EocatError, match=r"DEM tile .*HTTP 400"):
            auto_dem(footprint, grid, tmp_path / "dem2", store)
