"""Platforms in service by date, and absolute/relative orbit numbers from a linear orbit model."""

from __future__ import annotations

from dataclasses import dataclass

from emulators.odata import parse_datetime

US = 1_000_000


@dataclass(frozen=True)
class Platform:
    """One satellite: service period and a reference orbit for the linear model."""

    serial: str
    since: int
    until: int
    ref_time: int
    ref_orbit: int
    period_us: float
    orbits_per_cycle: int
    rel_offset: int

    def absolute_orbit(self, t: int) -> int:
        """Absolute orbit number at time ``t`` (µs)."""
        return self.ref_orbit + int((t - self.ref_time) // self.period_us)

    def relative_orbit(self, absolute: int) -> int:
        """Relative orbit (track) number, 1-based."""
        return (absolute - self.rel_offset) % self.orbits_per_cycle + 1


def _t(text: str) -> int:
    return parse_datetime(text)


def _platforms(
    rows: list[tuple[str, str, str, str, int]], days: int, orbits: int, offsets: dict[str, int]
) -> tuple[Platform, ...]:
    period = days * 86_400 * US / orbits
    return tuple(
        Platform(serial, _t(since), _t(until), _t(ref), ref_orbit, period, orbits, offsets[serial])
        for serial, since, until, ref, ref_orbit in rows
    )


SENTINEL1 = _platforms(
    [
        ("A", "2014-04-03", "2100-01-01", "2024-06-04T11:01:00Z", 54172),
        ("B", "2016-04-25", "2021-12-23", "2021-01-01T00:00:00Z", 24880),
        ("C", "2024-12-05", "2100-01-01", "2025-06-01T00:00:00Z", 2570),
    ],
    12,
    175,
    {"A": 73, "B": 27, "C": 172},
)
SENTINEL2 = _platforms(
    [
        ("A", "2015-06-23", "2025-01-21", "2020-08-08T01:03:11Z", 26783),
        ("B", "2017-03-07", "2100-01-01", "2021-01-03T13:09:53Z", 19902),
        ("C", "2024-09-05", "2100-01-01", "2025-06-01T00:00:00Z", 3800),
    ],
    10,
    143,
    {"A": -2, "B": -70, "C": -5},
)
SENTINEL3 = _platforms(
    [
        ("A", "2016-02-16", "2100-01-01", "2023-01-01T00:00:00Z", 36050),
        ("B", "2018-04-25", "2100-01-01", "2023-01-01T00:00:00Z", 24150),
    ],
    27,
    385,
    {"A": 16, "B": 221},
)


def in_service(platforms: tuple[Platform, ...], t: int) -> list[Platform]:
    """Platforms flying at ``t`` (the first one if none is, so early dates still get products)."""
    flying = [p for p in platforms if p.since <= t < p.until]
    return flying or [platforms[0]]


def platform(platforms: tuple[Platform, ...], serial: str) -> Platform:
    """The platform with ``serial``."""
    for p in platforms:
        if p.serial == serial:
            return p
    return platforms[0]
