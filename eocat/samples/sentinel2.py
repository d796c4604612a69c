"""Sentinel-2 L2A: MGRS tiles under the S2 tracks, revisited every 5 days (A/C + B); sun angles computed."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from catalog.stac import EXTENSIONS
from eocat.samples.clock import DAY_US, PRECISIONS, US, DatedVersions, compact, iso, parse_time
from eocat.samples.constellations import S2A, S2B, S2C, S2C_START, first_pass, layout
from eocat.samples.draws import kind_rng, md5_multihash, uuid4
from eocat.samples.footprints import antimeridian_slots, copy_geometry, footprint, offset
from eocat.samples.mgrs import mgrs_tile, tile_ring
from eocat.samples.vocabulary import (
    COPERNICUS_QUICKLOOK,
    COPERNICUS_ZIPPER,
    SENTINEL_LICENSE,
    cdse_schemes,
    collection_link,
    license_link,
    skeleton,
    zipped_product,
)

_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi

_S2_BASELINES = DatedVersions(  # Sentinel-2 processing baseline by acquisition date
    (
        ("2021-06-30T00:00:00Z", "N0300"),
        ("2022-01-25T00:00:00Z", "N0301"),
        ("2022-12-06T00:00:00Z", "N0400"),
        ("2023-06-27T00:00:00Z", "N0509"),
        ("2024-07-23T00:00:00Z", "N0510"),
        ("2099-01-01T00:00:00Z", "N0511"),
    )
)
_S2_REPROCESSED_BEFORE = parse_time("2022-01-25T00:00:00Z")
_S2_REPROCESSING = (parse_time("2023-03-01T00:00:00Z"), parse_time("2024-09-01T00:00:00Z"))


def _sun(t: int, lat: float, lon: float) -> tuple[float, float]:
    """Approximate (elevation, azimuth) of the Sun in degrees."""
    day_frac = (t % DAY_US) / DAY_US
    doy = (t // DAY_US - 10_957) % 365.2425  # days since 2000-01-01, folded to a year
    decl = -23.44 * _D2R * math.cos(2 * math.pi * (doy + 10) / 365.2425)
    hour_angle = ((day_frac * 24.0 + lon / 15.0) % 24.0 - 12.0) * 15.0 * _D2R
    phi = lat * _D2R
    sin_el = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour_angle)
    el = math.asin(max(-1.0, min(1.0, sin_el)))
    az = math.atan2(-math.sin(hour_angle), math.tan(decl) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle))
    return el * _R2D, (az * _R2D) % 360.0


_CYCLE_S2 = 5 * DAY_US


def _s2_tiles(rng: random.Random, count: int) -> list[dict[str, Any]]:
    r = rng.random
    tiles: list[dict[str, Any]] = []
    seen: set[str] = set()
    orb = S2A
    crossing = antimeridian_slots(count)
    while len(tiles) < count:
        want_crossing = len(tiles) in crossing
        if want_crossing:
            # a tile of UTM zone 60 or 1 that contains the antimeridian
            lat = -55.0 + r() * 125.0
            zone = 60 if r() < 0.5 else 1
            code, zone, e0, n0, south = mgrs_tile(lat, 180.0, zone)
        else:
            track = 1 + int(r() * 143)
            u = 100.0 + r() * 160.0  # descending, sunlit half of the orbit
            dt_s = u / 360.0 * orb.period_s
            k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
            lat, lon, heading = orb.state(orb.lon_anx(k_ref), dt_s)
            if not -56.0 < lat < 76.0:
                continue
            lat, lon = offset(lat, lon, heading, 0.0, (r() - 0.5) * 280.0)
            code, zone, e0, n0, south = mgrs_tile(lat, lon)
        if code in seen:
            continue
        ring = tile_ring(zone, e0, n0, south)
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
        geometry, bbox = footprint(ring)
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


def sentinel2_items(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = kind_rng(seed, "s2-l2a")
    r = rng.random
    cid = "sentinel-2-l2a"
    n_periods = max(1, (t1 - t0) // _CYCLE_S2)
    per_loc, n_tiles = layout(n, 1.0, n_periods)
    tiles = _s2_tiles(rng, n_tiles)
    t0_pass = t0 + 60 * US
    firsts = [first_pass(S2A, tl["track"], tl["dt"], t0_pass, _CYCLE_S2) for tl in tiles]
    # is the first pass an S2A/S2C slot (A's schedule) or an S2B slot?
    a_slots = [
        ((f - first_pass(S2A, tl["track"], tl["dt"], t0_pass, 2 * _CYCLE_S2)) // _CYCLE_S2) % 2 == 0
        for f, tl in zip(firsts, tiles, strict=True)
    ]
    x = EXTENSIONS
    emitted = 0
    for j in range(per_loc):
        for ti, tl in enumerate(tiles):
            if emitted >= n:
                return
            emitted += 1
            cyc = int((j + tl["phase"]) * n_periods / per_loc)
            t = min(firsts[ti] + cyc * _CYCLE_S2, t1 - 60 * US)
            a_slot = a_slots[ti] == (cyc % 2 == 0)
            orb = (S2C if t >= S2C_START else S2A) if a_slot else S2B
            k = orb.orbit_at(t)
            prec = PRECISIONS[int(r() * 20)]
            t_acq = t - int(r() * 40 * US)  # datatake start a little before the tile
            baseline = _S2_BASELINES.at(t_acq)
            if t_acq < _S2_REPROCESSED_BEFORE and r() < 0.6:
                baseline = "N0500"
                lo, hi = _S2_REPROCESSING
                t_proc = lo + int(r() * (hi - lo))
            else:
                t_proc = t_acq + int((3600 + r() * 5 * 3600) * US)
            version = f"{baseline[1:3]}.{baseline[3:]}"
            item_id = (
                f"S2{orb.platform[-1].upper()}_MSIL2A_{compact(t_acq)}_{baseline}_R{tl['track']:03d}"
                f"_T{tl['code']}_{compact(t_proc)}"
            )
            t_created = t_proc + int((600 + r() * 4000) * US)
            t_published = t_created + int((300 + r() * 900) * US)
            t_updated = t_published + (int(r() * 90 * DAY_US) if r() < 0.4 else int(r() * 600 * US))
            extensions = [x["authentication"], x["file"], x["grid"], x["processing"], x["product"], x["sat"]]
            props: dict[str, Any] = {
                "datetime": iso(t_acq, prec),
                "created": iso(t_created, prec),
                "updated": iso(t_updated, prec),
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
            props["processing:datetime"] = iso(t_proc, prec)
            props["processing:version"] = version
            props["auth:schemes"] = cdse_schemes()
            if r() < 0.9:
                props["published"] = iso(t_published, prec)
                extensions.append(x["timestamps"])
            if eo:
                extensions.append(x["eo"])
            if view:
                extensions.append(x["view"])
            extensions.sort()
            uuid = uuid4(rng)
            base = f"{COPERNICUS_ZIPPER}/Products({uuid})"
            safe = f"{item_id}.SAFE"
            size = int(tl["coverage"] * (0.75e9 + r() * 0.45e9))
            links = [collection_link(cid)]
            if r() < 0.3:
                links.append(license_link(SENTINEL_LICENSE))
            yield {
                **skeleton(item_id, cid, extensions, copy_geometry(tl["geometry"]), list(tl["bbox"])),
                "properties": props,
                "links": links,
                "assets": {
                    "product": zipped_product(base, size, md5_multihash(rng), f"{safe}.zip"),
                    "product_metadata": {
                        "href": f"{base}/Nodes({safe})/Nodes(MTD_MSIL2A.xml)/$value",
                        "type": "application/xml",
                        "title": "MTD_MSIL2A.xml",
                        "roles": ["metadata"],
                        "file:size": 50_000 + int(r() * 10_000),
                        "file:checksum": md5_multihash(rng),
                        "file:local_path": f"{safe}/MTD_MSIL2A.xml",
                        "auth:refs": ["oidc"],
                    },
                    "thumbnail": {
                        "href": f"{COPERNICUS_QUICKLOOK}/Assets({uuid4(rng)})/$value",
                        "type": "image/jpeg",
                        "title": "Quicklook",
                        "roles": ["thumbnail", "overview"],
                        "file:size": 2_000 + int(r() * 60_000),
                    },
                },
            }
