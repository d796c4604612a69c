"""DestinE fetch plugin: the ``desp`` authenticator and the ``destine-frame`` step.

``destine-frame``: decode frame ``eocat:frame`` of the video stream at the asset's href (PyAV, Range
reads, the stream's own start time), dequantize it with the item's scale and write a Cloud-Optimized
GeoTIFF of NDVI; the fetch machinery then verifies, publishes and records it like any other download.
A bulk fetch decodes frame by frame here; ``eocat fetch-frames`` decodes many frames of one stream in one pass.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from catalog.fetch import AuthFailed, Delivery, FetchSession, Job, NotFetchable, register_auth, register_step
from indexer.destine.auth import DespTokenProvider
from indexer.endpoints import endpoint
from indexer.errors import AuthError

CHUNK = 1 << 20
PROTOCOL = "destine-frame"


class DespAuth:
    """The ``desp`` scheme: one DESP token provider per run; the Bearer goes to the streamer host only."""

    def __init__(self, session: FetchSession, document: Mapping[str, Any]) -> None:
        self.tokens = DespTokenProvider.from_environment()
        self.host = httpx.URL(endpoint("destine_streamer")).netloc

    def headers(self, url: httpx.URL) -> dict[str, str]:
        if url.netloc != self.host:
            return {}
        return {"Authorization": f"Bearer {self.tokens.access_token()}"}

    def renew(self, response: httpx.Response | None) -> bool:
        self.tokens.invalidate()
        return True

    def close(self) -> None:
        self.tokens.close()


def frame_step(job: Job) -> Delivery:
    """Decode the asset's frame into a COG and hand its bytes to the machinery."""
    # imported here: PyAV, numpy and rasterio cost ~100 MiB, which fetches of other kinds need not pay
    from catalog.raster import COG_MEDIA_TYPE
    from indexer.destine.materialize import materialize_frames

    auth = job.auth()
    if auth is not None and not isinstance(auth, DespAuth):
        raise NotFetchable(f"asset {job.key!r}: a {PROTOCOL} asset needs the 'desp' auth scheme")
    try:
        with tempfile.TemporaryDirectory(prefix="eocat-frame-") as tmp:
            (path,) = materialize_frames([job.item], tmp, auth.tokens if auth else None, asset_key=job.key)
            job.part.restart()
            size = path.stat().st_size
            job.bar.total(size)
            with Path(path).open("rb") as source:
                while chunk := source.read(CHUNK):
                    job.part.write(chunk)
                    job.bar.advance(len(chunk))
    except AuthError as exc:
        raise AuthFailed(str(exc)) from exc
    return Delivery(disposition=f'attachment; filename="{job.item["id"]}.tif"', media_type=COG_MEDIA_TYPE, length=size)


def register() -> None:
    """Entry point of the ``eocat.fetch`` plugin group."""
    register_auth("desp", DespAuth)
    register_step(PROTOCOL, frame_step)
