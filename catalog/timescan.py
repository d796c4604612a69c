"""Timescan statistics: per-pixel running avg, max, min, std, cov (and count) over a stream of rasters.

One pass, constant memory: Welford's running mean and sum of squared deviations in float64, plus running
min and max, so a time series of any length is never held in memory. No-data (NaN) pixels are skipped,
each pixel has its own count, and pixels never observed come out NaN. ``std`` is the population standard
deviation (numpy's default ``ddof=0``); ``cov`` is the coefficient of variation ``std / avg`` (NaN where
``avg`` is 0). No dB/power conversion is applied: the values are averaged as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from catalog.errors import EocatError

METRICS = ("avg", "max", "min", "std", "cov", "count")


def parse_metrics(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"avg,max,…"`` → validated metric names in the given order (no repeats)."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise EocatError(
            f"unknown timescan metric(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(METRICS)}"
        )
    return tuple(dict.fromkeys(names))


class RunningStats:
    """Per-pixel running statistics of 2-D float arrays of one shape."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.count = np.zeros(shape, dtype=np.int64)
        self.mean = np.zeros(shape, dtype=np.float64)
        self.m2 = np.zeros(shape, dtype=np.float64)
        self.low = np.full(shape, np.inf)
        self.high = np.full(shape, -np.inf)
        self.frames = 0

    def update(self, values: np.ndarray) -> None:
        """Add one raster (NaN = no data)."""
        if values.shape != self.shape:
            raise EocatError(f"raster of shape {values.shape} cannot join a timescan of shape {self.shape}")
        x = values.astype(np.float64, copy=False)
        valid = ~np.isnan(x)
        self.count += valid
        delta = np.where(valid, x - self.mean, 0.0)
        self.mean += np.divide(delta, self.count, out=np.zeros(self.shape), where=valid)
        self.m2 += np.where(valid, delta * (np.where(valid, x, 0.0) - self.mean), 0.0)
        np.fmin(self.low, x, out=self.low)
        np.fmax(self.high, x, out=self.high)
        self.frames += 1

    def result(self, metric: str) -> np.ndarray:
        """One metric as a float32 array (NaN where no valid observation)."""
        seen = self.count > 0
        if metric == "count":
            return self.count.astype(np.float32)
        if metric == "avg":
            out = self.mean
        elif metric == "min":
            out = self.low
        elif metric == "max":
            out = self.high
        elif metric in ("std", "cov"):
            out = np.sqrt(np.divide(self.m2, self.count, out=np.zeros(self.shape), where=seen))
            if metric == "cov":
                out = np.divide(out, self.mean, out=np.full(self.shape, np.nan), where=seen & (self.mean != 0))
        else:
            raise EocatError(f"unknown timescan metric {metric!r}")
        return np.where(seen, out, np.nan).astype(np.float32)


def timescan(rasters: Iterable[np.ndarray], metrics: Sequence[str]) -> tuple[RunningStats, list[np.ndarray]]:
    """Running statistics over ``rasters`` (consumed one at a time); returns the stats and the metric arrays."""
    stats: RunningStats | None = None
    for raster in rasters:
        if stats is None:
            stats = RunningStats(raster.shape)
        stats.update(raster)
    if stats is None:
        raise EocatError("timescan: the query selected no frames")
    return stats, [stats.result(m) for m in metrics]
