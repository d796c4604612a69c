"""Physical geometry of a synthetic Sentinel-1 GRD: a circular orbit over the WGS84 ellipsoid, zero Doppler.

The orbit is a circle about the Earth's centre, given directly in ECEF (no Earth rotation: the state
vectors the annotation lists are the ones every computation uses, so the product is self-consistent).
Because the orbit is circular, the zero-Doppler plane of azimuth time ``t`` passes through the Earth's
centre and the satellite, perpendicular to the velocity; a ground point's zero-Doppler time is closed form.
Ground range is the arc length on the ellipsoid (height 0) inside that plane from the first sample, and
the slant/ground range polynomials are least-squares fits to it (errors far below a millimetre).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

A = 6_378_137.0
B = 6_356_752.314245
GM = 3.986004418e14
C = 299_792_458.0
Array = NDArray[np.float64]


def ecef_of(lon: Array | float, lat: Array | float, height: Array | float = 0.0) -> Array:
    """Geodetic WGS84 → ECEF (…, 3)."""
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    e2 = 1 - (B / A) ** 2
    n = A / np.sqrt(1 - e2 * np.sin(lat_r) ** 2)
    h = np.asarray(height, dtype=float)
    return np.stack(
        [
            (n + h) * np.cos(lat_r) * np.cos(lon_r),
            (n + h) * np.cos(lat_r) * np.sin(lon_r),
            (n * (1 - e2) + h) * np.sin(lat_r),
        ],
        axis=-1,
    )


def geodetic_of(p: Array) -> tuple[Array, Array, Array]:
    """ECEF (…, 3) → lon, lat (degrees), height (Bowring, then two refinements)."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    e2 = 1 - (B / A) ** 2
    lon = np.arctan2(y, x)
    r = np.hypot(x, y)
    lat = np.arctan2(z, r * (1 - e2))
    for _ in range(5):
        n = A / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        h = r / np.cos(lat) - n
        lat = np.arctan2(z, r * (1 - e2 * n / (n + h)))
    n = A / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    h = r / np.cos(lat) - n
    return np.degrees(lon), np.degrees(lat), h


def normal_of(p: Array) -> Array:
    """The ellipsoid's outward unit normal at ECEF points on (or near) it."""
    g = p / np.array([A * A, A * A, B * B])
    return g / np.linalg.norm(g, axis=-1, keepdims=True)


def on_ellipsoid(direction: Array) -> Array:
    """The point of the ellipsoid (height 0) along geocentric unit ``direction`` (…, 3)."""
    d = direction
    rho = 1.0 / np.sqrt((d[..., 0] ** 2 + d[..., 1] ** 2) / A**2 + d[..., 2] ** 2 / B**2)
    return d * rho[..., None]


@dataclass(frozen=True)
class Orbit:
    """A circular orbit: ``position(t) = R (cos ωt s0 + sin ωt t0)``, t in seconds from the reference time."""

    radius: float
    s0: tuple[float, float, float]
    t0: tuple[float, float, float]

    @property
    def omega(self) -> float:
        return float(np.sqrt(GM / self.radius**3))

    def position(self, t: Array | float) -> Array:
        w = self.omega * np.asarray(t, dtype=float)[..., None]
        return self.radius * (np.cos(w) * np.array(self.s0) + np.sin(w) * np.array(self.t0))

    def velocity(self, t: Array | float) -> Array:
        w = self.omega * np.asarray(t, dtype=float)[..., None]
        return self.radius * self.omega * (-np.sin(w) * np.array(self.s0) + np.cos(w) * np.array(self.t0))

    @property
    def normal(self) -> Array:
        """Unit normal of the orbit plane (s0 × t0); the right-looking side is ``-normal``."""
        return np.cross(np.array(self.s0), np.array(self.t0))

    def zero_doppler_time(self, p: Array) -> Array:
        """Seconds from the reference time at which ECEF point(s) ``p`` are at zero Doppler."""
        return np.arctan2(p @ np.array(self.t0), p @ np.array(self.s0)) / self.omega


def orbit_over(lon: float, lat: float, heading: float, ground_offset: float, altitude: float = 693_000.0) -> Orbit:
    """The circular orbit whose nadir at time 0 lies ``ground_offset`` metres left of (lon, lat), flying ``heading``.

    ``heading`` is in degrees clockwise from north at the scene; the scene is seen right-looking.
    """
    p = ecef_of(lon, lat)
    up = p / np.linalg.norm(p)
    lon_r = np.radians(lon)
    east = np.array([-np.sin(lon_r), np.cos(lon_r), 0.0])
    north = np.cross(up, east)
    along = np.cos(np.radians(heading)) * north + np.sin(np.radians(heading)) * east
    right = np.cross(along, up)
    alpha = ground_offset / A
    s0 = np.cos(alpha) * up - np.sin(alpha) * right
    t0 = along - (along @ s0) * s0
    t0 /= np.linalg.norm(t0)
    return Orbit(A + altitude, (float(s0[0]), float(s0[1]), float(s0[2])), (float(t0[0]), float(t0[1]), float(t0[2])))


@dataclass(frozen=True)
class ZeroDopplerLine:
    """The ground (ellipsoid, height 0) of one azimuth time: points by look angle φ from nadir, to the right."""

    orbit: Orbit
    t: float

    def point(self, phi: Array) -> Array:
        s = self.orbit.position(self.t)
        s_hat = s / np.linalg.norm(s)
        right = -self.orbit.normal
        phi = np.asarray(phi, dtype=float)[..., None]
        return on_ellipsoid(np.cos(phi) * s_hat + np.sin(phi) * right)

    def phi_of(self, p: Array) -> Array:
        """Geocentric angle from nadir of ECEF point(s) ``p`` (projected into the zero-Doppler plane)."""
        s = self.orbit.position(self.t)
        s_hat = s / np.linalg.norm(s)
        return np.arctan2(p @ (-self.orbit.normal), p @ s_hat)


