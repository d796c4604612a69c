"""Burst records from CDSE and ASF -> one STAC item shape: recorded fixtures, the shared truth, merging."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from catalog.merge import merge_items
from emulators.asf.records import FIXTURE_FILES, truth_feature
from emulators.cdse.bursts import truth_record
from emulators.s1truth import SyntheticBursts
from indexer.bursts import COLLECTION_ID, MalformedBurst, asf_feature_to_item, cdse_burst_to_item, collection
from indexer.bursts.identity import burst_index_from_offset, burst_item_id, parse_parent
from tests.stac_validation import validate_collection, validate_item

ROOT = Path(__file__).resolve().parents[1]
CDSE_FIXTURES = ROOT / "emulators" / "cdse" / "fixtures"
ASF_FIXTURES = ROOT / "emulators" / "asf" / "fixtures"
CATALOGUE = "http://cdse.test/odata/v1"
EXTRACTOR = "http://asf.test"


def cdse_records() -> list[dict[str, Any]]:
    entity = json.loads((CDSE_FIXTURES / "burst_entity.json").read_text())
    listed = json.loads((CDSE_FIXTURES / "bursts_list_reconstructed.json").read_text())["value"]
    return [entity, *listed]


def asf_features() -> list[dict[str, Any]]:
    out = []
    for name in FIXTURE_FILES:
        product = json.loads((ASF_FIXTURES / name).read_text())
        out.append({"type": "Feature", "geometry": product["geometry"], "properties": product["properties"]})
    out += json.loads((ASF_FIXTURES / "search_slc_burst_reconstructed.geojson").read_text())["features"]
    return out


def normalised(item: dict[str, Any]) -> dict[str, Any]:
    """The item with list orders that depend on the harvest order sorted (providers, extensions)."""
    out = json.loads(json.dumps(item))
    out["stac_extensions"] = sorted(out["stac_extensions"])
    out["properties"]["providers"] = sorted(out["properties"]["providers"], key=lambda p: p["name"])
    return out


@pytest.mark.parametrize("record", cdse_records(), ids=lambda r: r["Name"])
def test_recorded_cdse_burst_maps_to_a_valid_item_matching_the_record(record: dict[str, Any]) -> None:
    item = cdse_burst_to_item(record, catalogue_url=CATALOGUE)
    validate_item(item)
    p = item["properties"]
    parent = record["ParentProductName"].removesuffix(".SAFE")
    azimuth = datetime.fromisoformat(record["AzimuthTime"].replace("Z", "+00:00"))
    assert item["id"] == f"S1_{record['BurstId']:06d}_{record['SwathIdentifier']}_{azimuth:%Y%m%dT%H%M%S}_" \
        f"{record['PolarisationChannels']}_{parent[-4:]}" == "S1_015805_IW1_20240802T060722_VH_E7CC"  # fmt: skip
    assert item["collection"] == COLLECTION_ID and item["geometry"] == record["GeoFootprint"]
    assert p["s1:relative_burst_id"] == record["BurstId"] and p["s1:absolute_burst_id"] == record["AbsoluteBurstId"]
    assert p["s1:full_burst_id"] == f"{record['RelativeOrbitNumber']:03d}_{record['BurstId']:06d}_IW1"
    assert p["s1:subswath"] == record["SwathIdentifier"] and p["sar:polarizations"] == ["VH"]
    assert p["s1:parent_product"] == parent and p["sat:absolute_orbit"] == int(parent.split("_")[7])
    assert p["sat:relative_orbit"] == record["RelativeOrbitNumber"] and p["sat:orbit_state"] == "descending"
    assert p["platform"] == "sentinel-1a" and p["sar:instrument_mode"] == "IW"
    # ByteOffset 138832827 = header + 1 x 1508 lines x 22998 samples x 4 bytes
    assert p["s1:burst_index"] == record["ByteOffset"] // (record["LinesPerBurst"] * record["SamplesPerBurst"] * 4) == 1
    assert p["proj:shape"] == [record["LinesPerBurst"], record["SamplesPerBurst"]]
    assert p["start_datetime"] == record["ContentDate"]["Start"][:19] + ".000000Z" == p["datetime"]
    assert p["end_datetime"] == record["ContentDate"]["End"][:19] + ".000000Z"
    assert p["s1:azimuth_time"] == record["AzimuthTime"] and p["s1:azimuth_anx_time"] == record["AzimuthAnxTime"]
    assert p["cdse:id"] == record["Id"] and p["cdse:parent_product_id"] == record["ParentProductId"]
    asset = item["assets"]["cdse"]
    assert set(item["assets"]) == {"cdse"}
    assert asset["href"] == f"{CATALOGUE}/Bursts({record['Id']})/$value"
    assert asset["eocat:protocol"] == "cdse-burst" and asset["auth:refs"] == ["oidc"]
    assert asset["type"] == "application/zip" and asset["roles"] == ["data"]
    assert set(p["auth:schemes"]) == {"oidc", "earthdata"}


@pytest.mark.parametrize("feature", asf_features(), ids=lambda f: f["properties"]["fileID"])
def test_recorded_asf_burst_maps_to_a_valid_item_matching_the_record(feature: dict[str, Any]) -> None:
    item = asf_feature_to_item(feature, burst_url=EXTRACTOR)
    validate_item(item)
    p, b = item["properties"], feature["properties"]["burst"]
    assert item["id"] == feature["properties"]["fileID"].removesuffix("-BURST")
    assert item["geometry"] == feature["geometry"] and item["collection"] == COLLECTION_ID
    assert p["s1:relative_burst_id"] == b["relativeBurstID"] and p["s1:absolute_burst_id"] == b["absoluteBurstID"]
    assert p["s1:full_burst_id"] == b["fullBurstID"] and p["s1:subswath"] == b["subswath"]
    assert p["s1:burst_index"] == b["burstIndex"] and p["s1:samples_per_burst"] == b["samplesPerBurst"]
    assert p["s1:azimuth_anx_time"] == float(b["azimuthAnxTime"])
    assert p["sat:absolute_orbit"] == feature["properties"]["orbit"]
    assert p["sat:relative_orbit"] == feature["properties"]["pathNumber"]
    assert p["platform"] == feature["properties"]["platform"].lower()
    assert p["s1:byte_length"] == int(feature["properties"]["bytes"])
    assert p["datetime"][:19] == feature["properties"]["startTime"][:19]
    url = feature["properties"]["url"].replace("https://sentinel1-burst.asf.alaska.edu", EXTRACTOR)
    assert item["assets"]["tiff"]["href"] == url
    assert item["assets"]["xml"]["href"] == feature["properties"]["additionalUrls"][0].replace(
        "https://sentinel1-burst.asf.alaska.edu", EXTRACTOR
    )
    for key in ("tiff", "xml"):
        assert item["assets"][key]["eocat:protocol"] == "asf-extractor"
        assert item["assets"][key]["auth:refs"] == ["earthdata"]
    assert item["assets"]["tiff"]["roles"] == ["data"] and item["assets"]["xml"]["roles"] == ["metadata"]
    assert "cdse" not in item["assets"] and "proj:shape" not in p
    precise = "." in b["azimuthTime"]  # 2023-style record: microseconds; current style: whole seconds
    assert ("s1:azimuth_time" in p) == precise and ("sat:anx_datetime" in p) == precise


def test_burst_index_from_the_byte_offset_agrees_with_asf_on_recorded_bursts() -> None:
    for name, index in (
        ("asf_search_product_S1_181296_IW1_20220219T125501_VV_10AF-BURST.json", 0),
        ("asf_search_product_S1_372326_IW3_20180815T151558_VV_6BD3-BURST.json", 5),
    ):
        umm = json.loads((ASF_FIXTURES / name).read_text())["umm"]
        attrs = {a["Name"]: a["Values"][0] for a in umm["AdditionalAttributes"]}
        offset, lines, samples = (int(attrs[k]) for k in ("BYTE_OFFSET", "LINES_PER_BURST", "SAMPLES_PER_BURST"))
        assert burst_index_from_offset(offset, lines, samples) == int(attrs["BURST_INDEX"]) == index
    assert burst_index_from_offset(5, 0, 10) is None


def test_item_id_recipe_and_parent_names() -> None:
    parent = parse_parent("S1B_IW_SLC__1SDV_20180815T151543_20180815T151610_012275_0169E6_6BD3.SAFE")
    assert parent.platform == "sentinel-1b" and parent.absolute_orbit == 12275 and parent.uid == "6BD3"
    assert parent.polarizations == ("VV", "VH")
    moment = datetime(2018, 8, 15, 15, 15, 58, 385550, tzinfo=UTC)
    assert burst_item_id(372326, "IW3", moment, "VV", parent.name) == "S1_372326_IW3_20180815T151558_VV_6BD3"
    with pytest.raises(ValueError, match="not a Sentinel-1 SLC"):
        parse_parent("S1A_IW_GRDH_1SDV_20180815T151543_20180815T151610_012275_0169E6_6BD3")


def test_collection_is_valid_and_documents_the_burst_fields() -> None:
    document = collection()
    validate_collection(document)
    assert document["id"] == COLLECTION_ID and set(document["auth:schemes"]) == {"oidc", "earthdata"}
    for field in ("s1:relative_burst_id", "s1:absolute_burst_id", "s1:full_burst_id", "s1:subswath",
                  "s1:burst_index", "s1:parent_product"):  # fmt: skip
        assert f"`{field}`" in document["description"]
    assert set(document["item_assets"]) == {"cdse", "tiff", "xml"}


TRUTH = SyntheticBursts(seed=3, frames=3, start="2024-01-01T00:00:00Z", end="2024-03-01T00:00:00Z")


def test_the_same_truth_burst_from_either_source_is_one_item_and_merges_idempotently() -> None:
    bursts = [b for b in TRUTH.generate() if b.at_cdse and b.at_asf]
    assert len(bursts) > 500
    for b in bursts[::7]:
        cdse = cdse_burst_to_item(truth_record(b), catalogue_url=CATALOGUE)
        asf = asf_feature_to_item(truth_feature(b), burst_url=EXTRACTOR)
        assert cdse["id"] == asf["id"] == b.item_id
        shared = set(cdse["properties"]) & set(asf["properties"]) - {"providers"}
        assert {"datetime", "s1:full_burst_id", "s1:burst_index", "sat:absolute_orbit", "auth:schemes"} <= shared
        assert {k: cdse["properties"][k] for k in shared} == {k: asf["properties"][k] for k in shared}
        assert cdse["geometry"] == asf["geometry"] and cdse["bbox"] == asf["bbox"] and cdse["links"] == asf["links"]
        one, other = merge_items(cdse, asf), merge_items(asf, cdse)
        assert normalised(one) == normalised(other)
        assert set(one["assets"]) == {"cdse", "tiff", "xml"}
        assert [p["name"] for p in one["properties"]["providers"]] == [
            "ESA", "Copernicus Data Space Ecosystem", "Alaska Satellite Facility"]  # fmt: skip
        for again in (cdse, asf):  # re-harvesting either source changes nothing, byte for byte
            assert orjson.dumps(merge_items(one, again)) == orjson.dumps(one)
            assert orjson.dumps(merge_items(other, again)) == orjson.dumps(other)
        validate_item(one)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r.pop("BurstId"), "missing field 'BurstId'"),
        (lambda r: r.update(ParentProductName="garbage.SAFE"), "not a Sentinel-1 SLC product name"),
        (lambda r: r.update(SwathIdentifier="IW9"), "unexpected value 'IW9'"),
        (lambda r: r.update(GeoFootprint={"type": "Point", "coordinates": [0, 0]}), "not a GeoJSON Polygon"),
        (lambda r: r.update(AzimuthTime="2024-13-45T00:00:00Z"), "month must be in 1..12"),
        (lambda r: r.update(LinesPerBurst="many"), "invalid literal"),
    ],
)
def test_malformed_cdse_records_are_rejected_naming_the_record(change: Any, problem: str) -> None:
    record = cdse_records()[0]
    change(record)
    with pytest.raises(MalformedBurst, match=problem) as caught:
        cdse_burst_to_item(record, catalogue_url=CATALOGUE)
    assert record["Id"] in str(caught.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda p: p.pop("burst"), "missing field 'burst'"),
        (lambda p: p.update(url="https://x/IW1/VV/0.tiff"), "is not <extractor>/<SLC>"),
        (lambda p: p.update(platform="SENTINEL-1B"), "does not match the parent SLC"),
        (lambda p: p["burst"].update(burstIndex=None), "expected an integer"),
        (lambda p: p.update(polarization="XX"), "unexpected value 'XX'"),
    ],
)
def test_malformed_asf_records_are_rejected_naming_the_record(change: Any, problem: str) -> None:
    feature = asf_features()[0]
    change(feature["properties"])
    with pytest.raises(MalformedBurst, match=problem) as caught:
        asf_feature_to_item(feature, burst_url=EXTRACTOR)
    assert feature["properties"]["fileID"] in str(caught.value)


def test_a_footprint_jumping_across_the_antimeridian_is_split() -> None:
    feature = asf_features()[0]
    ring = [[179.6, 50.0], [-179.5, 50.2], [-179.6, 50.4], [179.5, 50.2], [179.6, 50.0]]
    feature["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    item = asf_feature_to_item(feature, burst_url=EXTRACTOR)
    assert item["geometry"]["type"] == "MultiPolygon" and len(item["geometry"]["coordinates"]) == 2
    west, south, east, north = item["bbox"]
    assert west > east and west == pytest.approx(179.5) and east == pytest.approx(-179.5)
    assert south == pytest.approx(50.0) and north == pytest.approx(50.4)
    for polygon in item["geometry"]["coordinates"]:
        xs = [x for x, _ in polygon[0]]
        assert max(xs) - min(xs) < 1.0
    validate_item(item)
    cdse = cdse_records()[0]
    cdse["GeoFootprint"] = {"type": "Polygon", "coordinates": [ring]}
    assert cdse_burst_to_item(cdse, catalogue_url=CATALOGUE)["geometry"] == item["geometry"]
