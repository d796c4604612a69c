"""Encode 12-bit grey frames into a real video with PyAV (ffmpeg's libraries from the ``av`` wheel).

The real S3 NDVI stream is inferred to be 12-bit monochrome HEVC in MP4 at 25 fps
(reference/destine.md §3), so that is the default: ``libx265`` lossless, ``gray12le``, one keyframe
a second. The codec and container are configurable (``ffv1`` in Matroska is lossless too and much
faster to encode); ``crf`` makes x265 lossy, like a production stream would likely be; ``start_offset``
shifts the whole timeline (clients must read the stream's start time, not assume 0).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from emulators.destine.scene import FPS

MEDIA_TYPES = {"mp4": "video/mp4", "matroska": "video/x-matroska", "mpegts": "video/mp2t"}
EXTENSIONS = {"mp4": "mp4", "matroska": "mkv", "mpegts": "ts"}


@dataclass(frozen=True)
class VideoFormat:
    """How streams are encoded: codec, container, GOP length and (for x265) lossless or a CRF."""

    codec: str = "libx265"
    container: str = "mp4"
    gop: int = FPS
    crf: int | None = None  # None = lossless
    start_offset: float = 0.0  # seconds before frame 1 (ffmpeg's MPEG-TS muxer starts at 1.4 s)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.container, "application/octet-stream")

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.container, "bin")


def encode(frames: Iterable[np.ndarray], nx: int, ny: int, fmt: VideoFormat) -> bytes:
    """The encoded video of ``uint16`` frames (codes 0..4095, shape ``(ny, nx)``), frame k at k/25 s."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt.container) as container:
        stream: Any = container.add_stream(fmt.codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = nx, ny, "gray12le"
        stream.codec_context.time_base = Fraction(1, FPS)
        if fmt.codec == "libx265":
            quality = "lossless=1" if fmt.crf is None else f"crf={fmt.crf}"
            stream.options = {"x265-params": f"{quality}:keyint={fmt.gop}:min-keyint={fmt.gop}:log-level=error"}
        else:
            stream.options = {"g": str(fmt.gop)}
        for index, codes in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(codes, dtype=np.uint16), format="gray12le")
            frame.pts = index + round(fmt.start_offset * FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
