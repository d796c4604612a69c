"""RFC 3339 parsing: the forms stac-api-validator sends must be accepted or rejected as it expects."""

from __future__ import annotations

import pytest

from catalog.errors import InvalidQuery
from catalog.timeutil import MAX_TIME, MIN_TIME, canonical_lenient, following_month, parse_interval

VALID = [
    "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-00:00", "1996-12-19T16:39:57+00:00",
    "1996-12-19T16:39:57-08:00", "1996-12-19T16:39:57+08:00", "../1985-04-12T23:20:50.52Z",
    "1985-04-12T23:20:50.52Z/..", "/1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z/",
    "1985-04-12T23:20:50.52Z/1986-04-12T23:20:50.52Z", "1985-04-12t23:20:50.52z",
    "1985-04-12T23:20:50.5Z", "1985-04-12T23:20:50.123456789Z", "1985-04-12T23:20:50Z",
]  # fmt: skip
INVALID = [
    "/", "../..", "/..", "../", "1985-04-12", "1985-04-12T23:20:50.52", "1985-04-12T23:20:50.52+0100",
    "1985-04-12T23:20:50,52Z", "1985-13-12T23:20:50.52Z", "1985-04-32T23:20:50.52Z", "1985-04-12T25:20:50.52Z",
    "1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z/1986-04-12T23:20:50.52Z/x",
    "yesterday", "",
]  # fmt: skip


@pytest.mark.parametrize("text", VALID)
def test_valid_datetimes(text: str) -> None:
    start, end = parse_interval(text)
    assert start <= end


@pytest.mark.parametrize("text", INVALID)
def test_invalid_datetimes(text: str) -> None:
    with pytest.raises(InvalidQuery):
        parse_interval(text)


def test_offsets_are_converted_to_utc_and_open_ends_are_unbounded() -> None:
    assert parse_interval("1996-12-19T16:39:57-08:00") == ("1996-12-20T00:39:57.000000Z",) * 2
    assert parse_interval("../1985-04-12T23:20:50.52Z") == (MIN_TIME, "1985-04-12T23:20:50.520000Z")
    assert parse_interval("1985-04-12T23:20:50Z/")[1] == MAX_TIME


@pytest.mark.parametrize(
    ("stored", "canonical"),
    [("2024-09-02T10:00:00.123Z", "2024-09-02T10:00:00.123000Z"),
     ("2024-09-02T10:00:00.123456+00:00", "2024-09-02T10:00:00.123456Z"),
     ("2024-09-02T12:00:00+02:00", "2024-09-02T10:00:00.000000Z"),
     ("2024-09-02T10:00:00", "2024-09-02T10:00:00.000000Z"),
     ("2024-09-02T10:00:00.123456789Z", "2024-09-02T10:00:00.123456Z"),
     ("", None), (None, None)],
)  # fmt: skip
def test_stored_timestamps_tolerate_upstream_drift(stored: str | None, canonical: str | None) -> None:
    assert canonical_lenient(stored) == canonical


@pytest.mark.parametrize("garbage", ["not a time", "2024-13-04T11:01:00Z", "2024-02-30T00:00:00.123Z"])
def test_garbage_stored_timestamp_is_an_error(garbage: str) -> None:
    with pytest.raises(ValueError):
        canonical_lenient(garbage)


@pytest.mark.parametrize("month", ["0001-01", "2023-11", "2023-12", "2024-02", "9998-12", "9999-12"])
def test_following_month_bounds_every_timestamp_of_the_month_and_none_after(month: str) -> None:
    from datetime import datetime, timedelta

    bound = following_month(month)
    assert f"{month}-31T23:59:59.999999Z" < bound  # past the month's last instant
    if month == "9999-12":
        assert bound > MAX_TIME
    else:  # and not past the next month's first instant
        later = datetime.strptime(month, "%Y-%m") + timedelta(days=32)
        first_next = f"{later.year:04d}-{later.month:02d}"
        assert bound == first_next and bound < f"{first_next}-01T00:00:00.000000Z"
