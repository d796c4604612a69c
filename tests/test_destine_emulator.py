"""The DestinE emulator over real HTTP: metadata API, DESP login, signed video streams with Range, truth."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import httpx
import numpy as np
import pytest

from emulators.destine import GRIDS, DestinEEmulator
from emulators.destine.scene import LEVELS, quantize
from indexer.auth import Credentials
from indexer.destine.auth import DespTokenProvider
from indexer.errors import AuthError
from tests.destine_support import END, START

TIMEOUT = 120.0  # the first stream request encodes the video (slow on a loaded machine)


@pytest.fixture(scope="module")
def emulator() -> Iterator[DestinEEmulator]:
    with DestinEEmulator(start=START, end=END, credentials={"alice": "s3cret"}) as emu:
        yield emu


@pytest.fixture
def tokens(emulator: DestinEEmulator) -> Iterator[DespTokenProvider]:
    with DespTokenProvider(
        Credentials("alice", "s3cret"), auth_url=emulator.auth_url, streamer_url=emulator.base_url
    ) as provider:
        yield provider


def _metadata(emulator: DestinEEmulator, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{emulator.base_url}/api/streaming/s3/data/metadata/Europe"
    return httpx.get(url, params=params, headers=headers, timeout=TIMEOUT)


def test_metadata_needs_a_desp_token(emulator: DestinEEmulator, tokens: DespTokenProvider) -> None:
    assert _metadata(emulator, None).status_code == 401
    assert _metadata(emulator, "forged.token.value").status_code == 401
    response = _metadata(emulator, tokens.access_token(), start_date="20210605T0000", end_date="20210606T2359")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"stream_path", "nx", "ny", "bbox", "images"}
    grid = GRIDS["Europe"]
    assert (body["nx"], body["ny"], body["bbox"]) == (grid.nx, grid.ny, list(grid.bbox))
    expected = [f for f in emulator.streams["Europe"].frames if f.start.strftime("%Y%m%d") in ("20210605", "20210606")]
    assert [i["img_number"] for i in body["images"]] == [f.img_number for f in expected]
    assert {i["satellite"] for i in body["images"]} <= {"S3A", "S3B"}
    assert all(i["img_min_value"] < i["img_max_value"] for i in body["images"])
    assert body["images"][0]["img_start_date"] == expected[0].start.strftime("%Y-%m-%dT%H:%M:%S")


def test_metadata_rejects_bad_dates_and_unknown_continents(
    emulator: DestinEEmulator, tokens: DespTokenProvider
) -> None:
    assert _metadata(emulator, tokens.access_token(), start_date="2021-06-05").status_code == 422
    url = f"{emulator.base_url}/api/streaming/s3/data/metadata/Atlantis"
    response = httpx.get(url, headers={"Authorization": f"Bearer {tokens.access_token()}"}, timeout=TIMEOUT)
    assert response.status_code == 404 and "not found" in response.text.lower()


def test_login_with_a_wrong_password_is_refused_with_the_pages_reason(emulator: DestinEEmulator) -> None:
    provider = DespTokenProvider(
        Credentials("alice", "wrong"), auth_url=emulator.auth_url, streamer_url=emulator.base_url
    )
    with provider, pytest.raises(AuthError, match="Invalid username or password"):
        provider.access_token()


def test_login_is_a_browser_flow_with_code_and_refresh(emulator: DestinEEmulator, tokens: DespTokenProvider) -> None:
    first = tokens.access_token()
    assert tokens.access_token() == first  # reused while valid
    assert tokens.grants == ["authorization_code"]
    tokens.invalidate()
    second = tokens.access_token()
    assert second != first and tokens.grants == ["authorization_code", "refresh_token"]
    assert _metadata(emulator, second).status_code == 200


def test_streams_are_signed_and_honour_range(emulator: DestinEEmulator) -> None:
    url = emulator.stream_path("Africa")
    whole = httpx.get(url, timeout=TIMEOUT)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    size = len(whole.content)
    part = httpx.get(url, headers={"Range": "bytes=100-199"}, timeout=TIMEOUT)
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    tail = httpx.get(url, headers={"Range": "bytes=-10"}, timeout=TIMEOUT)
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    assert httpx.get(url, headers={"Range": f"bytes={size}-"}, timeout=TIMEOUT).status_code == 416
    assert httpx.get(url.split("?")[0], timeout=TIMEOUT).status_code == 403
    assert httpx.get(url.split("?")[0] + "?sig=0000", timeout=TIMEOUT).status_code == 403


def test_the_stream_is_a_12_bit_25_fps_video_of_the_quantized_truth(emulator: DestinEEmulator) -> None:
    stream = emulator.streams["Africa"]
    with av.open(io.BytesIO(emulator.video_bytes("Africa"))) as container:
        video = container.streams.video[0]
        assert video.average_rate == 25 and video.codec_context.name == "hevc"
        for index, frame in enumerate(container.decode(video)):
            assert frame.format.name == "gray12le"
            assert round(float(frame.time) * 25) == index
            if index in (0, len(stream) - 1):
                codes = frame.to_ndarray()
                assert codes.shape == (GRIDS["Africa"].ny, GRIDS["Africa"].nx)
                np.testing.assert_array_equal(codes, stream.quantized(index + 1))
    assert index + 1 == len(stream)


def test_quantization_reserves_zero_for_nodata_and_is_within_half_a_step(emulator: DestinEEmulator) -> None:
    stream = emulator.streams["Europe"]
    for number in (1, len(stream) // 2, len(stream)):
        truth, frame = stream.truth(number), stream.frames[number - 1]
        codes = quantize(truth, frame)
        assert np.all((codes == 0) == np.isnan(truth))
        assert codes.max() == LEVELS
        step = (frame.max_value - frame.min_value) / LEVELS
        decoded = codes / LEVELS * (frame.max_value - frame.min_value) + frame.min_value
        valid = ~np.isnan(truth)
        assert np.abs(decoded[valid] - truth[valid]).max() <= step / 2 + 1e-9


def test_truth_endpoint_and_continents_on_different_grids(emulator: DestinEEmulator) -> None:
    response = httpx.get(f"{emulator.base_url}/_emulator/truth/Europe/7.npy", timeout=TIMEOUT)
    assert response.status_code == 200
    np.testing.assert_array_equal(np.load(io.BytesIO(response.content)), emulator.truth("Europe", 7))
    europe, africa = emulator.truth("Europe", 1), emulator.truth("Africa", 1)
    assert europe.shape != africa.shape
    assert GRIDS["Europe"].bbox != GRIDS["Africa"].bbox
    assert 0.05 < np.isnan(europe).mean() < 0.8  # sea and clouds, but mostly land
    valid = europe[~np.isnan(europe)]
    assert valid.min() >= -0.2 and valid.max() <= 0.95 and valid.std() > 0.05


def test_seasonal_change_is_opposite_across_the_equator(emulator: DestinEEmulator) -> None:
    stream = emulator.streams["Africa"]
    first, last = stream.truth(1), stream.truth(len(stream))
    rows = np.arange(first.shape[0])
    north, south = rows < first.shape[0] // 4, rows > 3 * first.shape[0] // 4
    change = np.nanmean(last - first, axis=1)
    assert np.nanmean(change[north]) > 0 > np.nanmean(change[south])  # June -> mid July: north greener
