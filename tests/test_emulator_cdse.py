"""The CDSE emulator over real HTTP on 127.0.0.1: recorded fixtures verbatim, the $filter grammar against an
independent oracle, paging and its limits, tokens, downloads, faults and the synthetic products' shape."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import shapely
from shapely.geometry import shape

from emulators.cdse import CdseEmulator, SyntheticProducts
from emulators.odata import parse_datetime

FIXTURES = Path(__file__).resolve().parent.parent / "emulators" / "cdse" / "fixtures"
REAL = "https://catalogue.dataspace.copernicus.eu/odata/v1"
AUX_FILTER = (
    "Collection/Name eq 'SENTINEL-1' and ContentDate/Start gt 2014-04-05T00:00:00.000Z "
    "and ContentDate/Start lt 2014-04-14T00:00:00.000Z"
)
RECIPE = SyntheticProducts(seed=1, count=3000, start="2023-01-01T00:00:00Z", end="2023-03-01T00:00:00Z")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def q(text: str) -> str:
    """Percent-encode like the CDSETool README URLs (spaces as %20, '/' kept)."""
    return quote(text, safe="/")


@pytest.fixture(scope="module")
def emu() -> Iterator[CdseEmulator]:
    with CdseEmulator(products=RECIPE, include_fixtures=True) as e:
        yield e


@pytest.fixture(scope="module")
def truth(emu: CdseEmulator) -> list[dict[str, Any]]:
    """Every record of ``emu`` with Attributes (the ground truth)."""
    return emu.records(expand=("Attributes",))


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


@pytest.fixture
def small() -> Iterator[CdseEmulator]:
    """A private emulator for tests that switch faults or move the clock."""
    with CdseEmulator(products=SyntheticProducts(seed=3, count=200), access_lifetime=600) as e:
        yield e


def get(client: httpx.Client, emu: CdseEmulator, **params: str) -> httpx.Response:
    return client.get(f"{emu.catalogue_url}/Products", params=params)


def all_pages(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    pages = []
    next_url: str | None = url
    while next_url:
        r = client.get(next_url, params=params if next_url == url else None)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        next_url = r.json().get("@odata.nextLink")
    return pages


# -- recorded fixtures, verbatim


def test_aux_paging_reproduces_the_recorded_pages(emu: CdseEmulator, client: httpx.Client) -> None:
    """The 5-page CDSETool harvest, requested with the recorded URLs, comes back as recorded."""
    base = f"{emu.catalogue_url}/Products?$filter={q(AUX_FILTER)}"
    urls = [f"{base}&$top=10&$count=true&$expand=Attributes&$orderby=ContentDate/Start%20asc"]
    urls += [f"{base}&$top=10&$skip={10 * k}&$expand=Attributes&$orderby=ContentDate/Start%20asc" for k in (1, 2, 3, 4)]
    for k, url in enumerate(urls, start=1):
        got = client.get(url).json()
        expected = fixture(f"products_s1_aux_paging/page_{k}.json")
        if "@odata.nextLink" in got:
            assert got["@odata.nextLink"].startswith(emu.catalogue_url + "/Products?")
            got["@odata.nextLink"] = got["@odata.nextLink"].replace(emu.catalogue_url, REAL)
        assert list(got) == list(expected)  # key order: context, [count], value, [nextLink]
        assert got == expected
    assert "@odata.count" in client.get(urls[0]).json() and "@odata.count" not in client.get(urls[1]).json()


def test_aux_paging_by_next_link_returns_47_once(emu: CdseEmulator, client: httpx.Client) -> None:
    params = {"$filter": AUX_FILTER, "$top": "10", "$count": "true", "$expand": "Attributes"}
    params["$orderby"] = "ContentDate/Start asc"
    pages = all_pages(client, f"{emu.catalogue_url}/Products", params)
    assert [len(p["value"]) for p in pages] == [10, 10, 10, 10, 7]
    assert all(p["@odata.count"] == 47 for p in pages)  # $count=true is kept in nextLink
    assert "@odata.nextLink" not in pages[-1]
    recorded = [r for k in range(1, 6) for r in fixture(f"products_s1_aux_paging/page_{k}.json")["value"]]
    assert [r for p in pages for r in p["value"]] == recorded


def test_s2_l1c_query_returns_the_recorded_records(emu: CdseEmulator, client: httpx.Client) -> None:
    recorded = fixture("products_s2_l1c_expand_attributes_assets.json")
    query = recorded["@odata.nextLink"].split("?", 1)[1].replace("%24skip=2", "%24skip=0")
    got = client.get(f"{emu.catalogue_url}/Products?{query}").json()
    assert got["@odata.context"] == recorded["@odata.context"]
    assert got["value"] == recorded["value"]
    assert [list(r) for r in got["value"]] == [list(r) for r in recorded["value"]]


@pytest.mark.parametrize(
    ("name", "expand"),
    [
        ("products_s1_slc_legacy_expand_attributes_locations_assets.json", ["Attributes", "Locations", "Assets"]),
        ("product_s2_l2a_reconstructed.json", ["Attributes", "Assets"]),
    ],
)
def test_listed_fixture_records_verbatim(emu: CdseEmulator, client: httpx.Client, name: str, expand: list[str]) -> None:
    recorded = fixture(name)
    product = recorded["value"][0]
    params = [("$filter", f"Name eq '{product['Name']}'"), *(("$expand", e) for e in expand)]
    got = client.get(f"{emu.catalogue_url}/Products", params=params).json()
    assert got == recorded
    assert json.dumps(got) == json.dumps(recorded)  # same key order everywhere


def test_single_entity_verbatim(emu: CdseEmulator, client: httpx.Client) -> None:
    recorded = fixture("product_s1_grd_entity_expand_attributes.json")
    r = client.get(f"{emu.catalogue_url}/Products({recorded['Id']})", params={"$expand": "Attributes"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert json.dumps(r.json()) == json.dumps(recorded)
    plain = client.get(f"{emu.catalogue_url}/Products({recorded['Id']})").json()
    assert plain["@odata.context"] == "$metadata#Products/$entity" and "Attributes" not in plain
    missing = client.get(f"{emu.catalogue_url}/Products(00000000-0000-4000-8000-000000000000)")
    assert missing.status_code == 404 and "detail" in missing.json()


def test_every_fixture_record_is_served(emu: CdseEmulator, client: httpx.Client) -> None:
    from emulators.cdse.fixtures_loader import product_records

    for record in product_records():
        expand = [k for k in ("Attributes", "Assets", "Locations") if k in record]
        got = client.get(f"{emu.catalogue_url}/Products({record['Id']})", params=[("$expand", e) for e in expand])
        body = got.json()
        body.pop("@odata.context")
        assert body == record


# -- the $filter grammar, checked against an oracle over the ground-truth records


def _attrs(rec: dict[str, Any]) -> dict[str, Any]:
    return {a["Name"]: a["Value"] for a in rec.get("Attributes", [])}


def _t(value: str) -> int:
    return parse_datetime(value)


def _coll(rec: dict[str, Any]) -> str:
    return rec["S3Path"].split("/")[2].upper()


def _geom(rec: dict[str, Any]) -> Any:
    return shape(rec["GeoFootprint"]) if rec.get("GeoFootprint") else None


T0, T1 = _t("2023-01-10"), _t("2023-01-20")
AOI = shapely.box(-10, 35, 30, 60)
CASES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    (
        "Collection/Name eq 'SENTINEL-2' and ContentDate/Start ge 2023-01-10 "
        "and ContentDate/Start lt 2023-01-20T00:00:00",
        lambda r: _coll(r) == "SENTINEL-2" and T0 <= _t(r["ContentDate"]["Start"]) < T1,
    ),
    (
        "ContentDate/Start gt 2023-01-10T01:00:00+01:00 and ContentDate/Start le 2023-01-11T00:00:00.000Z",
        lambda r: T0 < _t(r["ContentDate"]["Start"]) <= _t("2023-01-11"),
    ),
    (
        "(Collection/Name eq 'SENTINEL-1' or Collection/Name eq 'SENTINEL-3') and not (Online eq true)",
        lambda r: _coll(r) in ("SENTINEL-1", "SENTINEL-3") and r["Online"] is False,
    ),
    ("Online eq false", lambda r: r["Online"] is False),
    ("contains(Name,'MSIL2A') and endswith(Name,'.SAFE')", lambda r: "MSIL2A" in r["Name"]),
    (
        "startswith(Name,'S1A_IW_GRDH') and Collection/Name ne 'SENTINEL-2'",
        lambda r: r["Name"].startswith("S1A_IW_GRDH"),
    ),
    ("endswith(Name,'.SEN3')", lambda r: r["Name"].endswith(".SEN3")),
    ("ContentLength gt 3000000000", lambda r: r["ContentLength"] > 3_000_000_000),
    (
        "ContentLength eq 0 and Collection/Name eq 'SENTINEL-2'",
        lambda r: r["ContentLength"] == 0 and _coll(r) == "SENTINEL-2",
    ),
    (
        "PublicationDate ge 2023-02-01 and ModificationDate lt 2023-02-03 and OriginDate gt 2023-01-31",
        lambda r: (
            _t(r["PublicationDate"]) >= _t("2023-02-01")
            and _t(r["ModificationDate"]) < _t("2023-02-03")
            and _t(r["OriginDate"]) > _t("2023-01-31")
        ),
    ),
    (
        "ContentDate/End gt 2023-02-10T12:00:00Z and ContentDate/Start lt 2023-02-10T12:05:00Z",
        lambda r: (
            _t(r["ContentDate"]["End"]) > _t("2023-02-10T12:00:00Z")
            and _t(r["ContentDate"]["Start"]) < _t("2023-02-10T12:05:00Z")
        ),
    ),
    (
        "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
        "att/OData.CSC.StringAttribute/Value eq 'S2MSI2A')",
        lambda r: _attrs(r).get("productType") == "S2MSI2A",
    ),
    (
        "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
        "att/OData.CSC.DoubleAttribute/Value le 20.5) and Collection/Name eq 'SENTINEL-2'",
        lambda r: _coll(r) == "SENTINEL-2" and _attrs(r)["cloudCover"] <= 20.5,
    ),
    (
        "attributes/OData.CSC.IntegerAttribute/any(i0:i0/Name eq 'relativeOrbitNumber' and i0/Value lt 30)",
        lambda r: isinstance(_attrs(r).get("relativeOrbitNumber"), int) and _attrs(r)["relativeOrbitNumber"] < 30,
    ),
    (
        "Attributes/OData.CSC.DateTimeOffsetAttribute/any(x:x/Name eq 'processingDate' and "
        "x/OData.CSC.DateTimeOffsetAttribute/Value gt 2023-02-20T00:00:00Z)",
        lambda r: "processingDate" in _attrs(r) and _t(_attrs(r)["processingDate"]) > _t("2023-02-20"),
    ),
    (
        "Attributes/OData.CSC.BooleanAttribute/any(b:b/Name eq 'sliceProductFlag' and b/Value eq false)",
        lambda r: _attrs(r).get("sliceProductFlag") is False,
    ),
    (
        "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'polarisationChannels' and a/Value eq 'VV&VH')",
        lambda r: _attrs(r).get("polarisationChannels") == "VV&VH",
    ),
    (
        "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((-10 35, 30 35, 30 60, -10 60, -10 35))')",
        lambda r: _geom(r) is not None and _geom(r).intersects(AOI),
    ),
    (
        "OData.CSC.Intersects(Footprint=geography'SRID=4326;POLYGON ((-10 35, 30 35, 30 60, -10 60, -10 35))') "
        "and Collection/Name eq 'SENTINEL-1'",
        lambda r: _coll(r) == "SENTINEL-1" and _geom(r) is not None and _geom(r).intersects(AOI),
    ),
    (
        "OData.CSC.Intersects(footprint=geography'SRID=4326;MULTIPOLYGON (((0 0, 20 0, 20 20, 0 20, 0 0)), "
        "((100 -40, 140 -40, 140 -10, 100 -10, 100 -40)))')",
        lambda r: (
            _geom(r) is not None
            and _geom(r).intersects(shapely.MultiPolygon([shapely.box(0, 0, 20, 20), shapely.box(100, -40, 140, -10)]))
        ),
    ),
    (
        "OData.CSC.Intersects(area=geography'SRID=4326;POINT(12.5 41.9)') or OData.CSC.Intersects("
        "area=geography'SRID=4326;POINT (-74 40.7)')",
        lambda r: (
            _geom(r) is not None
            and (_geom(r).intersects(shapely.Point(12.5, 41.9)) or _geom(r).intersects(shapely.Point(-74, 40.7)))
        ),
    ),
]


@pytest.mark.parametrize(("text", "oracle"), CASES, ids=[c[0][:60] for c in CASES])
def test_filter_matches_oracle(
    emu: CdseEmulator,
    client: httpx.Client,
    truth: list[dict[str, Any]],
    text: str,
    oracle: Callable[[dict[str, Any]], bool],
) -> None:
    expected = {r["Id"] for r in truth if "ContentDate" in r and oracle(r)}
    r = client.get(f"{emu.catalogue_url}/Products?$filter={q(text)}&$count=true&$top=0")
    assert r.status_code == 200, r.text
    assert r.json()["@odata.count"] == len(expected)
    assert set(emu.ids(text)) == expected
    got = [
        x["Id"]
        for p in all_pages(client, f"{emu.catalogue_url}/Products", {"$filter": text, "$top": "1000"})
        for x in p["value"]
    ]
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))


def test_ids_and_names_in_filters(emu: CdseEmulator, client: httpx.Client) -> None:
    grd = fixture("product_s1_grd_entity_expand_attributes.json")
    for text in (
        f"Id eq {grd['Id']}",
        f"Id eq '{grd['Id']}'",
        f"Name eq '{grd['Name']}'",
        f"Id eq '{grd['Id'].upper()}'",
    ):
        assert [x["Id"] for x in get(client, emu, **{"$filter": text}).json()["value"]] == [grd["Id"]], text


def test_antimeridian_products(emu: CdseEmulator, client: httpx.Client) -> None:
    split = [
        r
        for r in emu.records(expand=())
        if (r["GeoFootprint"] or {}).get("type") == "MultiPolygon" and len(r["GeoFootprint"]["coordinates"]) == 2
    ]
    assert split, "some synthetic footprints cross the antimeridian"
    rec = split[0]
    assert rec["Footprint"].startswith("geography'SRID=4326;MULTIPOLYGON (((")
    xs = [x for part in rec["GeoFootprint"]["coordinates"] for x, _ in part[0]]
    assert max(xs) <= 180 and min(xs) >= -180 and 180 in xs and -180 in xs
    east_half = shapely.geometry.shape(rec["GeoFootprint"]).geoms[0].representative_point()
    text = f"Id eq {rec['Id']} and OData.CSC.Intersects(area=geography'SRID=4326;POINT({east_half.x} {east_half.y})')"
    assert len(get(client, emu, **{"$filter": text}).json()["value"]) == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Name eq", "expected a literal"),
        ("Collection/Name eq 'SENTINEL-2' and", "expected a condition"),
        ("Nmae eq 'x'", "unknown property"),
        ("Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'productType' and a/Value gt 'S2')", "not allowed"),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((0 0, 1 0, 1 1, 0 1))')", "closed"),
        ("ContentDate/Start gt 2023-01-01T00:00:00 01:00", "%2B"),
    ],
)
def test_malformed_filter_is_400(emu: CdseEmulator, client: httpx.Client, text: str, needle: str) -> None:
    r = get(client, emu, **{"$filter": text})
    assert r.status_code == 400
    assert needle in r.json()["detail"]


# -- options, limits and paging


def test_limits_422_like_fastapi(emu: CdseEmulator, client: httpx.Client) -> None:
    r = get(client, emu, **{"$skip": "10001"})
    assert r.status_code == 422 and r.json() == fixture("error_422_skip_over_10000.json")
    r = get(client, emu, **{"$top": "1001"})
    assert r.status_code == 422
    assert r.json() == fixture("errors_reconstructed.json")["catalogue_top_over_1000"]["body"]
    assert get(client, emu, **{"$top": "abc"}).json()["detail"][0]["type"] == "int_parsing"
    assert get(client, emu, **{"$skip": "-1"}).json()["detail"][0]["type"] == "greater_than_equal"
    assert get(client, emu, **{"$count": "maybe"}).json()["detail"][0]["type"] == "bool_parsing"
    assert get(client, emu, **{"$top": "1000", "$skip": "10000"}).status_code == 200
    assert get(client, emu, **{"$orderby": "Name asc"}).status_code == 400
    assert get(client, emu, **{"$expand": "Nodes"}).status_code == 400


def test_defaults_count_and_next_link(emu: CdseEmulator, client: httpx.Client) -> None:
    body = get(client, emu).json()
    assert list(body) == ["@odata.context", "value", "@odata.nextLink"]
    assert body["@odata.context"] == "$metadata#Products" and len(body["value"]) == 20
    assert body["@odata.nextLink"] == f"{emu.catalogue_url}/Products?%24skip=20"
    for value, expected in (
        ("True", True),
        ("true", True),
        ("1", True),
        ("False", False),
        ("false", False),
        ("0", False),
    ):
        assert ("@odata.count" in get(client, emu, **{"$count": value, "$top": "1"}).json()) is expected
    counted = get(client, emu, **{"$count": "true", "$top": "5"}).json()
    assert list(counted)[:2] == ["@odata.context", "@odata.count"] and counted["@odata.count"] == len(emu.store)


def test_expand_context_in_request_order_and_select(emu: CdseEmulator, client: httpx.Client) -> None:
    params = [
        ("$filter", "Collection/Name eq 'SENTINEL-2'"),
        ("$expand", "Assets"),
        ("$expand", "Attributes"),
        ("$top", "2"),
    ]
    body = client.get(f"{emu.catalogue_url}/Products", params=params).json()
    assert body["@odata.context"] == "$metadata#Products(Assets(),Attributes())"
    assert list(body["value"][0])[-2:] == ["Attributes", "Assets"]
    params.append(("$expand", "Locations"))
    body = client.get(f"{emu.catalogue_url}/Products", params=params).json()
    assert body["@odata.context"] == "$metadata#Products(Assets(),Attributes(),Locations())"
    assert body["value"][0]["Locations"][0]["FormatType"] == "Extracted"
    sel = get(client, emu, **{"$select": "Name,ContentLength", "$top": "1"}).json()["value"][0]
    assert set(sel) == {"@odata.mediaContentType", "Id", "Name", "ContentLength"}


@pytest.mark.parametrize("key", ["ContentDate/Start", "ContentDate/End", "PublicationDate", "ModificationDate"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_orderby_total_order_and_exactly_once(
    emu: CdseEmulator, client: httpx.Client, key: str, direction: str
) -> None:
    text = (
        "ContentDate/Start ge 2023-01-15 and ContentDate/Start lt 2023-02-01 "
        "or Collection/Name eq 'SENTINEL-1' and ContentDate/Start lt 2014-05-01"
    )
    params = {"$filter": text, "$orderby": f"{key} {direction}", "$top": "97", "$expand": "Attributes"}
    records = [r for p in all_pages(client, f"{emu.catalogue_url}/Products", params) for r in p["value"]]
    assert sorted(r["Id"] for r in records) == sorted(emu.ids(text))
    assert len({r["Id"] for r in records}) == len(records)

    def value(r: dict[str, Any]) -> int:
        return _t(r["ContentDate"][key.split("/")[1]]) if "/" in key else _t(r[key])

    keys = [(-value(r) if direction == "desc" else value(r), r["Id"]) for r in records]
    assert keys == sorted(keys)  # key, then Id ascending: a total order
    starts = [r["ContentDate"]["Start"] for r in records]
    assert len(starts) != len(set(starts)), "the AUX fixtures bring ties on ContentDate/Start"


def test_next_link_limits_with_many_products(big: CdseEmulator, client: httpx.Client) -> None:
    at_limit = get(client, big, **{"$top": "1000", "$skip": "9000"}).json()
    assert at_limit["@odata.nextLink"].endswith("%24skip=10000")
    past = get(client, big, **{"$top": "1000", "$skip": "9001"}).json()
    assert "@odata.nextLink" not in past and len(past["value"]) == 1000
    last = get(client, big, **{"$top": "1000", "$skip": "10000"}).json()
    assert "@odata.nextLink" not in last
    assert get(client, big, **{"$top": "10", "$skip": "10001"}).status_code == 422


def test_attributes_endpoints(emu: CdseEmulator, client: httpx.Client) -> None:
    s1 = client.get(f"{emu.catalogue_url}/Attributes(SENTINEL-1)")
    assert s1.json() == fixture("attributes_sentinel1.json")
    assert client.get(f"{emu.catalogue_url}/Attributes(SENTINEL-3)").json() == fixture("attributes_sentinel3.json")
    s2 = client.get(f"{emu.catalogue_url}/Attributes(SENTINEL-2)").json()
    assert (
        s2[0] == {"Name": "productType", "ValueType": "String"} and {"Name": "cloudCover", "ValueType": "Double"} in s2
    )
    assert client.get(f"{emu.catalogue_url}/Attributes(NOPE)").status_code == 404
    assert "SENTINEL-2" in client.get(f"{emu.catalogue_url}/Attributes").json()


def test_filterlist(emu: CdseEmulator, client: httpx.Client) -> None:
    grd = fixture("product_s1_grd_entity_expand_attributes.json")
    body = {"FilterProducts": [{"Name": grd["Name"]}, {"Name": "xxxxxxxx.06.tar"}]}
    r = client.post(f"{emu.catalogue_url}/Products/OData.CSC.FilterList", json=body)
    assert [p["Id"] for p in r.json()["value"]] == [grd["Id"]]


# -- identity


def _password(client: httpx.Client, emu: CdseEmulator, **extra: str) -> httpx.Response:
    form = {"grant_type": "password", "username": "alice", "password": "pw", "client_id": "cdse-public", **extra}
    return client.post(emu.token_url, data=form)


def test_token_password_refresh_and_expiry(small: CdseEmulator, client: httpx.Client) -> None:
    r = _password(client, small)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == list(fixture("token_reconstructed.json"))
    assert body["expires_in"] == 600 and body["refresh_expires_in"] == 3600 and body["token_type"] == "Bearer"
    claims = json.loads(_b64(body["access_token"].split(".")[1]))
    assert claims["azp"] == "cdse-public" and claims["exp"] - claims["iat"] == 600
    assert small.validate_token(body["access_token"])
    refreshed = client.post(
        small.token_url,
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": "cdse-public"},
    )
    assert refreshed.status_code == 200 and small.validate_token(refreshed.json()["access_token"])
    small.clock.advance(601)
    assert not small.validate_token(refreshed.json()["access_token"])
    small.clock.advance(3000)
    late = client.post(
        small.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed.json()["refresh_token"],
            "client_id": "cdse-public",
        },
    )
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant", "error_description": "Token is not active"}
    assert _password(client, small, password="").status_code == 401
    lower = client.post(small.token_url.replace("/CDSE/", "/cdse/"), data={**_form(), "client_id": "cdse-public"})
    assert lower.status_code == 200


def _form() -> dict[str, str]:
    return {"grant_type": "password", "username": "u", "password": "p"}


def _b64(part: str) -> str:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def test_token_lifetimes_and_credentials(client: httpx.Client) -> None:
    with CdseEmulator(include_fixtures=False, credentials={"alice": "pw"}, totp="123456", access_lifetime=1) as e:
        bad = _password(client, e, password="wrong", totp="123456")
        assert bad.status_code == 401
        assert bad.json() == {"error": "invalid_grant", "error_description": "Invalid user credentials"}
        assert _password(client, e).status_code == 401  # TOTP missing
        ok = _password(client, e, totp="123456").json()
        assert ok["expires_in"] == 1 and e.validate_token(ok["access_token"])
        time.sleep(1.05)
        assert not e.validate_token(ok["access_token"])
        assert client.post(e.token_url, data={**_form(), "client_id": "other"}).json()["error"] == "invalid_client"


def test_openid_configuration_points_at_the_emulator(small: CdseEmulator, client: httpx.Client) -> None:
    for realm in ("CDSE", "cdse"):
        body = client.get(f"{small.base_url}/auth/realms/{realm}/.well-known/openid-configuration").json()
        assert body["token_endpoint"] == small.token_url
        assert "identity.dataspace.copernicus.eu" not in json.dumps(body)


# -- downloads


def test_download_redirect_token_and_payload(client: httpx.Client) -> None:
    recipe = SyntheticProducts(seed=5, count=50, payload_size=20_000, offline_fraction=0.0, legacy_fraction=0.0)
    with CdseEmulator(products=recipe, include_fixtures=False, range_mode="honour") as e:
        rec = e.records(expand=())[0]
        token = _password(client, e).json()["access_token"]
        r = client.get(f"{e.catalogue_url}/Products({rec['Id']})/$value", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 307
        location = r.headers["location"]
        assert location == f"{e.download_url}/Products({rec['Id']})/$value"
        assert client.get(location).status_code == 401
        data = client.get(location, headers={"Authorization": f"Bearer {token}"})
        assert data.status_code == 200 and int(data.headers["content-length"]) == rec["ContentLength"] == len(
            data.content
        )
        assert hashlib.md5(data.content).hexdigest() == rec["Checksum"][0]["Value"]
        assert client.get(f"{location}?token={token}").content == data.content
        part = client.get(location, headers={"Authorization": f"Bearer {token}", "Range": "bytes=100-"})
        assert part.status_code == 206 and part.content == data.content[100:]
        e.clock.advance(601)
        expired = client.get(location, headers={"Authorization": f"Bearer {token}"})
        assert expired.status_code == 401 and expired.json() == {"detail": "Expired signature!"}


# -- faults


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_fail_next_status(small: CdseEmulator, client: httpx.Client, status: int) -> None:
    small.faults.fail_next(2, str(status), retry_after=7)
    first = get(client, small)
    assert first.status_code == status
    if status in (429, 503):
        assert first.headers["retry-after"] == "7"
    assert get(client, small).status_code == status
    assert get(client, small).status_code == 200
    assert small.requests.count("/odata/v1/Products", status) == 2


def test_dropped_connection_and_truncated_body(small: CdseEmulator) -> None:
    small.faults.fail_next(1, "drop")
    with httpx.Client() as c, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c.get(f"{small.catalogue_url}/Products")
    small.faults.fail_next(1, "truncate")
    with httpx.Client() as c, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c.get(f"{small.catalogue_url}/Products", params={"$expand": "Attributes"})
    with httpx.Client() as c:
        assert c.get(f"{small.catalogue_url}/Products").status_code == 200
    assert small.requests.faults["drop"] == 1 and small.requests.faults["truncate"] == 1
    assert small.requests.by_status[0] == 1


def test_delay_and_per_path_rules(small: CdseEmulator, client: httpx.Client) -> None:
    small.faults.fail_next(1, "delay", delay_s=0.3)
    started = time.perf_counter()
    assert get(client, small).status_code == 200
    assert time.perf_counter() - started >= 0.3
    small.faults.set(rate_5xx=1.0, path="/auth")
    assert _password(client, small).status_code in (500, 502, 503)
    assert get(client, small).status_code == 200
    small.faults.clear()
    assert _password(client, small).status_code == 200


def test_rates_are_deterministic_given_the_seed(client: httpx.Client) -> None:
    def statuses(seed: int) -> list[int]:
        with CdseEmulator(products=SyntheticProducts(seed=3, count=30), fault_seed=seed) as e:
            e.faults.set(rate_429=0.3, rate_5xx=0.2)
            return [
                client.get(f"{e.catalogue_url}/Products", params={"$skip": str(i % 7)}).status_code for i in range(60)
            ]

    a, b = statuses(11), statuses(11)
    assert a == b
    assert {429, 200} <= set(a) and any(s >= 500 for s in a)
    assert statuses(12) != a


# -- synthetic products: determinism, shape, malformed records


def test_synthetic_products_are_deterministic() -> None:
    recipe = SyntheticProducts(seed=9, count=300)
    one = CdseEmulator(products=recipe, include_fixtures=False).records(expand=("Attributes", "Assets", "Locations"))
    two = CdseEmulator(products=recipe, include_fixtures=False).records(expand=("Attributes", "Assets", "Locations"))
    assert json.dumps(one) == json.dumps(two)
    other = CdseEmulator(products=SyntheticProducts(seed=10, count=300), include_fixtures=False).ids()
    assert not set(other) & {r["Id"] for r in one}


def _shape(rec: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    attrs = [(a["Name"], a["ValueType"], type(a["Value"]).__name__) for a in rec["Attributes"]]
    return list(rec), attrs


def _synthetic(**kw: Any) -> list[dict[str, Any]]:
    recipe = SyntheticProducts(seed=2, count=400, **kw)
    return CdseEmulator(products=recipe, include_fixtures=False).records(expand=("Attributes", "Assets"))


def test_synthetic_s2_shaped_like_the_recorded_l1c() -> None:
    recorded = fixture("products_s2_l1c_expand_attributes_assets.json")["value"][0]
    for ptype in ("S2MSI1C", "S2MSI2A"):
        recs = _synthetic(collections=("SENTINEL-2",), product_types=(ptype,), legacy_fraction=0.0)
        for rec in recs[:50]:
            assert _shape(rec) == _shape(recorded)
            assert list(rec["Assets"][0]) == list(recorded["Assets"][0])
            assert [list(c) for c in rec["Checksum"]] == [list(c) for c in recorded["Checksum"]]
            assert rec["Name"].startswith(f"S2{rec['Name'][2]}_MSI{'L1C' if ptype == 'S2MSI1C' else 'L2A'}_") and rec[
                "Name"
            ].endswith(".SAFE")
            assert rec["ContentDate"]["Start"] == rec["ContentDate"]["End"]
            assert _t(rec["PublicationDate"]) > _t(rec["ContentDate"]["End"])
            assert _t(rec["ModificationDate"]) >= _t(rec["PublicationDate"])


def test_synthetic_s1_shaped_like_the_recorded_grd_and_legacy_slc() -> None:
    grd = fixture("product_s1_grd_entity_expand_attributes.json")
    grd.pop("@odata.context")
    legacy = fixture("products_s1_slc_legacy_expand_attributes_locations_assets.json")["value"][0]
    recs = _synthetic(collections=("SENTINEL-1",), legacy_fraction=0.3)
    current = [r for r in recs if r["ContentLength"] > 0]
    old = [r for r in recs if r["ContentLength"] == 0]
    assert current and old
    for rec in current:
        keys, attrs = _shape({k: v for k, v in rec.items() if k != "Assets"})
        assert (keys, attrs) == _shape(grd)
        assert next(a["Value"] for a in rec["Attributes"] if a["Name"] == "processingDate").endswith("+00:00")
        assert rec["ContentDate"]["Start"][-8] == "." and rec["GeoFootprint"]["type"] in ("Polygon", "MultiPolygon")
    for rec in old:
        keys, attrs = _shape({k: v for k, v in rec.items() if k != "Assets"})
        assert keys == [k for k in legacy if k not in ("Assets", "Locations")]
        assert [a[:2] for a in attrs] == [a[:2] for a in _shape(legacy)[1]]
        assert rec["Checksum"] == [] and rec["GeoFootprint"]["type"] == "MultiPolygon"
        assert len(rec["ContentDate"]["Start"]) == len("2016-01-07T11:00:59.171Z")
    types = {r["Name"][4:16] for r in recs}
    assert {"IW_SLC__1SDV", "IW_GRDH_1SDV"} <= types
    assert any(r["Name"].endswith("_COG.SAFE") for r in recs)


def test_synthetic_s3_has_the_published_attribute_list() -> None:
    listed = {(a["Name"], a["ValueType"]) for a in fixture("attributes_sentinel3.json")}
    recs = _synthetic(collections=("SENTINEL-3",), legacy_fraction=0.0)
    for rec in recs[:50]:
        got = {(a["Name"], a["ValueType"]) for a in rec["Attributes"]}
        assert got == listed | {("beginningDateTime", "DateTimeOffset"), ("endingDateTime", "DateTimeOffset")}
        assert rec["Name"].endswith(".SEN3") and 0 <= _attrs(rec)["cloudCover"] <= 100
        for a in rec["Attributes"]:
            assert isinstance(
                a["Value"], {"String": str, "Integer": int, "Double": float, "DateTimeOffset": str}[a["ValueType"]]
            )


def test_malformed_records_are_served_and_known(client: httpx.Client) -> None:
    recipe = SyntheticProducts(seed=4, count=300, malformed_fraction=0.2, start="2023-01-01", end="2023-01-03")
    with CdseEmulator(products=recipe, include_fixtures=False) as e:
        bad = e.malformed()
        assert set(bad.values()) == {"no-content-date", "bad-footprint", "bad-attribute"}
        window = "ContentDate/Start ge 2023-01-01 and ContentDate/Start lt 2023-01-03"
        served = [
            r
            for p in all_pages(
                client, f"{e.catalogue_url}/Products", {"$filter": window, "$top": "1000", "$expand": "Attributes"}
            )
            for r in p["value"]
        ]
        by_id = {r["Id"]: r for r in served}
        assert set(bad) <= set(by_id)
        for pid, how in bad.items():
            rec = by_id[pid]
            if how == "no-content-date":
                assert "ContentDate" not in rec
            elif how == "bad-footprint":
                assert rec["GeoFootprint"] is None and "POLYGON" in rec["Footprint"]
            else:
                assert "n/a" in [a["Value"] for a in rec["Attributes"]]
        assert {r["Id"] for r in e.records(window)} == set(by_id)


def test_incremental_changes(client: httpx.Client) -> None:
    with CdseEmulator(products=SyntheticProducts(seed=6, count=100, start="2023-01-01", end="2023-02-01")) as e:
        first = e.ids()[-1]
        e.touch([first], "2030-01-01T00:00:00.000000Z")
        changed = get(client, e, **{"$filter": "ModificationDate gt 2029-01-01"}).json()["value"]
        assert [r["Id"] for r in changed] == [first] and changed[0]["ModificationDate"].startswith("2030-01-01")
        new = e.add(SyntheticProducts(seed=7, count=5, start="2023-02-01", end="2023-02-02"))
        assert set(new) <= set(e.ids("ContentDate/Start ge 2023-02-01"))
        e.remove(new)
        assert not set(new) & set(e.ids())


# -- scale


@pytest.fixture(scope="module")
def big() -> Iterator[CdseEmulator]:
    recipe = SyntheticProducts(seed=1, count=100_000, start="2023-01-01T00:00:00Z", end="2023-03-01T00:00:00Z")
    with CdseEmulator(products=recipe, include_fixtures=False) as e:
        yield e


def test_filtered_pages_over_100k_products(big: CdseEmulator, client: httpx.Client) -> None:
    text = (
        "Collection/Name eq 'SENTINEL-2' and ContentDate/Start ge 2023-02-01T00:00:00.000Z and ContentDate/Start lt "
        "2023-02-08T00:00:00.000Z and Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
        "att/OData.CSC.DoubleAttribute/Value le 40) and OData.CSC.Intersects(area=geography'SRID=4326;"
        "POLYGON((-20 -40, 60 -40, 60 70, -20 70, -20 -40))')"
    )
    params = {
        "$filter": text,
        "$orderby": "ContentDate/Start asc",
        "$top": "1000",
        "$count": "true",
        "$expand": "Attributes",
    }
    started = time.perf_counter()
    pages = all_pages(client, f"{big.catalogue_url}/Products", params)
    elapsed = time.perf_counter() - started
    got = [r["Id"] for p in pages for r in p["value"]]
    assert got == big.ids(text) and pages[0]["@odata.count"] == len(got) > 0
    print(f"\n{len(pages)} pages, {len(got)} of 100k products in {elapsed * 1000:.0f} ms")  # informative only


def test_parallel_windows_with_faults_give_every_product_once() -> None:
    """Four clients page four windows in parallel through 429/5xx/drops/truncation, retrying: nothing lost."""
    recipe = SyntheticProducts(seed=8, count=2000, start="2023-01-01", end="2023-01-05")
    with CdseEmulator(products=recipe, include_fixtures=False, fault_seed=3) as e:
        e.faults.set(rate_429=0.1, retry_after=0, rate_5xx=0.1, rate_drop=0.05, rate_truncate=0.05)
        days = ["2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04", "2023-01-05"]

        def harvest(k: int) -> list[str]:
            window = f"ContentDate/Start ge {days[k]} and ContentDate/Start lt {days[k + 1]}"
            params: dict[str, str] | None = {"$filter": window, "$orderby": "ContentDate/Start asc", "$top": "100"}
            url: str | None = f"{e.catalogue_url}/Products"
            ids: list[str] = []
            with httpx.Client(timeout=10) as c:
                while url:
                    try:
                        r = c.get(url, params=params)
                        body = r.json() if r.status_code == 200 else None
                    except (httpx.TransportError, ValueError):
                        body = None
                    if body is None:
                        continue
                    ids += [x["Id"] for x in body["value"]]
                    url, params = body.get("@odata.nextLink"), None
            return ids

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            got = [i for ids in pool.map(harvest, range(4)) for i in ids]
        assert sorted(got) == sorted(e.ids()) and len(got) == len(set(got))
        assert sum(e.requests.faults.values()) > 0 and e.requests.by_status[429] > 0


def test_quicklooks_with_rewritten_links(client: httpx.Client) -> None:
    with CdseEmulator(products=SyntheticProducts(seed=2, count=50), rewrite_links=True) as e:
        params = {"$filter": "Collection/Name eq 'SENTINEL-2'", "$expand": "Assets", "$top": "1"}
        asset = get(client, e, **params).json()["value"][0]["Assets"][0]
        assert asset["DownloadLink"].startswith(e.catalogue_url + "/Assets(")
        png = client.get(asset["DownloadLink"])
        assert (
            png.status_code == 200 and png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
        )
        l1c = fixture("products_s2_l1c_expand_attributes_assets.json")["value"][0]["Assets"][0]["Id"]
        assert client.get(f"{e.catalogue_url}/Assets({l1c})/$value").status_code == 200
        assert client.get(f"{e.catalogue_url}/Assets(00000000-0000-4000-8000-000000000000)/$value").status_code == 404


def test_command_line_serves_in_the_foreground() -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "emulators.cdse", "--port", "0", "--count", "50", "--no-fixtures"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().strip().removeprefix("export ") for _ in range(3)]
            exports = dict(line.split("=", 1) for line in lines)
            url = exports["EOCAT_CDSE_CATALOGUE_URL"]
            assert httpx.get(f"{url}/Products", params={"$count": "true", "$top": "0"}).json()["@odata.count"] == 50
            assert exports["EOCAT_CDSE_TOKEN_URL"].endswith("/auth/realms/CDSE/protocol/openid-connect/token")
        finally:
            proc.terminate()
            proc.wait(10)
