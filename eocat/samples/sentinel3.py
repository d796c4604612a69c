"""DestinE streamer Sentinel-3 NDVI frames: continent boxes, S3A and S3B frames every day."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.stac import EXTENSIONS
from eocat.samples.clock import DAY_US, US, compact, iso, parse_time
from eocat.samples.draws import kind_rng
from eocat.samples.vocabulary import (
    COLLECTION_IDS,
    DESTINE_STREAMER,
    collection_link,
    desp_schemes,
    skeleton,
)

CONTINENTS: dict[str, tuple[tuple[float, float, float, float], int, int]] = {
    # name: (bbox W, S, E, N), nx, ny  -- 0.025 deg pixels (Europe as in the streamer fixture)
    "Europe": ((-25.0, 34.0, 45.0, 72.0), 2800, 1520),
    "Africa": ((-20.0, -36.0, 55.0, 38.0), 3000, 2960),
}
_S3_SATS = (("S3A", "sentinel-3a", 9 * 3600 + 30 * 60), ("S3B", "sentinel-3b", 10 * 3600 + 8 * 60))
_S3_STREAM_EPOCH_DAY = parse_time("2020-01-02T00:00:00Z") // DAY_US  # img_number 731 = S3A on 2021-01-01


def _s3_days(t0: int, t1: int) -> tuple[int, int]:
    """First day and number of days whose frames (09:00-11:00 UTC) lie inside [t0, t1]."""
    first = -(-(t0 - 9 * 3600 * US) // DAY_US)
    last = (t1 - 11 * 3600 * US) // DAY_US
    return first, max(0, last - first + 1)


def s3_capacity(t0: int, t1: int) -> int:
    return _s3_days(t0, t1)[1] * len(CONTINENTS) * len(_S3_SATS)


def sentinel3_items(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = kind_rng(seed, "s3-ndvi")
    r = rng.random
    cid = COLLECTION_IDS["s3-ndvi"]
    first_day, n_days = _s3_days(t0, t1)
    continents = list(CONTINENTS.items())
    per_day = len(continents) * len(_S3_SATS)
    cells = n_days * per_day
    extensions = [EXTENSIONS["authentication"], EXTENSIONS["proj"]]
    for i in range(n):
        cell = i * cells // n
        day_i, rest = divmod(cell, per_day)
        ci, si = divmod(rest, len(_S3_SATS))
        continent, (bbox, nx, ny) = continents[ci]
        sat, platform, tod = _S3_SATS[si]
        day = first_day + day_i
        t = day * DAY_US + (tod + int(r() * 1500)) * US
        img = 2 * (day - _S3_STREAM_EPOCH_DAY) + 1 + si
        w, s, e, nn = bbox
        res_x = (e - w) / nx
        res_y = (nn - s) / ny
        prec = (0, 3, 6)[int(r() * 3)]
        t_created = t + DAY_US + int(r() * 6 * 3600) * US
        scale_min = round(-0.3 + r() * 0.15, 4)
        scale_max = round(0.85 + r() * 0.12, 4)
        yield {
            **skeleton(
                f"s3-ndvi-{continent}-{sat}-{compact(t)}",
                cid,
                list(extensions),
                {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, nn], [w, nn], [w, s]]]},
                [w, s, e, nn],
            ),
            "properties": {
                "datetime": iso(t, prec),
                "start_datetime": iso(t, prec),
                "end_datetime": iso(t + DAY_US, prec),
                "created": iso(t_created, prec),
                "updated": iso(t_created + (int(r() * 3 * 3600) * US if r() < 0.2 else 0), prec),
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
                "auth:schemes": desp_schemes(),
            },
            "links": [collection_link(cid)],
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
