"""SearchAPI keywords for bursts: parsing and validation like SearchAPI-v3 / asf_search, and the filter.

Keys are case-insensitive; list values are comma-separated; ``relativeOrbit``/``absoluteOrbit`` take
``a-b`` ranges. Unknown keys, empty values, bad integers, bad WKT, bad dates and ``maxResults <= 0``
raise :class:`SearchError` with the report text SearchAPI puts in ``{"error":{"type":"ERROR","report":…}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import shapely
import shapely.errors
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from emulators.asf.records import AsfRecord
from emulators.odata import parse_datetime

OUTPUTS = ("metalink", "csv", "geojson", "json", "jsonlite", "jsonlite2", "kml", "count", "download", "python")
SERVED_OUTPUTS = ("geojson", "json", "jsonlite", "count")
BURST_DATASETS = ("SLC-BURST",)
KEYS = {
    k.lower(): k
    for k in (
        "dataset", "processingLevel", "platform", "relativeBurstID", "absoluteBurstID", "fullBurstID",
        "polarization", "intersectsWith", "bbox", "start", "end", "relativeOrbit", "absoluteOrbit",
        "flightDirection", "beamMode", "beamSwath", "maxResults", "granule_list", "product_list",
        "collections", "collectionName", "campaign", "season", "output", "maturity", "cmr_token",
    )
}  # fmt: skip
RESERVED = ("output", "maturity", "cmr_token")
UNBOUNDED = (
    "SearchAPI no longer supports unbounded searches with expected results over 2000, please use the asf-search "
    "python module for long-lived searches or set `maxResults` to 2000 or less. To have SearchAPI automatically "
    "generate a python script for the equivalent search to your SearchAPI query set `output=python`"
)
MAX_UNBOUNDED = 2000


class SearchError(Exception):
    """A 400 with SearchAPI's report text."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


@dataclass
class Search:
    """A validated search: output, maxResults and the record predicate."""

    output: str
    max_results: int | None
    tests: list[Callable[[AsfRecord], bool]] = field(default_factory=list)
    start: int | None = None
    end: int | None = None
    area: BaseGeometry | None = None

    def matches(self, record: AsfRecord) -> bool:
        return all(test(record) for test in self.tests)


