"""Synthetic Sentinel-3 NDVI frames for the DestinE emulator: schedule, float truth and 12-bit quantization.

Each continent is one stream on its own EPSG:4326 grid (row 0 = north). Frames come in day order,
S3A around 09:30-10:00 UTC and S3B around 10:10-10:40 UTC, with a few days missing a satellite;
``img_number`` is the 1-based position in the stream. The NDVI field has a fixed land mask (NaN
over the sea), spatial structure from seeded waves, a seasonal cycle (opposite in the southern
hemisphere) and per-frame clouds (NaN). Everything is a pure function of the seed, so tests can
recompute the truth of any frame.

Quantization (what the real streamer is inferred to do, reference/destine.md §3): ``q = round((v −
min)/(max − min)·4095)`` with the frame's own min/max. Code 0 is kept for no-data: the advertised
``img_min_value`` is one step below the frame's smallest valid value, so valid pixels map to 1..4095
and ``v = q/4095·(max − min) + min`` recovers them to within half a step.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import numpy as np

LEVELS = 4095
FPS = 25


@dataclass(frozen=True)
class Grid:
    """A continent's stream grid: bbox ``[W, S, E, N]`` in degrees and the frame size."""

    bbox: tuple[float, float, float, float]
    nx: int
    ny: int


# Small grids (tests and CI stay fast), different per continent: 0.25 deg over Europe, 0.5 deg over Africa.
GRIDS: dict[str, Grid] = {
    "Europe": Grid((-25.0, 34.0, 45.0, 72.0), 280, 152),
    "Africa": Grid((-20.0, -36.0, 52.0, 38.0), 144, 148),
}
SATELLITES = (("S3A", 9 * 3600 + 30 * 60), ("S3B", 10 * 3600 + 10 * 60))


@dataclass(frozen=True)
class Frame:
    """One frame of a stream (what the metadata API lists), with its quantization range."""

    img_number: int
    start: datetime
    satellite: str
    min_value: float
    max_value: float

    @property
    def start_text(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:%M:%S")


class ContinentStream:
    """The frames of one continent's stream between two dates (``end`` exclusive)."""

    def __init__(self, continent: str, grid: Grid, start: date, end: date, seed: int = 0) -> None:
        self.continent, self.grid, self.seed = continent, grid, seed
        self.start, self.end = start, end
        self._times = _schedule(continent, start, end, seed)

    def __len__(self) -> int:
        return len(self._times)

    @cached_property
    def _static(self) -> tuple[np.ndarray, ...]:
        """Longitude, latitude, land mask, base NDVI, seasonal amplitude and peak day of year (per pixel)."""
        w, s, e, n = self.grid.bbox
        nx, ny = self.grid.nx, self.grid.ny
        lon = w + (np.arange(nx) + 0.5) * (e - w) / nx
        lat = n - (np.arange(ny) + 0.5) * (n - s) / ny
        lon2, lat2 = np.meshgrid(lon, lat)
        rng = np.random.default_rng([self.seed, _key(self.continent)])
        land = _waves(lon2, lat2, rng, 4, 8.0) > -0.35
        base = 0.35 + 0.25 * _waves(lon2, lat2, rng, 5, 4.0)
        amplitude = np.clip(0.12 + 0.12 * _waves(lon2, lat2, rng, 3, 6.0), 0.02, 0.3) * np.clip(
            np.abs(lat2) / 30, 0.2, 1
        )
        peak = np.where(lat2 >= 0, 190.0, 10.0)
        return lon2, lat2, land, base, amplitude, peak

    def frame(self, img_number: int) -> Frame:
        """The frame with this 1-based number (quantization range computed from its truth)."""
        truth = self.truth(img_number)
        valid = truth[~np.isnan(truth)]
        if valid.size == 0:
            low = high = 0.0
        else:
            low, high = float(valid.min()), float(valid.max())
        step = (high - low) / (LEVELS - 1) if high > low else 1e-3
        satellite, moment = self._times[img_number - 1]
        return Frame(img_number, moment, satellite, low - step, high)

    @cached_property
    def frames(self) -> list[Frame]:
        return [self.frame(number) for number in range(1, len(self) + 1)]

    def truth(self, img_number: int) -> np.ndarray:
        """The float32 NDVI of a frame (NaN = sea or cloud), shape ``(ny, nx)``, row 0 north."""
        if not 1 <= img_number <= len(self):
            raise KeyError(f"{self.continent} has no frame {img_number} (1..{len(self)})")
        satellite, moment = self._times[img_number - 1]
        lon, lat, land, base, amplitude, peak = self._static
        day = moment.timetuple().tm_yday
        seasonal = amplitude * np.cos(2 * math.pi * (day - peak) / 365.25)
        rng = np.random.default_rng([self.seed, _key(self.continent), img_number])
        weather = 0.04 * _waves(lon, lat, rng, 3, 5.0) + (0.01 if satellite == "S3B" else 0.0)
        ndvi = np.clip(base + seasonal + weather, -0.2, 0.95)
        ndvi[~land] = np.nan
        ndvi[_clouds(land.shape, rng)] = np.nan
        return ndvi.astype(np.float32)

    def quantized(self, img_number: int) -> np.ndarray:
        """The frame's 12-bit codes (uint16, 0 = no data), as encoded in the video."""
        return quantize(self.truth(img_number), self.frames[img_number - 1])

    def in_window(self, first: datetime | None, last: datetime | None) -> list[Frame]:
        """Frames with ``first <= start <= last`` (either bound may be open)."""
        return [f for f in self.frames if (first is None or f.start >= first) and (last is None or f.start <= last)]


def quantize(values: np.ndarray, frame: Frame) -> np.ndarray:
    """Float values to 12-bit codes with a frame's range; NaN to 0."""
    span = frame.max_value - frame.min_value
    codes = np.rint((values.astype(np.float64) - frame.min_value) / span * LEVELS)
    codes = np.clip(np.nan_to_num(codes, nan=0.0), 0, LEVELS)
    codes[np.isnan(values)] = 0
    return codes.astype(np.uint16)


def _schedule(continent: str, start: date, end: date, seed: int) -> list[tuple[str, datetime]]:
    times: list[tuple[str, datetime]] = []
    day = start
    while day < end:
        rng = random.Random(f"destine:{seed}:{continent}:{day.isoformat()}")
        for satellite, seconds in SATELLITES:
            if rng.random() < 0.03:  # a missing acquisition now and then
                continue
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=seconds + rng.randrange(0, 1800)
            )
            times.append((satellite, moment))
        day += timedelta(days=1)
    return times


def _key(text: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _waves(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator, count: int, scale: float) -> np.ndarray:
    """A smooth field in about [-1, 1]: a sum of seeded plane waves with wavelengths of ``scale``+ degrees."""
    total = np.zeros(lon.shape)
    for _ in range(count):
        angle, phase = rng.uniform(0, math.pi), rng.uniform(0, 2 * math.pi)
        wavelength = scale * rng.uniform(1.0, 4.0)
        total += np.sin((lon * math.cos(angle) + lat * math.sin(angle)) * 2 * math.pi / wavelength + phase)
    return total / math.sqrt(count)


def _clouds(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A few round clouds (a boolean mask)."""
    ny, nx = shape
    rows, cols = np.ogrid[:ny, :nx]
    mask = np.zeros(shape, dtype=bool)
    for _ in range(int(rng.integers(0, 4))):
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        radius = rng.uniform(0.04, 0.12) * min(nx, ny)
        mask |= (rows - cy) ** 2 + (cols - cx) ** 2 < radius**2
    return mask
