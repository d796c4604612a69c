"""Deterministic, realistic Sentinel-like STAC 1.1 items and collections, at any scale.

Used by the tests (brute-force query checks), the emulators, ``make demo`` and the benchmarks::

    from emulators.samples import KINDS, collections, generate_items, write_ndjson

    cols = collections()                       # one STAC Collection dict per kind
    items = list(generate_items(10_000, seed=1))
    write_ndjson("items.ndjson", 1_000_000)    # streams, one compact item per line

Determinism: the same ``(n, seed, kinds, start, end)`` gives identical items (one ``random.Random`` per
kind, seeded from ``seed`` and the kind; no global random state, no clock). Item ids are unique by
construction (no "seen" set), at any ``n``.

Kinds and their collection ids (``COLLECTION_IDS``):

=========== ===================== ===========================================================================
kind        collection            model
=========== ===================== ===========================================================================
s1-slc      sentinel-1-slc        a pool of slice footprints ("frames", ~10 sqrt(n)) at fixed places of fixed
s1-grd      sentinel-1-grd        tracks of a sun-synchronous orbit model (175 orbits / 12 days, 18:00
                                  ascending node); an item is the pass of S1A/B/C over a frame's track after
                                  a uniform random instant, so track, absolute orbit (ESA relative-orbit
                                  formulas hold), orbit state, heading and local time agree. Footprint: a
                                  tilted quadrilateral ~250 km (IW) / 400 km (EW) x ~180 km, right of track.
s1-burst    sentinel-1-bursts     a set of burst locations (groups of IW1..IW3 sharing an ESA relative burst
                                  id, which fixes track and time since ANX, DAD eq. 9-89), each acquired by
                                  Sentinel-1A every 12 days; one item per (acquisition, subswath,
                                  polarization), ~85 km x 20 km. Ids are ASF ``fileID``s without ``-BURST``.
s2-l2a      sentinel-2-l2a        a set of MGRS tiles (real UTM 100 km squares + 9.8 km overlap, inverse
                                  projected) under a Sentinel-2 track (143 orbits / 10 days, 10:30
                                  descending node), revisited every 5 days (A/C + B). Sun angles computed.
s3-ndvi     destine-s3-ndvi       DestinE streamer frames: continent boxes (Europe, Africa), S3A and S3B
                                  frames every day (one item per daily frame), EPSG:4326 grids.
=========== ===================== ===========================================================================

Items are emitted round-robin over ``kinds``. A kind that has fewer possible items than its share
(s3-ndvi: 4 frames a day in ``[start, end]``) is capped and the rest goes to the other kinds; if only
capped kinds are asked for, ``ValueError``. Repeat-location kinds (bursts, S2 tiles) size their
location set with ``n`` (about ``sqrt`` of the count), so small samples still contain stacks and large
ones still cover the time range.

About 0.5 % of the S1 frames and S2 tiles (at least one per pool of >= 20, so any sample of a few
thousand items has some) cross the antimeridian, plus bursts that happen to; they are split with
``antimeridian`` into a MultiPolygon and their bbox follows RFC 7946 (``minx > maxx``).

Datetimes are RFC 3339 UTC with ``Z``, with 6, 3 or 0 fractional digits (per item). Some optional
properties are missing on purpose (~3 % of S2 without ``eo:cloud_cover``, ~5 % without
``view:sun_elevation``); ``stac_extensions`` lists exactly the extensions whose fields an item uses.

Speed: ~55,000 items/s streamed as dicts on one core (``generate_items(1_000_000)`` ~19 s); NDJSON output
is ~3.2 kB per item.

Item links: a relative ``collection`` link (``../collection.json``, static-catalog layout; required by
the STAC item schema whenever ``collection`` is set) and sometimes a ``license`` link. Asset hrefs point
at the real services' URL shapes (``COPERNICUS_ZIPPER``, ``ASF_BURST``, ``DESTINE_STREAMER``).
"""

from __future__ import annotations

import bisect
import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from os import PathLike
from typing import Any

import antimeridian
import orjson

__all__ = [
    "COLLECTION_IDS",
    "EXTENSIONS",
    "KINDS",
    "collections",
    "generate_items",
    "write_ndjson",
]

KINDS = ("s1-slc", "s1-grd", "s1-burst", "s2-l2a", "s3-ndvi")

COLLECTION_IDS: dict[str, str] = {
    "s1-slc": "sentinel-1-slc",
    "s1-grd": "sentinel-1-grd",
    "s1-burst": "sentinel-1-bursts",
    "s2-l2a": "sentinel-2-l2a",
    "s3-ndvi": "destine-s3-ndvi",
}

STAC_VERSION = "1.1.0"

EXTENSIONS: dict[str, str] = {
    "authentication": "https://stac-extensions.github.io/authentication/v1.1.0/schema.json",
    "eo": "https://stac-extensions.github.io/eo/v2.0.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "grid": "https://stac-extensions.github.io/grid/v1.1.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "product": "https://stac-extensions.github.io/product/v1.0.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.3.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.1.0/schema.json",
    "timestamps": "https://stac-extensions.github.io/timestamps/v1.1.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.1.0/schema.json",
}
_X = EXTENSIONS

COPERNICUS_ZIPPER = "https://zipper.dataspace.copernicus.eu/odata/v1"
COPERNICUS_QUICKLOOK = "https://datahub.creodias.eu/odata/v1"
CDSE_OIDC = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/.well-known/openid-configuration"
ASF_BURST = "https://sentinel1-burst.asf.alaska.edu"
EDL = "https://urs.earthdata.nasa.gov"
DESTINE_STREAMER = "https://streamer.destine.eu"
DESP_OIDC = "https://auth.destine.eu/realms/desp/.well-known/openid-configuration"
SENTINEL_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"
DESTINE_LICENSE = "https://platform.destine.eu/terms-and-conditions/"

# --------------------------------------------------------------------------------------------------
# time helpers: all instants are integer microseconds since 1970-01-01T00:00:00Z

_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATES: dict[int, tuple[str, str]] = {}


def _parse_time(value: str) -> int:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(microseconds=1)


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


def _iso(t: int, prec: int) -> str:
    """RFC 3339 UTC ('Z') with ``prec`` in (6, 3, 0) fractional digits (truncated)."""
    day, rem = divmod(t, _DAY_US)
    ds = _DATES.get(day) or _day_strings(day)
    sec, us = divmod(rem, _US)
    hm, s = divmod(sec, 60)
    if prec == 6:
        return f"{ds[0]}T{_HM[hm]}{_SS[s]}.{us:06d}Z"
    if prec == 3:
        return f"{ds[0]}T{_HM[hm]}{_SS[s]}.{us // 1000:03d}Z"
    return f"{ds[0]}T{_HM[hm]}{_SS[s]}Z"


def _compact(t: int) -> str:
    """``YYYYMMDDTHHMMSS`` as in product names."""
    day, rem = divmod(t, _DAY_US)
    ds = _DATES.get(day) or _day_strings(day)
    hm, s = divmod(rem // _US, 60)
    return f"{ds[1]}T{_HMC[hm]}{_SS[s]}"


def _t(value: str) -> int:
    return _parse_time(value)


# fractional digits per item: mostly microseconds (CDSE), some milliseconds, some none (ASF)
_PRECISIONS = (6,) * 12 + (3,) * 5 + (0,) * 3

# --------------------------------------------------------------------------------------------------
# orbit model (circular, sun-synchronous, exact repeat; good to ~1 deg, which is all we need)

_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi
_KM_PER_DEG = 111.32


class _Orbit:
    """One platform: ANX times, track (relative orbit) numbers and ground track positions."""

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
        period_s: float,
        inclination_deg: float,
        ref_anx: int,
        ref_abs: int,
        ref_track: int,
        n_tracks: int,
        lon_ref: float,
    ) -> None:
        self.platform = platform
        self.designator = designator
        self.period_s = period_s
        self.period_us = period_s * _US
        self.sin_i = math.sin(inclination_deg * _D2R)
        self.cos_i = math.cos(inclination_deg * _D2R)
        self.ref_anx = ref_anx
        self.ref_abs = ref_abs
        self.ref_track = ref_track
        self.n_tracks = n_tracks
        self.lon_ref = lon_ref
        # the Earth turns under the (sun-synchronous) node by 360 deg per solar day
        self.shift_deg = 360.0 * period_s / 86_400.0

    def orbit_at(self, t: int) -> int:
        return self.ref_abs + math.floor((t - self.ref_anx) / self.period_us)

    def anx(self, k: int) -> int:
        return self.ref_anx + round((k - self.ref_abs) * self.period_us)

    def track(self, k: int) -> int:
        return (self.ref_track - 1 + k - self.ref_abs) % self.n_tracks + 1

    def lon_anx(self, k: int) -> float:
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


