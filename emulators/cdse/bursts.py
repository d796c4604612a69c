"""The CDSE ``/odata/v1/Bursts`` entity set: recorded burst records plus the shared burst ground truth.

Same OData machinery as ``/Products`` (:mod:`emulators.odata` filters, ``$top``/``$skip`` limits and 422
bodies, ``$count``, ``nextLink``) over the burst fields of ``reference/cdse.md`` §5: ``$orderby`` only on
``ContentDate/Start|End`` (then ``Id``), no ``$expand``, ``$select`` on burst fields. Truth bursts
(:mod:`emulators.s1truth`) are rendered to records on demand, so large truths cost little memory.
The ``POST Bursts(<Id>)/$value`` extraction is not here (see the download side of the emulator).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry

from emulators.cdse import errors, options
from emulators.cdse.fixtures_loader import load
from emulators.cdse.synthetic import geometry as geo
from emulators.odata import (
    Field,
    FilterError,
    Schema,
    compile_filter,
    format_datetime,
    parse_datetime,
    parse_filter,
    range_of,
)

if TYPE_CHECKING:  # s1truth imports emulators.cdse.synthetic, which imports this package
    from emulators.s1truth import SyntheticBursts, TruthBurst

ORDERABLE = ("ContentDate/Start", "ContentDate/End")
SELECTABLE = (
    "Id", "Name", "ContentType", "S3Path", "ContentDate", "Footprint", "GeoFootprint", "ParentProductId",
    "ParentProductName", "ByteOffset", "BurstId", "AbsoluteBurstId", "AzimuthTime", "AzimuthAnxTime",
    "ParentProductType", "SwathIdentifier", "RelativeOrbitNumber", "OrbitDirection", "PlatformSerialIdentifier",
    "PolarisationChannels", "OperationalMode", "DatatakeID", "Lines", "LinesPerBurst", "SamplesPerBurst",
    "BeginningDateTime", "EndingDateTime",
)  # fmt: skip
_FIXTURES = ("burst_entity.json",)


def truth_record(b: TruthBurst) -> dict[str, Any]:
    """The CDSE record of a truth burst, shaped like the recorded entity (field order included)."""
    start, end = format_datetime(b.start), format_datetime(b.end)
    parent = f"{b.parent}.SAFE"
    day = format_datetime(b.start - b.start % 86_400_000_000, 0)[:10].replace("-", "/")
    sensing = parent.split("_")[5].lower()
    stop = parent.split("_")[6].lower()
    tiff = (f"s1{b.platform.lower()}-{b.subswath.lower()}-slc-{b.polarization.lower()}-{sensing}-{stop}-"
            f"{b.absolute_orbit:06d}-{b.datatake_id:06x}-00{b.subswath[-1]}.tiff")  # fmt: skip
    ring = [list(p) for p in b.ring]
    return {
        "@odata.mediaContentType": "application/octet-stream",
        "Id": b.cdse_id,
        "Name": (
            f"S1{b.platform}-SLC-{format_datetime(b.start, 0, '').replace('-', '').replace(':', '')}-"
            f"{b.relative_burst_id}-{b.subswath}-{b.polarization}-{b.datatake_id:06d}"
        ),
        "ContentType": "application/octet-stream",
        "S3Path": f"/eodata/Sentinel-1/SAR/IW_SLC__1S/{day}/{parent}/measurement/{tiff}",
        "ContentDate": {"Start": start, "End": end},
        "Footprint": geo.wkt([list(b.ring)], False),
        "GeoFootprint": {"type": "Polygon", "coordinates": [ring]},
        "ParentProductId": b.parent_id,
        "ParentProductName": parent,
        "ByteOffset": b.byte_offset,
        "BurstId": b.relative_burst_id,
        "AbsoluteBurstId": b.absolute_burst_id,
        "AzimuthTime": format_datetime(b.azimuth_time),
        "AzimuthAnxTime": b.azimuth_anx_time,
        "ParentProductType": "IW_SLC__1S",
        "SwathIdentifier": b.subswath,
        "RelativeOrbitNumber": b.track,
        "OrbitDirection": "ASCENDING" if b.ascending else "DESCENDING",
        "PlatformSerialIdentifier": b.platform,
        "PolarisationChannels": b.polarization,
        "OperationalMode": "IW",
        "DatatakeID": b.datatake_id,
        "Lines": b.lines,
        "LinesPerBurst": b.lines,
        "SamplesPerBurst": b.samples,
        "BeginningDateTime": start,
        "EndingDateTime": end,
    }


class BurstEntry:
    """One burst as the server stores it: filter values up front, the record rendered when served."""

    __slots__ = ("_record", "end", "id", "start", "truth", "values")

    def __init__(self, record: dict[str, Any] | None = None, truth: TruthBurst | None = None) -> None:
        self.truth = truth
        self._record = None if record is None else {k: v for k, v in record.items() if k != "@odata.context"}
        source = self._record if self._record is not None else truth_record(truth)  # type: ignore[arg-type]
        self.id = str(source["Id"]).lower()
        content = source.get("ContentDate") or {}
        self.start = parse_datetime(content["Start"])
        self.end = parse_datetime(content["End"])
        self.values = {name: source.get(name) for name in _SCALARS}

    def record(self) -> dict[str, Any]:
        """The served JSON record (a fresh dict)."""
        if self._record is not None:
            return dict(self._record)
        assert self.truth is not None
        return truth_record(self.truth)

    def footprint(self) -> tuple[tuple[float, float, float, float], Any] | None:
        if self.truth is not None:
            ring = self.truth.ring
            return self.truth.bbox, lambda: Polygon(ring)
        footprint = (self._record or {}).get("GeoFootprint")
        if not isinstance(footprint, dict):
            return None
        geometry: BaseGeometry = shape(footprint)
        return geometry.bounds, lambda: geometry


_SCALARS = ("Name", "ParentProductName", "ParentProductType", "ParentProductId", "BurstId", "AbsoluteBurstId",
            "PolarisationChannels", "OperationalMode", "SwathIdentifier", "OrbitDirection",
            "PlatformSerialIdentifier", "RelativeOrbitNumber", "DatatakeID")  # fmt: skip
_KINDS = {"BurstId": "int", "AbsoluteBurstId": "int", "RelativeOrbitNumber": "int", "DatatakeID": "int"}


def _getter(name: str) -> Any:
    return lambda e: e.values.get(name)


BURST_SCHEMA = Schema(
    fields={
        "Id": Field("guid", lambda e: e.id),
        "ContentDate/Start": Field("datetime", lambda e: e.start),
        "ContentDate/End": Field("datetime", lambda e: e.end),
        **{name: Field(_KINDS.get(name, "string"), _getter(name)) for name in _SCALARS},
    },
    footprint=lambda e: e.footprint(),
)
"""What ``$filter`` may use on ``/Bursts`` (reference/cdse.md §5)."""


class BurstCatalogue:
    """The burst entity set: bursts sorted by (ContentDate/Start, Id), queries cached."""

    def __init__(self, entries: Iterable[BurstEntry] = ()) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, bool], ...]], list[int]] = OrderedDict()
        self.entries = sorted(entries, key=lambda e: (e.start, e.id))
        self.by_id = {e.id: i for i, e in enumerate(self.entries)}
        if len(self.by_id) != len(self.entries):
            raise ValueError("duplicate burst Id")
        self._starts = [e.start for e in self.entries]
        self._longest = max((e.end - e.start for e in self.entries), default=0)

    @classmethod
    def build(cls, truth: SyntheticBursts | None = None, include_fixtures: bool = True,
              records: Iterable[Mapping[str, Any]] = ()) -> BurstCatalogue:  # fmt: skip
        """Recorded bursts (if asked), extra records, and the truth bursts CDSE publishes."""
        entries = [BurstEntry(record=load(name)) for name in _FIXTURES] if include_fixtures else []
        entries += [BurstEntry(record=dict(r)) for r in records]
        if truth is not None:
            entries += [BurstEntry(truth=b) for b in truth.generate() if b.at_cdse]
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, burst_id: str) -> BurstEntry | None:
        """The burst with this Id (case-insensitive), or None (for ``Bursts(<Id>)`` and its ``$value``)."""
        position = self.by_id.get(burst_id.lower())
        return None if position is None else self.entries[position]

    def query(self, filter_text: str | None, orderby: tuple[tuple[str, bool], ...] = ()) -> list[int]:
        """Positions of the matching bursts in response order; FilterError for a bad filter."""
        key = (filter_text or "", orderby)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        matches = list(range(len(self.entries)))
        if filter_text:
            node = parse_filter(filter_text)
            predicate = compile_filter(node, BURST_SCHEMA)
            lo, hi = 0, len(self.entries)
            r = range_of(node, "ContentDate/Start")
            end = range_of(node, "ContentDate/End")
            if r.lo is not None:
                lo = (bisect_left if r.lo_inclusive else bisect_right)(self._starts, r.lo)
            elif end.lo is not None:
                lo = bisect_left(self._starts, end.lo - self._longest)
            if r.hi is not None:
                hi = (bisect_right if r.hi_inclusive else bisect_left)(self._starts, r.hi)
            matches = [i for i in range(lo, max(lo, hi)) if predicate(self.entries[i])]
        for name, descending in reversed(orderby):
            attribute = "start" if name == "ContentDate/Start" else "end"
            matches.sort(key=lambda i: (getattr(self.entries[i], attribute), self.entries[i].id), reverse=descending)
        with self._lock:
            self._cache[key] = matches
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return matches

    # -- HTTP handlers (wired in by emulators.cdse.app)
    def handle_list(self, query: str, catalogue_url: str, reserialise: bool) -> tuple[int, dict[str, Any]]:
        """``GET /Bursts``: (status, JSON body)."""
        pairs = parse_qsl(query, keep_blank_values=True)
        select = options.parse_select(options.last_value(pairs, "$select"), SELECTABLE)
        opts = options.parse_options([(k, v) for k, v in pairs if k not in ("$select", "$orderby")])
        if opts.expand:
            raise errors.detail(400, "Invalid $expand: Bursts have no navigation properties")
        orderby = options.parse_orderby(options.last_value(pairs, "$orderby"), ORDERABLE)
        try:
            positions = self.query(opts.filter, orderby)
        except FilterError as exc:
            raise errors.detail(400, str(exc)) from None
        page = positions[opts.skip : opts.skip + opts.top]
        out: dict[str, Any] = {"@odata.context": "$metadata#Bursts"}
        if opts.count:
            out["@odata.count"] = len(positions)
        out["value"] = [_apply_select(self.entries[i].record(), select) for i in page]
        link = options.next_link(f"{catalogue_url}/Bursts", _with_pairs(opts, pairs), len(positions), reserialise)
        if link is not None:
            out["@odata.nextLink"] = link
        return 200, out

    def handle_one(self, query: str, burst_id: str) -> tuple[int, dict[str, Any]]:
        """``GET /Bursts(<Id>)``."""
        entry = self.get(burst_id)
        if entry is None:
            raise errors.detail(404, "Not Found")
        pairs = parse_qsl(query, keep_blank_values=True)
        select = options.parse_select(options.last_value(pairs, "$select"), SELECTABLE)
        return 200, {"@odata.context": "$metadata#Bursts/$entity", **_apply_select(entry.record(), select)}


def _with_pairs(opts: options.QueryOptions, pairs: Sequence[tuple[str, str]]) -> options.QueryOptions:
    from dataclasses import replace

    return replace(opts, pairs=tuple(pairs))


def _apply_select(record: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    if select is None:
        return record
    keep = {"@odata.mediaContentType", "Id", *select}
    return {k: v for k, v in record.items() if k in keep}
