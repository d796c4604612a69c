"""CDSE OData -> STAC mapping (indexer.cdse): every recorded fixture record, field by field against its source.

Expectations are written here independently of ``indexer/cdse/mapping.json`` (the rule for each field is
restated from reference/cdse.md section 11 and CDSE's own STAC items), so a wrong table entry fails.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from indexer.cdse import MalformedRecord, collection_id, collection_ids, collections, product_to_item
from tests.stac_validation import validate_collection, validate_item

FIXTURES = Path(__file__).resolve().parents[1] / "emulators" / "cdse" / "fixtures"
DOWNLOAD = "http://127.0.0.1:9/odata/v1"
CATALOGUE = "http://127.0.0.1:8/odata/v1"
OIDC = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/.well-known/openid-configuration"

EXT = {
    name: f"https://stac-extensions.github.io/{path}/schema.json"
    for name, path in {
        "authentication": "authentication/v1.1.0",
        "eo": "eo/v2.0.0",
        "file": "file/v2.1.0",
        "grid": "grid/v1.1.0",
        "processing": "processing/v1.2.0",
        "product": "product/v1.0.0",
        "proj": "projection/v2.0.0",
        "sar": "sar/v1.3.0",
        "sat": "sat/v1.1.0",
        "timestamps": "timestamps/v1.1.0",
        "view": "view/v1.1.0",
    }.items()
}
PREFIX_EXT = {
    "auth": "authentication",
    "eo": "eo",
    "file": "file",
    "grid": "grid",
    "processing": "processing",
    "product": "product",
    "proj": "proj",
    "sar": "sar",
    "sat": "sat",
    "view": "view",
}


def load(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def entity(name: str) -> dict[str, Any]:
    """A single-entity response (fields at the top level) as a plain record."""
    record = load(name)
    record.pop("@odata.context", None)
    return record


def values(name: str) -> list[dict[str, Any]]:
    return load(name)["value"]


def aux_records() -> list[dict[str, Any]]:
    return [r for page in range(1, 6) for r in values(f"products_s1_aux_paging/page_{page}.json")]


def reference(prefix: str) -> dict[str, Any]:
    (path,) = (FIXTURES / "stac_reference").glob(f"{prefix}*.json")
    return orjson.loads(path.read_bytes())


def to_item(record: dict[str, Any]) -> dict[str, Any]:
    return product_to_item(record, download_url=DOWNLOAD, catalogue_url=CATALOGUE)


def attrs(record: dict[str, Any]) -> dict[str, Any]:
    return {a["Name"]: a["Value"] for a in record.get("Attributes", [])}


def canonical(text: str) -> str:
    """Independent canonical RFC 3339 form: UTC, 6 fractional digits, Z."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


GRD = "product_s1_grd_entity_expand_attributes.json"
GRD_PRE = "product_s1_grd_entity_expand_attributes_pre2024-09.json"
SLC_LEGACY = "products_s1_slc_legacy_expand_attributes_locations_assets.json"
S2_L1C = "products_s2_l1c_expand_attributes_assets.json"
S2_L2A = "product_s2_l2a_reconstructed.json"


def all_fixture_records() -> list[tuple[str, dict[str, Any]]]:
    out = [(GRD, entity(GRD)), (GRD_PRE, entity(GRD_PRE))]
    out += [(SLC_LEGACY, r) for r in values(SLC_LEGACY)]
    out += [(f"{S2_L1C}[{i}]", r) for i, r in enumerate(values(S2_L1C))]
    out += [(S2_L2A, r) for r in values(S2_L2A)]
    out += [(f"aux:{r['Name']}", r) for r in aux_records()]
    return out


ALL = all_fixture_records()


# --------------------------------------------------------------------------------------------------
# generic field-by-field check against the source record


