"""The emulated GRD SAFE product: XML valid against the schemas xarray-sentinel ships, readable, self-consistent."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx
import numpy as np
import pytest
import xarray as xr
import xmlschema

from emulators.cdse import CdseEmulator
from emulators.cdse.grd.geometry import ecef_of, geodetic_of
from emulators.cdse.grd.safe import GrdScene, render_safe

SCHEMAS = resources.files("xarray_sentinel") / "resources/sentinel1"
SCENE = GrdScene(lon=-3.5, lat=40.2, start=datetime(2024, 3, 1, 18, 10, 5, tzinfo=UTC), ascending=False, noise=0.3)


@pytest.fixture(scope="module")
def safe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grd") / SCENE.name
    for path, data in render_safe(SCENE).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def schema(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / name))


def test_calibration_and_noise_xml_validate_against_the_xsd(safe_dir: Path) -> None:
    calibration = sorted((safe_dir / "annotation/calibration").glob("calibration-*.xml"))
    noise = sorted((safe_dir / "annotation/calibration").glob("noise-*.xml"))
    assert len(calibration) == len(noise) == 2
    for path in calibration:
        schema("s1-level-1-calibration.xsd").validate(str(path))
    for path in noise:
        schema("s1-level-1-noise.xsd").validate(str(path))


def test_annotation_parts_readers_use_validate_strictly(safe_dir: Path) -> None:
    product = schema("s1-level-1-product.xsd")
    for path in sorted((safe_dir / "annotation").glob("*.xml")):
        for query in ("//adsHeader", "//productInformation", "//imageInformation", "//orbitList",
                      "//geolocationGridPointList", "//coordinateConversionList"):  # fmt: skip
            product.decode(str(path), query, validation="strict")


def test_broken_xml_fails_validation(safe_dir: Path, tmp_path: Path) -> None:
    path = next((safe_dir / "annotation/calibration").glob("calibration-*.xml"))
    broken = tmp_path / "broken.xml"
    broken.write_text(path.read_text().replace("<line>0</line>", "<line>zero</line>", 1))
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema("s1-level-1-calibration.xsd").validate(str(broken))


def test_xarray_sentinel_reads_it_consistently(safe_dir: Path) -> None:
    root = xr.open_dataset(safe_dir, engine="sentinel-1")
    assert root.attrs["pass"] == "DESCENDING" and root.attrs["product_type"] == "GRD"
    assert root.attrs["transmitter_receiver_polarisations"] == ["VV", "VH"]
    vv = xr.open_dataset(safe_dir, engine="sentinel-1", group="IW/VV")
    assert vv.measurement.shape == (SCENE.lines, SCENE.samples)
    assert np.array_equal(vv.measurement.values, SCENE.measurement("VV"))
    gcp = xr.open_dataset(safe_dir, engine="sentinel-1", group="IW/VV/gcp")
    # a GCP's lon/lat is where the geometry puts its line/pixel
    line, pixel = int(gcp.line[3]), int(gcp.pixel[4])
    lon, lat, _ = geodetic_of(SCENE.geometry.ground_point(np.array(float(line)), np.array(float(pixel))))
    assert abs(float(gcp.longitude[3, 4]) - lon) < 1e-9 and abs(float(gcp.latitude[3, 4]) - lat) < 1e-9
    # and the geometry inverts: ground → image of that point is the same line/pixel
    back = SCENE.geometry.image_of(ecef_of(lon, lat)[None, :])
    assert abs(back[0][0] - line) < 1e-3 and abs(back[1][0] - pixel) < 1e-3
    noise = xr.open_dataset(safe_dir, engine="sentinel-1", group="IW/VV/noise_range")
    assert float(noise.noiseRangeLut.max()) > 0


def test_the_emulator_serves_the_product_by_nodes_and_zip() -> None:
    with CdseEmulator(include_fixtures=False, grd_scenes=[SCENE]) as emu:
        record = emu.records()[0]
        assert record["Name"] == SCENE.name
        footprint = record["GeoFootprint"]["coordinates"][0]
        assert footprint[0] == footprint[-1] and len(footprint) == 5
        attrs = {a["Name"]: a["Value"] for a in record["Attributes"]}
        assert attrs["orbitDirection"] == "DESCENDING" and attrs["polarisationChannels"] == "VV&VH"
        token = httpx.post(emu.token_url, data={"grant_type": "password", "username": "a", "password": "b",
                                                "client_id": "cdse-public"}).json()["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        url = f"{emu.download_url}/Products({record['Id']})/$value"
        body = httpx.get(url, headers=auth).content
        assert len(body) == record["ContentLength"]
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            assert f"{SCENE.name}/manifest.safe" in zf.namelist()
        listing = httpx.get(f"{emu.catalogue_url}/Products({record['Id']})/Nodes({SCENE.name})/Nodes").json()
        assert {n["Name"] for n in listing["result"]} == {"annotation", "measurement", "manifest.safe"}
        manifest = httpx.get(
            f"{emu.download_url}/Products({record['Id']})/Nodes({SCENE.name})/Nodes(manifest.safe)/$value",
            headers=auth,
        ).content
        assert manifest == render_safe(SCENE).files["manifest.safe"]