@dataclass(frozen=True)
class RangeConversion:
    """Ground range (metres on the ellipsoid from the near edge) ↔ slant range (metres) at one azimuth time."""

    t: float
    phi_near: float
    sr0: float
    srgr: tuple[float, ...]  # ground = Σ c_k (slant - sr0)^k
    grsr: tuple[float, ...]  # slant = Σ c_k ground^k
    phi_of_ground: tuple[tuple[float, ...], tuple[float, ...]]  # (ground samples, φ samples)

    def ground_to_phi(self, ground: Array) -> Array:
        g, f = self.phi_of_ground
        return np.interp(ground, g, f)


def range_conversion(orbit: Orbit, t: float, phi_near: float, swath: float, degree: int = 5) -> RangeConversion:
    """Fit the slant/ground range polynomials at time ``t`` over ``swath`` metres of ground from ``phi_near``."""
    line = ZeroDopplerLine(orbit, t)
    s = orbit.position(t)
    span = 1.3 * swath / A + 1e-4
    phi = np.linspace(phi_near, phi_near + span, 20_001)
    pts = line.point(phi)
    ground = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=-1))])
    slant = np.linalg.norm(pts - s, axis=-1)
    keep = ground <= swath * 1.15
    g, r = ground[keep], slant[keep]
    sr0 = float(r[0])
    grsr = np.polynomial.polynomial.polyfit(g, r, degree)
    srgr = np.polynomial.polynomial.polyfit(r - sr0, g, degree)
    return RangeConversion(t, phi_near, sr0, tuple(srgr), tuple(grsr), (tuple(ground), tuple(phi)))


def incidence_angle(p: Array, s: Array) -> Array:
    """Incidence angle (degrees) at ECEF points ``p`` seen from satellite positions ``s``."""
    look = s - p
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.sum(look * normal_of(p), axis=-1)))


class SwathGeometry:
    """Line/pixel ↔ ground of a GRD image: ``lines`` × ``samples`` at ``spacing`` metres, first line at t=t_first."""

    def __init__(
        self, orbit: Orbit, t_first: float, lines: int, samples: int, spacing: float, phi_near: float, n_conv: int = 5
    ) -> None:
        self.orbit = orbit
        self.t_first = t_first
        self.lines = lines
        self.samples = samples
        self.spacing = spacing
        self.phi_near = phi_near
        mid = ZeroDopplerLine(orbit, t_first).point(np.array(phi_near))
        ground_speed = orbit.omega * float(np.linalg.norm(mid))
        self.azimuth_interval = spacing / ground_speed
        swath = spacing * (samples - 1)
        times = np.linspace(t_first, self.t_last, n_conv)
        self.conversions = [range_conversion(orbit, float(t), phi_near, swath) for t in times]

    @property
    def t_last(self) -> float:
        return self.t_first + (self.lines - 1) * self.azimuth_interval

    @cached_property
    def _conv_times(self) -> Array:
        return np.array([c.t for c in self.conversions])

    def ground_point(self, line: Array, pixel: Array) -> Array:
        """ECEF of image coordinates (fractional lines/pixels allowed)."""
        line, pixel = np.broadcast_arrays(np.asarray(line, float), np.asarray(pixel, float))
        t = self.t_first + line * self.azimuth_interval
        out = np.empty((*line.shape, 3))
        for idx in np.ndindex(line.shape):
            conv = self.conversions[int(np.argmin(np.abs(self._conv_times - t[idx])))]
            phi = conv.ground_to_phi(pixel[idx] * self.spacing)
            out[idx] = ZeroDopplerLine(self.orbit, float(t[idx])).point(np.array(phi))
        return out

    def image_of(self, p: Array) -> tuple[Array, Array]:
        """(line, pixel) of ECEF point(s) ``p`` (fractional), through zero Doppler and the srgr polynomial."""
        t = self.orbit.zero_doppler_time(p)
        s = self.orbit.position(t)
        slant = np.linalg.norm(p - s, axis=-1)
        ground = self.slant_to_ground(t, slant)
        return (t - self.t_first) / self.azimuth_interval, ground / self.spacing

    def slant_to_ground(self, t: Array, slant: Array) -> Array:
        """Ground range from slant range, interpolating the fitted polynomials linearly in time (as readers do)."""
        values = np.stack([np.polynomial.polynomial.polyval(slant - c.sr0, c.srgr) for c in self.conversions], axis=-1)
        flat_t = np.asarray(t, float).reshape(-1)
        flat_v = values.reshape(-1, len(self.conversions))
        out = np.array([np.interp(ti, self._conv_times, vi) for ti, vi in zip(flat_t, flat_v, strict=True)])
        return out.reshape(np.shape(t))

    def slant_range(self, line: Array, pixel: Array) -> Array:
        t = self.t_first + np.asarray(line, float) * self.azimuth_interval
        p = self.ground_point(line, pixel)
        return np.linalg.norm(p - self.orbit.position(t), axis=-1)

    def incidence(self, p: Array) -> Array:
        """Ellipsoid incidence angle (degrees) at ECEF point(s) ``p``."""
        return incidence_angle(p, self.orbit.position(self.orbit.zero_doppler_time(p)))