def _offset(lat: float, lon: float, heading: float, along_km: float, right_km: float) -> tuple[float, float]:
    """Move ``along_km`` along ``heading`` and ``right_km`` to its right (local flat approximation)."""
    sh = math.sin(heading)
    ch = math.cos(heading)
    north = along_km * ch - right_km * sh
    east = along_km * sh + right_km * ch
    lat2 = lat + north / _KM_PER_DEG
    lon2 = lon + east / (_KM_PER_DEG * math.cos((lat + lat2) * 0.5 * _D2R))
    return lat2, (lon2 + 180.0) % 360.0 - 180.0


def _quad(lat: float, lon: float, heading: float, along_km: float, across_km: float) -> list[list[float]]:
    """Closed CCW ring of a ``along_km`` x ``across_km`` rectangle centred on (lat, lon), tilted by
    ``heading``; longitudes are *not* wrapped (may leave [-180, 180]). Each corner's longitude span is
    widened by 1/cos(its latitude)."""
    sh = math.sin(heading)
    ch = math.cos(heading)
    ha = along_km * 0.5
    hw = across_km * 0.5
    # corner offsets (north, east) in km: rear-left, rear-right, front-right, front-left
    an, ae = ha * ch, ha * sh
    cn, ce = -hw * sh, hw * ch
    k = 1.0 / _KM_PER_DEG
    cos = math.cos
    la0 = lat + (-an - cn) * k
    la1 = lat + (-an + cn) * k
    la2 = lat + (an + cn) * k
    la3 = lat + (an - cn) * k
    p0 = [round((lon + (-ae - ce) * k / cos(la0 * _D2R)) * 1e6) / 1e6, round(la0 * 1e6) / 1e6]
    p1 = [round((lon + (-ae + ce) * k / cos(la1 * _D2R)) * 1e6) / 1e6, round(la1 * 1e6) / 1e6]
    p2 = [round((lon + (ae + ce) * k / cos(la2 * _D2R)) * 1e6) / 1e6, round(la2 * 1e6) / 1e6]
    p3 = [round((lon + (ae - ce) * k / cos(la3 * _D2R)) * 1e6) / 1e6, round(la3 * 1e6) / 1e6]
    return [p0, p1, p2, p3, [p0[0], p0[1]]]


def _geometry(ring: list[list[float]]) -> tuple[dict[str, Any], list[float]]:
    """GeoJSON geometry + RFC 7946 bbox for a closed CCW ring with possibly unwrapped longitudes."""
    lons = [p[0] for p in ring]
    lo = min(lons)
    hi = max(lons)
    if lo >= -180.0 and hi <= 180.0:
        lats = [p[1] for p in ring]
        return {"type": "Polygon", "coordinates": [ring]}, [lo, min(lats), hi, max(lats)]
    wrapped = [[round((x + 180.0) % 360.0 - 180.0, 6), y] for x, y in ring]
    fixed = antimeridian.fix_shape({"type": "Polygon", "coordinates": [wrapped]})
    # tuples -> lists; round away float noise (the crossing points have 7 decimals); bbox from the result
    geom = {
        "type": fixed["type"],
        "coordinates": [
            [[[round(x, 7), round(y, 7)] for x, y in ring] for ring in poly] for poly in fixed["coordinates"]
        ],
    }
    return geom, [float(v) for v in antimeridian.bbox(geom)]


