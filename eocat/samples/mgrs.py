"""MGRS / UTM (Krueger series, WGS84): the 100 km square under a point and its ring, once per S2 tile."""

from __future__ import annotations

import math

_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi
_WGS_A = 6_378_137.0
_WGS_F = 1 / 298.257223563
_N = _WGS_F / (2 - _WGS_F)
_AA = _WGS_A / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64)
_K0 = 0.9996
_ALPHA = (_N / 2 - 2 * _N**2 / 3 + 5 * _N**3 / 16, 13 * _N**2 / 48 - 3 * _N**3 / 5, 61 * _N**3 / 240)
_BETA = (_N / 2 - 2 * _N**2 / 3 + 37 * _N**3 / 96, _N**2 / 48 + _N**3 / 15, 17 * _N**3 / 480)
_DELTA = (2 * _N - 2 * _N**2 / 3 - 2 * _N**3, 7 * _N**2 / 3 - 8 * _N**3 / 5, 56 * _N**3 / 15)
_E2N = 2 * math.sqrt(_N) / (1 + _N)
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"


def _utm_forward(lat: float, lon: float, zone: int) -> tuple[float, float]:
    phi = lat * _D2R
    dlam = ((lon - (zone * 6 - 183) + 180.0) % 360.0 - 180.0) * _D2R
    s = math.sin(phi)
    t = math.sinh(math.atanh(s) - _E2N * math.atanh(_E2N * s))
    xi = math.atan2(t, math.cos(dlam))
    eta = math.atanh(math.sin(dlam) / math.sqrt(1 + t * t))
    e = eta + sum(a * math.cos(2 * j * xi) * math.sinh(2 * j * eta) for j, a in enumerate(_ALPHA, 1))
    nn = xi + sum(a * math.sin(2 * j * xi) * math.cosh(2 * j * eta) for j, a in enumerate(_ALPHA, 1))
    return 500_000.0 + _K0 * _AA * e, (0.0 if lat >= 0 else 10_000_000.0) + _K0 * _AA * nn


def _utm_inverse(e: float, n: float, zone: int, south: bool) -> tuple[float, float]:
    """(lat, lon); lon is relative to the zone's central meridian, not wrapped."""
    xi = (n - (10_000_000.0 if south else 0.0)) / (_K0 * _AA)
    eta = (e - 500_000.0) / (_K0 * _AA)
    xi1 = xi - sum(b * math.sin(2 * j * xi) * math.cosh(2 * j * eta) for j, b in enumerate(_BETA, 1))
    eta1 = eta - sum(b * math.cos(2 * j * xi) * math.sinh(2 * j * eta) for j, b in enumerate(_BETA, 1))
    chi = math.asin(math.sin(xi1) / math.cosh(eta1))
    phi = chi + sum(d * math.sin(2 * j * chi) for j, d in enumerate(_DELTA, 1))
    lam = math.atan2(math.sinh(eta1), math.cos(xi1))
    return phi * _R2D, (zone * 6 - 183) + lam * _R2D


def mgrs_tile(lat: float, lon: float, zone: int | None = None) -> tuple[str, int, float, float, bool]:
    """The MGRS 100 km square containing (lat, lon): (tile code, zone, E0, N0, south)."""
    if zone is None:
        zone = int(((lon + 180.0) % 360.0) // 6) + 1
    e, n = _utm_forward(lat, lon, zone)
    e0 = math.floor(e / 100_000.0) * 100_000.0
    n0 = math.floor(n / 100_000.0) * 100_000.0
    south = lat < 0
    clat, _ = _utm_inverse(e0 + 50_000.0, n0 + 50_000.0, zone, south)
    band = _BANDS[min(19, max(0, int((clat + 80.0) // 8)))]
    col = _COLS[(zone - 1) % 3][min(7, max(0, int(e0 // 100_000) - 1))]
    row = _ROWS[(int(n0 // 100_000) + (5 if zone % 2 == 0 else 0)) % 20]
    return f"{zone:02d}{band}{col}{row}", zone, e0, n0, south


def tile_ring(zone: int, e0: float, n0: float, south: bool) -> list[list[float]]:
    """Closed CCW ring of the 109.8 km S2 tile (corners + edge midpoints, lon not wrapped)."""
    size = 109_800.0
    pts = (
        (e0, n0),
        (e0 + size / 2, n0),
        (e0 + size, n0),
        (e0 + size, n0 + size / 2),
        (e0 + size, n0 + size),
        (e0 + size / 2, n0 + size),
        (e0, n0 + size),
        (e0, n0 + size / 2),
    )
    ring = []
    for e, n in pts:
        lat, lon = _utm_inverse(e, n, zone, south)
        ring.append([round(lon, 6), round(lat, 6)])
    ring.append(list(ring[0]))
    return ring
