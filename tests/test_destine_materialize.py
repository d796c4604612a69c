"""Materializing DestinE frames: real decoding over HTTP (Range) from the emulator's video, COGs vs the truth."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import rasterio

from catalog.errors import EocatError
from catalog.raster import grid_transform
from catalog.store import Store
from emulators.destine import DestinEEmulator, VideoFormat
from indexer.auth import Credentials
from indexer.destine import materialize
from indexer.destine.auth import DespTokenProvider
from indexer.destine.materialize import decode_frames, dequantize, materialize_frames, nodata_mask
from indexer.errors import UpstreamError
from tests.destine_support import END, START, harvest, stored_items


def _harvest(emulator: DestinEEmulator, store: Store) -> list[dict[str, Any]]:
    harvest(store, emulator, tuple(emulator.streams), "2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z")
    return stored_items(store)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DestinEEmulator, list[dict[str, Any]]]]:
    with DestinEEmulator(start=START, end=END) as emulator, Store(tmp_path_factory.mktemp("m") / "e.db") as store:
        yield emulator, _harvest(emulator, store)


@pytest.fixture(scope="module")
def tokens(world: tuple[DestinEEmulator, list[dict[str, Any]]]) -> Iterator[DespTokenProvider]:
    """The user's DESP login: what the fetch signs the stored (unsigned) stream addresses with."""
    emulator, _ = world
    with DespTokenProvider(
        Credentials("u", "p"), auth_url=emulator.auth_url, streamer_url=emulator.base_url
    ) as provider:
        yield provider


def _check_cog(path: Path, item: dict[str, Any], truth: np.ndarray) -> None:
    properties = item["properties"]
    step = (properties["destine:scale_max"] - properties["destine:scale_min"]) / 4095
    ny, nx = properties["proj:shape"]
    with rasterio.open(path) as dataset:
        assert dataset.crs.to_epsg() == 4326
        assert dataset.shape == (ny, nx) and dataset.count == 1 and dataset.dtypes[0] == "float32"
        assert dataset.transform.almost_equals(grid_transform(item["bbox"], nx, ny))
        assert list(dataset.transform)[:6] == pytest.approx(
            [properties["proj:transform"][i] for i in (0, 1, 2, 3, 4, 5)]
        )
        assert np.isnan(dataset.nodata)
        assert dataset.tags()["img_number"] == str(properties["destine:img_number"])
        assert dataset.profile["tiled"] and dataset.profile["compress"] == "deflate"
        values = dataset.read(1)
    np.testing.assert_array_equal(np.isnan(values), np.isnan(truth))
    valid = ~np.isnan(truth)
    assert np.abs(values[valid] - truth[valid]).max() <= step  # within one quantization step everywhere


@pytest.mark.parametrize("continent", ["Europe", "Africa"])
def test_frames_at_start_middle_and_end_match_the_truth(
    world: tuple[DestinEEmulator, list[dict[str, Any]]], tokens: DespTokenProvider, tmp_path: Path, continent: str
) -> None:
    emulator, items = world
    mine = [i for i in items if i["properties"]["destine:continent"] == continent]
    assert len(mine) == len(emulator.streams[continent])
    chosen = [mine[0], mine[len(mine) // 2], mine[-1]]
    assert {i["properties"]["platform"] for i in mine[:4]} == {"sentinel-3a", "sentinel-3b"}
    paths = materialize_frames(chosen, tmp_path, tokens)
    assert [p.name for p in paths] == [f"{i['id']}.tif" for i in chosen]
    for item, path in zip(chosen, paths, strict=True):
        _check_cog(path, item, emulator.truth(continent, item["properties"]["destine:img_number"]))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_many_frames_of_one_stream_are_decoded_in_one_pass(
    world: tuple[DestinEEmulator, list[dict[str, Any]]],
    tokens: DespTokenProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator, items = world
    europe = [i for i in items if i["properties"]["destine:continent"] == "Europe"]
    chosen = europe[3:9] + europe[40:42] + [europe[5]]  # adjacent frames, a gap, and a repeat
    opened: list[str] = []
    real_open = av.open
    monkeypatch.setattr(materialize.av, "open", lambda url, **kw: (opened.append(url), real_open(url, **kw))[1])
    paths = materialize_frames(chosen, tmp_path, tokens)
    assert len(opened) == 1
    for item, path in zip(chosen, paths, strict=True):
        _check_cog(path, item, emulator.truth("Europe", item["properties"]["destine:img_number"]))


def test_decode_frames_yields_exactly_the_asked_frames(world: tuple[DestinEEmulator, list[dict[str, Any]]]) -> None:
    emulator, _ = world
    stream = emulator.streams["Africa"]
    wanted = [len(stream), 1, 26, 25, 27, 24 + 25 * 1]
    got = list(decode_frames(emulator.stream_path("Africa"), wanted))
    assert [n for n, _ in got] == sorted(set(wanted))
    for number, codes in got:
        np.testing.assert_array_equal(codes, stream.quantized(number))


@pytest.mark.parametrize(
    "video",
    [
        VideoFormat(codec="ffv1", container="matroska"),
        VideoFormat(codec="libx265", container="mpegts", start_offset=1.4),  # ffmpeg's TS start time
        VideoFormat(codec="libx265", container="mp4", start_offset=3.0, gop=50),
    ],
    ids=["ffv1-mkv", "hevc-ts-1.4s", "hevc-mp4-3s-gop50"],
)
def test_other_codecs_containers_and_start_times(video: VideoFormat, tmp_path: Path) -> None:
    from datetime import date

    with DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 6, 25), video=video) as emulator:
        stream = emulator.streams["Africa"]
        wanted = [1, 2, len(stream) // 2, len(stream)]
        got = dict(decode_frames(emulator.stream_path("Africa"), wanted))
        assert sorted(got) == wanted
        for number in wanted:
            np.testing.assert_array_equal(got[number], stream.quantized(number))


def test_a_signed_stream_needs_no_token_but_an_unsigned_one_does(
    world: tuple[DestinEEmulator, list[dict[str, Any]]],
) -> None:
    emulator, _ = world
    unsigned = emulator.stream_path("Europe").split("?")[0]
    with pytest.raises(UpstreamError, match="cannot open the DestinE stream"):
        list(decode_frames(unsigned, [1]))
    with DespTokenProvider(Credentials("u", "p"), auth_url=emulator.auth_url, streamer_url=emulator.base_url) as tokens:
        [(_number, codes)] = decode_frames(unsigned, [2], token=tokens.access_token())
    np.testing.assert_array_equal(codes, emulator.streams["Europe"].quantized(2))


def test_an_origin_without_range_support_gives_a_clear_error(tmp_path: Path) -> None:
    from datetime import date

    with (
        DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 6, 10), range_support=False) as emulator,
        pytest.raises(UpstreamError, match="DestinE stream"),
    ):
        list(decode_frames(emulator.stream_path("Europe"), [10]))