def check_common(item: dict[str, Any], record: dict[str, Any]) -> None:
    """Fields every mapped product has, each recomputed from the record."""
    a = attrs(record)
    p = item["properties"]
    name = record["Name"]
    stem = re.sub(r"\.(SAFE|SEN3|nc|EOF)$", "", name)
    assert item["id"] == stem
    assert item["type"] == "Feature" and item["stac_version"] == "1.1.0"
    # dates
    assert p["datetime"] == p["start_datetime"] == canonical(record["ContentDate"]["Start"])
    assert p["end_datetime"] == canonical(record["ContentDate"]["End"])
    assert p["created"] == canonical(record["OriginDate"]) == p["eopf:origin_datetime"]
    assert p["published"] == canonical(record["PublicationDate"])
    assert p["updated"] == canonical(record["ModificationDate"])
    if record["EvictionDate"]:
        assert p["expires"] == canonical(record["EvictionDate"])
    else:
        assert "expires" not in p
    # identity
    assert p["cdse:id"] == record["Id"]
    assert p["cdse:online"] is record["Online"]
    assert p["cdse:s3_path"] == record["S3Path"]
    # platform
    assert p["constellation"] == a["platformShortName"].lower()
    assert p["instruments"] == [a["instrumentShortName"].lower()]
    serial = a["platformSerialIdentifier"]
    if serial.isalpha():
        assert p["platform"] == a["platformShortName"].lower() + serial.lower()
    else:
        assert "platform" not in p
    designators = {
        ("SENTINEL-1", "A"): "2014-016A",
        ("SENTINEL-1", "B"): "2016-025A",
        ("SENTINEL-2", "A"): "2015-028A",
        ("SENTINEL-2", "B"): "2017-013A",
    }
    assert p.get("sat:platform_international_designator") == designators.get((a["platformShortName"], serial))
    # product and processing
    assert p["product:type"] == a["productType"]
    for attribute, field in [
        ("orbitNumber", "sat:absolute_orbit"),
        ("relativeOrbitNumber", "sat:relative_orbit"),
        ("cycleNumber", "sat:orbit_cycle"),
        ("instrumentConfigurationID", "eopf:instrument_configuration_id"),
    ]:
        assert p.get(field) == a.get(attribute), field
    if "orbitDirection" in a:
        assert p["sat:orbit_state"] == a["orbitDirection"].lower()
    else:
        assert "sat:orbit_state" not in p
    if "processingDate" in a:
        assert p["processing:datetime"] == canonical(a["processingDate"])
    facility = a.get("processingCenter", a.get("origin"))
    assert p.get("processing:facility") == facility
    if "processorName" in a:
        assert p["processing:software"] == {a["processorName"]: a["processorVersion"]}
    else:
        assert "processing:software" not in p
    # auth
    assert p["auth:schemes"] == {
        "oidc": {
            "type": "openIdConnect",
            "description": p["auth:schemes"]["oidc"]["description"],
            "openIdConnectUrl": OIDC,
        }
    }
    # assets
    product = item["assets"]["product"]
    assert product["href"] == f"{DOWNLOAD}/Products({record['Id']})/$value"
    assert product["type"] == "application/zip"
    assert product["roles"] == ["data", "metadata", "archive"]
    assert product["auth:refs"] == ["oidc"]
    assert product["file:local_path"] == name + ".zip"
    if record["ContentLength"]:
        assert product["file:size"] == record["ContentLength"]
    else:
        assert "file:size" not in product
    md5 = [c["Value"] for c in record["Checksum"] if c["Algorithm"] == "MD5"]
    blake3 = [c["Value"] for c in record["Checksum"] if c["Algorithm"] == "BLAKE3"]
    if md5:
        assert product["file:checksum"] == "d50110" + md5[0]
    elif blake3:
        assert product["file:checksum"] == "1e20" + blake3[0]
    else:
        assert "file:checksum" not in product
    nodes = item["assets"]["nodes"]
    assert nodes["href"] == f"{DOWNLOAD}/Products({record['Id']})/Nodes"
    assert nodes["type"] == "application/json" and nodes["roles"] == ["metadata"]
    quicklooks = [x for x in record.get("Assets", []) if x["Type"] == "QUICKLOOK"]
    if quicklooks:
        assert item["assets"]["thumbnail"]["href"] == quicklooks[0]["DownloadLink"]
        assert "thumbnail" in item["assets"]["thumbnail"]["roles"]
    else:
        assert "thumbnail" not in item["assets"]
    # links
    rels = {link["rel"]: link for link in item["links"]}
    assert rels["via"]["href"] == f"{CATALOGUE}/Products({record['Id']})"
    assert rels["collection"]["href"] == "../collection.json"
    assert rels["collection"]["title"] == item["collection"]
    # geometry: the GeoFootprint as is (none of the fixtures crosses the antimeridian)
    assert item["geometry"] == record["GeoFootprint"]
    if record["GeoFootprint"] is None:
        assert "bbox" not in item
    else:
        rings = record["GeoFootprint"]["coordinates"]
        points = [pt for ring in (rings if record["GeoFootprint"]["type"] == "Polygon" else rings[0]) for pt in ring]
        xs = [pt[0] for pt in points]
        ys = [pt[1] for pt in points]
        assert item["bbox"] == [min(xs), min(ys), max(xs), max(ys)]
    check_extensions(item)
    validate_item(item)
    assert collection_id(record) == item["collection"]


def check_extensions(item: dict[str, Any]) -> None:
    """``stac_extensions`` lists exactly the extensions whose fields the item uses."""
    used = set()
    for key in item["properties"]:
        if key in ("published", "expires", "unpublished"):
            used.add("timestamps")
        elif ":" in key and key.split(":")[0] in PREFIX_EXT:
            used.add(PREFIX_EXT[key.split(":")[0]])
    for asset in item["assets"].values():
        for key in asset:
            if key == "expires":
                used.add("timestamps")
            elif ":" in key and key.split(":")[0] in PREFIX_EXT:
                used.add(PREFIX_EXT[key.split(":")[0]])
    assert item["stac_extensions"] == sorted(EXT[name] for name in used)


def check_s1(item: dict[str, Any], record: dict[str, Any]) -> None:
    a = attrs(record)
    p = item["properties"]
    assert p["sar:instrument_mode"] == a["operationalMode"]
    assert p["sar:polarizations"] == a["polarisationChannels"].split("&")
    swaths = a["swathIdentifier"].split()
    expected_beams = {"IW": ["iw1", "iw2", "iw3"], "EW": [f"ew{i}" for i in range(1, 6)]}.get(
        a["swathIdentifier"], [s.lower() for s in swaths]
    )
    assert p["sar:beam_ids"] == expected_beams
    assert p["sar:frequency_band"] == "C"
    assert p["sar:center_frequency"] == 5.405
    assert p["sar:observation_direction"] == "right"
    assert p["processing:level"] == {"LEVEL1": "L1"}[a["processingLevel"]]
    if "datatakeID" in a:
        assert p["eopf:datatake_id"] == str(a["datatakeID"])
    if "timeliness" in a:
        assert p["product:timeliness_category"] == a["timeliness"]
        assert p["product:timeliness"] == {"Fast-24h": "PT24H", "NRT-3h": "PT3H"}[a["timeliness"]]
    if "processorVersion" in a:
        major, minor = a["processorVersion"].split(".")
        assert p["processing:version"] == f"{int(major):02d}.{minor}"
    if "startTimeFromAscendingNode" in a:
        start = datetime.fromisoformat(p["start_datetime"])
        anx = start - timedelta(milliseconds=a["startTimeFromAscendingNode"])
        assert p["sat:anx_datetime"] == anx.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert p.get("s1:slice_number") == a.get("sliceNumber")
    assert p.get("s1:total_slices") == a.get("totalSlices")


