"""Deterministic, realistic Sentinel-like STAC 1.1 items and collections, at any scale.

Used by the tests (brute-force query checks), ``make demo`` and the benchmarks (no emulator imports it)::

    from eocat.samples import KINDS, collections, generate_items, write_ndjson

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
Modules, one job each: ``vocabulary`` (ids, extensions, URLs, auth schemes), ``clock`` (µs instants and
their text), ``draws`` (seeded randomness), ``footprints``, ``mgrs``, ``constellations`` (the platforms on
the emulators' orbit model, ``emulators.cdse.synthetic.orbits``), one module per kind (``sentinel1``,
``bursts``, burst constants from ``emulators.s1truth``; ``sentinel2``, ``sentinel3``),
``stac_collections`` and ``generate``.
"""

from __future__ import annotations

from catalog.stac import EXTENSIONS
from eocat.samples.generate import generate_items, write_ndjson
from eocat.samples.sentinel3 import CONTINENTS
from eocat.samples.stac_collections import collections
from eocat.samples.vocabulary import COLLECTION_IDS, KINDS

__all__ = [
    "COLLECTION_IDS",
    "CONTINENTS",
    "EXTENSIONS",
    "KINDS",
    "collections",
    "generate_items",
    "write_ndjson",
]
