"""ASF Sentinel-1 burst extractor and its S3 storage host on 127.0.0.1 (``reference/asf.md`` §5, §6).

``GET /{granule}/{subswath}/{pol}/{burst_index}.{tiff|xml|zip}`` on the extractor host:

* malformed parameters → 404 ``{"message": "Not Found", "errors": [...]}``;
* no ``asf-urs`` cookie → 307 to ``<asf-auth>/loginservice/in/<url>``; an invalid or expired one → 403;
* the first request starts a job (202 ``{"message": "Accepted"}``), ``ready_after`` polls answer 202,
  then 307 to the storage host ``/s3/…?X-Amz-Expires=…&X-Amz-Signature=…``.

The storage host rejects any ``Authorization`` header (400, S3 XML), checks the signature (403) and serves
deterministic bytes with ``Content-Disposition: attachment; filename=<fileID>.<ext>`` and Range support.
Body faults (cut, corrupt, slow) and byte counts: ``emulator.streams``. A ``filename`` override makes the
storage host announce any name (for hostile-name tests).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl, quote

from emulators.cdse.app import Response, json_response
from emulators.earthdata import EarthdataEmulator, header
from emulators.hosting import Host
from emulators.s1truth import SyntheticBursts
from emulators.streamfaults import StreamFaults, deterministic_chunks

GRANULE = re.compile(r"S1[A-D]_(IW|EW)_SLC__1S([SD])([VH])_\d{8}T\d{6}_\d{8}T\d{6}_\d{6}_[0-9A-F]{6}_[0-9A-F]{4}")
POLS = {("S", "V"): ("VV",), ("D", "V"): ("VV", "VH"), ("S", "H"): ("HH",), ("D", "H"): ("HH", "HV")}
SWATHS = {"IW": ("IW1", "IW2", "IW3"), "EW": ("EW1", "EW2", "EW3", "EW4", "EW5")}
_SECRET = b"eocat-emulated-s3"
_S3_DENIED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'


def file_id(granule: str, swath: str, pol: str, index: int) -> str:
    """The ASF fileID of a burst: ``S1_<relative burst id>_<swath>_<start>_<pol>_<granule tail>-BURST``."""
    h = int(hashlib.blake2b(f"{granule}/{swath}/{index}".encode(), digest_size=6).hexdigest(), 16)
    start = granule.split("_")[5]
    return f"S1_{h % 375_000:06d}_{swath}_{start}_{pol}_{granule[-4:]}-BURST"


def burst_names(truth: SyntheticBursts) -> dict[str, str]:
    """The bursts of a truth that ASF publishes, by extractor path, with their ASF ``fileID``."""
    return {f"/{b.parent}/{b.subswath}/{b.polarization}/{b.burst_index}": f"{b.item_id}-BURST"
            for b in truth.generate() if b.at_asf}  # fmt: skip


def body_size(key: str, ext: str, tiff_size: int) -> int:
    if ext == "tiff":
        return tiff_size + int(hashlib.blake2b(key.encode(), digest_size=2).hexdigest(), 16)
    return 20_000 + int(hashlib.blake2b(key.encode(), digest_size=2).hexdigest(), 16) % 10_000


class ExtractorApp:
    """sentinel1-burst.asf.alaska.edu"""

    def __init__(self, owner: AsfExtractorEmulator) -> None:
        self.owner = owner
        self.polls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        owner = self.owner
        errors = validate(path, owner.burst_count)
        if not errors and owner.names is not None and path.rsplit(".", 1)[0] not in owner.names:
            errors = [f"no burst {path.rsplit('.', 1)[0].strip('/')} in this granule"]
        if errors:
            return json_response(404, {"message": "Not Found", "errors": errors})
        state = owner.earthdata.sessions.cookie_state(headers)
        if state == "missing":
            url = f"{owner.burst_url}{path}"
            return Response(
                307, b"", {"Location": f"{owner.earthdata.auth_url}/loginservice/in/{quote(url, safe=':/')}"}
            )
        if state == "invalid":
            return json_response(403, {"message": "Forbidden: invalid or expired asf-urs cookie"})
        with self._lock:
            self.polls[path] += 1
            polls = self.polls[path]
        if polls <= owner.ready_after:
            return json_response(202, {"message": "Accepted"})
        expires = "3600"
        signature = hmac.new(_SECRET, f"{path}|{expires}|{owner.epoch}".encode(), hashlib.sha256).hexdigest()
        location = f"{owner.storage_url}/s3{path}?X-Amz-Expires={expires}&X-Amz-Signature={signature}"
        return Response(307, b"", {"Location": location})


def validate(path: str, burst_count: int) -> list[str]:
    """Problems with ``/{granule}/{subswath}/{pol}/{index}.{ext}`` (empty when fine)."""
    parts = path.strip("/").split("/")
    if len(parts) != 4:
        return [f"expected /granule/subswath/polarization/burst_index.extension, got {path!r}"]
    granule, swath, pol, last = parts
    index_text, _, ext = last.partition(".")
    m = GRANULE.fullmatch(granule)
    errors = []
    if m is None:
        errors.append(f"{granule} is not a valid Sentinel-1 IW/EW SLC granule name")
    else:
        if swath not in SWATHS[m.group(1)]:
            errors.append(f"{swath} is not a valid subswath for {m.group(1)} mode")
        if pol not in POLS[(m.group(2), m.group(3))]:
            errors.append(f"{pol} is not a polarization of {granule}")
    if not index_text.isdigit() or int(index_text) >= burst_count:
        errors.append(f"burst index {index_text} is out of range 0..{burst_count - 1}")
    if ext not in ("tiff", "xml", "zip"):
        errors.append(f"{ext!r} is not one of tiff, xml, zip")
    return errors


class StorageApp:
    """The presigned-URL S3 host."""

    def __init__(self, owner: AsfExtractorEmulator) -> None:
        self.owner = owner

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        if header(headers, "authorization"):
            self.owner.authorization_at_storage += 1
            message = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter ... is supported"
            return _s3_error(400, "InvalidArgument", message)
        params = dict(parse_qsl(query))
        burst = path.removeprefix("/s3")
        signed = f"{burst}|{params.get('X-Amz-Expires', '')}|{self.owner.epoch}"
        expected = hmac.new(_SECRET, signed.encode(), hashlib.sha256)
        if not path.startswith("/s3/") or not hmac.compare_digest(
            expected.hexdigest(), params.get("X-Amz-Signature", "")
        ):
            return _s3_error(403, "AccessDenied", "Request has expired or the signature does not match")
        granule, swath, pol, last = burst.strip("/").split("/")
        ext = last.rpartition(".")[2]
        known = (self.owner.names or {}).get(burst.rsplit(".", 1)[0])
        name = self.owner.filename or f"{known or file_id(granule, swath, pol, int(last.partition('.')[0]))}.{ext}"
        size = body_size(burst, ext, self.owner.tiff_size)
        owner = self.owner

        def chunks(start: int, stop: int) -> Iterator[bytes]:
            magic = b"II*\x00" if ext == "tiff" else b""
            if start < len(magic):
                yield magic[start : min(len(magic), stop)]
            yield from deterministic_chunks(burst, size, max(start, len(magic)), stop)

        common = {
            "Content-Type": "image/tiff" if ext == "tiff" else "application/xml" if ext == "xml" else "application/zip",
            "Content-Disposition": f"attachment; filename={name}",
            "Accept-Ranges": "bytes",
        }
        wanted = _range(header(headers, "range"), size)
        start, stop = wanted if wanted is not None else (0, size)
        stream = owner.streams.wrap(burst, chunks(start, stop), start)
        if wanted is not None:
            common["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
            return Response(206, stream, common, stop - start)
        return Response(200, stream, common, size)


def _range(value: str, total: int) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", value or "")
    if m is None or int(m.group(1)) >= total:
        return None
    return int(m.group(1)), min(int(m.group(2)) + 1, total) if m.group(2) else total


def _s3_error(status: int, code: str, message: str) -> Response:
    return Response(status, _S3_DENIED.format(code=code, message=message).encode(), {"Content-Type": "application/xml"})


def content(granule: str, swath: str, pol: str, index: int, ext: str, tiff_size: int = 200_000) -> bytes:
    """The bytes the storage host serves for a burst file (for tests)."""
    key = f"/{granule}/{swath}/{pol}/{index}.{ext}"
    size = body_size(key, ext, tiff_size)
    data = b"".join(deterministic_chunks(key, size))
    return b"II*\x00" + data[4:] if ext == "tiff" else data


class AsfExtractorEmulator:
    """Extractor + storage hosts (+ an :class:`EarthdataEmulator` unless one is given)."""

    def __init__(
        self,
        earthdata: EarthdataEmulator | None = None,
        ready_after: int = 2,
        burst_count: int = 10,
        tiff_size: int = 200_000,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.earthdata = earthdata or EarthdataEmulator()
        self._owns_earthdata = earthdata is None
        self.ready_after = ready_after
        self.burst_count = burst_count
        self.tiff_size = tiff_size
        # "/{granule}/{swath}/{pol}/{index}" -> ASF fileID: serve only these bursts, under their real names
        # (burst_names(truth) gives them for the burst truth the search emulators serve); None: any burst
        self.names = names
        self.filename: str | None = None
        self.streams = StreamFaults()
        self.authorization_at_storage = 0
        self.epoch = 0  # part of every signature: expire_signatures() invalidates the URLs handed out so far
        self.extractor_app = ExtractorApp(self)
        self.extractor: Host | None = None
        self.storage: Host | None = None

    def start(self) -> AsfExtractorEmulator:
        if self._owns_earthdata:
            self.earthdata.start()
        self.extractor = Host(self.extractor_app, "asf-extractor")
        self.storage = Host(StorageApp(self), "asf-storage")
        return self

    def stop(self) -> None:
        for host in (self.extractor, self.storage):
            if host is not None:
                host.stop()
        if self._owns_earthdata:
            self.earthdata.stop()

    def __enter__(self) -> AsfExtractorEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def expire_signatures(self) -> None:
        """Every presigned storage URL handed out so far now answers 403 (as after X-Amz-Expires)."""
        self.epoch += 1

    @property
    def burst_url(self) -> str:
        """For ``EOCAT_ASF_BURST_URL``."""
        assert self.extractor is not None
        return self.extractor.url

    @property
    def storage_url(self) -> str:
        assert self.storage is not None
        return self.storage.url

    def environment(self) -> dict[str, str]:
        """``EOCAT_ASF_BURST_URL`` and the Earthdata variables."""
        return {"EOCAT_ASF_BURST_URL": self.burst_url, **self.earthdata.environment()}