def test_frames_past_the_end_are_an_error(world: tuple[DestinEEmulator, list[dict[str, Any]]]) -> None:
    emulator, _ = world
    beyond = len(emulator.streams["Africa"]) + 3
    with pytest.raises(UpstreamError, match=f"ended before frame {beyond}"):
        list(decode_frames(emulator.stream_path("Africa"), [2, beyond]))
    with pytest.raises(EocatError, match="start at 1"):
        list(decode_frames(emulator.stream_path("Africa"), [0]))


def test_nodata_rules() -> None:
    codes = np.array([[0, 1, 2048, 4095]], dtype=np.uint16)
    values = dequantize(codes, -0.2, 0.9)
    assert (
        np.isnan(values[0, 0])
        and values[0, 3] == pytest.approx(0.9)
        and values[0, 1] == pytest.approx(-0.2 + 1.1 / 4095)
    )
    assert not np.isnan(dequantize(codes, -0.2, 0.9, "none")).any()
    below = dequantize(codes, -0.2, 0.9, "below:0.05")
    assert np.isnan(below[0, :2]).all() and not np.isnan(below[0, 2:]).any()
    assert nodata_mask("zero")(codes, values).sum() == 1
    with pytest.raises(EocatError, match="unknown nodata rule"):
        nodata_mask("sometimes")
    with pytest.raises(EocatError, match="needs a number"):
        nodata_mask("below:x")


def test_items_without_a_frame_asset_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EocatError, match="no 'destine-frame' asset"):
        materialize_frames([{"id": "x", "assets": {"ndvi": {"href": "https://x/y.tif"}}}], tmp_path)


class _Frame:
    def __init__(self, time: float) -> None:
        self.time = time


class _OvershootingContainer:
    """Seeks land on 'keyframes' every second, except the first seek, which lands 0.16 s after its target."""

    def __init__(self) -> None:
        self.seeks: list[float] = []

    def seek(self, offset: int, **_: object) -> None:
        self.seeks.append(offset / 1000)

    def decode(self, _stream: object) -> Iterator[_Frame]:
        asked = self.seeks[-1]
        start = asked + 0.16 if len(self.seeks) == 1 else float(int(asked))
        return iter(_Frame(round(start + k * 0.04, 2)) for k in range(100))


def test_a_seek_that_overshoots_is_repeated_further_back() -> None:
    from fractions import Fraction
    from types import SimpleNamespace

    container = _OvershootingContainer()
    stream = SimpleNamespace(time_base=Fraction(1, 1000))
    frames = materialize._seek(container, stream, 0.0, target=133, fps=25)  # frame 133 is at 5.28 s
    first_index, _ = next(frames)
    assert container.seeks == [5.28, 4.28] and first_index == 101  # the keyframe at 4 s
    assert [index for index, _ in itertools.islice(frames, 40)][31] == 133


def test_errors_do_not_show_the_stream_signature(world: tuple[DestinEEmulator, list[dict[str, Any]]]) -> None:
    emulator, _ = world
    forged = emulator.stream_path("Europe").replace("sig=", "sig=0")
    with pytest.raises(UpstreamError) as caught:
        list(decode_frames(forged, [1]))
    assert "sig=" not in str(caught.value) and "s3-ndvi-Europe.mp4?…" in str(caught.value)
