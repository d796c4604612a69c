"""The burst emulators over real HTTP: CDSE ``/Bursts`` and the ASF SearchAPI, serving one ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators.asf import AsfEmulator
from emulators.cdse import CdseEmulator
from emulators.s1truth import SyntheticBursts

ROOT = Path(__file__).resolve().parents[1]
TRUTH = SyntheticBursts(seed=5, frames=4, start="2024-01-01T00:00:00Z", end="2024-07-01T00:00:00Z")
RECORDED = "46577370-83b3-4410-89de-09b4bb23e5dd"


@pytest.fixture(scope="module")
def cdse() -> Iterator[CdseEmulator]:
    with CdseEmulator(include_fixtures=True, bursts=TRUTH) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def asf() -> Iterator[AsfEmulator]:
    with AsfEmulator(bursts=TRUTH, include_fixtures=True, quota=None) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def bursts(http: httpx.Client, cdse: CdseEmulator, **params: str) -> Any:
    response = http.get(f"{cdse.catalogue_url}/Bursts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- CDSE /Bursts ----------------------------------------------------------------------------------


def test_cdse_serves_the_recorded_burst_verbatim(http: httpx.Client, cdse: CdseEmulator) -> None:
    recorded = json.loads((ROOT / "emulators/cdse/fixtures/burst_entity.json").read_text())
    one = http.get(f"{cdse.catalogue_url}/Bursts({RECORDED})")
    assert one.status_code == 200 and one.json() == recorded
    listed = bursts(http, cdse, **{"$filter": "BurstId eq 15805 and SwathIdentifier eq 'IW1'", "$count": "true"})
    recorded.pop("@odata.context")
    assert listed["@odata.count"] == 1 and listed["value"] == [recorded]
    assert http.get(f"{cdse.catalogue_url}/Bursts(00000000-0000-4000-8000-000000000000)").status_code == 404


def test_cdse_filters_on_burst_fields_match_the_truth(http: httpx.Client, cdse: CdseEmulator) -> None:
    truth = [b for b in TRUTH.generate() if b.at_cdse]
    sample = truth[len(truth) // 2]
    cases = {
        f"BurstId eq {sample.relative_burst_id} and SwathIdentifier eq '{sample.subswath}'":
            lambda b: b.relative_burst_id == sample.relative_burst_id and b.subswath == sample.subswath,
        f"ParentProductName eq '{sample.parent}.SAFE' and PolarisationChannels eq '{sample.polarization}'":
            lambda b: b.parent == sample.parent and b.polarization == sample.polarization,
        f"AbsoluteBurstId eq {sample.absolute_burst_id}": lambda b: b.absolute_burst_id == sample.absolute_burst_id,
        f"RelativeOrbitNumber eq {sample.track} and ContentDate/Start lt 2024-02-01T00:00:00Z":
            lambda b: b.track == sample.track and b.start < 1_706_745_600_000_000,
    }  # fmt: skip
    for text, wanted in cases.items():
        expected = sorted(b.cdse_id for b in truth if wanted(b))
        body = bursts(http, cdse, **{"$filter": text, "$top": "1000", "$count": "true"})
        assert expected and body["@odata.count"] == len(expected), text
        assert sorted(r["Id"] for r in body["value"]) == expected, text


def test_cdse_pages_through_every_burst_without_gaps(http: httpx.Client, cdse: CdseEmulator) -> None:
    window = "ContentDate/Start ge 2024-02-01T00:00:00Z and ContentDate/Start lt 2024-04-01T00:00:00Z"
    params: dict[str, str] | None = {"$filter": window, "$orderby": "ContentDate/Start asc", "$top": "200",
                                     "$count": "true"}  # fmt: skip
    url, seen, starts = f"{cdse.catalogue_url}/Bursts", [], []
    while url:
        body = http.get(url, params=params).json()
        seen += [r["Id"] for r in body["value"]]
        starts += [r["ContentDate"]["Start"] for r in body["value"]]
        url, params = body.get("@odata.nextLink"), None
    expected = [b for b in TRUTH.generate() if b.at_cdse and 1_706_745_600 * 10**6 <= b.start < 1_711_929_600 * 10**6]
    assert len(seen) == len(set(seen)) == len(expected) > 500
    assert set(seen) == {b.cdse_id for b in expected} and starts == sorted(starts)


def test_cdse_burst_errors(http: httpx.Client, cdse: CdseEmulator) -> None:
    base = f"{cdse.catalogue_url}/Bursts"
    unknown = http.get(base, params={"$filter": "Collection/Name eq 'SENTINEL-1'"})
    assert unknown.status_code == 400 and "unknown property" in unknown.json()["detail"]
    assert http.get(base, params={"$top": "1001"}).json()["detail"][0]["loc"] == ["query", "$top"]
    assert http.get(base, params={"$expand": "Attributes"}).status_code == 400
    assert http.get(base, params={"$orderby": "PublicationDate desc"}).status_code == 400
    selected = http.get(base, params={"$select": "BurstId,SwathIdentifier", "$top": "1"}).json()["value"][0]
    assert set(selected) == {"@odata.mediaContentType", "Id", "BurstId", "SwathIdentifier"}


# -- ASF SearchAPI ---------------------------------------------------------------------------------


def search(http: httpx.Client, asf: AsfEmulator, **params: str) -> httpx.Response:
    return http.get(asf.search_url, params=params)


def test_asf_serves_the_recorded_bursts_as_searchapi_does(http: httpx.Client, asf: AsfEmulator) -> None:
    fixtures = ROOT / "emulators/asf/fixtures"
    response = search(http, asf, fullBurstID="085_181296_IW1", output="geojson")
    assert response.headers["content-type"] == "application/geo+json; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-disposition"].startswith("attachment; filename=asf-results-")
    assert response.json() == json.loads((fixtures / "search_slc_burst_reconstructed.geojson").read_text())
    lite = search(http, asf, fullburstid="085_181296_IW1", output="jsonlite")  # keys are case-insensitive
    assert lite.json() == json.loads((fixtures / "search_slc_burst_jsonlite_reconstructed.json").read_text())
    assert search(http, asf, relativeBurstID="372326", output="count").text == "1"


def test_asf_filters_match_the_truth_newest_first(http: httpx.Client, asf: AsfEmulator) -> None:
    truth = [b for b in TRUTH.generate() if b.at_asf]
    sample = truth[len(truth) // 3]
    response = search(http, asf, dataset="SLC-BURST", fullBurstID=sample.full_burst_id, polarization="VV",
                      output="geojson")  # fmt: skip
    features = response.json()["features"]
    expected = [b for b in truth if b.full_burst_id == sample.full_burst_id and b.polarization == "VV"]
    assert len(features) == len(expected) > 10
    assert [f["properties"]["fileID"] for f in features] == [f"{b.item_id}-BURST" for b in reversed(expected)]
    stops = [f["properties"]["stopTime"] for f in features]
    assert stops == sorted(stops, reverse=True)
    start, end = "2024-03-01T00:00:00Z", "2024-03-15T00:00:00Z"
    counted = search(http, asf, processingLevel="BURST", start=start, end=end, output="count")
    overlapping = [b for b in truth if b.end >= 1_709_251_200 * 10**6 and b.start <= 1_710_460_800 * 10**6]
    assert int(counted.text) == len(overlapping) > 0
    lon, lat = sample.ring[0]
    wkt = f"POLYGON(({lon - 0.01} {lat - 0.01},{lon + 0.01} {lat - 0.01},{lon + 0.01} {lat + 0.01},{lon - 0.01} " \
          f"{lat + 0.01},{lon - 0.01} {lat - 0.01}))"  # fmt: skip
    found = search(http, asf, dataset="SLC-BURST", intersectsWith=wkt, output="geojson", maxResults="2000").json()
    assert f"{sample.item_id}-BURST" in {f["properties"]["fileID"] for f in found["features"]}
    posted = http.post(asf.search_url, data={"dataset": "SLC-BURST", "relativeBurstID": str(sample.relative_burst_id),
                                             "output": "count"})  # fmt: skip
    as_json = http.post(asf.search_url, json={"dataset": "SLC-BURST", "relativeBurstID": [sample.relative_burst_id],
                                              "output": "count"})  # fmt: skip
    assert posted.text == as_json.text == str(sum(b.relative_burst_id == sample.relative_burst_id for b in truth))
    assert http.head(asf.search_url, params={"dataset": "SLC-BURST", "output": "count"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "report"),
    [
        ({"dataset": "SLC-BURST", "output": "geojson"}, "SearchAPI no longer supports unbounded searches"),
        ({"dataset": "SLC-BURST", "output": "geojson", "maxResults": "0"}, "must be greater than 0"),
        ({"foo": "bar", "output": "geojson"}, "KeyError('Key \"foo\" is not a valid search option.')"),
        ({"platform": "", "output": "geojson"}, 'Empty value passed to search keyword "platform"'),
        ({"relativeBurstID": "abc", "output": "count"}, "Invalid int list: invalid literal for int()"),
        ({"intersectsWith": "POLYGON((1 2", "output": "count"}, "Invalid wkt"),
        ({"dataset": "SLC-BURST", "output": "xml"}, "Output format xml unsupported"),
        (
            {"product_list": "S1_181296_IW1_20220219T125501_VV_10AF-BURST", "platform": "S1", "output": "count"},
            "Cannot use search keywords",
        ),
    ],
)
def test_asf_errors_have_searchapi_shapes(http: httpx.Client, asf: AsfEmulator, params: dict[str, str],
                                          report: str) -> None:  # fmt: skip
    response = search(http, asf, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["type"] == "ERROR" and report in body["error"]["report"]


def test_asf_refuses_queries_past_the_quota_with_429() -> None:
    with AsfEmulator(include_fixtures=True, quota=3, quota_window_s=60) as asf, httpx.Client() as client:
        statuses = [client.get(asf.search_url, params={"output": "count", "dataset": "SLC-BURST"}).status_code
                    for _ in range(5)]  # fmt: skip
        refused = client.get(asf.search_url, params={"output": "count"})
    assert statuses == [200, 200, 200, 429, 429] and refused.status_code == 429
    assert "please reduce your request rate to 3/minute" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 60 and asf.quota.refused == 3