def _copy_geometry(geom: dict[str, Any]) -> dict[str, Any]:
    if geom["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [[[x, y] for x, y in r] for r in geom["coordinates"]]}
    return {
        "type": geom["type"],
        "coordinates": [[[[x, y] for x, y in r] for r in poly] for poly in geom["coordinates"]],
    }


# Sentinel-1: 175 orbits in 12 days, i = 98.18 deg, ascending node at 18:00 local time.
# Reference: S1A absolute orbit 57287 (track 165), ANX 2025-01-03T23:54:35.383599Z (CDSE STAC fixture).
_S1_PERIOD = 12 * 86_400 / 175
_S1A_ANX = _t("2025-01-03T23:54:35.383599Z")
_S1_LON = (18.0 - ((_S1A_ANX % _DAY_US) / 3_600e6)) * 15.0
_S1A = _Orbit("sentinel-1a", "2014-016A", _S1_PERIOD, 98.18, _S1A_ANX, 57287, 165, 175, _S1_LON)
# S1B and S1C fly half a cycle (6 days) behind S1A on the same tracks; own absolute orbit counts.
_S1B = _Orbit("sentinel-1b", "2016-025A", _S1_PERIOD, 98.18, _S1A_ANX + 6 * _DAY_US, 46391, 165, 175, _S1_LON)
_S1C = _Orbit("sentinel-1c", "2024-235A", _S1_PERIOD, 98.18, _S1A_ANX + 6 * _DAY_US, 511, 165, 175, _S1_LON)
_S1B_END = _t("2021-12-23T00:00:00Z")
_S1C_START = _t("2025-05-20T00:00:00Z")

# Sentinel-2: 143 orbits in 10 days, i = 98.62 deg, descending node 10:30 (ascending 22:30).
# Reference: S2A orbit 34773 (track 27), datatake 2022-02-17T18:34:31 over tile 13VEK -> ANX 18:01:47.
_S2_PERIOD = 10 * 86_400 / 143
_S2A_ANX = _t("2022-02-17T18:01:47Z")
_S2_LON = (22.5 - ((_S2A_ANX % _DAY_US) / 3_600e6)) * 15.0
_S2A = _Orbit("sentinel-2a", "2015-028A", _S2_PERIOD, 98.62, _S2A_ANX, 34773, 27, 143, _S2_LON)
_S2B = _Orbit("sentinel-2b", "2017-013A", _S2_PERIOD, 98.62, _S2A_ANX + 5 * _DAY_US, 25840, 27, 143, _S2_LON)
_S2C = _Orbit("sentinel-2c", "2024-157A", _S2_PERIOD, 98.62, _S2A_ANX + 108 * 10 * _DAY_US, 2137, 27, 143, _S2_LON)
_S2C_START = _t("2025-01-21T00:00:00Z")

# ESA burst id constants (IW), DAD eq. 9-89/9-91
_T_BEAM = 2.758273
_T_PRE = 2.299849
_N_BURST_IDS = 375887

# --------------------------------------------------------------------------------------------------
# MGRS / UTM (Krueger series, WGS84), used once per S2 tile

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


def _mgrs_tile(lat: float, lon: float, zone: int | None = None) -> tuple[str, int, float, float, bool]:
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


def _tile_ring(zone: int, e0: float, n0: float, south: bool) -> list[list[float]]:
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


# --------------------------------------------------------------------------------------------------
# shared little builders

_UUID_MASK = 0xFFFFFFFF_FFFF_0FFF_3FFF_FFFFFFFFFFFF
_UUID_V4 = 0x00000000_0000_4000_8000_000000000000


def _uuid(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID string."""
    h = f"{rng.getrandbits(128) & _UUID_MASK | _UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _md5_multihash(rng: random.Random) -> str:
    return f"d50110{rng.getrandbits(128):032x}"


def _cdse_schemes() -> dict[str, Any]:
    return {
        "oidc": {
            "type": "openIdConnect",
            "description": "CDSE Keycloak (client_id cdse-public); send the access token as Bearer.",
            "openIdConnectUrl": CDSE_OIDC,
        }
    }


def _asf_scheme() -> dict[str, Any]:
    return {
        "type": "oauth2",
        "description": "NASA Earthdata Login; the ASF burst extractor needs the asf-urs cookie.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": f"{EDL}/oauth/authorize",
                "tokenUrl": f"{EDL}/oauth/token",
                "scopes": {},
            }
        },
    }


def _desp_schemes() -> dict[str, Any]:
    return {
        "desp": {
            "type": "openIdConnect",
            "description": "DestinE DESP Keycloak; send the access token as Bearer.",
            "openIdConnectUrl": DESP_OIDC,
        }
    }


def _collection_link(cid: str) -> dict[str, str]:
    return {"rel": "collection", "href": "../collection.json", "type": "application/json", "title": cid}


def _license_link(href: str) -> dict[str, str]:
    return {"rel": "license", "href": href, "type": "text/html", "title": "Legal notice"}


def _rng(seed: int, kind: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random (stable across processes and PYTHONHASHSEED)
    return random.Random(f"eocat-samples:{seed}:{kind}")


def _s1_platforms(t: int) -> tuple[_Orbit, ...]:
    if t < _S1B_END:
        return (_S1A, _S1B)
    if t >= _S1C_START:
        return (_S1A, _S1C)
    return (_S1A,)


def _s1_ipf(t: int) -> str:
    return _S1_IPF[min(bisect.bisect_right(_S1_IPF_LIMITS, t), len(_S1_IPF) - 1)][1]


_S1_IPF = (
    (_t("2021-06-01T00:00:00Z"), "003.31"),
    (_t("2022-03-23T00:00:00Z"), "003.40"),
    (_t("2023-03-29T00:00:00Z"), "003.52"),
    (_t("2023-10-04T00:00:00Z"), "003.61"),
    (_t("2024-05-13T00:00:00Z"), "003.71"),
    (_t("2024-11-20T00:00:00Z"), "003.80"),
    (_t("2099-01-01T00:00:00Z"), "003.90"),
)

_S1_IPF_LIMITS = [limit for limit, _v in _S1_IPF]

_S2_BASELINES = (
    (_t("2021-06-30T00:00:00Z"), "N0300"),
    (_t("2022-01-25T00:00:00Z"), "N0301"),
    (_t("2022-12-06T00:00:00Z"), "N0400"),
    (_t("2023-06-27T00:00:00Z"), "N0509"),
    (_t("2024-07-23T00:00:00Z"), "N0510"),
    (_t("2099-01-01T00:00:00Z"), "N0511"),
)
_S2_BASELINE_LIMITS = [limit for limit, _b in _S2_BASELINES]
_S2_REPROCESSED_BEFORE = _t("2022-01-25T00:00:00Z")
_S2_REPROCESSING = (_t("2023-03-01T00:00:00Z"), _t("2024-09-01T00:00:00Z"))


def _sun(t: int, lat: float, lon: float) -> tuple[float, float]:
    """Approximate (elevation, azimuth) of the Sun in degrees."""
    day_frac = (t % _DAY_US) / _DAY_US
    doy = (t // _DAY_US - 10_957) % 365.2425  # days since 2000-01-01, folded to a year
    decl = -23.44 * _D2R * math.cos(2 * math.pi * (doy + 10) / 365.2425)
    hour_angle = ((day_frac * 24.0 + lon / 15.0) % 24.0 - 12.0) * 15.0 * _D2R
    phi = lat * _D2R
    sin_el = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour_angle)
    el = math.asin(max(-1.0, min(1.0, sin_el)))
    az = math.atan2(-math.sin(hour_angle), math.tan(decl) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle))
    return el * _R2D, (az * _R2D) % 360.0


# --------------------------------------------------------------------------------------------------
# Sentinel-1 SLC / GRD


def _antimeridian_slots(count: int) -> set[int]:
    """Which entries of a location pool of ``count`` must cross the antimeridian (~0.5 %, at least
    one in pools of 20 or more, so that moderately sized samples always contain some)."""
    if count < 20:
        return set()
    n_am = max(1, round(0.005 * count))
    return {int((j + 0.5) * count / n_am) for j in range(n_am)}


def _s1_frames(rng: random.Random, count: int, duration: float) -> list[tuple[Any, ...]]:
    """A pool of S1 slice footprints ("frames"): fixed places on fixed tracks, re-acquired every
    12 days (S1A) or 6 days later (S1B/S1C) as in the real observation scenario."""
    r = rng.random
    orb = _S1A
    frames: list[tuple[Any, ...]] = []
    crossing = _antimeridian_slots(count)
    while len(frames) < count:
        want_crossing = len(frames) in crossing
        track = 1 + int(r() * orb.n_tracks)
        # argument of latitude: the sub-satellite point stays within ~70 deg of latitude
        v = r() * 288.0 - 72.0
        if v > 72.0:
            v += 36.0
        u = v % 360.0
        dt_s = u / 360.0 * orb.period_s
        lat, _lon = orb.position(0.0, dt_s)
        if abs(lat) > 70.0:
            continue
        ew = abs(lat) > 60.0 and r() < 0.5
        right = 425.0 if ew else 480.0
        if want_crossing:
            # the track whose footprint centre at this point of the orbit is closest to 180 deg
            def distance_to_antimeridian(tr: int, dt_s: float = dt_s, right: float = right) -> float:
                la, lo, hd = orb.state(orb.lon_anx(orb.ref_abs + (tr - orb.ref_track) % orb.n_tracks), dt_s)
                return abs(_offset(la, lo, hd, 0.0, right)[1] % 360.0 - 180.0)

            track = min(range(1, orb.n_tracks + 1), key=distance_to_antimeridian)
        k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
        lat, lon, heading = orb.state(orb.lon_anx(k_ref), dt_s)
        ring = _quad(*_offset(lat, lon, heading, 0.0, right), heading, duration * 6.9, 400.0 if ew else 250.0)
        lons = [p[0] for p in ring]
        if (min(lons) < -180.0 or max(lons) > 180.0) != want_crossing:
            continue
        geometry, bbox = _geometry(ring)
        if ew:
            mode = "EW"
            pols, pcode = (["HH", "HV"], "DH") if r() < 0.9 else (["HH"], "SH")
        else:
            mode = "IW"
            p = r()
            if p < 0.8:
                pols, pcode = ["VV", "VH"], "DV"
            elif p < 0.9:
                pols, pcode = ["HH", "HV"], "DH"
            elif p < 0.97:
                pols, pcode = ["VV"], "SV"
            else:
                pols, pcode = ["HH"], "SH"
        frames.append((track, dt_s, u < 90.0 or u > 270.0, mode, pols, pcode, geometry, bbox))
    return frames


def _gen_s1(kind: str, n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, kind)
    r = rng.random
    bits = rng.getrandbits
    slc = kind == "s1-slc"
    cid = COLLECTION_IDS[kind]
    duration = 27.0 if slc else 25.0
    last = t1 - 30 * _US
    span = max(1, last - t0)
    salt = bits(16)
    x = _X
    ext_base = [x["authentication"], x["file"], x["processing"], x["product"], x["sar"], x["sat"]]
    ext_ts = [*ext_base, x["timestamps"]]
    frames = _s1_frames(rng, min(n, max(64, int(10 * math.sqrt(n)))), duration)
    n_frames = len(frames)
    for i in range(n):
        prec = _PRECISIONS[int(r() * 20)]
        track, dt_s, ascending, mode, pols, pcode, geometry, bbox = frames[int(r() * n_frames)]
        t = t0 + int(r() * span)
        plats = _s1_platforms(t)
        orb = plats[int(r() * len(plats))]
        # the pass over this frame's track in the repeat cycle (12 days) that starts at t
        k = orb.orbit_at(t)
        k += (track - orb.track(k)) % orb.n_tracks
        offset = int((dt_s - duration / 2) * _US) + int(r() * 400_000)
        t_start = orb.anx(k) + offset
        if t_start < t0:
            k += orb.n_tracks
            t_start = orb.anx(k) + offset
        step = 1 if orb is _S1C else -1  # move S1B passes earlier, S1C passes later (mission dates)
        while t_start > last or orb not in _s1_platforms(t_start):
            k += step * orb.n_tracks
            t_start = orb.anx(k) + offset
            if not t0 <= t_start <= last:  # window shorter than a cycle (or than a mission overlap)
                orb = _S1A
                k = orb.orbit_at(t)
                t_start = t0 + int(r() * span)
                break
        anx = orb.anx(k)
        t_stop = t_start + int(duration * _US) + int(r() * 1_000_000)
        if slc:
            ptype = f"{mode}_SLC__1S"
            tag = f"{mode}_SLC__1S{pcode}"
            size = int((3.2e9 if mode == "IW" else 1.6e9) * len(pols) * (0.9 + 0.3 * r()))
        else:
            res = "H" if mode == "IW" else "M"
            ptype = f"{mode}_GRD{res}_1S"
            tag = f"{mode}_GRD{res}_1S{pcode}"
            size = int(0.85e9 * len(pols) * (0.85 + 0.3 * r()))
        uid = ((i * 0x9E37) ^ salt) & 0xFFFF
        datatake = (k * 8 + (i >> 16)) & 0xFFFFFF
        item_id = (
            f"S1{orb.platform[-1].upper()}_{tag}_{_compact(t_start)}_{_compact(t_stop)}"
            f"_{k:06d}_{datatake:06X}_{uid:04X}"
        )
        t_proc = t_stop + int((1800 + r() * 20_000) * _US)
        t_created = t_proc + int((60 + r() * 1200) * _US)
        t_published = t_created + int((60 + r() * 600) * _US)
        t_updated = t_published + (int(r() * 40 * _DAY_US) if r() < 0.3 else int(r() * 400 * _US))
        ipf = _s1_ipf(t_start)
        uuid = _uuid(rng)
        safe = f"{item_id}.SAFE"
        iso_start = _iso(t_start, prec)
        props: dict[str, Any] = {
            "datetime": iso_start,
            "start_datetime": iso_start,
            "end_datetime": _iso(t_stop, prec),
            "created": _iso(t_created, prec),
            "updated": _iso(t_updated, prec),
            "platform": orb.platform,
            "constellation": "sentinel-1",
            "instruments": ["sar"],
            "sar:instrument_mode": mode,
            "sar:frequency_band": "C",
            "sar:center_frequency": 5.405,
            "sar:polarizations": pols,
            "sar:beam_ids": ["iw1", "iw2", "iw3"] if mode == "IW" else ["ew1", "ew2", "ew3", "ew4", "ew5"],
            "sat:orbit_state": "ascending" if ascending else "descending",
            "sat:relative_orbit": orb.track(k),
            "sat:absolute_orbit": k,
            "sat:anx_datetime": _iso(anx, 6),
            "sat:platform_international_designator": orb.designator,
            "product:type": ptype,
            "product:timeliness": "PT24H" if slc else "PT3H",
            "product:timeliness_category": "Fast-24h" if slc else "NRT-3h",
            "processing:level": "L1",
            "processing:facility": "Copernicus S1 Core Ground Segment - DPA",
            "processing:datetime": _iso(t_proc, prec),
            "processing:version": ipf[1:],
            "processing:software": {"Sentinel-1 IPF": ipf},
            "auth:schemes": _cdse_schemes(),
        }
        if not slc:
            props["sar:resolution_range"] = 20.0 if mode == "IW" else 93.0
            props["sar:resolution_azimuth"] = 22.0 if mode == "IW" else 87.0
        extensions = ext_base
        if r() < 0.9:
            props["published"] = _iso(t_published, prec)
            extensions = ext_ts
        base = f"{COPERNICUS_ZIPPER}/Products({uuid})"
        links = [_collection_link(cid)]
        if r() < 0.3:
            links.append(_license_link(SENTINEL_LICENSE))
        yield {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": list(extensions),
            "id": item_id,
            "collection": cid,
            "geometry": _copy_geometry(geometry),
            "bbox": list(bbox),
            "properties": props,
            "links": links,
            "assets": {
                "product": {
                    "href": f"{base}/$value",
                    "type": "application/zip",
                    "title": "Zipped product",
                    "roles": ["data", "metadata", "archive"],
                    "file:size": size,
                    "file:checksum": _md5_multihash(rng),
                    "file:local_path": f"{safe}.zip",
                    "auth:refs": ["oidc"],
                },
                "safe_manifest": {
                    "href": f"{base}/Nodes({safe})/Nodes(manifest.safe)/$value",
                    "type": "application/xml",
                    "title": "manifest.safe",
                    "roles": ["metadata"],
                    "file:size": 20_000 + int(r() * 30_000),
                    "file:local_path": f"{safe}/manifest.safe",
                    "auth:refs": ["oidc"],
                },
                "thumbnail": {
                    "href": f"{COPERNICUS_QUICKLOOK}/Assets({_uuid(rng)})/$value",
                    "type": "image/png",
                    "title": "Thumbnail",
                    "roles": ["thumbnail"],
                    "file:size": 20_000 + int(r() * 40_000),
                },
            },
        }


# --------------------------------------------------------------------------------------------------
# repeat-location layout shared by bursts and S2 tiles


def _layout(count: int, per_location: float, n_periods: int) -> tuple[int, int]:
    """(acquisitions per location, number of locations) for ``count`` items."""
    per_loc = max(1, min(n_periods, max(2, round(math.sqrt(count / per_location)))))
    return per_loc, math.ceil(count / (per_loc * per_location))


def _first_pass(orb: _Orbit, track: int, dt_s: float, t0: int, period_us: int) -> int:
    """Time of the first pass of ``orb`` over ``track`` at ``dt_s`` after ANX that is >= t0, counting
    passes every ``period_us`` (half or full repeat cycle)."""
    k = orb.orbit_at(t0 - 20 * _DAY_US)
    k += (track - orb.track(k)) % orb.n_tracks
    t = orb.anx(k) + int(dt_s * _US)
    while t < t0:
        t += period_us
    while t - period_us >= t0:
        t -= period_us
    return t


# --------------------------------------------------------------------------------------------------
# Sentinel-1 bursts

_SWATHS = (("IW1", -0.92, 390.0, 92.0, 21_400), ("IW2", 0.0, 478.0, 86.0, 25_000), ("IW3", 0.92, 560.0, 80.0, 24_500))
_CYCLE_S1 = 12 * _DAY_US


def _burst_groups(rng: random.Random, n: int, per_loc: int) -> list[dict[str, Any]]:
    r = rng.random
    groups: list[dict[str, Any]] = []
    seen: set[int] = set()
    capacity = 0
    orb = _S1A
    while capacity < n:
        rel = 1 + int(r() * _N_BURST_IDS)
        if rel in seen:
            continue
        dtb = _T_PRE + (rel - 1 + 0.5) * _T_BEAM  # mid-burst time of IW2 from ANX of track 1
        track = int(dtb // orb.period_s) + 1
        dt_s = dtb - (track - 1) * orb.period_s
        k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
        lat, _lon = orb.position(orb.lon_anx(k_ref), dt_s)
        if abs(lat) > 72.0:
            continue
        seen.add(rel)
        p = r()
        pols = ["VV", "VH"] if p < 0.75 else (["HH", "HV"] if p < 0.85 else (["VV"] if p < 0.95 else ["HH"]))
        swaths = []
        for name, dts, right, width, samples in _SWATHS:
            la, lo, hd = orb.state(orb.lon_anx(k_ref), dt_s + dts)
            cla, clo = _offset(la, lo, hd, 0.0, right)
            geometry, bbox = _geometry(_quad(cla, clo, hd, 20.5, width))
            swaths.append((name, dts, geometry, bbox, samples + int(r() * 800)))
        u = 360.0 * dt_s / orb.period_s
        groups.append(
            {
                "rel": rel,
                "track": track,
                "dt": dt_s,
                "ascending": u < 90.0 or u > 270.0,
                "pols": pols,
                "pcode": ("D" if len(pols) == 2 else "S") + pols[0][0],
                "index": int(r() * 9),
                "lines": 1490 + int(r() * 30),
                "phase": r(),
                "swaths": swaths,
            }
        )
        capacity += 3 * len(pols) * per_loc
    return groups


def _gen_bursts(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, "s1-burst")
    r = rng.random
    cid = COLLECTION_IDS["s1-burst"]
    orb = _S1A
    n_periods = max(1, (t1 - t0) // _CYCLE_S1)
    per_loc, _ = _layout(n, 5.4, n_periods)
    groups = _burst_groups(rng, n, per_loc)
    x = _X
    extensions = [x["authentication"], x["file"], x["proj"], x["sar"], x["sat"]]
    first = [_first_pass(orb, g["track"], g["dt"], t0 + 60 * _US, _CYCLE_S1) for g in groups]
    emitted = 0
    for j in range(per_loc):
        for gi, g in enumerate(groups):
            cyc = int((j + g["phase"]) * n_periods / per_loc)
            t_mid = min(first[gi] + cyc * _CYCLE_S1, t1 - 60 * _US)  # IW2 mid-burst time
            k = orb.orbit_at(t_mid)
            anx = orb.anx(k)
            # parent SLC slice
            slc_start = t_mid - int((g["index"] * _T_BEAM + 2.2 + r() * 0.3) * _US)
            slc_stop = slc_start + int((27.0 + r() * 0.5) * _US)
            slc_uid = int(r() * 65536)
            slc = (
                f"S1A_IW_SLC__1S{g['pcode']}_{_compact(slc_start)}_{_compact(slc_stop)}"
                f"_{k:06d}_{(k * 8) & 0xFFFFFF:06X}_{slc_uid:04X}"
            )
            abs_burst = 1 + math.floor((g["dt"] + (k - 1) * orb.period_s - _T_PRE) / _T_BEAM)
            t_created = t_mid + int((3 * 3600 + r() * 30_000) * _US)
            prec = _PRECISIONS[int(r() * 20)]
            for name, dts, geometry, bbox, samples in g["swaths"]:
                t_burst = t_mid + int(dts * _US)
                t_start = t_burst - int(1.55 * _US)
                t_stop = t_start + int(g["lines"] * 0.002055556 * _US)
                t_az = t_start - int(1.14 * _US)
                for pol in g["pols"]:
                    if emitted >= n:
                        return
                    emitted += 1
                    item_id = f"S1_{g['rel']:06d}_{name}_{_compact(t_az)}_{pol}_{slc_uid:04X}"
                    size = g["lines"] * samples * 4 + 108_027
                    xml = f"{ASF_BURST}/{slc}/{name}/{pol}/{g['index']}.xml"
                    iso_start = _iso(t_start, prec)
                    iso_created = _iso(t_created, prec)
                    props: dict[str, Any] = {
                        "datetime": iso_start,
                        "start_datetime": iso_start,
                        "end_datetime": _iso(t_stop, prec),
                        "created": iso_created,
                        "updated": iso_created,
                        "platform": "sentinel-1a",
                        "constellation": "sentinel-1",
                        "instruments": ["sar"],
                        "sar:instrument_mode": "IW",
                        "sar:frequency_band": "C",
                        "sar:center_frequency": 5.405,
                        "sar:polarizations": [pol],
                        "sar:product_type": "SLC",
                        "sar:looks_range": 1,
                        "sar:looks_azimuth": 1,
                        "sat:orbit_state": "ascending" if g["ascending"] else "descending",
                        "sat:relative_orbit": g["track"],
                        "sat:absolute_orbit": k,
                        "sat:anx_datetime": _iso(anx, 6),
                        "proj:code": None,
                        "proj:shape": [g["lines"], samples],
                        "s1:relative_burst_id": g["rel"],
                        "s1:absolute_burst_id": abs_burst,
                        "s1:full_burst_id": f"{g['track']:03d}_{g['rel']:06d}_{name}",
                        "s1:subswath": name,
                        "s1:burst_index": g["index"],
                        "s1:parent_product": slc,
                        "s1:azimuth_anx_time": round((t_az - anx) / _US, 6),
                        "auth:schemes": {**_cdse_schemes(), "edl": _asf_scheme()},
                    }
                    yield {
                        "type": "Feature",
                        "stac_version": STAC_VERSION,
                        "stac_extensions": list(extensions),
                        "id": item_id,
                        "collection": cid,
                        "geometry": _copy_geometry(geometry),
                        "bbox": list(bbox),
                        "properties": props,
                        "links": [_collection_link(cid)],
                        "assets": {
                            "cdse": {
                                "href": f"{COPERNICUS_ZIPPER}/Bursts({_uuid(rng)})/$value",
                                "type": "application/zip",
                                "title": "CDSE on-demand burst extraction (POST)",
                                "roles": ["data", "archive"],
                                "method": "POST",
                                "auth:refs": ["oidc"],
                            },
                            "tiff": {
                                "href": f"{ASF_BURST}/{slc}/{name}/{pol}/{g['index']}.tiff",
                                "type": "image/tiff; application=geotiff",
                                "title": "Burst SLC (ASF burst extractor)",
                                "roles": ["data"],
                                "file:size": size,
                                "auth:refs": ["edl"],
                            },
                            "xml": {
                                "href": xml,
                                "type": "application/xml",
                                "title": "Burst metadata (ASF burst extractor)",
                                "roles": ["metadata"],
                                "auth:refs": ["edl"],
                            },
                        },
                    }


# --------------------------------------------------------------------------------------------------
# Sentinel-2 L2A

_CYCLE_S2 = 5 * _DAY_US


def _s2_tiles(rng: random.Random, count: int) -> list[dict[str, Any]]:
    r = rng.random
    tiles: list[dict[str, Any]] = []
    seen: set[str] = set()
    orb = _S2A
    crossing = _antimeridian_slots(count)
    while len(tiles) < count:
        want_crossing = len(tiles) in crossing
        if want_crossing:
            # a tile of UTM zone 60 or 1 that contains the antimeridian
            lat = -55.0 + r() * 125.0
            zone = 60 if r() < 0.5 else 1
            code, zone, e0, n0, south = _mgrs_tile(lat, 180.0, zone)
        else:
            track = 1 + int(r() * 143)
            u = 100.0 + r() * 160.0  # descending, sunlit half of the orbit
            dt_s = u / 360.0 * orb.period_s
            k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
            lat, lon, heading = orb.state(orb.lon_anx(k_ref), dt_s)
            if not -56.0 < lat < 76.0:
                continue
            lat, lon = _offset(lat, lon, heading, 0.0, (r() - 0.5) * 280.0)
            code, zone, e0, n0, south = _mgrs_tile(lat, lon)
        if code in seen:
            continue
        ring = _tile_ring(zone, e0, n0, south)
        if (min(p[0] for p in ring) < -180.0 or max(p[0] for p in ring) > 180.0) != want_crossing:
            continue
        clat = sum(p[1] for p in ring[:-1]) / 8
        clon = sum(p[0] for p in ring[:-1]) / 8
        # the descending pass closest to the tile centre: track and time after ANX
        u = 180.0 - math.asin(max(-1.0, min(1.0, math.sin(clat * _D2R) / orb.sin_i))) * _R2D
        dt_s = u / 360.0 * orb.period_s
        best = (1e9, 1)
        for track in range(1, 144):
            k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
            _la, lo = orb.position(orb.lon_anx(k_ref), dt_s)
            d = abs((lo - clon + 540.0) % 360.0 - 180.0)
            if d < best[0]:
                best = (d, track)
        geometry, bbox = _geometry(ring)
        seen.add(code)
        tiles.append(
            {
                "code": code,
                "track": best[1],
                "dt": dt_s,
                "lat": clat,
                "lon": (clon + 180.0) % 360.0 - 180.0,
                "geometry": geometry,
                "bbox": bbox,
                "phase": r(),
                "coverage": 1.0 if r() < 0.6 else 0.2 + 0.8 * r(),
            }
        )
    return tiles


def _cloud_cover(r: Callable[[], float]) -> float:
    p = r()
    if p < 0.12:
        return 0.0
    if p < 0.45:
        return round(r() * r() * 20.0, 6)
    if p < 0.7:
        return round(20.0 + r() * 60.0, 6)
    if p < 0.95:
        return round(100.0 - r() * r() * 20.0, 6)
    return 100.0


def _gen_s2(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, "s2-l2a")
    r = rng.random
    cid = "sentinel-2-l2a"
    n_periods = max(1, (t1 - t0) // _CYCLE_S2)
    per_loc, n_tiles = _layout(n, 1.0, n_periods)
    tiles = _s2_tiles(rng, n_tiles)
    t0_pass = t0 + 60 * _US
    firsts = [_first_pass(_S2A, tl["track"], tl["dt"], t0_pass, _CYCLE_S2) for tl in tiles]
    # is the first pass an S2A/S2C slot (A's schedule) or an S2B slot?
    a_slots = [
        ((f - _first_pass(_S2A, tl["track"], tl["dt"], t0_pass, 2 * _CYCLE_S2)) // _CYCLE_S2) % 2 == 0
        for f, tl in zip(firsts, tiles, strict=True)
    ]
    x = _X
    emitted = 0
    for j in range(per_loc):
        for ti, tl in enumerate(tiles):
            if emitted >= n:
                return
            emitted += 1
            cyc = int((j + tl["phase"]) * n_periods / per_loc)
            t = min(firsts[ti] + cyc * _CYCLE_S2, t1 - 60 * _US)
            a_slot = a_slots[ti] == (cyc % 2 == 0)
            orb = (_S2C if t >= _S2C_START else _S2A) if a_slot else _S2B
            k = orb.orbit_at(t)
            prec = _PRECISIONS[int(r() * 20)]
            t_acq = t - int(r() * 40 * _US)  # datatake start a little before the tile
            baseline = _S2_BASELINES[min(bisect.bisect_right(_S2_BASELINE_LIMITS, t_acq), len(_S2_BASELINES) - 1)][1]
            if t_acq < _S2_REPROCESSED_BEFORE and r() < 0.6:
                baseline = "N0500"
                lo, hi = _S2_REPROCESSING
                t_proc = lo + int(r() * (hi - lo))
            else:
                t_proc = t_acq + int((3600 + r() * 5 * 3600) * _US)
            version = f"{baseline[1:3]}.{baseline[3:]}"
            item_id = (
                f"S2{orb.platform[-1].upper()}_MSIL2A_{_compact(t_acq)}_{baseline}_R{tl['track']:03d}"
                f"_T{tl['code']}_{_compact(t_proc)}"
            )
            t_created = t_proc + int((600 + r() * 4000) * _US)
            t_published = t_created + int((300 + r() * 900) * _US)
            t_updated = t_published + (int(r() * 90 * _DAY_US) if r() < 0.4 else int(r() * 600 * _US))
            extensions = [x["authentication"], x["file"], x["grid"], x["processing"], x["product"], x["sat"]]
            props: dict[str, Any] = {
                "datetime": _iso(t_acq, prec),
                "created": _iso(t_created, prec),
                "updated": _iso(t_updated, prec),
                "platform": orb.platform,
                "constellation": "sentinel-2",
                "instruments": ["msi"],
                "gsd": 10,
            }
            eo = False
            if r() >= 0.03:
                props["eo:cloud_cover"] = _cloud_cover(r)
                eo = True
            if r() < 0.8:
                snowy = abs(tl["lat"]) > 45.0
                props["eo:snow_cover"] = round(r() * 60.0, 6) if snowy and r() < 0.5 else 0.0
                eo = True
            props["grid:code"] = f"MGRS-{tl['code']}"
            props["sat:orbit_state"] = "descending"
            props["sat:relative_orbit"] = tl["track"]
            props["sat:absolute_orbit"] = k
            props["sat:platform_international_designator"] = orb.designator
            elevation, azimuth = _sun(t, tl["lat"], tl["lon"])
            view = False
            if r() >= 0.05:
                props["view:sun_elevation"] = round(elevation, 6)
                view = True
            if r() >= 0.03:
                props["view:sun_azimuth"] = round(azimuth, 6)
                view = True
            if r() < 0.9:
                props["view:incidence_angle"] = round(1.0 + r() * 10.0, 6)
                props["view:azimuth"] = round(r() * 360.0, 6)
                view = True
            props["product:type"] = "S2MSI2A"
            props["product:timeliness"] = "PT24H"
            props["product:timeliness_category"] = "NRT"
            props["processing:level"] = "L2"
            props["processing:facility"] = "ESA"
            props["processing:datetime"] = _iso(t_proc, prec)
            props["processing:version"] = version
            props["auth:schemes"] = _cdse_schemes()
            if r() < 0.9:
                props["published"] = _iso(t_published, prec)
                extensions.append(x["timestamps"])
            if eo:
                extensions.append(x["eo"])
            if view:
                extensions.append(x["view"])
            extensions.sort()
            uuid = _uuid(rng)
            base = f"{COPERNICUS_ZIPPER}/Products({uuid})"
            safe = f"{item_id}.SAFE"
            size = int(tl["coverage"] * (0.75e9 + r() * 0.45e9))
            links = [_collection_link(cid)]
            if r() < 0.3:
                links.append(_license_link(SENTINEL_LICENSE))
            yield {
                "type": "Feature",
                "stac_version": STAC_VERSION,
                "stac_extensions": extensions,
                "id": item_id,
                "collection": cid,
                "geometry": _copy_geometry(tl["geometry"]),
                "bbox": list(tl["bbox"]),
                "properties": props,
                "links": links,
                "assets": {
                    "product": {
                        "href": f"{base}/$value",
                        "type": "application/zip",
                        "title": "Zipped product",
                        "roles": ["data", "metadata", "archive"],
                        "file:size": size,
                        "file:checksum": _md5_multihash(rng),
                        "file:local_path": f"{safe}.zip",
                        "auth:refs": ["oidc"],
                    },
                    "product_metadata": {
                        "href": f"{base}/Nodes({safe})/Nodes(MTD_MSIL2A.xml)/$value",
                        "type": "application/xml",
                        "title": "MTD_MSIL2A.xml",
                        "roles": ["metadata"],
                        "file:size": 50_000 + int(r() * 10_000),
                        "file:checksum": _md5_multihash(rng),
                        "file:local_path": f"{safe}/MTD_MSIL2A.xml",
                        "auth:refs": ["oidc"],
                    },
                    "thumbnail": {
                        "href": f"{COPERNICUS_QUICKLOOK}/Assets({_uuid(rng)})/$value",
                        "type": "image/jpeg",
                        "title": "Quicklook",
                        "roles": ["thumbnail", "overview"],
                        "file:size": 2_000 + int(r() * 60_000),
                    },
                },
            }


# --------------------------------------------------------------------------------------------------
# DestinE Sentinel-3 NDVI frames

CONTINENTS: dict[str, tuple[tuple[float, float, float, float], int, int]] = {
    # name: (bbox W, S, E, N), nx, ny  -- 0.025 deg pixels (Europe as in the streamer fixture)
    "Europe": ((-25.0, 34.0, 45.0, 72.0), 2800, 1520),
    "Africa": ((-20.0, -36.0, 55.0, 38.0), 3000, 2960),
}
_S3_SATS = (("S3A", "sentinel-3a", 9 * 3600 + 30 * 60), ("S3B", "sentinel-3b", 10 * 3600 + 8 * 60))
_S3_STREAM_EPOCH_DAY = _t("2020-01-02T00:00:00Z") // _DAY_US  # img_number 731 = S3A on 2021-01-01


def _s3_days(t0: int, t1: int) -> tuple[int, int]:
    """First day and number of days whose frames (09:00-11:00 UTC) lie inside [t0, t1]."""
    first = -(-(t0 - 9 * 3600 * _US) // _DAY_US)
    last = (t1 - 11 * 3600 * _US) // _DAY_US
    return first, max(0, last - first + 1)


def _s3_capacity(t0: int, t1: int) -> int:
    return _s3_days(t0, t1)[1] * len(CONTINENTS) * len(_S3_SATS)


def _gen_s3(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, "s3-ndvi")
    r = rng.random
    cid = COLLECTION_IDS["s3-ndvi"]
    first_day, n_days = _s3_days(t0, t1)
    continents = list(CONTINENTS.items())
    per_day = len(continents) * len(_S3_SATS)
    cells = n_days * per_day
    extensions = [_X["authentication"], _X["proj"]]
    for i in range(n):
        cell = i * cells // n
        day_i, rest = divmod(cell, per_day)
        ci, si = divmod(rest, len(_S3_SATS))
        continent, (bbox, nx, ny) = continents[ci]
        sat, platform, tod = _S3_SATS[si]
        day = first_day + day_i
        t = day * _DAY_US + (tod + int(r() * 1500)) * _US
        img = 2 * (day - _S3_STREAM_EPOCH_DAY) + 1 + si
        w, s, e, nn = bbox
        res_x = (e - w) / nx
        res_y = (nn - s) / ny
        prec = (0, 3, 6)[int(r() * 3)]
        t_created = t + _DAY_US + int(r() * 6 * 3600) * _US
        scale_min = round(-0.3 + r() * 0.15, 4)
        scale_max = round(0.85 + r() * 0.12, 4)
        yield {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": list(extensions),
            "id": f"s3-ndvi-{continent}-{sat}-{_compact(t)}",
            "collection": cid,
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, nn], [w, nn], [w, s]]]},
            "bbox": [w, s, e, nn],
            "properties": {
                "datetime": _iso(t, prec),
                "start_datetime": _iso(t, prec),
                "end_datetime": _iso(t + _DAY_US, prec),
                "created": _iso(t_created, prec),
                "updated": _iso(t_created + (int(r() * 3 * 3600) * _US if r() < 0.2 else 0), prec),
                "platform": platform,
                "constellation": "sentinel-3",
                "instruments": ["olci"],
                "proj:code": "EPSG:4326",
                "proj:shape": [ny, nx],
                "proj:transform": [res_x, 0.0, w, 0.0, -res_y, nn],
                "proj:bbox": [w, s, e, nn],
                "destine:continent": continent,
                "destine:img_number": img,
                "destine:frame_index": img - 1,
                "destine:stream_time_s": round((img - 1) / 25.0, 2),
                "destine:fps": 25,
                "destine:scale_min": scale_min,
                "destine:scale_max": scale_max,
                "destine:bit_depth": 12,
                "auth:schemes": _desp_schemes(),
            },
            "links": [_collection_link(cid)],
            "assets": {
                "stream": {
                    "href": f"{DESTINE_STREAMER}/streams/s3-ndvi-{continent}.mp4",
                    "type": "video/mp4",
                    "title": f"S3 NDVI {continent} stream (frame {img} at {(img - 1) / 25.0:.2f} s)",
                    "roles": ["source"],
                    "destine:seek_time": round((img - 1) / 25.0, 2),
                    "auth:refs": ["desp"],
                }
            },
        }


# --------------------------------------------------------------------------------------------------
# public API


def _counts(n: int, kinds: Sequence[str], t0: int, t1: int) -> dict[str, int]:
    counts = {k: n // len(kinds) + (1 if i < n % len(kinds) else 0) for i, k in enumerate(kinds)}
    caps = {"s3-ndvi": _s3_capacity(t0, t1)}
    surplus = 0
    for k, cap in caps.items():
        if k in counts and counts[k] > cap:
            surplus += counts[k] - cap
            counts[k] = cap
    others = [k for k in kinds if k not in caps]
    if surplus and not others:
        raise ValueError(
            f"cannot generate {n} items of {list(kinds)} between the given start and end: only "
            f"{sum(counts.values())} exist (s3-ndvi has 4 frames a day); widen the time range or add kinds"
        )
    for i in range(surplus):
        counts[others[i % len(others)]] += 1
    return counts


def generate_items(
    n: int,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    start: str = "2021-01-01T00:00:00Z",
    end: str = "2025-12-31T23:59:59Z",
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` STAC items (dicts), round-robin over ``kinds``; deterministic in all arguments."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in COLLECTION_IDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kinds {unknown}; choose from {list(KINDS)}")
    if n < 0:
        raise ValueError("n must be >= 0")
    t0 = _parse_time(start)
    t1 = _parse_time(end)
    if t1 <= t0:
        raise ValueError(f"end ({end}) must be after start ({start})")
    counts = _counts(n, kinds, t0, t1)
    makers = {
        "s1-slc": lambda c: _gen_s1("s1-slc", c, seed, t0, t1),
        "s1-grd": lambda c: _gen_s1("s1-grd", c, seed, t0, t1),
        "s1-burst": lambda c: _gen_bursts(c, seed, t0, t1),
        "s2-l2a": lambda c: _gen_s2(c, seed, t0, t1),
        "s3-ndvi": lambda c: _gen_s3(c, seed, t0, t1),
    }
    active = [makers[k](counts[k]) for k in kinds if counts[k] > 0]
    while active:
        still = []
        for gen in active:
            item = next(gen, None)
            if item is not None:
                yield item
                still.append(gen)
        active = still


def write_ndjson(
    path: str | PathLike[str],
    n: int,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    **kw: Any,
) -> int:
    """Stream ``generate_items(n, seed, kinds, **kw)`` to ``path`` as NDJSON; returns the count."""
    count = 0
    buf: list[bytes] = []
    with open(path, "wb") as fh:
        for item in generate_items(n, seed, kinds, **kw):
            buf.append(orjson.dumps(item))
            count += 1
            if len(buf) >= 2000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    return count


# --------------------------------------------------------------------------------------------------
# collections


def _providers(kind: str) -> list[dict[str, Any]]:
    if kind == "s3-ndvi":
        return [
            {"name": "ESA / EUMETSAT", "roles": ["producer"], "url": "https://sentinels.copernicus.eu"},
            {
                "name": "Destination Earth (DestinE) data streamer",
                "roles": ["processor", "host"],
                "url": "https://platform.destine.eu",
            },
        ]
    providers: list[dict[str, Any]] = [
        {"name": "ESA", "roles": ["producer", "licensor"], "url": "https://sentinels.copernicus.eu"},
        {
            "name": "Copernicus Data Space Ecosystem",
            "roles": ["processor", "host"],
            "url": "https://dataspace.copernicus.eu",
        },
    ]
    if kind == "s1-burst":
        providers.append(
            {
                "name": "Alaska Satellite Facility",
                "roles": ["host"],
                "url": "https://sentinel1-burst-documentation.asf.alaska.edu",
            }
        )
    return providers


def collections() -> list[dict[str, Any]]:
    """One STAC 1.1 Collection per kind, in ``KINDS`` order."""
    x = _X
    full = [[-180.0, -90.0, 180.0, 90.0]]
    s1_sum: dict[str, Any] = {
        "constellation": ["sentinel-1"],
        "instruments": ["sar"],
        "sar:frequency_band": ["C"],
        "sar:center_frequency": [5.405],
        "sar:instrument_mode": ["IW", "EW"],
        "sar:polarizations": ["VV", "VH", "HH", "HV"],
        "sat:orbit_state": ["ascending", "descending"],
        "sat:relative_orbit": {"minimum": 1, "maximum": 175},
    }
    cdse_auth = {"auth:schemes": _cdse_schemes()}
    product_asset = {
        "type": "application/zip",
        "title": "Zipped product",
        "roles": ["data", "metadata", "archive"],
        "auth:refs": ["oidc"],
    }
    out: list[dict[str, Any]] = []

    def collection(
        kind: str,
        title: str,
        description: str,
        keywords: list[str],
        extent: dict[str, Any],
        summaries: dict[str, Any],
        item_assets: dict[str, Any],
        extensions: list[str],
        extra: dict[str, Any],
        license_href: str = SENTINEL_LICENSE,
    ) -> None:
        out.append(
            {
                "type": "Collection",
                "stac_version": STAC_VERSION,
                "stac_extensions": sorted(extensions),
                "id": COLLECTION_IDS[kind],
                "title": title,
                "description": description,
                "keywords": keywords,
                "license": "other",
                "providers": _providers(kind),
                "extent": extent,
                "summaries": summaries,
                "item_assets": item_assets,
                **extra,
                "links": [{"rel": "license", "href": license_href, "type": "text/html", "title": "Legal notice"}],
            }
        )

    s1_ext = [x["authentication"], x["product"], x["sar"], x["sat"], x["processing"]]
    s1_extent = {"spatial": {"bbox": full}, "temporal": {"interval": [["2014-10-03T00:00:00Z", None]]}}
    collection(
        "s1-slc",
        "Sentinel-1 Level-1 Single Look Complex (SLC)",
        "Sentinel-1 C-band SAR Level-1 SLC products (IW and EW), focused complex data in slant range "
        "geometry, one item per product slice (~25 s).",
        ["sentinel", "copernicus", "esa", "sar", "c-band", "slc"],
        s1_extent,
        {
            **s1_sum,
            "platform": ["sentinel-1a", "sentinel-1b", "sentinel-1c"],
            "product:type": ["IW_SLC__1S", "EW_SLC__1S"],
            "processing:level": ["L1"],
        },
        {
            "product": product_asset,
            "safe_manifest": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["oidc"]},
            "thumbnail": {"type": "image/png", "roles": ["thumbnail"]},
        },
        s1_ext,
        cdse_auth,
    )
    collection(
        "s1-grd",
        "Sentinel-1 Level-1 Ground Range Detected (GRD)",
        "Sentinel-1 C-band SAR Level-1 GRD products (IW high resolution, EW medium resolution), "
        "detected, multi-looked and projected to ground range.",
        ["sentinel", "copernicus", "esa", "sar", "c-band", "grd"],
        s1_extent,
        {
            **s1_sum,
            "platform": ["sentinel-1a", "sentinel-1b", "sentinel-1c"],
            "product:type": ["IW_GRDH_1S", "EW_GRDM_1S"],
            "processing:level": ["L1"],
        },
        {
            "product": product_asset,
            "safe_manifest": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["oidc"]},
            "thumbnail": {"type": "image/png", "roles": ["thumbnail"]},
        },
        s1_ext,
        cdse_auth,
    )
    collection(
        "s1-burst",
        "Sentinel-1 SLC bursts",
        "Single Sentinel-1 IW SLC bursts, one item per (parent SLC, subswath, polarization, relative "
        "burst id), merged from CDSE Bursts (on-demand extraction) and the ASF burst extractor. Custom "
        "fields (no STAC extension exists): `s1:relative_burst_id`, `s1:absolute_burst_id`, "
        "`s1:full_burst_id` ({track:03d}_{relative_burst_id:06d}_{subswath}), `s1:subswath`, "
        "`s1:burst_index` (0-based within the parent subswath), `s1:parent_product` (SLC name without "
        ".SAFE), `s1:azimuth_anx_time` (s).",
        ["sentinel", "copernicus", "esa", "sar", "c-band", "slc", "burst", "insar"],
        {"spatial": {"bbox": full}, "temporal": {"interval": [["2014-10-03T00:00:00Z", None]]}},
        {
            **s1_sum,
            "platform": ["sentinel-1a"],
            "sar:instrument_mode": ["IW"],
            "sar:product_type": ["SLC"],
            "s1:subswath": ["IW1", "IW2", "IW3"],
            "s1:relative_burst_id": {"minimum": 1, "maximum": _N_BURST_IDS},
            "s1:burst_index": {"minimum": 0, "maximum": 9},
        },
        {
            "cdse": {"type": "application/zip", "roles": ["data", "archive"], "auth:refs": ["oidc"]},
            "tiff": {"type": "image/tiff; application=geotiff", "roles": ["data"], "auth:refs": ["edl"]},
            "xml": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["edl"]},
        },
        [x["authentication"], x["sar"], x["sat"]],
        {"auth:schemes": {**_cdse_schemes(), "edl": _asf_scheme()}},
    )
    collection(
        "s2-l2a",
        "Sentinel-2 Level-2A",
        "Sentinel-2 MSI Level-2A bottom-of-atmosphere reflectance, one item per 110 km x 110 km MGRS "
        "tile and datatake.",
        ["sentinel", "copernicus", "esa", "msi", "optical", "l2a"],
        {"spatial": {"bbox": full}, "temporal": {"interval": [["2015-07-04T00:00:00Z", None]]}},
        {
            "platform": ["sentinel-2a", "sentinel-2b", "sentinel-2c"],
            "constellation": ["sentinel-2"],
            "instruments": ["msi"],
            "gsd": [10],
            "eo:cloud_cover": {"minimum": 0, "maximum": 100},
            "sat:orbit_state": ["descending"],
            "sat:relative_orbit": {"minimum": 1, "maximum": 143},
            "product:type": ["S2MSI2A"],
            "processing:level": ["L2"],
        },
        {
            "product": product_asset,
            "product_metadata": {"type": "application/xml", "roles": ["metadata"], "auth:refs": ["oidc"]},
            "thumbnail": {"type": "image/jpeg", "roles": ["thumbnail", "overview"]},
        },
        [x["authentication"], x["eo"], x["product"], x["sat"], x["processing"]],
        cdse_auth,
    )
    s3_bbox = [[-25.0, -36.0, 55.0, 72.0]] + [list(b) for b, _nx, _ny in CONTINENTS.values()]
    collection(
        "s3-ndvi",
        "DestinE streamed Sentinel-3 NDVI (daily continent frames)",
        "Daily Sentinel-3 (S3A, S3B) NDVI frames per continent from the DestinE data streamer: 12-bit "
        "video frames dequantized with each frame's min/max, on an EPSG:4326 grid over the continent "
        "box. Custom fields: `destine:continent`, `destine:img_number` (1-based frame number in the "
        "stream), `destine:frame_index`, `destine:stream_time_s` ((img_number-1)/25), `destine:fps`, "
        "`destine:scale_min`, `destine:scale_max`, `destine:bit_depth`.",
        ["sentinel", "copernicus", "destine", "olci", "ndvi", "vegetation"],
        {"spatial": {"bbox": s3_bbox}, "temporal": {"interval": [["2020-01-02T00:00:00Z", None]]}},
        {
            "platform": ["sentinel-3a", "sentinel-3b"],
            "constellation": ["sentinel-3"],
            "instruments": ["olci"],
            "proj:code": ["EPSG:4326"],
            "destine:continent": list(CONTINENTS),
        },
        {"stream": {"type": "video/mp4", "roles": ["source"], "auth:refs": ["desp"]}},
        [x["authentication"], x["proj"]],
        {"auth:schemes": _desp_schemes()},
        license_href=DESTINE_LICENSE,
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emulators.samples --count N --out items.ndjson [--collections-out c.ndjson]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Write deterministic synthetic Sentinel-like STAC items as NDJSON.")
    parser.add_argument("--count", type=int, default=10_000, help="number of items")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    parser.add_argument("--out", required=True, help="NDJSON file for the items")
    parser.add_argument("--collections-out", help="NDJSON file for the collections")
    args = parser.parse_args(argv)
    written = write_ndjson(args.out, args.count, args.seed, tuple(args.kinds.split(",")))
    if args.collections_out:
        with open(args.collections_out, "wb") as out:
            out.writelines(orjson.dumps(collection) + b"\n" for collection in collections())
    print(f"wrote {written} synthetic items to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
