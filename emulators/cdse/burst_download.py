"""CDSE on-demand burst extraction: ``POST …/Bursts(<id>)/$value`` → (307, re-POST) → a mini-SAFE zip.

The catalogue host answers 307 to the bursts host (as clients report), which wants a Bearer token, takes
``delay_s`` to "extract" and streams a deterministic zip named by ``Content-Disposition``. Which burst ids
exist is a ``lookup`` callable (default: any well-formed UUID, with a name derived from it), so the GET
``/Bursts`` routes of the catalogue can plug their own store in.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from emulators.cdse import errors
from emulators.streamfaults import deterministic_chunks

if TYPE_CHECKING:
    from emulators.cdse.app import CdseApp, Response

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class BurstInfo:
    """What the extractor needs: the burst id and the SAFE name of the single-burst product."""

    id: str
    safe_name: str
    swath: str = "IW1"
    polarisation: str = "VV"


def derived_burst(burst_id: str) -> BurstInfo | None:
    """The default lookup: any UUID is a burst, with a deterministic name (UTIL-BZ naming)."""
    if not UUID.fullmatch(burst_id):
        return None
    h = int(hashlib.blake2b(burst_id.lower().encode(), digest_size=8).hexdigest(), 16)
    swath, pol = f"IW{1 + h % 3}", ("VV", "VH")[(h >> 3) % 2]
    day = 1 + (h >> 5) % 28
    when = f"202408{day:02d}T{(h >> 10) % 24:02d}{(h >> 15) % 60:02d}{(h >> 21) % 60:02d}"
    name = f"S1A_SLC_{when}_{(h >> 27) % 400000:06d}_{swath}_{pol}_{(h >> 47) % 999999:06d}.SAFE"
    return BurstInfo(burst_id.lower(), name, swath, pol)


@lru_cache(maxsize=64)
def burst_zip(info: BurstInfo, tiff_size: int) -> bytes:
    """A deterministic single-burst SAFE zip: manifest, measurement TIFF, annotation, calibration, noise."""
    stem = info.safe_name.removesuffix(".SAFE")
    base = f"s1a-{info.swath.lower()}-slc-{info.polarisation.lower()}-{(stem.split('_') + ['x'] * 3)[2].lower()}"
    annotation = f'<product><burstList count="1"/><id>{info.id}</id></product>'.encode()
    members = {
        f"{info.safe_name}/manifest.safe": f'<?xml version="1.0"?><xfdu:XFDU id="{stem}"/>\n'.encode(),
        f"{info.safe_name}/measurement/{base}.tiff": b"II*\x00"
        + b"".join(deterministic_chunks(f"burst:{info.id}", tiff_size - 4)),
        f"{info.safe_name}/annotation/{base}.xml": annotation,
        f"{info.safe_name}/annotation/calibration/calibration-{base}.xml": b"<calibration/>\n",
        f"{info.safe_name}/annotation/calibration/noise-{base}.xml": b"<noise/>\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 8, 2, 0, 0, 0)), data)
    return buffer.getvalue()


@dataclass
class BurstDownloads:
    """Configuration and counters of the burst extraction service."""

    lookup: Callable[[str], BurstInfo | None] = derived_burst
    delay_s: float = 0.05
    tiff_size: int = 300_000
    redirect: bool = True
    extractions: int = 0
    posts: list[str] = field(default_factory=list)


def handle(app: CdseApp, method: str, query: str, headers: Mapping[str, str], host: str, burst_id: str) -> Response:
    """POST ``Bursts(<id>)/$value`` on the catalogue host (redirect) or the bursts host (extract)."""
    from emulators.cdse.app import Response

    config: BurstDownloads = app.burst_downloads
    config.posts.append(host.rstrip("/") or "catalogue")
    if host == "" and config.redirect:
        location = f"{app.config.base_url}/bursts/odata/v1/Bursts({burst_id})/$value"
        return Response(307, b"", {"Location": location, "Content-Type": "text/plain"})
    app.authorize(headers, query)
    info = config.lookup(burst_id)
    if info is None:
        raise errors.detail(404, f"Burst {burst_id} not found")
    time.sleep(config.delay_s)  # extraction happens during the request
    config.extractions += 1
    data = burst_zip(info, config.tiff_size)
    disposition = {"Content-Disposition": f'attachment; filename="{info.safe_name.removesuffix(".SAFE")}.zip"'}
    return app.ranged(
        f"/bursts/{info.id}",
        len(data),
        lambda start, stop: (data[i : min(i + 65_536, stop)] for i in range(start, stop, 65_536)),
        headers,
        {"Content-Type": "application/zip", **disposition},
    )
