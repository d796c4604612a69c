"""The orbit model of the synthetic Sentinels: platforms in service by date, absolute/relative orbit numbers
(a linear model), and the ground track of a circular sun-synchronous orbit (``GroundTrack``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from emulators.odata import parse_datetime

US = 1_000_000
SENTINEL1_CYCLE = (12, 175)  # days, orbits per repeat cycle
SENTINEL2_CYCLE = (10, 143)
SENTINEL3_CYCLE = (27, 385)


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
    *SENTINEL1_CYCLE,
    {"A": 73, "B": 27, "C": 172},
)
SENTINEL2 = _platforms(
    [
        ("A", "2015-06-23", "2025-01-21", "2020-08-08T01:03:11Z", 26783),
        ("B", "2017-03-07", "2100-01-01", "2021-01-03T13:09:53Z", 19902),
        ("C", "2024-09-05", "2100-01-01", "2025-06-01T00:00:00Z", 3800),
    ],
    *SENTINEL2_CYCLE,
    {"A": -2, "B": -70, "C": -5},
)
SENTINEL3 = _platforms(
    [
        ("A", "2016-02-16", "2100-01-01", "2023-01-01T00:00:00Z", 36050),
        ("B", "2018-04-25", "2100-01-01", "2023-01-01T00:00:00Z", 24150),
    ],
    *SENTINEL3_CYCLE,
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


_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi


def orbit_period_s(cycle: tuple[int, int]) -> float:
    """Seconds per orbit of a repeat cycle ``(days, orbits)``."""
    days, orbits = cycle
    return days * 86_400 / orbits


class GroundTrack:
    """One platform's ground track on a circular, sun-synchronous, exact-repeat orbit (good to ~1 deg).

    Anchored at one ascending-node crossing (``ref_anx`` µs, absolute orbit ``ref_abs`` on track
    ``ref_track``, node longitude ``lon_ref``): gives ANX times, track numbers and sub-satellite positions.
    """

    __slots__ = (
        "cos_i",
        "designator",
        "lon_ref",
        "n_tracks",
        "period_s",
        "period_us",
        "platform",
        "ref_abs",
        "ref_anx",
        "ref_track",
        "shift_deg",
        "sin_i",
    )

    def __init__(
        self,
        platform: str,
        designator: str,
        cycle: tuple[int, int],
        inclination_deg: float,
        ref_anx: int,
        ref_abs: int,
        ref_track: int,
        lon_ref: float,
    ) -> None:
        self.platform = platform
        self.designator = designator
        self.period_s = orbit_period_s(cycle)
        self.period_us = self.period_s * US
        self.sin_i = math.sin(inclination_deg * _D2R)
        self.cos_i = math.cos(inclination_deg * _D2R)
        self.ref_anx = ref_anx
        self.ref_abs = ref_abs
        self.ref_track = ref_track
        self.n_tracks = cycle[1]
        self.lon_ref = lon_ref
        # the Earth turns under the (sun-synchronous) node by 360 deg per solar day
        self.shift_deg = 360.0 * self.period_s / 86_400.0

    def orbit_at(self, t: int) -> int:
        """Absolute orbit number at ``t`` (µs)."""
        return self.ref_abs + math.floor((t - self.ref_anx) / self.period_us)

    def anx(self, k: int) -> int:
        """Ascending-node time (µs) of absolute orbit ``k``."""
        return self.ref_anx + round((k - self.ref_abs) * self.period_us)

    def track(self, k: int) -> int:
        """Relative orbit (track) of absolute orbit ``k``, 1-based."""
        return (self.ref_track - 1 + k - self.ref_abs) % self.n_tracks + 1

    def lon_anx(self, k: int) -> float:
        """Longitude of the ascending node of absolute orbit ``k``."""
        return self.lon_ref - (k - self.ref_abs) * self.shift_deg

    def position(self, lon_anx: float, dt_s: float) -> tuple[float, float]:
        """Sub-satellite (lat, lon) ``dt_s`` seconds after the ascending node at ``lon_anx``."""
        u = 2.0 * math.pi * dt_s / self.period_s
        su = math.sin(u)
        cu = math.cos(u)
        lat = math.asin(self.sin_i * su) * _R2D
        lon = lon_anx + math.atan2(self.cos_i * su, cu) * _R2D - dt_s * (360.0 / 86_400.0)
        return lat, (lon + 180.0) % 360.0 - 180.0

    def state(self, lon_anx: float, dt_s: float) -> tuple[float, float, float]:
        """(lat, lon, heading in radians clockwise from north) of the ground track."""
        u = 2.0 * math.pi * dt_s / self.period_s
        su = math.sin(u)
        cu = math.cos(u)
        sl = self.sin_i * su
        lat = math.asin(sl)
        lon = lon_anx + math.atan2(self.cos_i * su, cu) * _R2D - dt_s * (360.0 / 86_400.0)
        cl = math.sqrt(1.0 - sl * sl)
        # d(lat)/du and cos(lat) d(lon)/du, the latter including the Earth's rotation under the orbit
        north = self.sin_i * cu / cl
        east = self.cos_i / cl - cl * self.period_s / 86_400.0
        return lat * _R2D, (lon + 180.0) % 360.0 - 180.0, math.atan2(east, north)
