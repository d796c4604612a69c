"""Datetime literals: OData/CDSE forms to integer microseconds since the Unix epoch (UTC), and back."""

from __future__ import annotations

import re
from calendar import timegm
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_US = 1_000_000
_MAX = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def parse_datetime(text: str) -> int:
    """Microseconds since the epoch for a date, or a datetime with optional fraction and zone (none = UTC).

    Raises ``ValueError`` for anything else (including empty strings).
    """
    m = _DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    try:
        datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError as exc:
        raise ValueError(f"not a datetime: {text!r} ({exc})") from None
    seconds = timegm((int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), 0, 0, 0))
    micros = int((frac or "0")[:6].ljust(6, "0"))
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds * _US + micros


def format_datetime(us: int, digits: int = 6, zone: str = "Z") -> str:
    """``YYYY-MM-DDThh:mm:ss[.f]`` + ``zone``, with ``digits`` (0, 3 or 6) fractional digits (rounded)."""
    if digits == 3:
        us = min((us + 500) // 1000 * 1000, _MAX - 999)
    elif digits == 0:
        us = min((us + 500_000) // _US * _US, _MAX - 999_999)
    seconds, micros = divmod(us, _US)
    days, of_day = divmod(seconds, 86_400)
    hours, rest = divmod(of_day, 3600)
    base = f"{_day(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if digits == 6:
        return f"{base}.{micros:06d}{zone}"
    if digits == 3:
        return f"{base}.{micros // 1000:03d}{zone}"
    return f"{base}{zone}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=8192)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")
