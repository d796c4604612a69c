"""Instants as integer microseconds since 1970-01-01T00:00:00Z, and their text forms in items and names."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from catalog.timeutil import parse_canonical

US = 1_000_000
DAY_US = 86_400 * US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATES: dict[int, tuple[str, str]] = {}

# fractional digits per item: mostly microseconds (CDSE), some milliseconds, some none (ASF)
PRECISIONS = (6,) * 12 + (3,) * 5 + (0,) * 3


def parse_time(value: str) -> int:
    """Microseconds since the epoch of an RFC 3339 text (no offset means UTC)."""
    return (parse_canonical(value) - _EPOCH) // timedelta(microseconds=1)


def _day_strings(day: int) -> tuple[str, str]:
    ds = _DATES.get(day)
    if ds is None:
        d = _EPOCH + timedelta(days=day)
        ds = (f"{d.year:04d}-{d.month:02d}-{d.day:02d}", f"{d.year:04d}{d.month:02d}{d.day:02d}")
        _DATES[day] = ds
    return ds


_HM = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_HMC = tuple(f"{h:02d}{m:02d}" for h in range(24) for m in range(60))
_SS = tuple(f"{s:02d}" for s in range(60))


def iso(t: int, prec: int) -> str:
    """RFC 3339 UTC ('Z') with ``prec`` in (6, 3, 0) fractional digits (truncated)."""
    day, rem = divmod(t, DAY_US)
    ds = _DATES.get(day) or _day_strings(day)
    sec, us = divmod(rem, US)
    hm, s = divmod(sec, 60)
    if prec == 6:
        return f"{ds[0]}T{_HM[hm]}{_SS[s]}.{us:06d}Z"
    if prec == 3:
        return f"{ds[0]}T{_HM[hm]}{_SS[s]}.{us // 1000:03d}Z"
    return f"{ds[0]}T{_HM[hm]}{_SS[s]}Z"


def compact(t: int) -> str:
    """``YYYYMMDDTHHMMSS`` as in product names."""
    day, rem = divmod(t, DAY_US)
    ds = _DATES.get(day) or _day_strings(day)
    hm, s = divmod(rem // US, 60)
    return f"{ds[1]}T{_HMC[hm]}{_SS[s]}"


class DatedVersions:
    """Which version was current at an instant: ``(until, version)`` rows, ``until`` exclusive, in order;
    instants after the last row get the last version."""

    def __init__(self, rows: tuple[tuple[str, str], ...]) -> None:
        self._limits = [parse_time(until) for until, _version in rows]
        self._versions = [version for _until, version in rows]

    def at(self, t: int) -> str:
        """The version current at ``t`` (µs)."""
        return self._versions[min(bisect.bisect_right(self._limits, t), len(self._versions) - 1)]
