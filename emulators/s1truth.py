"""One deterministic ground truth of Sentinel-1 IW SLC bursts, served by both the CDSE and the ASF emulators.

The truth is a set of *frames* (one parent-SLC slice location: a track and nine consecutive ESA burst
ids) acquired on every pass of every Sentinel-1 platform in service over the frame's track, i.e. every
12 days per platform. Each acquisition yields one parent SLC (``S1A_IW_SLC__1SDV_…_<orbit>_<datatake>_<uid>``)
and, per subswath IW1..IW3, polarization and burst id, one burst. Identifiers follow ESA's definitions
(``reference/asf.md`` §3): the relative burst id comes from the IW2 mid-burst time since the ascending
node of the track, the absolute burst id from the same time with the absolute orbit, so recomputing them
from the burst's azimuth time gives the same numbers. ``burst_index`` is the 0-based position of the
burst in its subswath of the parent SLC, and the CDSE ``ByteOffset`` of burst ``i`` is a TIFF header plus
``i × lines × samples × 4`` (CInt16), as in real SLC measurement files.

Some parent SLCs are deliberately published at one source only (``only_cdse``/``only_asf`` fractions,
drawn per SLC, like ingestion gaps), so harvesters meet bursts that exist at CDSE but not ASF and the
reverse. Frames whose footprints would cross the antimeridian or reach beyond ±78° latitude are not
drawn (ASF does not split footprints; the emulators would disagree on their shape).

Everything is a pure function of the recipe (seed, period, frame count, area).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from shapely.geometry import Polygon

from emulators.cdse.synthetic import geometry
from emulators.cdse.synthetic.orbits import SENTINEL1, SENTINEL1_CYCLE, Platform, orbit_period_s
from emulators.odata import format_datetime, parse_datetime

US = 1_000_000
T_ORB = orbit_period_s(SENTINEL1_CYCLE)  # s, one orbit
T_BEAM = 2.758273  # s, IW burst cycle (ESA DAD eq. 9-89)
T_PRE = 2.299849  # s, IW preamble
N_BURST_IDS = 375_887  # IW relative burst ids 1..375887
LINE_TIME = 0.002055556  # s, azimuth time interval
INCLINATION = math.radians(98.18)
EARTH_DEG_PER_S = 360.0 / 86_400  # relative to the sun-synchronous node
LON_ANX_TRACK1 = -47.0  # longitude of the ascending node of track 1 (model constant)
SUBSWATHS = (  # name, mid-burst time offset from IW2 (s), across-track centre (km right of nadir), width (km)
    ("IW1", -0.92, 290.0, 92.0),
    ("IW2", 0.0, 370.0, 86.0),
    ("IW3", 0.92, 448.0, 80.0),
)
BURSTS_PER_SLC = 9
POLARIZATION_MODES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("1SDV", ("VV", "VH"), 0.75),
    ("1SSV", ("VV",), 0.1),
    ("1SDH", ("HH", "HV"), 0.1),
    ("1SSH", ("HH",), 0.05),
)
IPF_VERSIONS = (("2022-03-01", "003.40"), ("2023-03-01", "003.52"), ("2024-03-01", "003.61"),
                ("2025-01-01", "003.71"), ("2100-01-01", "003.91"))  # fmt: skip


def relative_burst_id(seconds_since_anx: float, track: int) -> int:
    """ESA relative burst id from the IW2 mid-burst time since the track's ascending node (DAD eq. 9-91)."""
    return 1 + math.floor((seconds_since_anx + (track - 1) * T_ORB - T_PRE) / T_BEAM)


def absolute_burst_id(seconds_since_anx: float, absolute_orbit: int) -> int:
    """ESA absolute burst id: the same formula with the absolute orbit number (unique per platform)."""
    return 1 + math.floor((seconds_since_anx + (absolute_orbit - 1) * T_ORB - T_PRE) / T_BEAM)


def compact(us: int) -> str:
    """``YYYYMMDDThhmmss`` of a time in µs (truncated to the second), as in product and burst names."""
    return format_datetime(us - us % US, 0, "").replace("-", "").replace(":", "")


