"""The sample constellations on the shared orbit model, and when each platform passes over a place."""

from __future__ import annotations

import math

from emulators.cdse.synthetic.orbits import SENTINEL1_CYCLE, SENTINEL2_CYCLE, GroundTrack
from eocat.samples.clock import DAY_US, US, parse_time

# Sentinel-1: 175 orbits in 12 days, i = 98.18 deg, ascending node at 18:00 local time.
# Reference: S1A absolute orbit 57287 (track 165), ANX 2025-01-03T23:54:35.383599Z (CDSE STAC fixture).
_S1A_ANX = parse_time("2025-01-03T23:54:35.383599Z")
_S1_LON = (18.0 - ((_S1A_ANX % DAY_US) / 3_600e6)) * 15.0
S1A = GroundTrack("sentinel-1a", "2014-016A", SENTINEL1_CYCLE, 98.18, _S1A_ANX, 57287, 165, _S1_LON)
# S1B and S1C fly half a cycle (6 days) behind S1A on the same tracks; own absolute orbit counts.
S1B = GroundTrack("sentinel-1b", "2016-025A", SENTINEL1_CYCLE, 98.18, _S1A_ANX + 6 * DAY_US, 46391, 165, _S1_LON)
S1C = GroundTrack("sentinel-1c", "2024-235A", SENTINEL1_CYCLE, 98.18, _S1A_ANX + 6 * DAY_US, 511, 165, _S1_LON)
_S1B_END = parse_time("2021-12-23T00:00:00Z")
_S1C_START = parse_time("2025-05-20T00:00:00Z")

# Sentinel-2: 143 orbits in 10 days, i = 98.62 deg, descending node 10:30 (ascending 22:30).
# Reference: S2A orbit 34773 (track 27), datatake 2022-02-17T18:34:31 over tile 13VEK -> ANX 18:01:47.
_S2A_ANX = parse_time("2022-02-17T18:01:47Z")
_S2_LON = (22.5 - ((_S2A_ANX % DAY_US) / 3_600e6)) * 15.0
S2A = GroundTrack("sentinel-2a", "2015-028A", SENTINEL2_CYCLE, 98.62, _S2A_ANX, 34773, 27, _S2_LON)
S2B = GroundTrack("sentinel-2b", "2017-013A", SENTINEL2_CYCLE, 98.62, _S2A_ANX + 5 * DAY_US, 25840, 27, _S2_LON)
S2C = GroundTrack("sentinel-2c", "2024-157A", SENTINEL2_CYCLE, 98.62, _S2A_ANX + 108 * 10 * DAY_US, 2137, 27, _S2_LON)
S2C_START = parse_time("2025-01-21T00:00:00Z")


def s1_platforms(t: int) -> tuple[GroundTrack, ...]:
    """The Sentinel-1 platforms flying at ``t``."""
    if t < _S1B_END:
        return (S1A, S1B)
    if t >= _S1C_START:
        return (S1A, S1C)
    return (S1A,)


def layout(count: int, per_location: float, n_periods: int) -> tuple[int, int]:
    """(acquisitions per location, number of locations) for ``count`` items."""
    per_loc = max(1, min(n_periods, max(2, round(math.sqrt(count / per_location)))))
    return per_loc, math.ceil(count / (per_loc * per_location))


def first_pass(orb: GroundTrack, track: int, dt_s: float, t0: int, period_us: int) -> int:
    """Time of the first pass of ``orb`` over ``track`` at ``dt_s`` after ANX that is >= t0, counting
    passes every ``period_us`` (half or full repeat cycle)."""
    k = orb.orbit_at(t0 - 20 * DAY_US)
    k += (track - orb.track(k)) % orb.n_tracks
    t = orb.anx(k) + int(dt_s * US)
    while t < t0:
        t += period_us
    while t - period_us >= t0:
        t -= period_us
    return t