def _strings(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


def _ints(values: str) -> list[int]:
    try:
        return [int(v) for v in _strings(values)]
    except ValueError as exc:
        raise SearchError(f'ValueError("Invalid int list: {exc}")') from None


def _int_ranges(values: str) -> list[tuple[int, int]]:
    out = []
    for part in _strings(values):
        low, dash, high = part.partition("-")
        try:
            out.append((int(low), int(high)) if dash else (int(part), int(part)))
        except ValueError as exc:
            raise SearchError(f'ValueError("Invalid int or range list: {exc}")') from None
    return out


def _date(value: str, key: str) -> int:
    try:
        return parse_datetime(value.strip().replace("+00:00", "Z"))
    except ValueError:
        raise SearchError(f'ValueError(\'Could not parse date "{value}" for keyword "{key}"\')') from None


def _wkt(value: str) -> BaseGeometry:
    try:
        geometry = shapely.from_wkt(value)
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise SearchError(f"ValueError('Invalid wkt: {exc}')") from None
    if geometry is None or geometry.is_empty:
        raise SearchError("ValueError('Invalid wkt: empty geometry')")
    return geometry


def parse(pairs: Iterable[tuple[str, str]]) -> Search:
    """Validate the request's keywords (last value wins) into a :class:`Search`."""
    params: dict[str, str] = {}
    for key, value in pairs:
        canonical = KEYS.get(key.lower())
        if canonical is None:
            raise SearchError(f"KeyError('Key \"{key}\" is not a valid search option.')")
        if not value.strip():
            raise SearchError(f"ValueError('Empty value passed to search keyword \"{key}\"')")
        params[canonical] = value
    output = params.pop("output", "metalink").lower()
    if output not in OUTPUTS:
        raise SearchError(f"ValueError('Output format {output} unsupported. Accepted output types: {list(OUTPUTS)}')")
    if output not in SERVED_OUTPUTS:
        raise SearchError(f"ValueError('output={output} is not emulated here: use geojson, jsonlite, json or count')")
    for reserved in RESERVED:
        params.pop(reserved, None)
    max_results = None
    if "maxResults" in params:
        max_results = _ints(params.pop("maxResults"))[0]
        if max_results <= 0:
            raise SearchError("ValueError('Search keyword \"maxResults\" must be greater than 0')")
    search = Search(output, max_results)
    lists = [k for k in ("granule_list", "product_list") if k in params]
    if lists and set(params) - {*lists, "collections"}:
        raise SearchError(
            "ValueError('Cannot use search keywords \"granule_list/product_list\" with other search params')"
        )
    t = search.tests
    for key, value in params.items():
        if key in ("granule_list", "product_list"):
            names = set(_strings(value))
            t.append(lambda r, names=names: r.file_id in names)  # type: ignore[misc]
        elif key == "dataset":
            ok = any(d.upper() in BURST_DATASETS for d in _strings(value))
            t.append(lambda r, ok=ok: ok)  # type: ignore[misc]
        elif key == "processingLevel":
            ok = any(level.upper() == "BURST" for level in _strings(value))
            t.append(lambda r, ok=ok: ok)  # type: ignore[misc]
        elif key == "platform":
            wanted = {p.upper().replace("SENTINEL-1", "S1").replace("SENTINEL1", "S1") for p in _strings(value)}
            t.append(lambda r, w=wanted: "S1" in w or r.platform.upper().replace("SENTINEL-1", "S1") in w)  # type: ignore[misc]
        elif key == "relativeBurstID":
            ids = set(_ints(value))
            t.append(lambda r, ids=ids: r.relative in ids)  # type: ignore[misc]
        elif key == "absoluteBurstID":
            ids = set(_ints(value))
            t.append(lambda r, ids=ids: r.absolute in ids)  # type: ignore[misc]
        elif key == "fullBurstID":
            fulls = {f.upper() for f in _strings(value)}
            t.append(lambda r, f=fulls: r.full.upper() in f)  # type: ignore[misc]
        elif key == "polarization":
            pols = {p.upper() for p in _strings(value)}
            t.append(lambda r, p=pols: r.polarization in p)  # type: ignore[misc]
        elif key == "beamSwath":
            swaths = {s.upper() for s in _strings(value)}
            t.append(lambda r, s=swaths: False)  # type: ignore[misc]  # returns nothing for bursts (asf.md §2.1)
        elif key == "beamMode":
            modes = {m.upper() for m in _strings(value)}
            t.append(lambda r, m=modes: "IW" in m)  # type: ignore[misc]
        elif key == "flightDirection":
            initial = value.strip()[:1].upper()
            if initial not in ("A", "D"):
                raise SearchError(f"ValueError('Invalid direction: {value}')")
            t.append(lambda r, i=initial: r.direction.startswith(i))  # type: ignore[misc]
        elif key in ("relativeOrbit", "absoluteOrbit"):
            ranges = _int_ranges(value)
            attr = "path" if key == "relativeOrbit" else "orbit"
            t.append(lambda r, g=ranges, a=attr: any(lo <= getattr(r, a) <= hi for lo, hi in g))  # type: ignore[misc]
        elif key == "start":
            search.start = _date(value, key)
        elif key == "end":
            search.end = _date(value, key)
        elif key == "intersectsWith":
            search.area = _wkt(value)
        elif key == "bbox":
            try:
                west, south, east, north = (float(v) for v in _strings(value))
            except ValueError:
                raise SearchError(f"ValueError('Invalid bbox: {value}')") from None
            search.area = box(west, south, east, north)
        else:  # collections, collectionName, campaign, season: no burst products belong to them
            t.append(lambda r: False)
    if search.start is not None and search.end is not None and search.start > search.end:
        search.start, search.end = search.end, search.start
    if search.start is not None:
        t.append(lambda r, s=search.start: r.stop >= s)  # type: ignore[misc]
    if search.end is not None:
        t.append(lambda r, e=search.end: r.start <= e)  # type: ignore[misc]
    if search.area is not None:
        prepared = prep(search.area)
        west, south, east, north = search.area.bounds

        def inside(r: AsfRecord) -> bool:
            x0, y0, x1, y1 = r.bbox
            if x0 > east or x1 < west or y0 > north or y1 < south:
                return False
            return bool(prepared.intersects(r.geometry))

        t.append(inside)
    return search


def respond(search: Search, records: list[AsfRecord]) -> tuple[list[AsfRecord], int]:
    """(results newest first by (stopTime, fileID), total count); SearchError for unbounded > 2000."""
    hits = [r for r in records if search.matches(r)]
    if search.max_results is None and len(hits) > MAX_UNBOUNDED and search.output != "count":
        raise SearchError(f"ValueError('{UNBOUNDED}')")
    hits.sort(key=lambda r: (r.stop, r.file_id), reverse=True)
    if search.max_results is not None:
        hits = hits[: search.max_results]
    return hits, len(hits)


def as_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    """A JSON POST body as keyword pairs (lists joined by commas)."""
    out = []
    for key, value in params.items():
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        out.append((str(key), "" if value is None else str(value)))
    return out