@dataclass(frozen=True)
class TruthBurst:
    """One burst acquisition (one polarization) and every identifier both sources publish for it."""

    platform: str  # serial: A, B, C
    track: int
    absolute_orbit: int
    relative_burst_id: int
    absolute_burst_id: int
    subswath: str
    polarization: str
    burst_index: int
    parent: str  # SLC name without .SAFE
    parent_id: str  # CDSE product UUID of the parent SLC
    cdse_id: str  # CDSE burst UUID
    azimuth_time: int  # µs, first line
    start: int  # µs (ContentDate/Start, ASF startTime)
    end: int  # µs
    anx_time: int  # µs, ascending node crossing of the orbit
    lines: int
    samples: int
    byte_offset: int
    ring: tuple[tuple[float, float], ...]  # closed, counter-clockwise, 6 decimals
    ascending: bool
    datatake_id: int
    ipf_version: str
    at_cdse: bool
    at_asf: bool

    @property
    def item_id(self) -> str:
        """``S1_{rel:06d}_{swath}_{azimuth time}_{pol}_{4-char product id}``: ASF's fileID without ``-BURST``."""
        return (f"S1_{self.relative_burst_id:06d}_{self.subswath}_{compact(self.azimuth_time)}_"
                f"{self.polarization}_{self.parent[-4:]}")  # fmt: skip

    @property
    def full_burst_id(self) -> str:
        return f"{self.track:03d}_{self.relative_burst_id:06d}_{self.subswath}"

    @property
    def azimuth_anx_time(self) -> float:
        """Seconds from the ascending node to the burst's azimuth time."""
        return round((self.azimuth_time - self.anx_time) / US, 6)

    @property
    def byte_length(self) -> int:
        return self.lines * self.samples * 4

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return geometry.bounds([list(self.ring)])


def _hash(*parts: object) -> int:
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")


def _uuid(*parts: object) -> str:
    return str(uuid.UUID(int=_hash(*parts), version=4))


def _unit(*parts: object) -> float:
    return (_hash(*parts) >> 64) / 2**64


def _ground_point(lon_anx: float, seconds: float) -> tuple[float, float, float]:
    """(lon, lat, heading deg) of the sub-satellite point ``seconds`` after the ascending node."""

    def at(t: float) -> tuple[float, float]:
        u = 2 * math.pi * t / T_ORB
        lat = math.degrees(math.asin(math.sin(INCLINATION) * math.sin(u)))
        lon = lon_anx + math.degrees(math.atan2(math.cos(INCLINATION) * math.sin(u), math.cos(u)))
        return lon - EARTH_DEG_PER_S * t, lat

    lon0, lat0 = at(seconds)
    lon1, lat1 = at(seconds + 1.0)
    east = (lon1 - lon0) * math.cos(math.radians(lat0))
    heading = math.degrees(math.atan2(east, lat1 - lat0))
    return lon0, lat0, heading


def _offset(lon: float, lat: float, heading: float, right_km: float) -> tuple[float, float]:
    """The point ``right_km`` to the right of the flight direction."""
    bearing = math.radians(heading + 90.0)
    north, east = right_km * math.cos(bearing), right_km * math.sin(bearing)
    lat2 = lat + north / geometry.KM_PER_DEG
    return lon + east / (geometry.KM_PER_DEG * max(math.cos(math.radians(lat)), 0.05)), lat2


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Frame:
    """A parent-SLC slice location: track, first relative burst id, polarization mode, per-swath geometry."""

    index: int
    track: int
    first_id: int
    seconds: float  # IW2 mid-burst time of the first burst since the ANX
    mode: str
    polarizations: tuple[str, ...]
    lines: tuple[int, int, int]
    samples: tuple[int, int, int]
    rings: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # [burst][swath] -> ring