def check_s2(item: dict[str, Any], record: dict[str, Any]) -> None:
    a = attrs(record)
    p = item["properties"]
    tile = a["tileId"]
    assert p["grid:code"] == f"MGRS-{tile}"
    zone, band = int(tile[:2]), tile[2]
    assert p["proj:code"] == f"EPSG:{(32600 if band >= 'N' else 32700) + zone}"
    assert p["eo:cloud_cover"] == a["cloudCover"]
    assert p["eopf:datastrip_id"] == a["datastripId"]
    assert p["eopf:datatake_id"] == a["productGroupId"]
    assert p["eopf:instrument_mode"] == a["operationalMode"]
    assert p["processing:level"] == {"S2MSI1C": "L1", "S2MSI2A": "L2"}[a["processingLevel"]]
    assert p["processing:version"] == a["processorVersion"]
    assert p["gsd"] == 10
    assert item["collection"] == {"S2MSI1C": "sentinel-2-l1c", "S2MSI2A": "sentinel-2-l2a"}[a["productType"]]
    assert item["assets"]["thumbnail"]["type"] == "image/jpeg"
    assert item["assets"]["thumbnail"]["roles"] == ["thumbnail", "overview"]
    for field in ("sar:instrument_mode", "sat:orbit_state", "product:timeliness"):
        assert field not in p


# --------------------------------------------------------------------------------------------------
# the recorded fixtures


@pytest.mark.parametrize(("label", "record"), ALL, ids=[label for label, _ in ALL])
def test_every_fixture_record_maps_field_by_field(label: str, record: dict[str, Any]) -> None:
    item = to_item(record)
    check_common(item, record)
    platform = attrs(record)["platformShortName"]
    if platform == "SENTINEL-1" and not attrs(record)["productType"].startswith("AUX_"):
        check_s1(item, record)
    if platform == "SENTINEL-2":
        check_s2(item, record)


def test_s1_grd_literal_values() -> None:
    item = to_item(entity(GRD))
    p = item["properties"]
    assert item["id"] == "S1A_IW_GRDH_1SDV_20240604T110100_20240604T110131_054172_069690_E33E"
    assert item["collection"] == "sentinel-1-grd"
    assert p["datetime"] == "2024-06-04T11:01:00.494767Z"
    assert p["end_datetime"] == "2024-06-04T11:01:31.089640Z"
    assert p["processing:datetime"] == "2024-06-04T12:03:49.113620Z"  # from "+00:00"
    assert p["sat:anx_datetime"] == "2024-06-04T09:30:40.916767Z"
    assert p["platform"] == "sentinel-1a"
    assert p["sar:polarizations"] == ["VV", "VH"]
    assert p["sar:beam_ids"] == ["iw1", "iw2", "iw3"]
    assert p["processing:version"] == "03.71"
    assert p["processing:software"] == {"Sentinel-1 IPF": "003.71"}
    assert p["processing:facility"] == "Production Service-SERCO"
    assert p["eopf:datatake_id"] == "431760"
    assert (p["sar:resolution_range"], p["sar:resolution_azimuth"]) == (20, 22)
    assert "expires" not in p  # EvictionDate ""
    assert item["assets"]["product"]["file:checksum"] == "d501104eec48737ecab7aab2bf590a8dec23b1"
    assert item["assets"]["product"]["file:size"] == 2121095339
    assert item["bbox"] == [113.080147, -29.713636, 116.147186, -27.285719]


