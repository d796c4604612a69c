"""Sentinel-1 IW SLC bursts: groups of IW1..IW3 sharing an ESA relative burst id, acquired every 12 days."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from catalog.stac import EXTENSIONS
from emulators.s1truth import LINE_TIME, N_BURST_IDS, T_BEAM, T_PRE, absolute_burst_id
from eocat.samples.clock import DAY_US, PRECISIONS, US, compact, iso
from eocat.samples.constellations import S1A, first_pass, layout
from eocat.samples.draws import kind_rng, uuid4
from eocat.samples.footprints import copy_geometry, footprint, offset, quad
from eocat.samples.vocabulary import (
    ASF_BURST,
    COLLECTION_IDS,
    COPERNICUS_ZIPPER,
    burst_schemes,
    collection_link,
    skeleton,
)

_SWATHS = (("IW1", -0.92, 390.0, 92.0, 21_400), ("IW2", 0.0, 478.0, 86.0, 25_000), ("IW3", 0.92, 560.0, 80.0, 24_500))
S1_CYCLE_US = 12 * DAY_US


def _burst_groups(rng: random.Random, n: int, per_loc: int) -> list[dict[str, Any]]:
    r = rng.random
    groups: list[dict[str, Any]] = []
    seen: set[int] = set()
    capacity = 0
    orb = S1A
    while capacity < n:
        rel = 1 + int(r() * N_BURST_IDS)
        if rel in seen:
            continue
        dtb = T_PRE + (rel - 1 + 0.5) * T_BEAM  # mid-burst time of IW2 from ANX of track 1
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
            cla, clo = offset(la, lo, hd, 0.0, right)
            geometry, bbox = footprint(quad(cla, clo, hd, 20.5, width))
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


def burst_items(n: int, seed: int, t0: int, t1: int) -> Iterator[dict[str, Any]]:
    rng = kind_rng(seed, "s1-burst")
    r = rng.random
    cid = COLLECTION_IDS["s1-burst"]
    orb = S1A
    n_periods = max(1, (t1 - t0) // S1_CYCLE_US)
    per_loc, _ = layout(n, 5.4, n_periods)
    groups = _burst_groups(rng, n, per_loc)
    x = EXTENSIONS
    extensions = [x["authentication"], x["file"], x["proj"], x["sar"], x["sat"]]
    first = [first_pass(orb, g["track"], g["dt"], t0 + 60 * US, S1_CYCLE_US) for g in groups]
    emitted = 0
    for j in range(per_loc):
        for gi, g in enumerate(groups):
            cyc = int((j + g["phase"]) * n_periods / per_loc)
            t_mid = min(first[gi] + cyc * S1_CYCLE_US, t1 - 60 * US)  # IW2 mid-burst time
            k = orb.orbit_at(t_mid)
            anx = orb.anx(k)
            # parent SLC slice
            slc_start = t_mid - int((g["index"] * T_BEAM + 2.2 + r() * 0.3) * US)
            slc_stop = slc_start + int((27.0 + r() * 0.5) * US)
            slc_uid = int(r() * 65536)
            slc = (
                f"S1A_IW_SLC__1S{g['pcode']}_{compact(slc_start)}_{compact(slc_stop)}"
                f"_{k:06d}_{(k * 8) & 0xFFFFFF:06X}_{slc_uid:04X}"
            )
            abs_burst = absolute_burst_id(g["dt"], k)
            t_created = t_mid + int((3 * 3600 + r() * 30_000) * US)
            prec = PRECISIONS[int(r() * 20)]
            for name, dts, geometry, bbox, samples in g["swaths"]:
                t_burst = t_mid + int(dts * US)
                t_start = t_burst - int(1.55 * US)
                t_stop = t_start + int(g["lines"] * LINE_TIME * US)
                t_az = t_start - int(1.14 * US)
                for pol in g["pols"]:
                    if emitted >= n:
                        return
                    emitted += 1
                    item_id = f"S1_{g['rel']:06d}_{name}_{compact(t_az)}_{pol}_{slc_uid:04X}"
                    size = g["lines"] * samples * 4 + 108_027
                    xml = f"{ASF_BURST}/{slc}/{name}/{pol}/{g['index']}.xml"
                    iso_start = iso(t_start, prec)
                    iso_created = iso(t_created, prec)
                    props: dict[str, Any] = {
                        "datetime": iso_start,
                        "start_datetime": iso_start,
                        "end_datetime": iso(t_stop, prec),
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
                        "sat:anx_datetime": iso(anx, 6),
                        "proj:code": None,
                        "proj:shape": [g["lines"], samples],
                        "s1:relative_burst_id": g["rel"],
                        "s1:absolute_burst_id": abs_burst,
                        "s1:full_burst_id": f"{g['track']:03d}_{g['rel']:06d}_{name}",
                        "s1:subswath": name,
                        "s1:burst_index": g["index"],
                        "s1:parent_product": slc,
                        "s1:azimuth_anx_time": round((t_az - anx) / US, 6),
                        "auth:schemes": burst_schemes(),
                    }
                    yield {
                        **skeleton(item_id, cid, list(extensions), copy_geometry(geometry), list(bbox)),
                        "properties": props,
                        "links": [collection_link(cid)],
                        "assets": {
                            "cdse": {
                                "href": f"{COPERNICUS_ZIPPER}/Bursts({uuid4(rng)})/$value",
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
                                "auth:refs": ["earthdata"],
                            },
                            "xml": {
                                "href": xml,
                                "type": "application/xml",
                                "title": "Burst metadata (ASF burst extractor)",
                                "roles": ["metadata"],
                                "auth:refs": ["earthdata"],
                            },
                        },
                    }
