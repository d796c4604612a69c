"""Sentinel-1 SLC and GRD products: slice footprints at fixed places of fixed tracks, re-acquired per pass."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from catalog.stac import EXTENSIONS
from eocat.samples.clock import DAY_US, PRECISIONS, US, DatedVersions, compact, iso
from eocat.samples.constellations import S1A, S1C, s1_platforms
from eocat.samples.draws import kind_rng, md5_multihash, uuid4
from eocat.samples.footprints import antimeridian_slots, copy_geometry, footprint, offset, quad
from eocat.samples.vocabulary import (
    COLLECTION_IDS,
    COPERNICUS_QUICKLOOK,
    COPERNICUS_ZIPPER,
    SENTINEL_LICENSE,
    cdse_schemes,
    collection_link,
    license_link,
    skeleton,
    zipped_product,
)

_S1_IPF = DatedVersions(  # Sentinel-1 IPF version by acquisition date
    (
        ("2021-06-01T00:00:00Z", "003.31"),
        ("2022-03-23T00:00:00Z", "003.40"),
        ("2023-03-29T00:00:00Z", "003.52"),
        ("2023-10-04T00:00:00Z", "003.61"),
        ("2024-05-13T00:00:00Z", "003.71"),
        ("2024-11-20T00:00:00Z", "003.80"),
        ("2099-01-01T00:00:00Z", "003.90"),
    )
)


def _s1_frames(rng: random.Random, count: int, duration: float) -> list[tuple[Any, ...]]:
    """A pool of S1 slice footprints ("frames"): fixed places on fixed tracks, re-acquired every
    12 days (S1A) or 6 days later (S1B/S1C) as in the real observation scenario."""
    r = rng.random
    orb = S1A
    frames: list[tuple[Any, ...]] = []
    crossing = antimeridian_slots(count)
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
                return abs(offset(la, lo, hd, 0.0, right)[1] % 360.0 - 180.0)

            track = min(range(1, orb.n_tracks + 1), key=distance_to_antimeridian)
        k_ref = orb.ref_abs + (track - orb.ref_track) % orb.n_tracks
        lat, lon, heading = orb.state(orb.lon_anx(k_ref), dt_s)
        ring = quad(*offset(lat, lon, heading, 0.0, right), heading, duration * 6.9, 400.0 if ew else 250.0)
        lons = [p[0] for p in ring]
        if (min(lons) < -180.0 or max(lons) > 180.0) != want_crossing:
            continue
        geometry, bbox = footprint(ring)
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


def sentinel1_items(kind: str, n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = kind_rng(seed, kind)
    r = rng.random
    bits = rng.getrandbits
    slc = kind == "s1-slc"
    cid = COLLECTION_IDS[kind]
    duration = 27.0 if slc else 25.0
    last = t1 - 30 * US
    span = max(1, last - t0)
    salt = bits(16)
    x = EXTENSIONS
    ext_base = [x["authentication"], x["file"], x["processing"], x["product"], x["sar"], x["sat"]]
    ext_ts = [*ext_base, x["timestamps"]]
    frames = _s1_frames(rng, min(n, max(64, int(10 * math.sqrt(n)))), duration)
    n_frames = len(frames)
    for i in range(n):
        prec = PRECISIONS[int(r() * 20)]
        track, dt_s, ascending, mode, pols, pcode, geometry, bbox = frames[int(r() * n_frames)]
        t = t0 + int(r() * span)
        plats = s1_platforms(t)
        orb = plats[int(r() * len(plats))]
        # the pass over this frame's track in the repeat cycle (12 days) that starts at t
        k = orb.orbit_at(t)
        k += (track - orb.track(k)) % orb.n_tracks
        offset = int((dt_s - duration / 2) * US) + int(r() * 400_000)
        t_start = orb.anx(k) + offset
        if t_start < t0:
            k += orb.n_tracks
            t_start = orb.anx(k) + offset
        step = 1 if orb is S1C else -1  # move S1B passes earlier, S1C passes later (mission dates)
        while t_start > last or orb not in s1_platforms(t_start):
            k += step * orb.n_tracks
            t_start = orb.anx(k) + offset
            if not t0 <= t_start <= last:  # window shorter than a cycle (or than a mission overlap)
                orb = S1A
                k = orb.orbit_at(t)
                t_start = t0 + int(r() * span)
                break
        anx = orb.anx(k)
        t_stop = t_start + int(duration * US) + int(r() * 1_000_000)
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
            f"S1{orb.platform[-1].upper()}_{tag}_{compact(t_start)}_{compact(t_stop)}_{k:06d}_{datatake:06X}_{uid:04X}"
        )
        t_proc = t_stop + int((1800 + r() * 20_000) * US)
        t_created = t_proc + int((60 + r() * 1200) * US)
        t_published = t_created + int((60 + r() * 600) * US)
        t_updated = t_published + (int(r() * 40 * DAY_US) if r() < 0.3 else int(r() * 400 * US))
        ipf = _S1_IPF.at(t_start)
        uuid = uuid4(rng)
        safe = f"{item_id}.SAFE"
        iso_start = iso(t_start, prec)
        props: dict[str, Any] = {
            "datetime": iso_start,
            "start_datetime": iso_start,
            "end_datetime": iso(t_stop, prec),
            "created": iso(t_created, prec),
            "updated": iso(t_updated, prec),
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
            "sat:anx_datetime": iso(anx, 6),
            "sat:platform_international_designator": orb.designator,
            "product:type": ptype,
            "product:timeliness": "PT24H" if slc else "PT3H",
            "product:timeliness_category": "Fast-24h" if slc else "NRT-3h",
            "processing:level": "L1",
            "processing:facility": "Copernicus S1 Core Ground Segment - DPA",
            "processing:datetime": iso(t_proc, prec),
            "processing:version": ipf[1:],
            "processing:software": {"Sentinel-1 IPF": ipf},
            "auth:schemes": cdse_schemes(),
        }
        if not slc:
            props["sar:resolution_range"] = 20.0 if mode == "IW" else 93.0
            props["sar:resolution_azimuth"] = 22.0 if mode == "IW" else 87.0
        extensions = ext_base
        if r() < 0.9:
            props["published"] = iso(t_published, prec)
            extensions = ext_ts
        base = f"{COPERNICUS_ZIPPER}/Products({uuid})"
        links = [collection_link(cid)]
        if r() < 0.3:
            links.append(license_link(SENTINEL_LICENSE))
        yield {
            **skeleton(item_id, cid, list(extensions), copy_geometry(geometry), list(bbox)),
            "properties": props,
            "links": links,
            "assets": {
                "product": zipped_product(base, size, md5_multihash(rng), f"{safe}.zip"),
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
                    "href": f"{COPERNICUS_QUICKLOOK}/Assets({uuid4(rng)})/$value",
                    "type": "image/png",
                    "title": "Thumbnail",
                    "roles": ["thumbnail"],
                    "file:size": 20_000 + int(r() * 40_000),
                },
            },
        }
