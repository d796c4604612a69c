"""DestinE fetch plugin: the ``desp`` authenticator and the ``destine-frame`` planner and step.

``destine-frame``: decode frame ``eocat:frame`` of the video stream at the asset's href (PyAV, Range
reads, the stream's own start time), dequantize it with the item's scale and write a Cloud-Optimized
GeoTIFF of NDVI; the fetch machinery then verifies, publishes and records it like any other download.
When a run fetches several frames of one stream, the planner groups them and the first job of that
stream decodes them all in one pass (the others wait for it, then take their COG). Which codes mean
no data is inferred, not documented upstream: ``$EOCAT_DESTINE_NODATA`` = ``zero`` (default), ``none`` or
``below:X``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from catalog.fetch import (
    AuthFailed,
    Delivery,
    FetchSession,
    Job,
    NotFetchable,
    register_auth,
    register_planner,
    register_step,
)
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


class FramePlan:
    """The frames a run will fetch, by stream; decoded COGs wait in a scratch directory until taken."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="eocat-frames-"))
        self.wanted: dict[str, dict[tuple[str, str], tuple[dict[str, Any], str]]] = {}  # href -> (item, key)
        self.decoded: dict[tuple[str, str], Path] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def add(self, item: dict[str, Any], key: str) -> None:
        href = str(item["assets"][key]["href"])
        with self._lock:
            self.wanted.setdefault(href, {})[(str(item["id"]), key)] = (item, key)
            self._locks.setdefault(href, threading.Lock())

    def take(self, job: Job, tokens: DespTokenProvider | None) -> Path:
        """The COG of this job's frame, decoding every planned frame of its stream in one pass if needed."""
        from indexer.destine.materialize import materialize_frames

        href, wanted = job.href, (str(job.item["id"]), job.key)
        with self._lock:
            lock = self._locks.setdefault(href, threading.Lock())
        with lock:
            if wanted not in self.decoded:
                group = dict(self.wanted.get(href, {}))
                group.setdefault(wanted, (job.item, job.key))
                pending = [(k, v) for k, v in group.items() if k not in self.decoded]
                for key in {k for _, (_, k) in pending}:  # materialize_frames takes one asset key per call
                    batch = [(ident, item) for ident, (item, k) in pending if k == key]
                    out = self.scratch / key
                    nodata = os.environ.get("EOCAT_DESTINE_NODATA", "zero")
                    paths = materialize_frames([item for _, item in batch], out, tokens, asset_key=key, nodata=nodata)
                    for (ident, _), path in zip(batch, paths, strict=True):
                        self.decoded[ident] = path
            return self.decoded.pop(wanted)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _plan(session: FetchSession) -> FramePlan:
    plan = session.state.get(PROTOCOL)
    if not isinstance(plan, FramePlan):
        plan = session.state[PROTOCOL] = FramePlan()
    return plan


def frame_planner(targets: list[tuple[dict[str, Any], str]], session: FetchSession) -> None:
    """Group the frames a run will fetch by stream, so each stream is decoded once."""
    plan = _plan(session)
    for item, key in targets:
        plan.add(item, key)


def frame_step(job: Job) -> Delivery:
    """Hand the frame's COG (decoded now, or earlier in its stream's pass) to the machinery."""
    from catalog.raster import COG_MEDIA_TYPE  # rasterio: imported only when a frame is fetched

    auth = job.auth()
    if auth is not None and not isinstance(auth, DespAuth):
        raise NotFetchable(f"asset {job.key!r}: a {PROTOCOL} asset needs the 'desp' auth scheme")
    try:
        path = _plan(job.session).take(job, auth.tokens if auth else None)
    except AuthError as exc:
        raise AuthFailed(str(exc)) from exc
    try:
        job.part.restart()
        size = path.stat().st_size
        job.bar.total(size)
        with path.open("rb") as source:
            while chunk := source.read(CHUNK):
                job.part.write(chunk)
                job.bar.advance(len(chunk))
    finally:
        path.unlink(missing_ok=True)
    return Delivery(disposition=f'attachment; filename="{job.item["id"]}.tif"', media_type=COG_MEDIA_TYPE, length=size)


def register() -> None:
    """Entry point of the ``eocat.fetch`` plugin group."""
    register_auth("desp", DespAuth)
    register_planner(PROTOCOL, frame_planner)
    register_step(PROTOCOL, frame_step)
