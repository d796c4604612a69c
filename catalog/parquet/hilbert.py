"""Hilbert-curve keys of bounding-box centres: sorting by them keeps neighbours in the same row group."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ORDER = 16  # 65,536 x 65,536 cells over the globe: ~600 m at the equator


def hilbert_keys(
    minx: npt.NDArray[np.float64], miny: npt.NDArray[np.float64],
    maxx: npt.NDArray[np.float64], maxy: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:  # fmt: skip
    """Hilbert index of each box centre on a fixed lon/lat grid (boxes crossing the antimeridian
    have ``minx > maxx``; missing boxes, NaN, sort last)."""
    east = np.where(minx > maxx, maxx + 360.0, maxx)
    cx = (minx + east) / 2.0
    cx = np.where(cx > 180.0, cx - 360.0, cx)
    cy = (miny + maxy) / 2.0
    missing = np.isnan(cx) | np.isnan(cy)
    n = 1 << ORDER
    x = np.clip(((np.nan_to_num(cx) + 180.0) / 360.0 * n).astype(np.int64), 0, n - 1)
    y = np.clip(((np.nan_to_num(cy) + 90.0) / 180.0 * n).astype(np.int64), 0, n - 1)
    d = np.zeros_like(x)
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        rotate = ~ry
        flip = rotate & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        x, y = np.where(rotate, y, x), np.where(rotate, x, y)
        s >>= 1
    return np.where(missing, np.int64(n) * n, d)
