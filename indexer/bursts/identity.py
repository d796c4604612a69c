"""Burst identity shared by every source: item ids, full burst ids, parent SLC names, burst index.

One burst acquisition is (parent SLC product, subswath, polarization, relative burst id); its item id is
ASF's burst name without ``-BURST`` (``reference/asf.md`` §3)::

    S1_{relative_burst_id:06d}_{subswath}_{azimuth time truncated to the second}_{pol}_{last 4 chars of the SLC}

Both CDSE and ASF records carry everything needed to compute it, so the same burst gets the same id
whichever source it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

SLC_NAME = re.compile(
    r"^S1(?P<serial>[A-D])_(?P<mode>IW|EW)_SLC__1S(?P<pols>[SD][VH])_(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_"
    r"(?P<orbit>\d{6})_(?P<datatake>[0-9A-F]{6})_(?P<uid>[0-9A-F]{4})$"
)
SUBSWATH = re.compile(r"^(IW[1-3]|EW[1-5])$")
POLARIZATIONS = ("VV", "VH", "HH", "HV")
_PRODUCT_POLS = {"DV": ("VV", "VH"), "SV": ("VV",), "DH": ("HH", "HV"), "SH": ("HH",)}


@dataclass(frozen=True)
class ParentSlc:
    """What an IW/EW SLC product name says."""

    name: str  # without .SAFE
    platform: str  # sentinel-1a
    mode: str  # IW | EW
    polarizations: tuple[str, ...]
    absolute_orbit: int
    datatake: str  # 6 hex digits
    uid: str  # the 4-hex product id that ends burst names


def parse_parent(name: str) -> ParentSlc:
    """Parse an SLC product name (``.SAFE`` optional); ``ValueError`` if it is not one."""
    stem = name[:-5] if name.endswith(".SAFE") else name
    m = SLC_NAME.match(stem)
    if m is None:
        raise ValueError(f"{name!r} is not a Sentinel-1 SLC product name")
    return ParentSlc(stem, f"sentinel-1{m['serial'].lower()}", m["mode"], _PRODUCT_POLS[m["pols"]],
                     int(m["orbit"]), m["datatake"], m["uid"])  # fmt: skip


def burst_item_id(relative_burst_id: int, subswath: str, azimuth_time: datetime, polarization: str, parent: str) -> str:
    """The burst's item id (ASF ``fileID`` minus ``-BURST``)."""
    return (f"S1_{relative_burst_id:06d}_{subswath}_{azimuth_time.strftime('%Y%m%dT%H%M%S')}_{polarization}_"
            f"{parse_parent(parent).uid}")  # fmt: skip


def full_burst_id(track: int, relative_burst_id: int, subswath: str) -> str:
    """``{track:03d}_{relative_burst_id:06d}_{subswath}``: one burst location (the stack key)."""
    return f"{track:03d}_{relative_burst_id:06d}_{subswath}"


def burst_index_from_offset(byte_offset: int, lines: int, samples: int) -> int | None:
    """0-based index of a burst in its subswath TIFF from its byte offset (CInt16: 4 bytes per sample).

    The offset is a small TIFF header plus ``index × lines × samples × 4``; None when the numbers make
    no sense (the header would be as large as a burst).
    """
    size = lines * samples * 4
    if size <= 0 or byte_offset < 0:
        return None
    index, header = divmod(byte_offset, size)
    return index if header < size // 2 else None