def _to_milliseconds(value: Any) -> Any:
    """Round every canonical datetime to milliseconds (the pre-2024-09 precision), recursively."""
    if isinstance(value, dict):
        return {k: _to_milliseconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_milliseconds(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", value):
        parsed = datetime.fromisoformat(value)
        rounded = parsed + timedelta(microseconds=500)
        return rounded.replace(microsecond=rounded.microsecond // 1000 * 1000).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def test_s1_grd_current_and_pre_2024_09_formats_map_to_the_same_item() -> None:
    current = to_item(entity(GRD))
    previous = to_item(entity(GRD_PRE))
    assert previous["properties"]["datetime"] == "2024-06-04T11:01:00.495000Z"  # 3 digits -> 6
    assert current != previous
    assert _to_milliseconds(current) == _to_milliseconds(previous)


def test_legacy_slc_multipolygon_and_quirks() -> None:
    (record,) = values(SLC_LEGACY)
    item = to_item(record)
    p = item["properties"]
    assert item["collection"] == "sentinel-1-slc"
    assert item["geometry"]["type"] == "MultiPolygon"
    assert item["bbox"] == [-81.230759, -3.315278, -78.661591, -1.204264]
    assert p["sar:beam_ids"] == ["iw1", "iw2", "iw3"]  # "IW1 IW2 IW3"
    assert p["sar:polarizations"] == ["VV"]
    assert p["expires"] == "9999-12-31T23:59:59.999000Z"
    assert "file:size" not in item["assets"]["product"]  # ContentLength 0
    assert "file:checksum" not in item["assets"]["product"]  # Checksum []
    assert "thumbnail" not in item["assets"]  # Assets []
    assert "compressed" not in item["assets"]  # only an Extracted location
    for absent in ("sat:orbit_cycle", "processing:facility", "eopf:datatake_id", "product:timeliness"):
        assert absent not in p
    assert (p["sar:resolution_range"], p["sar:resolution_azimuth"]) == (5, 20)
    # spatialResolution "2.3" typed Integer is a known legacy quirk: tolerated, not mapped
    assert any(a["Name"] == "spatialResolution" and a["Value"] == "2.3" for a in record["Attributes"])


def test_s2_l1c_literal_values() -> None:
    first, second = (to_item(r) for r in values(S2_L1C))
    assert first["id"] == "S2A_MSIL1C_20200808T010311_N0500_R045_T54PXA_20230413T212505"
    assert first["properties"]["grid:code"] == "MGRS-54PXA"
    assert first["properties"]["proj:code"] == "EPSG:32654"
    assert first["properties"]["eo:cloud_cover"] == 95.136736479015  # as published, not rounded
    assert second["properties"]["proj:code"] == "EPSG:32655"
    assert first["properties"]["processing:facility"] == "ESA"  # origin, no processingCenter
    assert first["properties"]["processing:level"] == "L1"
    assert first["assets"]["thumbnail"]["href"].endswith("Assets(385d0a62-ec57-413b-a8b8-12c0e79848f6)/$value")


def test_aux_pages() -> None:
    records = aux_records()
    assert len(records) == 47  # @odata.count of page 1
    items = [to_item(r) for r in records]
    assert len({i["id"] for i in items}) == 47
    for record, item in zip(records, items, strict=True):
        assert item["collection"] == "cdse-sentinel-1-aux"
        assert item["geometry"] is None and "bbox" not in item
        name = record["Name"]
        if name.endswith(".EOF"):
            assert item["id"] == name[:-4]
        elif name.endswith(".SAFE"):
            assert item["id"] == name[:-5]
        else:
            assert item["id"] == name  # AUX_GNSSRD / AUX_PROQUA: no extension
    scs = next(i for i in items if i["id"].startswith("S1__AUX_SCS"))
    assert "platform" not in scs["properties"]  # platformSerialIdentifier "_": both units
    assert "sat:platform_international_designator" not in scs["properties"]


# --------------------------------------------------------------------------------------------------
# CDSE's own STAC items


# Differences from CDSE's STAC item for the same S2 L2A product, kept on purpose (value: why).
L2A_DELIBERATE_DIFFERENCES = {
    "auth:schemes": "oidc only (with a description); no s3 scheme: eocat assets are HTTPS only",
    "storage:schemes": "no S3 assets, so no storage extension",
    "eo:snow_cover": "not in the OData record (from the MTD XML)",
    "statistics": "not in the OData record (from the MTD XML)",
    "view:azimuth": "not in the OData record (from the MTD XML)",
    "view:incidence_angle": "not in the OData record (from the MTD XML)",
    "view:sun_azimuth": "not in the OData record (from the MTD XML)",
    "view:sun_elevation": "not in the OData record (illuminationZenithAngle absent)",
    "sat:orbit_state": "S2 OData records have no orbitDirection; not guessed",
    "product:timeliness": "S2 OData records have no timeliness; CDSE writes a constant NRT/PT24H",
    "product:timeliness_category": "same",
    "processing:software": "CDSE lists its own generator (eometadatatool); S2 records have no processorName",
    "expires": "the OData EvictionDate (9999-12-31T23:59:59.999999Z), not CDSE STAC's 9999-01-01",
    "cdse:id": "eocat: the OData Id",
    "cdse:online": "eocat: OData Online",
    "cdse:s3_path": "eocat: OData S3Path (CDSE STAC has it as the enclosure link)",
    "proj:code": "item-level from the tile; CDSE has it per band asset (checked equal below)",
}


def test_s2_l2a_against_cdse_stac_reference() -> None:
    (record,) = values(S2_L2A)
    ours = to_item(record)
    ref = reference("cdse_stac_s2_l2a")
    assert ours["id"] == ref["id"]
    assert ours["collection"] == ref["collection"]
    assert ours["geometry"] == ref["geometry"]
    assert ours["bbox"] == ref["bbox"]
    keys = set(ours["properties"]) | set(ref["properties"])
    differing = {k for k in keys if ours["properties"].get(k, "<absent>") != ref["properties"].get(k, "<absent>")}
    assert differing == set(L2A_DELIBERATE_DIFFERENCES)
    same = keys - differing
    assert {"datetime", "created", "updated", "published", "eo:cloud_cover", "grid:code", "platform", "gsd"} <= same
    assert {"eopf:datatake_id", "eopf:datastrip_id", "sat:absolute_orbit", "processing:facility"} <= same
    assert ours["properties"]["proj:code"] == ref["assets"]["B02_10m"]["proj:code"] == "EPSG:32613"
    # product asset: same file, size, checksum, type, roles, auth; href on our download base
    ref_product, product = ref["assets"]["Product"], ours["assets"]["product"]
    for key in ("type", "title", "roles", "file:checksum", "file:size", "file:local_path", "auth:refs"):
        assert product[key] == ref_product[key], key
    assert product["href"].split("/odata/v1")[1] == ref_product["href"].split("/odata/v1")[1]
    # thumbnail: the same quicklook asset id (CDSE STAC serves it from datahub.creodias.eu)
    assert (
        ours["assets"]["thumbnail"]["href"].split("/odata/v1")[1]
        == ref["assets"]["thumbnail"]["href"].split("/odata/v1")[1]
    )
    assert ours["assets"]["thumbnail"]["type"] == ref["assets"]["thumbnail"]["type"]
    assert ours["assets"]["thumbnail"]["roles"] == ref["assets"]["thumbnail"]["roles"]


def _shape_check(ours: dict[str, Any], ref: dict[str, Any], missing_ok: set[str]) -> None:
    """Same field names and JSON types as CDSE's item of the same product type (values differ: other product)."""
    for key, value in ref["properties"].items():
        if key in missing_ok:
            continue
        assert key in ours["properties"], key
        assert type(ours["properties"][key]) is type(value), key
    assert ours["collection"] == ref["collection"]


def test_s1_items_have_the_shape_of_cdse_stac_s1_items() -> None:
    ref = reference("cdse_stac_s1_slc")
    slc = to_item(values(SLC_LEGACY)[0])
    grd = to_item(entity(GRD))
    # the reference SLC is a current record; our SLC fixture is a 2016 legacy one without these attributes
    legacy_gaps = {"sat:orbit_cycle", "processing:facility", "eopf:datatake_id", "eopf:instrument_configuration_id"}
    legacy_gaps |= {"product:timeliness", "product:timeliness_category", "processing:datetime", "processing:version"}
    legacy_gaps |= {"processing:software", "sat:anx_datetime"}
    _shape_check(slc, ref, {"storage:schemes"} | legacy_gaps)
    grd_ref = copy.deepcopy(ref)
    grd_ref["collection"] = "sentinel-1-grd"
    _shape_check(grd, grd_ref, {"storage:schemes", "expires"})  # this GRD record has EvictionDate ""
    assert grd["properties"]["product:timeliness"] == ref["properties"]["product:timeliness"]  # both Fast-24h


def test_s2_l1c_items_have_the_shape_of_cdse_stac_l1c_items() -> None:
    ref = reference("cdse_stac_s2_l1c")
    not_in_odata = {"storage:schemes", "sat:orbit_state", "product:timeliness", "product:timeliness_category"}
    not_in_odata |= {"view:sun_azimuth", "view:sun_elevation", "view:azimuth", "view:incidence_angle"}
    not_in_odata |= {"processing:software"}
    for record in values(S2_L1C):
        _shape_check(to_item(record), ref, not_in_odata)


# --------------------------------------------------------------------------------------------------
# collections


def test_collections_cover_every_id_and_validate() -> None:
    docs = collections(DOWNLOAD)
    ids = [c["id"] for c in docs]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == collection_ids()
    for label, record in ALL:
        assert to_item(record)["collection"] in ids, label
    for doc in docs:
        validate_collection(doc)
        assert doc["auth:schemes"]["oidc"]["type"] == "openIdConnect"
        assert doc["auth:schemes"]["oidc"]["openIdConnectUrl"] == OIDC
        text = orjson.dumps(doc).decode()
        assert "{download_url}" not in text and "{timeliness}" not in text
        assert any(link["href"] == f"{DOWNLOAD}/Products" for link in doc["links"])
        assert DOWNLOAD + "/Products(<cdse:id>)/$value" in doc["item_assets"]["product"]["description"]
        assert not any(key.startswith("$") for key in doc)
        assert "cdse:id" in doc["description"]
    assert {"sentinel-1-slc", "sentinel-1-grd", "sentinel-2-l1c", "sentinel-2-l2a"} <= set(ids)
    assert {"sentinel-3-olci-1-efr-nrt", "sentinel-3-olci-1-efr-ntc", "sentinel-3-sr-1-sra-stc"} <= set(ids)
    s3 = next(d for d in docs if d["id"] == "sentinel-3-sl-2-frp-ntc")
    assert s3["summaries"]["product:type"] == ["SL_2_FRP___"]
    assert s3["summaries"]["product:timeliness_category"] == ["NT"]
    assert s3["title"].endswith("(NTC)")


def test_collections_are_fresh_copies() -> None:
    first = collections(DOWNLOAD)
    first[0]["summaries"]["mutated"] = True
    first[0]["links"].append({"rel": "mutated", "href": "x"})
    again = collections(DOWNLOAD)[0]
    assert "mutated" not in again["summaries"]
    assert all(link["rel"] != "mutated" for link in again["links"])


def _synthetic(name: str, **attributes: Any) -> dict[str, Any]:
    record = entity(GRD)
    record["Name"] = name
    types = {str: "String", int: "Integer", float: "Double"}
    record["Attributes"] = [
        {"Name": k, "Value": v, "ValueType": types[type(v)]} for k, v in attributes.items() if v is not None
    ]
    return record


@pytest.mark.parametrize(
    ("name", "attributes", "expected"),
    [
        ("S1A_IW_SLC__1SDV_X.SAFE", {"platformShortName": "SENTINEL-1", "productType": "IW_SLC__1S"}, "sentinel-1-slc"),
        ("S1A_S3_SLC__1SDV_X.SAFE", {"platformShortName": "SENTINEL-1", "productType": "S3_SLC__1S"}, "sentinel-1-slc"),
        (
            "S1A_WV_SLC__1SSV_X.SAFE",
            {"platformShortName": "SENTINEL-1", "productType": "WV_SLC__1S"},
            "sentinel-1-slc-wv",
        ),
        ("S1A_EW_GRDM_1SDH_X.SAFE", {"platformShortName": "SENTINEL-1", "productType": "EW_GRDM_1S"}, "sentinel-1-grd"),
        (
            "S1A_IW_GRDH_1SDV_X_COG.SAFE",
            {"platformShortName": "SENTINEL-1", "productType": "IW_GRDH_1S-COG"},
            "cdse-sentinel-1-grd-cog",
        ),
        (
            "S1A_IW_RAW__0SDV_X.SAFE",
            {"platformShortName": "SENTINEL-1", "productType": "IW_RAW__0S"},
            "cdse-sentinel-1-raw",
        ),
        (
            "S1A_IW_OCN__2SDV_X.SAFE",
            {"platformShortName": "SENTINEL-1", "productType": "IW_OCN__2S"},
            "cdse-sentinel-1-ocn",
        ),
        ("S1A_AUX_CAL_X.SAFE", {"platformShortName": "SENTINEL-1", "productType": "AUX_CAL"}, "cdse-sentinel-1-aux"),
        ("S1A_XX_FOO", {"platformShortName": "SENTINEL-1", "productType": "IW_SLC__1A"}, "cdse-sentinel-1-other"),
        ("S2B_MSIL2A_X.SAFE", {"platformShortName": "SENTINEL-2", "productType": "S2MSI2A"}, "sentinel-2-l2a"),
        ("S2B_OPER_AUX_X", {"platformShortName": "SENTINEL-2", "productType": "AUX_ECMWFT"}, "cdse-sentinel-2-other"),
        (
            "S3A_OL_1_EFR____X.SEN3",
            {"platformShortName": "SENTINEL-3", "productType": "OL_1_EFR___", "timeliness": "NR"},
            "sentinel-3-olci-1-efr-nrt",
        ),
        (
            "S3B_OL_1_EFR____X.SEN3",
            {"platformShortName": "SENTINEL-3", "productType": "OL_1_EFR___", "timeliness": "NT"},
            "sentinel-3-olci-1-efr-ntc",
        ),
        (
            "S3A_SR_2_LAN_HY_X.SEN3",
            {"platformShortName": "SENTINEL-3", "productType": "SR_2_LAN_HY", "timeliness": "ST"},
            "sentinel-3-sr-2-lan-hy-stc",
        ),
        (
            "S3A_SY_2_SYN____X.SEN3",
            {"platformShortName": "SENTINEL-3", "productType": "SY_2_SYN___", "timeliness": "NR"},
            "cdse-sentinel-3-other",  # SYN has no NRT collection
        ),
        (
            "S3A_OL_1_EFR____X.SEN3",
            {"platformShortName": "SENTINEL-3", "productType": "OL_1_EFR___"},
            "cdse-sentinel-3-other",
        ),
        (
            "S5P_OFFL_L2__NO2____X.nc",
            {"platformShortName": "SENTINEL-5P", "productType": "L2__NO2___"},
            "cdse-sentinel-5p",
        ),
        ("S6A_P4_2__LR______X.SEN6", {"productType": "P4_2__LR_____"}, "cdse-sentinel-6"),
        ("LC08_L1TP_X", {"platformShortName": "LANDSAT-8", "productType": "L1TP"}, "cdse-other"),
    ],
)
def test_collection_ids(name: str, attributes: dict[str, Any], expected: str) -> None:
    record = _synthetic(name, **attributes)
    assert collection_id(record) == expected
    item = to_item(record)
    assert item["collection"] == expected
    assert expected in collection_ids()
    validate_item(item)


def test_s3_item_fields() -> None:
    record = _synthetic(
        "S3A_OL_1_EFR____20240101T101010_X_2160_107_045______PS1_O_NR_004.SEN3",
        platformShortName="SENTINEL-3",
        platformSerialIdentifier="A",
        instrumentShortName="OLCI",
        productType="OL_1_EFR___",
        timeliness="NR",
        processingLevel="1",
        cloudCover=12.5,
        orbitDirection="DESCENDING",
        relativeOrbitNumber=107,
    )
    item = to_item(record)
    p = item["properties"]
    assert item["id"] == record["Name"][:-5]
    assert p["platform"] == "sentinel-3a"
    assert p["sat:platform_international_designator"] == "2016-011A"
    assert p["instruments"] == ["olci"]
    assert p["processing:level"] == "L1"
    assert (p["product:timeliness_category"], p["product:timeliness"]) == ("NR", "PT3H")
    assert p["eo:cloud_cover"] == 12.5
    assert p["gsd"] == 300
    assert "sar:frequency_band" not in p
    validate_item(item)


# --------------------------------------------------------------------------------------------------
# datetimes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-04T11:01:00.494767Z", "2024-06-04T11:01:00.494767Z"),
        ("2024-06-04T11:01:00.495Z", "2024-06-04T11:01:00.495000Z"),
        ("2024-06-04T11:01:00.494767+00:00", "2024-06-04T11:01:00.494767Z"),
        ("2024-06-04T11:01:00.495+00:00", "2024-06-04T11:01:00.495000Z"),
        ("2024-06-04T11:01:00.494767", "2024-06-04T11:01:00.494767Z"),  # zone-less: UTC
        ("2024-06-04T11:01:00Z", "2024-06-04T11:01:00.000000Z"),
        ("2024-06-04T13:01:00.5+02:00", "2024-06-04T11:01:00.500000Z"),
    ],
)
def test_every_datetime_form_parses(text: str, expected: str) -> None:
    record = entity(GRD)
    record["ContentDate"] = {"Start": text, "End": text}
    record["OriginDate"] = text
    record["EvictionDate"] = text
    for attribute in record["Attributes"]:
        if attribute["Name"] == "processingDate":
            attribute["Value"] = text
    p = to_item(record)["properties"]
    assert p["datetime"] == p["end_datetime"] == p["created"] == p["expires"] == expected
    assert p["processing:datetime"] == expected


def test_empty_eviction_date_means_no_expiry() -> None:
    record = entity(GRD)
    assert record["EvictionDate"] == ""
    item = to_item(record)
    assert "expires" not in item["properties"]
    record["EvictionDate"] = "9999-12-31T23:59:59.999999Z"
    assert to_item(record)["properties"]["expires"] == "9999-12-31T23:59:59.999999Z"


# --------------------------------------------------------------------------------------------------
# malformed records


def _mutate(path: str, value: Any) -> dict[str, Any]:
    record = entity(GRD)
    target: Any = record
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return record


def _attribute(name: str, value: Any, value_type: str | None = None) -> dict[str, Any]:
    record = entity(GRD)
    for attribute in record["Attributes"]:
        if attribute["Name"] == name:
            attribute["Value"] = value
            if value_type is not None:
                attribute["ValueType"] = value_type
            return record
    record["Attributes"].append({"Name": name, "Value": value, "ValueType": value_type or "String"})
    return record


_DELETE = object()
RID = "521bd8f9-48a5-4e1f-9435-58f97cb64d39"

MALFORMED = {
    "Name missing": (_mutate("Name", _DELETE), "Name is missing"),
    "Name empty": (_mutate("Name", ""), "Name is missing"),
    "ContentDate missing": (_mutate("ContentDate", _DELETE), "ContentDate is missing"),
    "ContentDate.Start missing": (_mutate("ContentDate.Start", _DELETE), "ContentDate.Start is missing"),
    "ContentDate.Start garbage": (_mutate("ContentDate.Start", "yesterday"), "ContentDate.Start"),
    "ContentDate.Start month 13": (_mutate("ContentDate.Start", "2024-13-04T11:01:00Z"), "ContentDate.Start"),
    "ModificationDate Feb 30": (_mutate("ModificationDate", "2024-02-30T11:01:00.123Z"), "ModificationDate"),
    "processingDate hour 25": (_attribute("processingDate", "2024-06-04T25:03:49.113620+00:00"), "processingDate"),
    "ContentDate.End before Start": (_mutate("ContentDate.End", "2020-01-01T00:00:00Z"), "before Start"),
    "OriginDate garbage": (_mutate("OriginDate", "2024-06-04 noon"), "OriginDate"),
    "PublicationDate not a string": (_mutate("PublicationDate", 1717503520), "PublicationDate"),
    "orbitNumber typed Integer but a string": (_attribute("orbitNumber", "54172"), "orbitNumber"),
    "orbitNumber typed String": (_attribute("orbitNumber", "54172", "String"), "orbitNumber"),
    "orbitNumber a boolean": (_attribute("orbitNumber", True), "orbitNumber"),
    "cloudCover a string": (_attribute("cloudCover", "12.5", "Double"), "cloudCover"),
    "unmapped attribute of the wrong type": (_attribute("sliceProductFlag", "no"), "sliceProductFlag"),
    "processingDate garbage": (_attribute("processingDate", "not a date"), "processingDate"),
    "unknown polarisation": (_attribute("polarisationChannels", "VV&XX"), "polarisationChannels"),
    "tileId garbage": (
        _synthetic("S2A_MSIL1C_X.SAFE", platformShortName="SENTINEL-2", productType="S2MSI1C", tileId="99ZZZ"),
        "tileId",
    ),
    "Attributes not a list": (_mutate("Attributes", {"orbitNumber": 1}), "Attributes"),
    "attribute without Name": (_mutate("Attributes", [{"Value": 1, "ValueType": "Integer"}]), "Attributes entry"),
    "GeoFootprint a Point": (_mutate("GeoFootprint", {"type": "Point", "coordinates": [1, 2]}), "Point"),
    "GeoFootprint strings": (
        _mutate("GeoFootprint", {"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]}),
        "footprint",
    ),
    "GeoFootprint latitude 95": (
        _mutate("GeoFootprint", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}),
        "footprint",
    ),
    "GeoFootprint open ring": (
        _mutate("GeoFootprint", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
        "closed",
    ),
    "GeoFootprint too few positions": (
        _mutate("GeoFootprint", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
        "footprint",
    ),
    "GeoFootprint NaN": (
        _mutate("GeoFootprint", {"type": "Polygon", "coordinates": [[[0, 0], [float("nan"), 0], [1, 1], [0, 0]]]}),
        "footprint",
    ),
    "GeoFootprint no coordinates": (_mutate("GeoFootprint", {"type": "Polygon"}), "footprint"),
    "GeoFootprint a string": (_mutate("GeoFootprint", "POLYGON ((0 0, 1 0, 1 1, 0 0))"), "GeoFootprint"),
    "Footprint WKT garbage": (
        {**_mutate("GeoFootprint", None), "Footprint": "geography'SRID=4326;POLYGON ((0 0, 1 0'"},
        "Footprint",
    ),
    "Footprint other SRID": (
        {**_mutate("GeoFootprint", None), "Footprint": "geography'SRID=3857;POLYGON ((0 0, 1 0, 1 1, 0 0))'"},
        "SRID",
    ),
    "Checksum MD5 not hex": (
        _mutate("Checksum", [{"Value": "zz" * 16, "Algorithm": "MD5", "ChecksumDate": "2024-06-04T12:18:58Z"}]),
        "MD5",
    ),
    "Checksum not a list": (_mutate("Checksum", "4eec48737ecab7aab2bf590a8dec23b1"), "Checksum"),
    "ContentLength negative": (_mutate("ContentLength", -1), "ContentLength"),
    "ContentLength a string": (_mutate("ContentLength", "2121095339"), "ContentLength"),
    "QUICKLOOK without link": (_mutate("Assets", [{"Type": "QUICKLOOK", "Id": "x"}]), "QUICKLOOK"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_records_raise_naming_the_id(case: str) -> None:
    record, problem = MALFORMED[case]
    with pytest.raises(MalformedRecord) as raised:
        to_item(record)
    message = str(raised.value)
    assert RID in message and raised.value.record_id == RID
    assert problem in message


def test_malformed_without_id_names_the_product() -> None:
    record = _mutate("Id", _DELETE)
    with pytest.raises(MalformedRecord, match=r"<no Id> \(Name 'S1A_IW_GRDH_1SDV_.*\.SAFE'\)"):
        to_item(record)
    with pytest.raises(MalformedRecord, match="not a JSON object"):
        to_item([])  # type: ignore[arg-type]
    with pytest.raises(MalformedRecord, match="Name is missing"):
        collection_id(_mutate("Name", _DELETE))


def test_tolerated_values() -> None:
    """Known quirks and out-of-range values do not reject the product; out-of-range values are left out."""
    assert "eo:cloud_cover" not in to_item(_attribute("cloudCover", 150.0, "Double"))["properties"]
    assert "sat:orbit_state" not in to_item(_attribute("orbitDirection", "SIDEWAYS"))["properties"]
    assert "sat:relative_orbit" not in to_item(_attribute("relativeOrbitNumber", 0))["properties"]
    assert "sat:absolute_orbit" not in to_item(_attribute("orbitNumber", None))["properties"]  # null value
    item = to_item(_attribute("spatialResolution", "2.3", "Integer"))  # the legacy quirk
    validate_item(item)
    assert to_item(_attribute("cloudCover", 4996964, "Double"))["properties"].get("eo:cloud_cover") is None
    assert to_item(_attribute("cloudCover", 12, "Double"))["properties"]["eo:cloud_cover"] == 12.0  # no ".0"
    unknown = to_item(_attribute("timeliness", "Reprocessing"))["properties"]
    assert "product:timeliness_category" not in unknown and "product:timeliness" not in unknown
    no_end = _mutate("ContentDate.End", _DELETE)
    assert to_item(no_end)["properties"]["end_datetime"] == to_item(no_end)["properties"]["start_datetime"]


# --------------------------------------------------------------------------------------------------
# geometry


def test_antimeridian_crossing_footprint_is_split() -> None:
    ring = [[179.5, -17.0], [-179.5, -17.2], [-179.4, -16.0], [179.6, -15.8], [179.5, -17.0]]
    for winding in (ring, ring[::-1]):  # counter-clockwise and clockwise, no warning either way
        item = to_item(_mutate("GeoFootprint", {"type": "Polygon", "coordinates": [winding]}))
        assert item["geometry"]["type"] == "MultiPolygon"
        assert len(item["geometry"]["coordinates"]) == 2
        west, south, east, north = item["bbox"]
        assert (west, south, east, north) == (179.5, -17.2, -179.4, -15.8)  # RFC 7946: minx > maxx
        for polygon in item["geometry"]["coordinates"]:
            xs = [x for x, _y in polygon[0]]
            assert all(x >= 179.5 for x in xs) or all(x <= -179.4 for x in xs)
            assert all(x == round(x, 12) for x in xs)
        validate_item(item)


def test_already_split_multipolygon_gets_a_crossing_bbox() -> None:
    east = [[179.0, 10.0], [180.0, 10.0], [180.0, 11.0], [179.0, 11.0], [179.0, 10.0]]
    west = [[-180.0, 10.0], [-179.0, 10.0], [-179.0, 11.0], [-180.0, 11.0], [-180.0, 10.0]]
    item = to_item(_mutate("GeoFootprint", {"type": "MultiPolygon", "coordinates": [[east], [west]]}))
    assert item["bbox"] == [179.0, 10.0, -179.0, 11.0]
    validate_item(item)


def test_footprint_wkt_fallback() -> None:
    (legacy,) = values(SLC_LEGACY)
    from_wkt = copy.deepcopy(legacy)
    from_wkt["GeoFootprint"] = None
    assert to_item(from_wkt)["geometry"] == legacy["GeoFootprint"]
    assert to_item(from_wkt)["bbox"] == to_item(legacy)["bbox"]
    crossing = _mutate("GeoFootprint", None)
    crossing["Footprint"] = (
        "geography'SRID=4326;POLYGON ((179.5 -17, -179.5 -17.2, -179.4 -16, 179.6 -15.8, 179.5 -17))'"
    )
    assert to_item(crossing)["bbox"] == [179.5, -17.2, -179.4, -15.8]
    no_footprint = _mutate("GeoFootprint", None)
    no_footprint["Footprint"] = None
    item = to_item(no_footprint)
    assert item["geometry"] is None and "bbox" not in item
    validate_item(item)


# --------------------------------------------------------------------------------------------------
# assets


def test_checksum_preference_and_compressed_location() -> None:
    (md5, blake3) = entity(GRD)["Checksum"]
    only_blake3 = to_item(_mutate("Checksum", [blake3]))
    assert only_blake3["assets"]["product"]["file:checksum"] == "1e20" + blake3["Value"]
    both = to_item(_mutate("Checksum", [blake3, md5]))
    assert both["assets"]["product"]["file:checksum"] == "d50110" + md5["Value"]
    record = entity(GRD)
    record["Locations"] = [
        {"FormatType": "Extracted", "DownloadLink": "x", "ContentLength": 1, "Checksum": [], "S3Path": "/eodata/x"},
        {
            "FormatType": "Compressed",
            "DownloadLink": f"https://catalogue.dataspace.copernicus.eu/odata/v1/Products({RID})/$zip",
            "ContentLength": 1534000000,
            "Checksum": [md5],
            "EvictionDate": "2024-07-04T12:18:40.284Z",
        },
    ]
    item = to_item(record)
    compressed = item["assets"]["compressed"]
    assert compressed["href"] == f"{DOWNLOAD}/Products({RID})/$zip"
    assert compressed["file:size"] == 1534000000
    assert compressed["file:checksum"] == "d50110" + md5["Value"]
    assert compressed["expires"] == "2024-07-04T12:18:40.284000Z"
    assert compressed["auth:refs"] == ["oidc"]
    check_extensions(item)
    validate_item(item)


def test_base_urls_with_trailing_slash() -> None:
    item = product_to_item(entity(GRD), download_url=DOWNLOAD + "/", catalogue_url=CATALOGUE + "/")
    assert item["assets"]["product"]["href"] == f"{DOWNLOAD}/Products({RID})/$value"
    assert item["links"][1]["href"] == f"{CATALOGUE}/Products({RID})"


def test_view_sun_elevation_from_illumination_zenith() -> None:
    (record,) = values(S2_L2A)
    record["Attributes"].append({"Name": "illuminationZenithAngle", "Value": 74.704106577, "ValueType": "Double"})
    item = to_item(record)
    assert item["properties"]["view:sun_elevation"] == pytest.approx(15.295893423)
    assert EXT["view"] in item["stac_extensions"]
    validate_item(item)


def test_record_is_not_modified() -> None:
    for _label, record in ALL[:6]:
        before = orjson.dumps(record)
        to_item(record)
        assert orjson.dumps(record) == before
