"""``DestinEEmulator``: the DestinE streamer (S3 NDVI metadata + video streams) and DESP login on 127.0.0.1.

Routes (reference/destine.md §2.1, §4.1, §6.2):

- ``GET /api/streaming/s3/data/metadata/{continent}?start_date=YYYYmmddTHHMM&end_date=…`` (Bearer DESP token;
  401 without a valid one) → ``{stream_path, nx, ny, bbox, images: [{img_number, img_start_date, img_min_value,
  img_max_value, satellite}]}``, frames with ``start_date <= img_start_date <= end_date`` (both optional).
- ``GET|HEAD /streams/s3-ndvi-{continent}.{ext}?expires=…&sig=…``: the encoded video, with ``Range`` (206)
  support. The ``stream_path`` carries a signature that expires (``stream_lifetime`` seconds), as the real one
  must (clients open it without headers); a request with neither a valid, unexpired ``sig`` nor a valid
  Bearer token gets 403, so a stored URL stops granting access. Encoded lazily, once per continent.
- ``/realms/desp/...``: the DESP Keycloak login (see :mod:`emulators.destine.desp`).
- ``GET /_emulator/truth/{continent}/{img_number}.npy``: the float32 NDVI truth of a frame (for tests).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import orjson

from emulators.cdse.app import Response
from emulators.destine.desp import REALM, DespService
from emulators.destine.scene import GRIDS, ContinentStream, Grid
from emulators.destine.video import VideoFormat, encode
from emulators.hosting import Host

log = logging.getLogger("emulators.destine")
API_DATE = "%Y%m%dT%H%M"
_METADATA = re.compile(r"/api/streaming/s3/data/metadata/([^/]+)/?")
_STREAM = re.compile(r"/streams/s3-ndvi-([A-Za-z_]+)\.(\w+)")
_TRUTH = re.compile(r"/_emulator/truth/([^/]+)/(\d+)\.npy")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, document: Any) -> Reply:
    return Reply(status, orjson.dumps(document), {"Content-Type": "application/json"})


class DestinEEmulator:
    """The streamer and DESP login over real HTTP, with deterministic synthetic streams.

    ``start``/``end``: the streams' dates (end exclusive; default 2021-01-01 .. 2022-03-01, as DESIGN.md says).
    ``grids``: continent → :class:`Grid`. ``video``: codec/container (default lossless HEVC in MP4).
    ``access_lifetime``/``max_uses``: DESP access tokens' life (seconds / API calls). ``malformed``: frame
    numbers whose metadata record is broken (``img_max_value`` null), to exercise rejection.
    ``stream_lifetime``: seconds a signed ``stream_path`` grants access.
    """

    def __init__(
        self,
        *,
        start: date = date(2021, 1, 1),
        end: date = date(2022, 3, 1),
        grids: Mapping[str, Grid] | None = None,
        video: VideoFormat | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        access_lifetime: float = 300.0,
        max_uses: int | None = None,
        malformed: Iterable[int] = (),
        range_support: bool = True,
        stream_lifetime: float = 600.0,
    ) -> None:
        self.streams = {name: ContinentStream(name, grid, start, end, seed) for name, grid in (grids or GRIDS).items()}
        self.video = video or VideoFormat()
        self.host, self.port = host, port
        self.desp = DespService(credentials=credentials, access_lifetime=access_lifetime, max_uses=max_uses)
        self.malformed = frozenset(malformed)
        self.range_support = range_support
        self.stream_lifetime = stream_lifetime
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._videos: dict[str, bytes] = {}
        self._video_lock = threading.Lock()
        self._key = hashlib.sha256(f"destine-emulator:{seed}".encode()).digest()
        self._server: Host | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> DestinEEmulator:
        self._server = Host(_Hosted(self), "destine-emulator", self.host, self.port)
        self.port = int(self._server.url.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> DestinEEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.base_url + REALM

    def environment(self) -> dict[str, str]:
        """Variables that point eocat at this emulator (and give it credentials)."""
        return {
            "EOCAT_DESTINE_STREAMER_URL": self.base_url,
            "EOCAT_DESP_AUTH_URL": self.auth_url,
            "DESP_USERNAME": "emulator-user",
            "DESP_PASSWORD": "emulator-password",
        }

    # -- ground truth ------------------------------------------------------------------------------
    def truth(self, continent: str, img_number: int) -> np.ndarray:
        return self.streams[continent].truth(img_number)

    def stream_path(self, continent: str) -> str:
        path = f"/streams/s3-ndvi-{continent}.{self.video.extension}"
        expires = int(self.desp.clock() + self.stream_lifetime)
        return f"{self.base_url}{path}?expires={expires}&sig={self._sign(path, expires)}"

    def video_bytes(self, continent: str) -> bytes:
        with self._video_lock:
            if continent not in self._videos:
                stream = self.streams[continent]
                codes = (stream.quantized(n) for n in range(1, len(stream) + 1))
                self._videos[continent] = encode(codes, stream.grid.nx, stream.grid.ny, self.video)
            return self._videos[continent]

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self._key, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def _signed(self, path: str, query: str) -> bool:
        """Whether the query carries this path's signature, unexpired."""
        params = dict(parse_qsl(query))
        try:
            expires = int(params.get("expires", ""))
        except ValueError:
            return False
        return expires > self.desp.clock() and hmac.compare_digest(params.get("sig", ""), self._sign(path, expires))

    # -- request handling ----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        split = urlsplit(target)
        path, query = split.path, split.query
        if path.startswith(REALM):
            return self._desp(method, path[len(REALM) :], query, headers, body)
        if match := _METADATA.fullmatch(path):
            return self._metadata(match.group(1), query, headers)
        if match := _STREAM.fullmatch(path):
            return self._stream(method, path, match.group(1), query, headers)
        if match := _TRUTH.fullmatch(path):
            stream = self.streams.get(match.group(1))
            if stream is None or not 1 <= int(match.group(2)) <= len(stream):
                return _json(404, {"detail": "no such frame"})
            buffer = io.BytesIO()
            np.save(buffer, stream.truth(int(match.group(2))))
            return Reply(200, buffer.getvalue(), {"Content-Type": "application/octet-stream"})
        return _json(404, {"detail": "Not Found"})

    def _desp(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        form = dict(parse_qsl(body.decode(errors="replace")))
        if path == "/.well-known/openid-configuration":
            return _json(200, self.desp.openid_configuration(self.base_url))
        if path == "/protocol/openid-connect/auth" and method == "GET":
            page, session = self.desp.login_page(self.base_url, query)
            return Reply(
                200,
                page.encode(),
                {
                    "Content-Type": "text/html;charset=utf-8",
                    "Set-Cookie": f"AUTH_SESSION_ID={session}; Path={REALM}; HttpOnly",
                },
            )
        if path == "/login-actions/authenticate" and method == "POST":
            cookie = _cookie(headers.get("Cookie", ""), "AUTH_SESSION_ID")
            status, value = self.desp.authenticate(query, cookie, form)
            if status == 302:
                return Reply(302, b"", {"Location": value})
            page, _ = self.desp.login_page(self.base_url, query, error=value)
            return Reply(200, page.encode(), {"Content-Type": "text/html;charset=utf-8"})
        if path == "/protocol/openid-connect/token" and method == "POST":
            status, document = self.desp.token(form)
            return _json(status, document)
        return _json(404, {"error": "Not Found"})

    def _metadata(self, continent: str, query: str, headers: Mapping[str, str]) -> Reply:
        problem = self.desp.check(_header(headers, "Authorization"), spend=True)
        if problem:
            return _json(401, {"detail": problem})
        stream = self.streams.get(continent)
        if stream is None:
            return _json(404, {"detail": "Stream not found"})
        params = dict(parse_qsl(query))
        try:
            first, last = (_api_date(params.get(k)) for k in ("start_date", "end_date"))
        except ValueError:
            return _json(422, {"detail": f"dates must look like 20210101T0000 ({API_DATE})"})
        images = [
            {
                "img_number": f.img_number,
                "img_start_date": f.start_text,
                "img_min_value": f.min_value,
                "img_max_value": None if f.img_number in self.malformed else f.max_value,
                "satellite": f.satellite,
            }
            for f in stream.in_window(first, last)
        ]
        grid = stream.grid
        return _json(
            200,
            {
                "stream_path": self.stream_path(continent),
                "nx": grid.nx,
                "ny": grid.ny,
                "bbox": list(grid.bbox),
                "images": images,
            },
        )

    def _stream(self, method: str, path: str, continent: str, query: str, headers: Mapping[str, str]) -> Reply:
        if not self._signed(path, query) and self.desp.check(_header(headers, "Authorization"), spend=False):
            return Reply(403, b"403 Access denied", {"Content-Type": "text/plain"})
        if continent not in self.streams or not path.endswith("." + self.video.extension):
            return _json(404, {"detail": "Stream not found"})
        data = self.video_bytes(continent)
        common = {"Content-Type": self.video.media_type}
        wanted = _header(headers, "Range")
        if not self.range_support or not wanted:
            return Reply(200, data, {**common, **({"Accept-Ranges": "bytes"} if self.range_support else {})})
        match = _RANGE.fullmatch(wanted.strip())
        size = len(data)
        if match is None or match.group(1) == match.group(2) == "":
            return Reply(416, b"", {"Content-Range": f"bytes */{size}"})
        if match.group(1) == "":
            first, last = max(0, size - int(match.group(2))), size - 1
        else:
            first = int(match.group(1))
            last = min(size - 1, int(match.group(2))) if match.group(2) else size - 1
        if first >= size or first > last:
            return Reply(416, b"", {"Content-Range": f"bytes */{size}"})
        return Reply(
            206,
            data[first : last + 1],
            {**common, "Accept-Ranges": "bytes", "Content-Range": f"bytes {first}-{last}/{size}"},
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _api_date(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, API_DATE).replace(tzinfo=UTC)


class _Hosted:
    """The emulator as a :class:`emulators.hosting.Host` app (the shared server: keep-alive, faults, counters)."""

    def __init__(self, emulator: DestinEEmulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        reply = self.emulator.handle(method, path + (f"?{query}" if query else ""), dict(headers), body)
        self.emulator.requests.append((method, path, reply.status))
        return Response(reply.status, reply.body, dict(reply.headers))
