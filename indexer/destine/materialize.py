"""Decode DestinE NDVI frames from the video stream and write them as Cloud-Optimized GeoTIFFs.

Frame ``n`` (1-based) sits at ``(n − 1)/fps`` seconds after the stream's own start time, which is read
from the stream (0 for MP4, 1.4 s for ffmpeg's MPEG-TS), never assumed. Seeking lands on a keyframe at
or before the target, but demuxers can overshoot (reference/destine.md §3), so the first decoded frame
is checked and the seek repeated further back until it is not after the target. Many frames of one
stream are decoded in one pass: forward from one seek, with a new seek only across long gaps.

Pixel codes are 12-bit (``gray12le``; ``gray10le``/``gray`` are rescaled to 0..4095). NDVI =
``code/4095 · (max − min) + min`` with the frame's min/max (the asset's ``raster:scale``/``raster:offset``).
No-data is configurable because the real encoding is unknown: ``zero`` (code 0, what the emulator
writes; the default), ``none``, or ``below:X`` (values under X, e.g. the notebooks' ``below:0.05``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np

from catalog.errors import EocatError
from catalog.raster import grid_transform, write_cog
from indexer.errors import AuthError, UpstreamError

LEVELS = 4095
PROTOCOL = "destine-frame"
REWIND_S = (1.0, 2.0, 5.0, 15.0, 60.0)  # how far back to seek again when a seek overshoots
RESEEK_GAP = 100  # frames: decode forward across shorter gaps, seek across longer ones
_GREY_MAX = {
    "gray12le": 4095,
    "gray12be": 4095,
    "gray10le": 1023,
    "gray10be": 1023,
    "gray": 255,
    "gray16le": 65535,
    "gray16be": 65535,
}


class _SeekFailed(Exception):
    """The container did not seek to where it was asked."""


class Tokens(Protocol):
    """DESP tokens (:class:`indexer.destine.auth.DespTokenProvider`): what signing a stream URL needs."""

    streamer_url: str

    def access_token(self) -> str: ...
    def invalidate(self, token: str | None = None) -> None: ...


@dataclass(frozen=True)
class FrameRequest:
    """One frame to materialize: where it is, how to dequantize it and where it lies on Earth."""

    item_id: str
    href: str
    frame: int  # 1-based img_number
    fps: float
    scale_min: float
    scale_max: float
    bbox: tuple[float, float, float, float]
    shape: tuple[int, int]  # (ny, nx)
    tags: Mapping[str, str]

    @classmethod
    def from_item(cls, item: Mapping[str, Any], asset_key: str = "ndvi") -> FrameRequest:
        """The request an item's frame asset describes (EocatError when it is not a destine-frame asset)."""
        asset = (item.get("assets") or {}).get(asset_key)
        if not asset or asset.get("eocat:protocol") != PROTOCOL:
            raise EocatError(f"item {item.get('id')!r} has no {PROTOCOL!r} asset {asset_key!r}")
        properties = item.get("properties") or {}
        band = (asset.get("bands") or [{}])[0]
        offset = float(band.get("raster:offset", properties.get("destine:scale_min")))
        scale = band.get("raster:scale")
        high = offset + float(scale) * LEVELS if scale is not None else float(properties["destine:scale_max"])
        west, south, east, north = properties.get("proj:bbox") or item["bbox"]
        ny, nx = properties["proj:shape"]
        tags = {
            "item_id": str(item.get("id")),
            "img_number": str(asset["eocat:frame"]),
            "datetime": str(properties.get("datetime")),
            "satellite": str(properties.get("platform")),
            "continent": str(properties.get("destine:continent")),
            "scale_min": repr(offset),
            "scale_max": repr(high),
        }
        return cls(
            str(item["id"]),
            str(asset["href"]),
            int(asset["eocat:frame"]),
            float(asset.get("eocat:fps", 25)),
            float(offset),
            float(high),
            (west, south, east, north),
            (int(ny), int(nx)),
            tags,
        )


