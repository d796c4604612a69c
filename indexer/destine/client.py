"""The DestinE streamer's S3 NDVI metadata API as a harvest source (one STAC item per video frame).

``GET {streamer}/api/streaming/s3/data/metadata/{continent}?start_date=YYYYmmddTHHMM&end_date=…`` with a
DESP Bearer token answers the stream and every frame in the window (no paging). The API's dates have
minute precision and its bounds' inclusiveness is not documented, so each harvest window ``[start, end)``
asks for the minute-widened range and keeps exactly the frames inside the window: windows that start
between frames, or in the middle of a minute, count each frame once. A 401 (expired token) is answered
by refreshing the token and asking again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from catalog.errors import EocatError
from catalog.http import RetryPolicy, new_client, request
from catalog.store import Store
from catalog.timeutil import parse_canonical
from indexer.destine.auth import DespTokenProvider
from indexer.destine.mapping import COLLECTION_ID, collection, frame_item, parse_start, record_id
from indexer.endpoints import endpoint
from indexer.errors import UpstreamError
from indexer.harvest import HarvestReport, Window, harvest

API_DATE = "%Y%m%dT%H%M"
METADATA_PATH = "/api/streaming/s3/data/metadata/{continent}"


def fetch_metadata(
    client: httpx.Client,
    tokens: DespTokenProvider,
    continent: str,
    first: datetime | None,
    last: datetime | None,
    *,
    streamer_url: str | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, Any]:
    """The metadata response for ``first <= img_start_date <= last`` (minute precision, either open)."""
    url = (streamer_url or endpoint("destine_streamer")) + METADATA_PATH.format(continent=quote(continent, safe=""))
    params = {k: v.strftime(API_DATE) for k, v in (("start_date", first), ("end_date", last)) if v is not None}
    for attempt in (1, 2, 3):
        token = tokens.access_token()
        response = request(
            client, "GET", url, params=params, headers={"Authorization": f"Bearer {token}"}, policy=policy
        )
        if response.status_code == 401 and attempt < 3:
            tokens.invalidate(token)
            continue
        if response.status_code == 404:
            raise UpstreamError(f"DestinE has no S3 NDVI stream for continent {continent!r} (HTTP 404)")
        if response.status_code != 200:
            raise UpstreamError(
                f"DestinE metadata for {continent} answered HTTP {response.status_code}: {response.text[:300]}"
            )
        try:
            document = response.json()
        except ValueError:
            raise UpstreamError(f"DestinE metadata for {continent} is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("images", []), list):
            raise UpstreamError(f"DestinE metadata for {continent} has no images list")
        return document
    raise UpstreamError(f"DestinE refused a fresh DESP token for {continent} (HTTP 401)")


class DestineFrames:
    """A :class:`indexer.harvest.Source` over one continent's stream."""

    name = "destine"
    max_per_window = 1_000_000  # no paging: one response holds the window

    def __init__(
        self,
        continent: str,
        tokens: DespTokenProvider,
        *,
        client: httpx.Client | None = None,
        streamer_url: str | None = None,
    ) -> None:
        self.continent, self.tokens = continent, tokens
        self.streamer_url = (streamer_url or endpoint("destine_streamer")).rstrip("/")
        self._client = client or new_client(max_connections=4)
        self._cache: dict[Window, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def fingerprint(self) -> dict[str, Any]:
        return {"continent": self.continent, "streamer": self.streamer_url}

    def records(self, window: Window) -> list[dict[str, Any]]:
        """The window's frames, each with its stream context, exactly ``start <= time < end``."""
        start, end = _moment(window.start), _moment(window.end)
        first = start.replace(second=0, microsecond=0)
        last = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
        document = fetch_metadata(
            self._client, self.tokens, self.continent, first, last, streamer_url=self.streamer_url
        )
        stream = {key: document.get(key) for key in ("stream_path", "nx", "ny", "bbox")}
        chosen = []
        for image in document.get("images", []):
            try:
                inside = start <= parse_start((image or {}).get("img_start_date")) < end
            except EocatError:
                inside = True  # malformed: keep it, so it is counted and reported as rejected
            if inside:
                chosen.append({"image": image, "stream": stream, "continent": self.continent})
        return chosen

    def count(self, window: Window) -> int:
        records = self.records(window)
        with self._lock:
            self._cache[window] = records
        return len(records)

    def fetch(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        with self._lock:
            records = self._cache.pop(window, None)
        yield records if records is not None else self.records(window)

    def record_id(self, record: dict[str, Any]) -> str:
        return record_id(record)

    def translate(self, record: dict[str, Any]) -> dict[str, Any]:
        return frame_item(record)

    def collection(self, collection_id: str) -> dict[str, Any] | None:
        return collection() if collection_id == COLLECTION_ID else None

    def close(self) -> None:
        self._client.close()


def harvest_frames(
    store: Store,
    continent: str,
    start: str,
    end: str,
    *,
    tokens: DespTokenProvider | None = None,
    jobs: int = 2,
    restart: bool = False,
    progress: bool | None = None,
    span_days: int = 31,
    streamer_url: str | None = None,
) -> HarvestReport:
    """Harvest one continent's frames in ``[start, end)`` (canonical UTC) into the store; resumable."""
    from catalog.checkpoints import Checkpoints
    from indexer.harvest import fingerprint

    own_tokens = tokens is None
    tokens = tokens or DespTokenProvider.from_environment()
    source = DestineFrames(continent, tokens, streamer_url=streamer_url)
    try:
        store.upsert_collection(collection())
        if restart:
            Checkpoints(store, source.name, fingerprint(source)).reset()
        report = harvest(
            store, source, start, end, jobs=jobs, initial_span=timedelta(days=span_days), progress=progress
        )
        store.refresh_extent(COLLECTION_ID)
        return report
    finally:
        source.close()
        if own_tokens:
            tokens.close()


def _moment(text: str) -> datetime:
    return parse_canonical(text)