@dataclass(frozen=True)
class SyntheticBursts:
    """A recipe for the burst ground truth: ``frames`` slice locations over ``[start, end)``.

    ``bbox`` (W, S, E, N) keeps frames whose centre falls inside. ``only_cdse``/``only_asf``: fractions
    of parent SLCs published at one source only. ``cdse_since``: CDSE has no bursts before this date
    (real CDSE: 2024-08-02; None = no limit).
    """

    seed: int = 0
    frames: int = 20
    start: str = "2024-01-01T00:00:00Z"
    end: str = "2025-01-01T00:00:00Z"
    bbox: tuple[float, float, float, float] | None = None
    only_cdse: float = 0.03
    only_asf: float = 0.03
    cdse_since: str | None = None

    @cached_property
    def layout(self) -> list[Frame]:
        """The frames, drawn once."""
        frames: list[Frame] = []
        used: set[int] = set()
        attempt = 0
        while len(frames) < self.frames:
            attempt += 1
            if attempt > 200_000:
                raise ValueError("cannot place that many frames in the area")
            first = 1 + int(_unit(self.seed, "frame", attempt) * (N_BURST_IDS - BURSTS_PER_SLC))
            ids = range(first, first + BURSTS_PER_SLC)
            if used.intersection(range(first - BURSTS_PER_SLC, first + BURSTS_PER_SLC)):
                continue
            dtb = T_PRE + (first - 0.5) * T_BEAM
            track = int(dtb // T_ORB) + 1
            if relative_burst_id(T_PRE + (ids[-1] - 0.5) * T_BEAM - (track - 1) * T_ORB, track) != ids[-1] or (
                int((T_PRE + (ids[-1] - 0.5) * T_BEAM) // T_ORB) + 1 != track
            ):
                continue  # the slice would run into the next track
            seconds = dtb - (track - 1) * T_ORB
            lon_anx = LON_ANX_TRACK1 - (track - 1) * 360.0 * T_ORB / 86_400
            frame = self._frame(len(frames), track, first, seconds, lon_anx)
            if frame is None:
                continue
            used.update(ids)
            frames.append(frame)
        return frames

    def _frame(self, index: int, track: int, first: int, seconds: float, lon_anx: float) -> Frame | None:
        rings: list[tuple[tuple[tuple[float, float], ...], ...]] = []
        for b in range(BURSTS_PER_SLC):
            per_swath = []
            for _, dt, right, width in SUBSWATHS:
                lon, lat, heading = _ground_point(lon_anx, seconds + b * T_BEAM + dt)
                if abs(lat) > 78.0:
                    return None
                clon, clat = _offset(lon, lat, heading, right)
                ring = geometry.quad(_wrap(clon), clat, heading, 20.5, width)
                xs = [x for x, _ in ring]
                if min(xs) < -180.0 or max(xs) > 180.0:
                    return None
                if not Polygon(ring).exterior.is_ccw:
                    ring = ring[::-1]
                per_swath.append(tuple((round(x, 6), round(y, 6)) for x, y in ring))
            rings.append(tuple(per_swath))
        if self.bbox is not None:
            west, south, east, north = self.bbox
            cx = sum(x for x, _ in rings[4][1][:-1]) / 4
            cy = sum(y for _, y in rings[4][1][:-1]) / 4
            if not (west <= cx <= east and south <= cy <= north):
                return None
        u = _unit(self.seed, "pol", track, first)
        mode: str = POLARIZATION_MODES[-1][0]
        pols: tuple[str, ...] = POLARIZATION_MODES[-1][1]
        for name, values, share in POLARIZATION_MODES:
            if u < share:
                mode, pols = name, values
                break
            u -= share
        lines = tuple(1490 + int(_unit(self.seed, "lines", first, s) * 30) for s in range(3))
        samples = tuple(base + int(_unit(self.seed, "samples", first, s) * 1500) for s, base in
                        enumerate((20_900, 24_900, 23_900)))  # fmt: skip
        return Frame(index, track, first, seconds, mode, pols, lines, samples, tuple(rings))  # type: ignore[arg-type]

    def passes(self, frame: Frame) -> Iterator[tuple[Platform, int, int]]:
        """(platform, absolute orbit, ANX time µs) of every pass over the frame's track in the period and service.

        Sentinel-1A's passes follow its orbit model; 1B and 1C fly the same orbit half a cycle (6 days)
        behind it, as the constellation does, numbering their orbits with their own model.
        """
        t0, t1 = parse_datetime(self.start), parse_datetime(self.end)
        lead = SENTINEL1[0]
        half_cycle = 6 * 86_400 * US
        k = lead.absolute_orbit(t0 - half_cycle) - 1
        k += (frame.track - lead.relative_orbit(k)) % 175
        while True:
            anx = lead.ref_time + int((k - lead.ref_orbit) * lead.period_us)
            if anx + int(frame.seconds * US) >= t1:
                break
            for platform in SENTINEL1:
                when = anx if platform is lead else anx + half_cycle
                first_burst = when + int(frame.seconds * US)
                in_service = max(t0, platform.since) <= first_burst < min(t1, platform.until)
                orbit = k if platform is lead else platform.absolute_orbit(when + US)
                if in_service and orbit >= 1:  # the linear orbit models are only meant for the service years
                    yield platform, orbit, when
            k += 175

    def generate(self) -> list[TruthBurst]:
        """Every burst of the truth, ordered by (start, item id)."""
        out: list[TruthBurst] = []
        cdse_since = parse_datetime(self.cdse_since) if self.cdse_since else None
        for frame in self.layout:
            for platform, orbit, anx in self.passes(frame):
                out.extend(self._acquisition(frame, platform, orbit, anx, cdse_since))
        out.sort(key=lambda b: (b.start, b.item_id))
        return out

    def _acquisition(
        self, frame: Frame, platform: Platform, orbit: int, anx: int, cdse_since: int | None
    ) -> list[TruthBurst]:
        first_az = anx + int((frame.seconds + SUBSWATHS[0][1]) * US) - int(frame.lines[0] * LINE_TIME / 2 * US)
        slc_start = first_az - int((0.4 + _unit(self.seed, "slc", orbit, frame.index) * 0.3) * US)
        slc_stop = slc_start + int((BURSTS_PER_SLC * T_BEAM + 2.1) * US)
        datatake = (orbit * 23 + frame.track * 7) & 0xFFFFFF
        uid = _hash(self.seed, "uid", platform.serial, orbit, frame.index) & 0xFFFF
        parent = (f"S1{platform.serial}_IW_SLC__{frame.mode}_{compact(slc_start)}_{compact(slc_stop)}_"
                  f"{orbit:06d}_{datatake:06X}_{uid:04X}")  # fmt: skip
        parent_id = _uuid(self.seed, "parent", parent)
        ipf = next(version for until, version in IPF_VERSIONS if slc_start < parse_datetime(until))
        draw = _unit(self.seed, "published", parent)
        at_cdse = draw >= self.only_asf and (cdse_since is None or slc_start >= cdse_since)
        at_asf = draw < self.only_asf or draw >= self.only_asf + self.only_cdse
        header = 108_000 + _hash(self.seed, "header", parent) % 4000
        ascending = math.cos(2 * math.pi * frame.seconds / T_ORB) > 0
        bursts: list[TruthBurst] = []
        for b in range(BURSTS_PER_SLC):
            rel = frame.first_id + b
            mid_iw2 = frame.seconds + b * T_BEAM
            absolute = absolute_burst_id(mid_iw2, orbit)
            for s, (swath, dt, _, _) in enumerate(SUBSWATHS):
                lines, samples = frame.lines[s], frame.samples[s]
                mid = anx + int((mid_iw2 + dt) * US)
                azimuth = mid - int(lines * LINE_TIME / 2 * US)
                start = azimuth + 1_130_000
                end = start + int(lines * LINE_TIME * US)
                for pol in frame.polarizations:
                    bursts.append(
                        TruthBurst(
                            platform=platform.serial, track=frame.track, absolute_orbit=orbit,
                            relative_burst_id=rel, absolute_burst_id=absolute, subswath=swath, polarization=pol,
                            burst_index=b, parent=parent, parent_id=parent_id,
                            cdse_id=_uuid(self.seed, "burst", parent, swath, pol, b),
                            azimuth_time=azimuth, start=start, end=end, anx_time=anx, lines=lines, samples=samples,
                            byte_offset=header + b * lines * samples * 4, ring=frame.rings[b][s],
                            ascending=ascending, datatake_id=datatake, ipf_version=ipf,
                            at_cdse=at_cdse, at_asf=at_asf,
                        )
                    )  # fmt: skip
        return bursts


__all__ = ["SyntheticBursts", "TruthBurst", "absolute_burst_id", "compact", "relative_burst_id"]