def nodata_mask(rule: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(codes, values) → mask of no-data`` for a rule: ``zero``, ``none`` or ``below:X``."""
    if rule == "zero":
        return lambda codes, values: codes == 0
    if rule == "none":
        return lambda codes, values: np.zeros(codes.shape, dtype=bool)
    if rule.startswith("below:"):
        try:
            threshold = float(rule.removeprefix("below:"))
        except ValueError:
            raise EocatError(f"nodata rule {rule!r}: below:X needs a number") from None
        return lambda codes, values: values < threshold
    raise EocatError(f"unknown nodata rule {rule!r} (zero, none or below:X)")


def dequantize(codes: np.ndarray, low: float, high: float, rule: str = "zero") -> np.ndarray:
    """12-bit codes → float32 values with NaN for no-data."""
    values = (codes.astype(np.float64) / LEVELS * (high - low) + low).astype(np.float32)
    values[nodata_mask(rule)(codes, values)] = np.nan
    return values


def decode_frames(
    href: str, frames: Sequence[int], *, fps: float = 25.0, token: str | None = None, timeout: float = 60.0
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame number, 12-bit codes)`` for the 1-based ``frames`` of a stream, in stream order, one pass.

    Seeks to each run of wanted frames (a new seek only across gaps of more than ``RESEEK_GAP`` frames);
    a container that cannot seek over HTTP (e.g. MPEG-TS) is decoded forward from its start instead.
    """
    wanted = sorted(set(frames))
    if not wanted:
        return
    if wanted[0] < 1:
        raise EocatError(f"frame numbers start at 1, not {wanted[0]}")
    options = {"headers": f"Authorization: Bearer {token}\r\n"} if token else {}
    try:
        yield from _decode(href, wanted, fps, options, timeout)
    except av.error.FFmpegError as exc:
        raise UpstreamError(
            f"cannot read the DestinE stream {_safe(href)} (the server must honour HTTP Range requests): {_reason(exc)}"
        ) from None


def _decode(
    href: str, wanted: list[int], fps: float, options: dict[str, str], timeout: float
) -> Iterator[tuple[int, np.ndarray]]:
    container = _open(href, options, timeout)
    try:
        stream = container.streams.video[0]
        base = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        sequential: Iterator[tuple[int, Any]] | None = None
        position = 0
        while position < len(wanted):
            target = wanted[position]
            frames_iter: Iterator[tuple[int, Any]]
            if sequential is None:
                try:
                    frames_iter = _seek(container, stream, base, target, fps)
                except (av.error.FFmpegError, _SeekFailed):  # not seekable here: decode everything from the start, once
                    container.close()
                    container = _open(href, {**options, "seekable": "0"}, timeout)  # no probing at the end
                    stream = container.streams.video[0]
                    sequential = ((_index(f, base, fps), f) for f in container.decode(stream))
            if sequential is not None:
                frames_iter = sequential
            for index, frame in frames_iter:
                if index < target:
                    continue
                if index > target:
                    raise UpstreamError(
                        f"{_safe(href)}: frame {target} is missing (the decoder went from before it to frame {index})"
                    )
                yield target, _codes(frame)
                position += 1
                if position == len(wanted):
                    break
                target = wanted[position]
                if sequential is None and target - index > RESEEK_GAP:
                    break
            else:
                raise UpstreamError(f"{_safe(href)} ended before frame {target}")
    finally:
        container.close()


def _open(href: str, options: dict[str, str], timeout: float) -> Any:
    try:
        container = av.open(href, options=options, timeout=timeout)
    except av.error.FFmpegError as exc:
        raise UpstreamError(f"cannot open the DestinE stream {_safe(href)}: {_reason(exc)}") from None
    if not container.streams.video:
        container.close()
        raise UpstreamError(f"{_safe(href)} has no video stream")
    return container


def _seek(container: Any, stream: Any, base: float, target: int, fps: float) -> Iterator[tuple[int, Any]]:
    """Seek to the last keyframe at or before the 1-based ``target``; (1-based index, frame) from there.

    The seek and the first decode happen now (errors surface here); a seek that overshoots is repeated
    further back, and from the stream's start as a last resort.
    """
    goal = (target - 1) / fps
    for rewind in (0.0, *REWIND_S):
        seconds = max(0.0, goal - rewind)
        container.seek(int((base + seconds) / stream.time_base), stream=stream, backward=True, any_frame=False)
        decoded = container.decode(stream)
        first = next(decoded, None)
        if first is None:  # a seek that lands nowhere (seen with MPEG-TS over HTTP)
            raise _SeekFailed
        index = _index(first, base, fps)
        if index <= target or seconds == 0.0:
            return itertools.chain([(index, first)], ((_index(f, base, fps), f) for f in decoded))
    raise AssertionError("unreachable")


def _index(frame: Any, base: float, fps: float) -> int:
    if frame.time is None:
        raise UpstreamError("the stream's frames carry no timestamps")
    return round((float(frame.time) - base) * fps) + 1


def _codes(frame: Any) -> np.ndarray:
    name = frame.format.name
    if name not in _GREY_MAX:
        return np.asarray(frame.to_ndarray(format="gray12le"), dtype=np.uint16)
    codes = np.asarray(frame.to_ndarray(), dtype=np.uint16)
    top = _GREY_MAX[name]
    if top == LEVELS:
        return codes
    return np.rint(codes.astype(np.float64) * LEVELS / top).astype(np.uint16)


def frame_arrays(
    requests: Sequence[FrameRequest], *, tokens: Tokens | None = None, nodata: str = "zero"
) -> Iterator[tuple[FrameRequest, np.ndarray]]:
    """NDVI arrays of many frames (each stream decoded in one pass), in stream order.

    The catalogue holds each stream's lasting address; with ``tokens`` the streamer is asked for a freshly
    signed URL first (:func:`indexer.destine.client.signed_stream_url`); without, only an already signed href opens.
    """
    from indexer.destine.client import signed_stream_url

    by_stream: dict[str, list[FrameRequest]] = {}
    for request in requests:
        by_stream.setdefault(request.href, []).append(request)
    for href, group in by_stream.items():
        by_frame: dict[int, list[FrameRequest]] = {}
        for request in group:
            by_frame.setdefault(request.frame, []).append(request)
        first = group[0]
        if tokens is None and "?" not in href:
            raise AuthError(
                f"the DestinE stream {href} is signed at fetch time: give DESP credentials "
                "(DESP_USERNAME/DESP_PASSWORD or ~/.netrc)"
            )
        url = (
            href if tokens is None else signed_stream_url(tokens, href, first.tags["continent"], first.tags["datetime"])
        )
        for number, codes in decode_frames(url, list(by_frame), fps=first.fps):
            for request in by_frame[number]:
                if codes.shape != request.shape:
                    raise UpstreamError(
                        f"frame {number} of {_safe(href)} is {codes.shape[1]}x{codes.shape[0]}, "
                        f"the item says {request.shape[1]}x{request.shape[0]}"
                    )
                yield request, dequantize(codes, request.scale_min, request.scale_max, nodata)


def materialize_frames(
    items: Sequence[Mapping[str, Any]],
    dest_dir: str | Path,
    token_provider: Tokens | None = None,
    *,
    asset_key: str = "ndvi",
    nodata: str = "zero",
) -> list[Path]:
    """Write one COG per item's frame into ``dest_dir`` (atomically); returns the paths in item order."""
    requests = [FrameRequest.from_item(item, asset_key) for item in items]
    written: dict[str, Path] = {}
    for request, values in frame_arrays(requests, tokens=token_provider, nodata=nodata):
        west, south, east, north = request.bbox
        ny, nx = request.shape
        path = Path(dest_dir) / f"{request.item_id}.tif"
        write_cog(
            path,
            [values],
            transform=grid_transform((west, south, east, north), nx, ny),
            crs="EPSG:4326",
            nodata=math.nan,
            tags={**request.tags, "nodata_rule": nodata, "source": _safe(request.href)},
            descriptions=["ndvi"],
        )
        written[request.item_id] = path
    return [written[r.item_id] for r in requests]


def _reason(exc: Exception) -> str:
    """An FFmpeg error without the URL it names (which may carry a signature)."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def _safe(href: str) -> str:
    """A stream URL fit for messages: its query (a signature) is hidden."""
    return href.split("?", 1)[0] + ("?…" if "?" in href else "")
