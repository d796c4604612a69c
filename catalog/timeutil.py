"""RFC 3339 timestamps: strict parsing for queries, lenient parsing for stored items.

Every timestamp the store compares is kept in one canonical text form,
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds), so that text order is time order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from catalog.errors import InvalidQuery

_STRICT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")
_CANONICAL_FAST = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?Z$")

MIN_TIME = "0001-01-01T00:00:00.000000Z"
MAX_TIME = "9999-12-31T23:59:59.999999Z"


def format_canonical(value: datetime) -> str:
    """Format an aware datetime in the canonical UTC form."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def following_month(month: str) -> str:
    """``YYYY-MM`` of the month after ``month`` (``YYYY-MM``): an exclusive text bound for its timestamps
    (after December 9999, a bound that sorts after every timestamp)."""
    year, number = int(month[:4]), int(month[5:7])
    if number < 12:
        return f"{year:04d}-{number + 1:02d}"
    return f"{year + 1:04d}-01" if year < 9999 else "9999-13"


def parse_canonical(text: str) -> datetime:
    """The aware UTC datetime of a canonical timestamp, or of any ISO 8601 date-time with ``Z``/``z`` or an
    offset (none means UTC). Raises ``ValueError`` for text that is not a date-time."""
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def span_us(first: datetime, last: datetime) -> int:
    """How long ``first`` .. ``last`` lasts in microseconds, rounded up (0 for an instant)."""
    if first == last:
        return 0
    return int((last - first).total_seconds() * 1_000_000) + 1


def utc_now() -> str:
    """The current time in canonical form."""
    return format_canonical(datetime.now(UTC))


def parse_strict(text: str) -> datetime:
    """Parse an RFC 3339 date-time as the STAC API requires it; raise :class:`InvalidQuery` otherwise.

    Accepts lowercase ``t``/``z``, numeric offsets with a colon and 1–9 fractional digits;
    rejects date-only values, missing offsets, ``+0100`` and out-of-range fields.
    """
    match = _STRICT.match(text)
    if not match:
        raise InvalidQuery(
            f"invalid RFC 3339 date-time {text!r}: expected e.g. 2024-05-01T00:00:00Z "
            "(a date, 'T', a time and 'Z' or an offset like +02:00)"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if int(second) > 60:  # 60 is a leap second (kept as :59); 61 and above never exist
        raise InvalidQuery(f"invalid RFC 3339 date-time {text!r}: seconds out of range")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    normalized = f"{year}-{month}-{day}T{hour}:{minute}:{min(int(second), 59):02d}.{micro:06d}"
    normalized += "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(normalized)
    except ValueError as exc:
        raise InvalidQuery(f"invalid RFC 3339 date-time {text!r}: {exc}") from None


def canonical_strict(text: str) -> str:
    """Strictly parse a query timestamp and return its canonical form."""
    return format_canonical(parse_strict(text))


def canonical_lenient(value: object) -> str | None:
    """Canonical form of a stored timestamp, tolerant of upstream drift.

    Handles milliseconds or microseconds (or nanoseconds), ``Z`` or ``+00:00``, a missing
    offset (taken as UTC) and empty strings (``None``). Raises ``ValueError`` for garbage.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be a string, got {value!r}")
    fast = _CANONICAL_FAST.match(value)
    if fast:
        datetime.fromisoformat(value[:19])  # range check: month 13 or February 30 raise ValueError
        fraction = fast.group(1)
        if fraction is None:
            return value[:-1] + ".000000Z"
        return value[:20] + fraction[:6].ljust(6, "0") + "Z"
    text = value.strip()
    match = _STRICT.match(text)
    if match:
        return format_canonical(parse_strict(text))
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_canonical(parsed)


def parse_interval(text: str) -> tuple[str, str]:
    """Parse a STAC ``datetime`` parameter into canonical (start, end), both inclusive.

    An instant gives (t, t); ``../x``, ``x/..``, ``/x`` and ``x/`` are open intervals.
    ``/``, ``../..`` and reversed intervals are errors.
    """
    text = text.strip()
    if "/" not in text:
        instant = canonical_strict(text)
        return instant, instant
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidQuery(f"invalid datetime interval {text!r}: use START/END, with '..' for an open end")
    start_text, end_text = parts
    open_start = start_text in ("", "..")
    open_end = end_text in ("", "..")
    if open_start and open_end:
        raise InvalidQuery(f"invalid datetime interval {text!r}: at least one end must be a date-time")
    start = MIN_TIME if open_start else canonical_strict(start_text)
    end = MAX_TIME if open_end else canonical_strict(end_text)
    if start > end:
        raise InvalidQuery(f"invalid datetime interval {text!r}: start is after end")
    return start, end
