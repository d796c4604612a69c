"""eocat inventory on a synthetic Sentinel-1 set whose AOI coverages are known exactly.

AOI: lon 10..11, lat 45..46. Footprints span the AOI's whole latitude range and split it by
longitude, so coverage ratios are exact in the equal-area plane: frame W covers lon 9.5..10.25
(25 %), frame E lon 10.25..11.5 (75 %), frame D lon 10.5..12 (50 %).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from catalog.parquet.inventory import compute
from catalog.store import Store
from eocat.cli import main

AOI = {"type": "Polygon", "coordinates": [[[10, 45], [11, 45], [11, 46], [10, 46], [10, 45]]]}


def s1(item_id: str, lon0: float, lon1: float, when: str, state: str, orbit: int, absolute: int,
       pols: list[str]) -> dict[str, Any]:  # fmt: skip
    ring = [[lon0, 44.5], [lon1, 44.5], [lon1, 46.5], [lon0, 46.5], [lon0, 44.5]]
    return {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": item_id,
        "collection": "sentinel-1-slc", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [lon0, 44.5, lon1, 46.5],
        "properties": {"datetime": when, "platform": "sentinel-1a", "sat:orbit_state": state,
                       "sat:relative_orbit": orbit, "sat:absolute_orbit": absolute, "sar:polarizations": pols},
        "links": [], "assets": {},
    }  # fmt: skip


W, E, D = (9.5, 10.25), (10.25, 11.5), (10.5, 12.0)
ITEMS = [
    # ascending 15, VV+VH: two frames of a pass merge to full coverage; one pass only has the western frame
    s1("a1w", *W, "2023-01-03T17:00:00Z", "ascending", 15, 46500, ["VV", "VH"]),
    s1("a1e", *E, "2023-01-03T17:00:25Z", "ascending", 15, 46500, ["VV", "VH"]),
    s1("a2w", *W, "2023-01-15T17:00:00Z", "ascending", 15, 46675, ["VV", "VH"]),
    s1("a3e", *E, "2023-01-27T17:00:25Z", "ascending", 15, 46850, ["VH", "VV"]),
    s1("a3w", *W, "2023-01-27T17:00:00Z", "ascending", 15, 46850, ["VV", "VH"]),
    # descending 66, VV+VH: half the AOI, twice
    s1("d1", *D, "2023-01-05T05:30:00Z", "descending", 66, 46530, ["VV", "VH"]),
    s1("d2", *D, "2023-01-17T05:30:00Z", "descending", 66, 46705, ["VV", "VH"]),
    # ascending 15 single HH: one full pass (one wide frame)
    s1("h1", 9.0, 12.0, "2023-02-08T17:00:00Z", "ascending", 15, 47025, ["HH"]),
    # outside the AOI: must not show up
    s1("far", 20.0, 21.0, "2023-01-03T17:00:00Z", "ascending", 15, 46500, ["VV", "VH"]),
]  # fmt: skip
EXPECTED = {  # (direction, relative orbit, polarizations) -> [(date, coverage)]
    ("ascending", 15, "VV+VH"): [("2023-01-03", 1.0), ("2023-01-15", 0.25), ("2023-01-27", 1.0)],
    ("descending", 66, "VV+VH"): [("2023-01-05", 0.5), ("2023-01-17", 0.5)],
    ("ascending", 15, "HH"): [("2023-02-08", 1.0)],
}


def test_compute_reports_the_known_coverages() -> None:
    result = compute(ITEMS, shapely.geometry.shape(AOI))
    got = {(g.orbit_state, g.relative_orbit, g.polarizations): [(p.date, p.coverage) for p in g.passes]
           for g in result.groups}  # fmt: skip
    assert got.keys() == EXPECTED.keys() | {("ascending", 15, "VV+VH")}
    for key, passes in EXPECTED.items():
        assert [d for d, _ in got[key]] == [d for d, _ in passes]
        assert [c for _, c in got[key]] == pytest.approx([c for _, c in passes], abs=1e-9)
    best = result.best
    assert best is not None and (best.orbit_state, best.relative_orbit, best.polarizations) == (
        "ascending",
        15,
        "VV+VH",
    )
    assert best.full_dates == ["2023-01-03", "2023-01-27"]
    assert best.passes[0].item_ids == ["a1w", "a1e"]  # the two frames of one pass, merged


@pytest.fixture()
def catalogue(tmp_path: Path) -> Path:
    with Store(tmp_path / "cat.db") as store:
        assert store.upsert_items(ITEMS).inserted == len(ITEMS)
    (tmp_path / "aoi.geojson").write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": AOI}))
    return tmp_path


def test_cli_json_plot_and_parquet(catalogue: Path) -> None:
    runner = CliRunner()
    base = ["--db", str(catalogue / "cat.db"), "inventory", "--aoi", str(catalogue / "aoi.geojson"),
            "--collections", "sentinel-1-slc"]  # fmt: skip
    result = runner.invoke(main, [*base, "--format", "json", "--plot", str(catalogue / "inv.png")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["items"] == 8  # "far" does not intersect the AOI
    assert document["best"] == {"orbit_state": "ascending", "relative_orbit": 15, "polarizations": "VV+VH",
                                "full_coverage_dates": 2}  # fmt: skip
    by_key = {(g["orbit_state"], g["relative_orbit"], g["polarizations"]): g for g in document["groups"]}
    for key, passes in EXPECTED.items():
        assert [(a["date"], a["coverage"]) for a in by_key[key]["acquisitions"]] == [
            (d, pytest.approx(c, abs=1e-6)) for d, c in passes]  # fmt: skip
    assert document["aoi"]["area_km2"] == pytest.approx(111.195 * 111.195 * 0.7, rel=0.02)
    png = (catalogue / "inv.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    result = runner.invoke(main, [*base, "--datetime", "2023-01-10T00:00:00Z/2023-01-31T00:00:00Z",
                                  "--format", "parquet", "--out", str(catalogue / "inv.parquet")])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pq.read_table(catalogue / "inv.parquet")
    assert sorted(zip(table.column("date").to_pylist(), table.column("coverage").to_pylist(), strict=True)) == [
        ("2023-01-15", pytest.approx(0.25)),
        ("2023-01-17", pytest.approx(0.5)),
        ("2023-01-27", pytest.approx(1.0)),
    ]
    import geopandas

    frame = geopandas.read_parquet(catalogue / "inv.parquet")
    assert len(frame) == 3 and frame.geometry.notna().all()

    result = runner.invoke(main, base)
    assert result.exit_code == 0 and "ascending" in result.output and "best group" in result.stderr


def test_cli_unknown_collection_is_a_clean_error(catalogue: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(catalogue / "cat.db"), "inventory", "--aoi",
                                       str(catalogue / "aoi.geojson"), "--collections", "nope"])  # fmt: skip
    assert result.exit_code != 0 and "Traceback" not in result.output
