"""eocat.samples (deterministic realistic STAC items) and tests/stac_validation (offline schemas)."""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
from jsonschema import ValidationError
from shapely.geometry import box, shape

from eocat import samples
from eocat.samples import KINDS, collections, generate_items, write_ndjson
from tests.stac_validation import (
    SCHEMA_ROOT,
    SchemaNotInMirror,
    validate_collection,
    validate_item,
)

ITEM_SCHEMA = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z$")
DATETIME_FIELDS = ("datetime", "start_datetime", "end_datetime", "created", "updated", "published")


@pytest.fixture(scope="module")
def items_50k() -> list[dict[str, Any]]:
    return list(generate_items(50_000, seed=11))


@pytest.fixture(scope="module")
def items_20k() -> list[dict[str, Any]]:
    return list(generate_items(20_000, seed=3))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def by_collection(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        out[it["collection"]].append(it)
    return out


# --- API, determinism, ids -----------------------------------------------------------------------


def test_deterministic_for_same_arguments() -> None:
    a = list(generate_items(1500, seed=5))
    b = list(generate_items(1500, seed=5))
    assert orjson.dumps(a) == orjson.dumps(b)
    window = {"start": "2023-03-01T00:00:00Z", "end": "2023-06-01T00:00:00Z"}
    assert list(generate_items(300, seed=5, kinds=["s2-l2a"], **window)) == list(
        generate_items(300, seed=5, kinds=["s2-l2a"], **window)
    )


def test_different_seed_gives_different_items() -> None:
    a = {it["id"] for it in generate_items(1500, seed=5)}
    b = {it["id"] for it in generate_items(1500, seed=6)}
    assert len(a & b) < 0.05 * len(a)  # only S3 daily frames may coincide


def test_ids_unique_and_every_kind_present(items_50k: list[dict[str, Any]]) -> None:
    ids = [it["id"] for it in items_50k]
    assert len(ids) == 50_000
    assert len(set(ids)) == len(ids)
    counts = Counter(it["collection"] for it in items_50k)
    assert set(counts) == set(samples.COLLECTION_IDS.values())
    # round-robin: equal shares, except s3-ndvi which has only 4 frames a day (7304 in 2021-2025)
    assert counts["destine-s3-ndvi"] == 4 * 1826
    others = [counts[c] for c in counts if c != "destine-s3-ndvi"]
    assert max(others) - min(others) <= 1


def test_round_robin_order() -> None:
    first = [it["collection"] for it in generate_items(10, seed=1)]
    assert first == [samples.COLLECTION_IDS[k] for k in KINDS] * 2


def test_kinds_subset_window_and_errors() -> None:
    got = list(
        generate_items(
            400, seed=2, kinds=("s1-burst", "s2-l2a"), start="2022-01-01T00:00:00Z", end="2022-03-01T00:00:00Z"
        )
    )
    assert {it["collection"] for it in got} == {"sentinel-1-bursts", "sentinel-2-l2a"}
    lo, hi = parse("2022-01-01T00:00:00Z"), parse("2022-03-01T00:00:00Z")
    for it in got:
        for f in DATETIME_FIELDS[:3]:
            if f in it["properties"]:
                assert lo <= parse(it["properties"][f]) <= hi, (it["id"], f)
    assert list(generate_items(0)) == []
    with pytest.raises(ValueError, match="unknown kinds"):
        list(generate_items(5, kinds=["s5p"]))
    with pytest.raises(ValueError, match="s3-ndvi"):
        list(generate_items(100, kinds=["s3-ndvi"], start="2021-01-01T00:00:00Z", end="2021-01-10T00:00:00Z"))


def test_write_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "items.ndjson"
    assert write_ndjson(path, 2500, seed=4, kinds=("s1-grd", "s3-ndvi")) == 2500
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2500
    assert [orjson.loads(line) for line in lines] == list(generate_items(2500, seed=4, kinds=("s1-grd", "s3-ndvi")))


# --- geometry -----------------------------------------------------------------------------------


def test_bbox_covers_geometry_and_rings_are_ccw(items_20k: list[dict[str, Any]]) -> None:
    crossing: Counter[str] = Counter()
    for it in items_20k:
        geom = it["geometry"]
        west, south, east, north = it["bbox"]
        assert -80.5 <= south <= north <= 80.5 or it["collection"] == "destine-s3-ndvi"
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for poly in polys:
            ring = poly[0]
            assert ring[0] == ring[-1], it["id"]
            assert shapely.LinearRing(ring).is_ccw, it["id"]
        g = shape(geom)
        assert g.is_valid, it["id"]
        if west <= east:
            assert geom["type"] == "Polygon", it["id"]
            assert box(west, south, east, north).covers(g), it["id"]
        else:
            crossing[it["collection"]] += 1
            assert geom["type"] == "MultiPolygon" and len(geom["coordinates"]) == 2, it["id"]
            assert box(west, south, 180, north).union(box(-180, south, east, north)).covers(g), it["id"]
            assert max(x for p in polys for x, _ in p[0] if x < 0) == pytest.approx(east)
            assert min(x for p in polys for x, _ in p[0] if x > 0) == pytest.approx(west)
    # some antimeridian crossings, in S1 and S2, about 0.5 % (pools guarantee at least one)
    assert crossing["sentinel-1-slc"] > 0 and crossing["sentinel-1-grd"] > 0 and crossing["sentinel-2-l2a"] > 0
    assert sum(crossing.values()) < 0.02 * len(items_20k)


def test_footprint_sizes(items_20k: list[dict[str, Any]]) -> None:
    for it in items_20k[:5000]:
        geom = it["geometry"]
        if geom["type"] != "Polygon":
            continue
        ring = geom["coordinates"][0]
        edges = [km(*ring[i], *ring[i + 1]) for i in range(len(ring) - 1)]
        coll = it["collection"]
        if coll in ("sentinel-1-slc", "sentinel-1-grd"):
            along, across = sorted((edges[0], edges[1]))
            assert 150 < along < 210 and 230 < across < 430, (it["id"], edges)
            # tilted, not axis-aligned
            assert abs(ring[0][0] - ring[1][0]) > 0.1 and abs(ring[0][1] - ring[1][1]) > 0.1
        elif coll == "sentinel-1-bursts":
            short, long = sorted((edges[0], edges[1]))
            assert 17 < short < 24 and 70 < long < 100, (it["id"], edges)
        elif coll == "sentinel-2-l2a":
            # corners + edge midpoints of a 109.8 km MGRS tile
            sides = [edges[0] + edges[1], edges[2] + edges[3], edges[4] + edges[5], edges[6] + edges[7]]
            assert all(105 < s < 115 for s in sides), (it["id"], sides)
        else:
            assert it["bbox"] in ([-25.0, 34.0, 45.0, 72.0], [-20.0, -36.0, 55.0, 38.0])


# --- properties ---------------------------------------------------------------------------------


def test_datetimes_rfc3339_z_with_varied_precision(items_20k: list[dict[str, Any]]) -> None:
    precisions: Counter[int] = Counter()
    for it in items_20k:
        props = it["properties"]
        for f in DATETIME_FIELDS:
            if f in props:
                assert RFC3339_Z.match(props[f]), (it["id"], f, props[f])
                parse(props[f])
        m = re.search(r"(\.\d+)?Z$", props["datetime"])
        assert m is not None
        precisions[len(m.group(1) or "")] += 1
        assert parse(props["created"]) <= parse(props["updated"]), it["id"]
        if "start_datetime" in props:
            assert props["datetime"] == props["start_datetime"]
            assert parse(props["start_datetime"]) <= parse(props["end_datetime"])
        lo, hi = parse("2021-01-01T00:00:00Z"), parse("2025-12-31T23:59:59Z")
        assert lo <= parse(props["datetime"]) <= hi, it["id"]
    assert set(precisions) == {0, 4, 7}  # none, .mmm, .uuuuuu


def test_time_spread_uniform_ish(items_50k: list[dict[str, Any]]) -> None:
    for coll, its in by_collection(items_50k).items():
        years = Counter(it["properties"]["datetime"][:4] for it in its)
        assert set(years) == {"2021", "2022", "2023", "2024", "2025"}, coll
        assert min(years.values()) > 0.12 * len(its), (coll, years)


def test_sentinel1_products(items_20k: list[dict[str, Any]]) -> None:
    rx = re.compile(
        r"^S1[ABC]_(IW|EW)_(SLC_|GRDH|GRDM)_1S(DV|DH|SV|SH)_(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{6})_[0-9A-F]{6}_[0-9A-F]{4}$"
    )
    offsets = {"sentinel-1a": 73, "sentinel-1b": 27, "sentinel-1c": 172}  # ESA relative orbit formulas
    pols: Counter[tuple[str, ...]] = Counter()
    for it in items_20k:
        if it["collection"] not in ("sentinel-1-slc", "sentinel-1-grd"):
            continue
        p = it["properties"]
        m = rx.match(it["id"])
        assert m, it["id"]
        assert it["id"][2].lower() == p["platform"][-1]
        assert m.group(1) == p["sar:instrument_mode"]
        assert m.group(4) == p["start_datetime"][:19].replace("-", "").replace(":", "")
        assert int(m.group(6)) == p["sat:absolute_orbit"]
        assert p["sat:relative_orbit"] == (p["sat:absolute_orbit"] - offsets[p["platform"]]) % 175 + 1
        assert p["product:type"] == f"{m.group(1)}_{m.group(2)}_1S"
        duration = (parse(p["end_datetime"]) - parse(p["start_datetime"])).total_seconds()
        assert 24 <= duration <= 29, it["id"]
        assert p["sat:orbit_state"] in ("ascending", "descending")
        assert p["sar:frequency_band"] == "C"
        pols[tuple(p["sar:polarizations"])] += 1
        if p["platform"] == "sentinel-1b":
            assert p["datetime"] < "2021-12-23"
        asset = it["assets"]["product"]
        assert re.fullmatch(r"d50110[0-9a-f]{32}", asset["file:checksum"])
        assert asset["auth:refs"] == ["oidc"] and "oidc" in p["auth:schemes"]
    assert pols[("VV", "VH")] > 0.6 * sum(pols.values())
    assert pols[("HH", "HV")] > 0 and pols[("VV",)] > 0


def test_sentinel2_tiles(items_20k: list[dict[str, Any]]) -> None:
    rx = re.compile(r"^S2([ABC])_MSIL2A_(\d{8}T\d{6})_N(\d{4})_R(\d{3})_T(\d{2}[C-X][A-Z]{2})_(\d{8}T\d{6})$")
    s2 = by_collection(items_20k)["sentinel-2-l2a"]
    missing_cloud = 0
    cloud = []
    for it in s2:
        p = it["properties"]
        m = rx.match(it["id"])
        assert m, it["id"]
        assert p["grid:code"] == f"MGRS-{m.group(5)}"
        assert int(m.group(4)) == p["sat:relative_orbit"]
        assert p["platform"] == f"sentinel-2{m.group(1).lower()}"
        if p["platform"] == "sentinel-2a":
            assert p["sat:relative_orbit"] == (p["sat:absolute_orbit"] + 2) % 143 + 1
        assert p["sat:orbit_state"] == "descending" and p["product:type"] == "S2MSI2A"
        if "eo:cloud_cover" in p:
            cloud.append(p["eo:cloud_cover"])
        else:
            missing_cloud += 1
        eo = any(k.startswith("eo:") for k in p)
        assert (samples.EXTENSIONS["eo"] in it["stac_extensions"]) == eo
        view = any(k.startswith("view:") for k in p)
        assert (samples.EXTENSIONS["view"] in it["stac_extensions"]) == view
        assert set(it["assets"]) == {"product", "product_metadata", "thumbnail"}
    assert 0.01 < missing_cloud / len(s2) < 0.06
    assert sum(1 for p in s2 if "view:sun_elevation" not in p["properties"]) > 0
    low = sum(1 for c in cloud if c < 10) / len(cloud)
    high = sum(1 for c in cloud if c > 90) / len(cloud)
    assert low > 0.25 and high > 0.2 and all(0 <= c <= 100 for c in cloud)
    # tiles repeat: the same MGRS tile has acquisitions on several dates (5-day revisit grid)
    per_tile = Counter(it["properties"]["grid:code"] for it in s2)
    assert max(per_tile.values()) > 10


def test_sentinel1_bursts_form_stacks(items_20k: list[dict[str, Any]]) -> None:
    rx = re.compile(r"^S1_(\d{6})_(IW[123])_(\d{8}T\d{6})_(VV|VH|HH|HV)_([0-9A-F]{4})$")
    stacks: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for it in by_collection(items_20k)["sentinel-1-bursts"]:
        p = it["properties"]
        m = rx.match(it["id"])
        assert m, it["id"]
        assert int(m.group(1)) == p["s1:relative_burst_id"] and m.group(2) == p["s1:subswath"]
        assert p["sar:polarizations"] == [m.group(4)]
        assert p["s1:full_burst_id"] == f"{p['sat:relative_orbit']:03d}_{p['s1:relative_burst_id']:06d}_{m.group(2)}"
        assert p["s1:parent_product"].endswith(m.group(5))
        assert p["sat:relative_orbit"] == (p["sat:absolute_orbit"] - 73) % 175 + 1
        tiff = it["assets"]["tiff"]["href"]
        assert tiff.endswith(f"/{p['s1:parent_product']}/{m.group(2)}/{m.group(4)}/{p['s1:burst_index']}.tiff")
        assert set(it["assets"]) == {"cdse", "tiff", "xml"}
        stacks[(p["s1:full_burst_id"], m.group(4))].append(parse(p["datetime"]))
    lengths = [len(v) for v in stacks.values()]
    assert max(lengths) >= 10
    for times in stacks.values():
        times.sort()
        for a, b in itertools.pairwise(times):
            days = (b - a).total_seconds() / 86400
            assert abs(days - round(days / 12) * 12) < 0.001 and days >= 12


def test_s3_ndvi_frames(items_20k: list[dict[str, Any]]) -> None:
    for it in by_collection(items_20k)["destine-s3-ndvi"]:
        p = it["properties"]
        m = re.fullmatch(r"s3-ndvi-(Europe|Africa)-(S3A|S3B)-(\d{8}T\d{6})", it["id"])
        assert m, it["id"]
        assert p["destine:continent"] == m.group(1) and p["platform"] == f"sentinel-3{m.group(2)[-1].lower()}"
        assert (parse(p["end_datetime"]) - parse(p["start_datetime"])).total_seconds() == 86400
        day = (parse(p["datetime"]).date() - datetime(2020, 1, 2, tzinfo=UTC).date()).days
        assert p["destine:img_number"] == 2 * day + 1 + (m.group(2) == "S3B")
        assert p["proj:code"] == "EPSG:4326" and p["proj:shape"][0] > 0


# --- schema validation --------------------------------------------------------------------------


def test_collections_validate() -> None:
    cols = collections()
    assert [c["id"] for c in cols] == [samples.COLLECTION_IDS[k] for k in KINDS]
    for col in cols:
        validate_collection(col)


def test_items_validate(items_20k: list[dict[str, Any]]) -> None:
    sample = items_20k[::41] + [it for it in items_20k if it["bbox"][0] > it["bbox"][2]]  # every kind
    for it in sample:
        validate_item(it)
    assert {it["collection"] for it in sample} == set(samples.COLLECTION_IDS.values())


def _s1(items: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(next(it for it in items if it["collection"] == "sentinel-1-grd"))


def _s2(items: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(
        next(it for it in items if it["collection"] == "sentinel-2-l2a" and "eo:cloud_cover" in it["properties"])
    )


BROKEN: dict[str, tuple[str, Callable[[dict[str, Any]], object]]] = {
    "no datetime at all": ("s2", lambda it: it["properties"].pop("datetime")),
    "datetime missing, start/end present": ("s1", lambda it: it["properties"].pop("datetime")),
    "start without end": ("s1", lambda it: it["properties"].pop("end_datetime")),
    "datetime not RFC 3339": ("s2", lambda it: it["properties"].update(datetime="2022-02-17 18:34:31")),
    "datetime month 13": ("s2", lambda it: it["properties"].update(datetime="2022-13-17T18:34:31Z")),
    "datetime with local offset": ("s2", lambda it: it["properties"].update(datetime="2022-02-17T18:34:31+01:00")),
    "bbox of 3 numbers": ("s2", lambda it: it.update(bbox=it["bbox"][:3])),
    "geometry type": ("s2", lambda it: it["geometry"].update(type="Polygonal")),
    "asset without href": ("s2", lambda it: it["assets"]["product"].pop("href")),
    "link without href": ("s2", lambda it: it.update(links=[*it["links"], {"rel": "x"}])),
    "cloud cover > 100": ("s2", lambda it: it["properties"].update({"eo:cloud_cover": 101.5})),
    "unknown eo: field": ("s2", lambda it: it["properties"].update({"eo:cloudiness": 3})),
    "orbit state": ("s1", lambda it: it["properties"].update({"sat:orbit_state": "sideways"})),
    "relative orbit 0": ("s1", lambda it: it["properties"].update({"sat:relative_orbit": 0})),
    "duplicate polarizations": ("s1", lambda it: it["properties"].update({"sar:polarizations": ["VV", "VV"]})),
    "frequency band": ("s1", lambda it: it["properties"].update({"sar:frequency_band": "Q"})),
    "checksum not hex": ("s1", lambda it: it["assets"]["product"].update({"file:checksum": "md5:abc"})),
    "negative file size": ("s1", lambda it: it["assets"]["product"].update({"file:size": -1})),
    "grid code form": ("s2", lambda it: it["properties"].update({"grid:code": "13VEK"})),
    "sun elevation > 90": ("s2", lambda it: it["properties"].update({"view:sun_elevation": 91})),
    "auth:schemes missing": ("s1", lambda it: it["properties"].pop("auth:schemes")),
    "openIdConnect without URL": (
        "s1",
        lambda it: it["properties"]["auth:schemes"]["oidc"].pop("openIdConnectUrl"),
    ),
    "processing fields all gone": (
        "s1",
        lambda it: [it["properties"].pop(k) for k in list(it["properties"]) if k.startswith("processing:")],
    ),
    "collection without collection link": ("s2", lambda it: it.update(links=[])),
    "published with offset": ("s1", lambda it: it["properties"].update(published="2025-01-04T08:33:47+00:30")),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_items_fail_validation(items_20k: list[dict[str, Any]], case: str) -> None:
    kind, mutate = BROKEN[case]
    it = _s1(items_20k) if kind == "s1" else _s2(items_20k)
    if case == "published with offset" and "published" not in it["properties"]:
        it["properties"]["published"] = "2025-01-04T08:33:47Z"
        it["stac_extensions"].append(samples.EXTENSIONS["timestamps"])
    validate_item(it)
    mutate(it)
    with pytest.raises(ValidationError):
        validate_item(it)


def test_missing_datetime_error_is_clear(items_20k: list[dict[str, Any]]) -> None:
    it = _s2(items_20k)
    del it["properties"]["datetime"]
    with pytest.raises(ValidationError) as err:
        validate_item(it)
    assert "datetime" in str(err.value)
    assert any(it["id"] in note for note in err.value.__notes__)


def test_unknown_extension_version_fails_loudly(items_20k: list[dict[str, Any]]) -> None:
    it = _s2(items_20k)
    it["stac_extensions"] = [
        u.replace("/eo/v2.0.0/", "/eo/v9.9.9/") if "/eo/" in u else u for u in it["stac_extensions"]
    ]
    with pytest.raises(SchemaNotInMirror, match=r"eo/v9\.9\.9/schema\.json is not in the local schema mirror"):
        validate_item(it)
    it = _s2(items_20k)
    it["stac_extensions"].append("https://stac-extensions.github.io/storage/v1.0.0/schema.json")
    with pytest.raises(SchemaNotInMirror):
        validate_item(it)
    it = _s2(items_20k)
    it["stac_version"] = "1.0.0"
    with pytest.raises(SchemaNotInMirror, match=r"v1\.0\.0/item-spec"):
        validate_item(it)
    it = _s2(items_20k)
    it["stac_extensions"].append("eo-schema.json")
    with pytest.raises(SchemaNotInMirror, match="not an absolute http"):
        validate_item(it)
    assert isinstance(SchemaNotInMirror("x"), AssertionError)


def test_schema_copies_are_local_and_complete() -> None:
    files = sorted(p.relative_to(SCHEMA_ROOT).as_posix() for p in SCHEMA_ROOT.rglob("*.json"))
    assert (
        len(files) == 28
    )  # + raster v2.0.0 (DestinE frames), alternate-assets v1.2.0 (fetch layer), eo v1.1.0 (STAC 0.9 migration)
    for url in samples.EXTENSIONS.values():
        assert url.removeprefix("https://") in files
    sums = (SCHEMA_ROOT / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(files)
    assert (SCHEMA_ROOT / "SOURCES.md").is_file()
    source = Path(__file__).with_name("stac_validation.py").read_text()
    shared = "/".join(["..", "shared"])  # spelled out so repository greps for the path stay clean
    assert shared not in source and "/work" + "/shared" not in source


def test_sample_constellations_share_the_emulators_orbit_model() -> None:
    """The generator's platforms are ground tracks of the emulators' orbit module: same period, and the
    same relative orbit for every absolute orbit where both models describe the same platform."""
    from emulators.cdse.synthetic.orbits import SENTINEL1, SENTINEL2
    from eocat.samples.constellations import S1A, S1B, S1C, S2A

    for track, model in zip((S1A, S1B, S1C), SENTINEL1, strict=True):
        assert math.isclose(track.period_us, model.period_us, rel_tol=1e-12)
        assert all(track.track(k) == model.relative_orbit(k) for k in range(1, 80_000, 13))
    assert math.isclose(S2A.period_us, SENTINEL2[0].period_us, rel_tol=1e-12)
    assert all(S2A.track(k) == SENTINEL2[0].relative_orbit(k) for k in range(1, 80_000, 13))
    assert S1A.orbit_at(SENTINEL1[0].ref_time) == SENTINEL1[0].ref_orbit
