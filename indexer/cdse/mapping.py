"""CDSE OData ``Products`` records -> STAC 1.1 items and collections (pure: no I/O after import, no HTTP).

The mapping is data: ``mapping.json`` (attribute name -> STAC field + converter per mission, platform
designators, timeliness durations, processing levels, product type -> collection id, constants) and the
collection documents in ``collections/``. This module holds the converters and the item skeleton.

Item shape (target: CDSE's own STAC items, ``reference/cdse.md`` section 11):

* ``id`` = ``Name`` without its extension (``.SAFE``, ``.SEN3``, ``.nc``, ``.EOF``, ... or none);
  ``properties["cdse:id"]`` = the OData ``Id`` (UUID), ``cdse:online`` = ``Online`` (``false``: deferred,
  not downloadable through OData), ``cdse:s3_path`` = ``S3Path`` (the product on the ``eodata`` S3 store).
* ``datetime``/``start_datetime``/``end_datetime`` from ``ContentDate``; ``created``/``published``/
  ``updated``/``expires`` from ``OriginDate``/``PublicationDate``/``ModificationDate``/``EvictionDate``
  (``""`` -> absent); every date canonical RFC 3339 UTC with microseconds (``catalog.timeutil``).
* geometry from ``GeoFootprint`` (fallback: the ``Footprint`` WKT); footprints crossing the antimeridian are
  split with ``antimeridian`` and the bbox follows RFC 7946 (``minx > maxx``); ``null`` geometry and no bbox
  when the record has no footprint (AUX products). A valid, non-crossing ``GeoFootprint`` is used as is
  (not copied).
* assets: ``product`` (``{download_url}/Products(<Id>)/$value``, the zip; ``file:size`` from
  ``ContentLength`` unless 0, ``file:checksum`` multihash of the MD5, else BLAKE3), ``thumbnail`` (the
  ``QUICKLOOK`` of ``Assets`` when expanded), ``nodes`` (``{download_url}/Products(<Id>)/Nodes``: the OData
  node tree, JSON; list it without auth, follow ``Nodes.uri`` down, and fetch single files with
  ``.../Nodes(<name>)/$value`` and a Bearer token) and ``compressed`` (``.../$zip``, only when ``Locations``
  lists a ``Compressed`` copy; ``expires`` = its ``EvictionDate``).
* links: ``collection`` (``../collection.json``, as the rest of eocat) and ``via`` (the OData record,
  ``{catalogue_url}/Products(<Id>)``).
* ``auth:schemes`` (CDSE OpenID Connect, key ``oidc``) in the properties, as the authentication extension
  requires when assets carry ``auth:refs``.
* ``stac_extensions`` lists exactly the extensions whose fields the item uses.

Malformed records (no ``Id``/``Name``/``ContentDate``, dates that do not parse, attribute values of the wrong
JSON type other than the known legacy quirks, garbage footprints, checksums that are not hex) raise
:class:`MalformedRecord` naming the ``Id``; values that are merely out of range for STAC (cloud cover outside
0..100, orbit number 0, unknown orbit direction) are left out instead.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import antimeridian
import orjson

from catalog.errors import EocatError
from catalog.stac import EXTENSIONS, STAC_VERSION, auth_schemes
from catalog.timeutil import canonical_lenient, format_canonical

__all__ = [
    "TABLES",
    "MalformedRecord",
    "collection_id",
    "collection_ids",
    "collections",
    "product_to_item",
]

_HERE = Path(__file__).resolve().parent
TABLES: dict[str, Any] = orjson.loads((_HERE / "mapping.json").read_bytes())


def _table(name: str) -> dict[str, Any]:
    """A table of ``mapping.json`` without its ``$``-keys (comments)."""
    return {key: value for key, value in TABLES[name].items() if not key.startswith("$")}


class MalformedRecord(EocatError):
    """An OData product record that cannot be mapped; the message names its ``Id`` and what is wrong."""

    def __init__(self, record_id: str, problem: str) -> None:
        self.record_id = record_id
        self.problem = problem
        super().__init__(
            f"malformed CDSE product record {record_id}: {problem} "
            "(the product is skipped; inspect the record with GET <catalogue>/Products(<Id>)?$expand=Attributes)"
        )


# --------------------------------------------------------------------------------------------------
# converters: (value, properties so far) -> STAC value, or None to leave the field out.
# They raise TypeError/ValueError for values of the wrong type or garbage; the caller turns that into
# MalformedRecord naming the attribute.

_Props = dict[str, Any]
Converter = Callable[[Any, _Props], Any]


def _str(value: Any, props: _Props) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _lower(value: Any, props: _Props) -> str:
    return _str(value, props).lower()


def _lower_list(value: Any, props: _Props) -> list[str]:
    return [_str(value, props).lower()]


def _int(value: Any, props: _Props) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _int_as_str(value: Any, props: _Props) -> str:
    return str(_int(value, props))


def _orbit_number(value: Any, props: _Props) -> int | None:
    number = _int(value, props)
    return number if number >= 1 else None


def _number(value: Any, props: _Props) -> float:
    if type(value) is not float and type(value) is not int:
        raise TypeError(f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _percent(value: Any, props: _Props) -> float | None:
    number = _number(value, props)
    return number if 0.0 <= number <= 100.0 else None


def _orbit_state(value: Any, props: _Props) -> str | None:
    state = _str(value, props).lower()
    return state if state == "ascending" or state == "descending" else None


def _canonical(text: str) -> str | None:
    """``catalog.timeutil.canonical_lenient`` plus a range check of the fields: its fast path takes
    ``2024-13-45T25:61:00Z`` as is. ``+00:00`` (attribute values before 2025-03-17) becomes ``Z`` first."""
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    canonical = canonical_lenient(text)
    if canonical is not None:
        datetime.fromisoformat(canonical[:19])  # ValueError for month 13, Feb 30, 25:00, ...
    return canonical


def _datetime(value: Any, props: _Props) -> str | None:
    return _canonical(_str(value, props))


_TIMELINESS: dict[str, str] = _table("timeliness")


def _timeliness_category(value: Any, props: _Props) -> str | None:
    category = _str(value, props)
    return category if category in _TIMELINESS else None


def _timeliness_duration(value: Any, props: _Props) -> str | None:
    return _TIMELINESS.get(_str(value, props))


_LEVELS: dict[str, str] = _table("processing_levels")


def _processing_level(value: Any, props: _Props) -> str | None:
    level = _str(value, props)
    return _LEVELS.get(level, level) or None


_BASELINE = re.compile(r"^0*(\d+)\.(\d+)$")


def _baseline(value: Any, props: _Props) -> str | None:
    """Processor version as CDSE STAC writes ``processing:version``: ``003.71`` -> ``03.71``, ``05.10`` kept."""
    version = _str(value, props)
    match = _BASELINE.match(version)
    if match is None:
        return version or None
    return f"{int(match.group(1)):02d}.{match.group(2)}"


_BEAMS_BY_MODE: dict[str, list[str]] = _table("beam_ids_by_mode")


def _beam_ids(value: Any, props: _Props) -> list[str] | None:
    tokens = _str(value, props).split()
    if len(tokens) == 1 and tokens[0] in _BEAMS_BY_MODE:
        return list(_BEAMS_BY_MODE[tokens[0]])
    return [token.lower() for token in tokens] or None


_POLARIZATIONS = frozenset(TABLES["sar_polarizations"])
_POL_SPLIT = re.compile(r"[&+,\s/]+")


def _polarizations(value: Any, props: _Props) -> list[str] | None:
    text = _str(value, props)
    pols = text.split("&") if " " not in text else [p for p in _POL_SPLIT.split(text) if p]
    for pol in pols:
        if pol not in _POLARIZATIONS:
            raise ValueError(f"unknown polarisation {pol!r} in {text!r}")
    return pols or None


_MGRS_TILE = re.compile(r"^(\d{1,2})([C-HJ-NP-X])[A-HJ-NP-Z]{2}$")


def _mgrs_tile(value: Any, props: _Props) -> re.Match[str]:
    tile = _str(value, props)
    match = _MGRS_TILE.match(tile)
    if match is None or not 1 <= int(match.group(1)) <= 60:
        raise ValueError(f"{tile!r} is not an MGRS tile id like '31UFT'")
    return match


def _mgrs_grid_code(value: Any, props: _Props) -> str:
    _mgrs_tile(value, props)
    return "MGRS-" + value


def _mgrs_epsg(value: Any, props: _Props) -> str:
    """UTM/WGS 84 EPSG code of an MGRS tile: 326zz north of the equator (bands N..X), 327zz south (C..M)."""
    match = _mgrs_tile(value, props)
    zone = int(match.group(1))
    return f"EPSG:{(32600 if match.group(2) >= 'N' else 32700) + zone}"


def _elevation_from_zenith(value: Any, props: _Props) -> float | None:
    elevation = 90.0 - _number(value, props)
    return elevation if -90.0 <= elevation <= 90.0 else None


_MAX_ANX_OFFSET_MS = 7_000_000.0  # longer than one orbit of any Sentinel (S1: 98.6 min)


def _anx_from_start_ms(value: Any, props: _Props) -> str | None:
    """``sat:anx_datetime`` = sensing start - ``startTimeFromAscendingNode`` (ms; +-1 ms) [INFERRED]."""
    offset_ms = _number(value, props)
    start = props.get("start_datetime")
    if start is None or not 0.0 <= offset_ms < _MAX_ANX_OFFSET_MS:
        return None
    return format_canonical(datetime.fromisoformat(start) - timedelta(milliseconds=offset_ms))


CONVERTERS: dict[str, Converter] = {
    "str": _str,
    "lower": _lower,
    "lower_list": _lower_list,
    "int": _int,
    "int_as_str": _int_as_str,
    "orbit_number": _orbit_number,
    "number": _number,
    "percent": _percent,
    "orbit_state": _orbit_state,
    "datetime": _datetime,
    "timeliness_category": _timeliness_category,
    "timeliness_duration": _timeliness_duration,
    "processing_level": _processing_level,
    "baseline": _baseline,
    "beam_ids": _beam_ids,
    "polarizations": _polarizations,
    "mgrs_grid_code": _mgrs_grid_code,
    "mgrs_epsg": _mgrs_epsg,
    "elevation_from_zenith": _elevation_from_zenith,
    "anx_from_start_ms": _anx_from_start_ms,
}

# --------------------------------------------------------------------------------------------------
# compiled tables

_Rule = tuple[str, Converter, bool]  # field, converter, fallback


def _compile_attribute_tables() -> dict[str, dict[str, tuple[_Rule, ...]]]:
    tables = TABLES["attributes"]
    common = tables["*"]
    out: dict[str, dict[str, tuple[_Rule, ...]]] = {}
    for mission, specific in tables.items():
        merged = {**common, **specific} if mission != "*" else dict(common)
        out[mission] = {
            name: tuple((rule[0], CONVERTERS[rule[1]], len(rule) > 2 and rule[2] == "fallback") for rule in rules)
            for name, rules in merged.items()
        }
    return out


_ATTRIBUTE_RULES = _compile_attribute_tables()

_PY_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
_VALUE_TYPES: dict[str, frozenset[type]] = {
    value_type: frozenset(_PY_TYPES[name] for name in names)
    for value_type, names in TABLES["attribute_value_types"].items()
}
_TYPE_OK = frozenset((value_type, t) for value_type, types in _VALUE_TYPES.items() for t in types)
_QUIRKS: dict[tuple[str, str], type] = {
    (quirk["name"], quirk["value_type"]): _PY_TYPES[quirk["also_accept"]] for quirk in TABLES["attribute_quirks"]
}
_MISSIONS_BY_PLATFORM: dict[str, str] = TABLES["missions_by_platform"]
_MISSIONS_BY_PREFIX: dict[str, str] = TABLES["missions_by_name_prefix"]
_DESIGNATORS: dict[str, dict[str, str]] = _table("platform_designators")
_PLATFORMS_WITHOUT_SERIAL: dict[str, str] = TABLES["platforms_without_serial"]
_NAME_EXTENSIONS: tuple[str, ...] = tuple(TABLES["name_extensions"])
_CHECKSUMS: list[tuple[str, str, int]] = [
    (algorithm, TABLES["checksums"][algorithm][0], TABLES["checksums"][algorithm][1])
    for algorithm in TABLES["checksums"]["order"]
]
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_QUICKLOOK: dict[str, dict[str, Any]] = _table("quicklook")
_COLLECTION_CONSTANTS: dict[str, dict[str, Any]] = _table("collection_constants")
_PRODUCT_TYPE_CONSTANTS: dict[str, dict[str, Any]] = _table("product_type_constants")
_EXTENSION_URLS: dict[str, str] = EXTENSIONS
_PREFIX_EXTENSION: dict[str, str] = {
    prefix: _EXTENSION_URLS[name] for prefix, name in TABLES["field_prefix_extension"].items()
}
_TIMESTAMP_FIELDS = frozenset(TABLES["timestamp_fields"])


def _field_extension(key: str) -> str | None:
    if key in _TIMESTAMP_FIELDS:
        return _EXTENSION_URLS["timestamps"]
    prefix, colon, _ = key.partition(":")
    return _PREFIX_EXTENSION.get(prefix) if colon else None


class _ExtensionOf(dict[str, "str | None"]):
    """Memo: property name -> extension schema URL (or None)."""

    def __missing__(self, key: str) -> str | None:
        url = _field_extension(key)
        self[key] = url
        return url


_EXTENSION_OF = _ExtensionOf()


class _CollectionRules:
    """productType (+ timeliness) -> collection id, per mission, from ``TABLES["collections"]``."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = table
        self.patterns = {
            mission: [(re.compile(pattern), cid) for pattern, cid in spec["patterns"]]
            for mission, spec in table.items()
        }
        self.memo: dict[tuple[str, str | None, str | None], str] = {}

    def resolve(self, mission: str, product_type: str | None, timeliness: str | None) -> str:
        key = (mission, product_type, timeliness)
        cid = self.memo.get(key)
        if cid is None:
            cid = self._resolve(mission, product_type, timeliness)
            if len(self.memo) < 100_000:
                self.memo[key] = cid
        return cid

    def _resolve(self, mission: str, product_type: str | None, timeliness: str | None) -> str:
        spec = self.table.get(mission) or self.table["*"]
        if product_type is not None:
            entry = spec["product_types"].get(product_type)
            if isinstance(entry, str):
                return entry
            if entry is not None and timeliness is not None and timeliness in entry["timeliness"]:
                return str(entry["id"]).replace("{timeliness}", entry["timeliness"][timeliness])
            for pattern, cid in self.patterns.get(mission, ()):
                if pattern.search(product_type):
                    return str(cid)
        return str(spec["default"])

    def all_ids(self) -> list[str]:
        """Every collection id the rules can produce."""
        ids: list[str] = []
        for spec in self.table.values():
            for entry in spec["product_types"].values():
                if isinstance(entry, str):
                    ids.append(entry)
                else:
                    ids.extend(entry["id"].replace("{timeliness}", s) for s in entry["timeliness"].values())
            ids.extend(cid for _pattern, cid in spec["patterns"])
            ids.append(spec["default"])
        return sorted(set(ids))


_COLLECTIONS = _CollectionRules(_table("collections"))


# --------------------------------------------------------------------------------------------------
# record parts


def _record_id(record: Any) -> str:
    if isinstance(record, dict):
        rid = record.get("Id")
        if isinstance(rid, str) and rid:
            return rid
        name = record.get("Name")
        return f"<no Id> (Name {name!r})" if name else "<no Id>"
    return "<not a JSON object>"


def _mission(name: str, attributes: Any) -> str:
    """Mission key of the attribute and collection tables: from the name prefix (S1, S2, ...), else from
    ``platformShortName``, else ``*``."""
    mission = _MISSIONS_BY_PREFIX.get(name[:2])
    if mission is not None:
        return mission
    for attribute in attributes:
        if type(attribute) is dict and attribute.get("Name") == "platformShortName":
            platform = attribute.get("Value")
            return _MISSIONS_BY_PLATFORM.get(platform, "*") if type(platform) is str else "*"
    return "*"


def _item_id(name: str) -> str:
    for extension in _NAME_EXTENSIONS:
        if name.endswith(extension) and len(name) > len(extension):
            return name[: -len(extension)]
    return name


def _date(key: str, rid: str, text: Any) -> str | None:
    if text is None:
        return None
    if type(text) is not str:
        raise MalformedRecord(rid, f"{key} {text!r} is not a date-time string")
    try:
        return _canonical(text)
    except ValueError:
        raise MalformedRecord(rid, f"{key} {text!r} is not a date-time") from None


def _multihash(checksums: Any, rid: str, what: str) -> str | None:
    """``file:checksum`` from an OData ``Checksum`` list: the first algorithm of the table order present."""
    if not checksums:
        return None
    if type(checksums) is not list:
        raise MalformedRecord(rid, f"{what} is not a list: {checksums!r}")
    by_algorithm: dict[str, Any] = {}
    for entry in checksums:
        if type(entry) is not dict:
            raise MalformedRecord(rid, f"{what} entry is not an object: {entry!r}")
        algorithm = entry.get("Algorithm")
        if type(algorithm) is str:
            by_algorithm.setdefault(algorithm.upper(), entry.get("Value"))
    for algorithm, prefix, digits in _CHECKSUMS:
        value = by_algorithm.get(algorithm)
        if value is None:
            continue
        if type(value) is not str or len(value) != digits or not _HEX.match(value):
            raise MalformedRecord(rid, f"{what} {algorithm} value {value!r} is not {digits} hex digits")
        return prefix + value.lower()
    return None


# --------------------------------------------------------------------------------------------------
# geometry

_GEOGRAPHY = re.compile(r"^\s*geography\s*'\s*(?:SRID=(\d+);)?(.*?)'\s*$", re.IGNORECASE | re.DOTALL)


def _parse_footprint(text: Any, rid: str) -> dict[str, Any]:
    """GeoJSON from the ``Footprint`` text ``geography'SRID=4326;POLYGON ((lon lat, ...))'`` (or bare WKT)."""
    if type(text) is not str:
        raise MalformedRecord(rid, f"Footprint {text!r} is not a string")
    match = _GEOGRAPHY.match(text)
    srid, wkt = (match.group(1), match.group(2)) if match else (None, text)
    if srid not in (None, "4326"):
        raise MalformedRecord(rid, f"Footprint has SRID {srid}, expected 4326")
    import shapely  # only needed for this fallback

    try:
        shape = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        raise MalformedRecord(rid, f"Footprint is not WKT: {text[:120]!r} ({exc})") from None
    geometry: dict[str, Any] = orjson.loads(shapely.to_geojson(shape))
    return geometry


def _check_ring(ring: Any) -> tuple[float, float, float, float, bool]:
    """Validate one linear ring; returns its box and whether it jumps across the antimeridian."""
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValueError("a ring needs at least 4 positions and must be closed")
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    lo, hi, south, north = min(xs), max(xs), min(ys), max(ys)
    if not (lo >= -180.0 and hi <= 180.0 and south >= -90.0 and north <= 90.0):
        raise ValueError("a position is outside lon -180..180 / lat -90..90")
    total = sum(xs) + sum(ys)
    if total - total != 0.0:
        raise ValueError("a coordinate is not a finite number")
    for p in ring:
        if len(p) != 2 and len(p) != 3:
            raise ValueError(f"position {p!r} is not [lon, lat]")
    crosses = hi - lo > 180.0 and any(abs(a - b) > 180.0 for a, b in itertools.pairwise(xs))
    return lo, south, hi, north, crosses


def _rounded(geometry: dict[str, Any]) -> dict[str, Any]:
    """Tuples -> lists, float noise of the split (179.60000000000002) rounded away (12 decimals)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    coordinates = [[[[round(x, 12), round(y, 12)] for x, y, *_ in ring] for ring in polygon] for polygon in polygons]
    if geometry["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": coordinates}
    return {"type": "Polygon", "coordinates": coordinates[0]}


def _geometry(record: dict[str, Any], rid: str) -> tuple[dict[str, Any] | None, list[float] | None]:
    geometry = record.get("GeoFootprint")
    if geometry is None:
        footprint = record.get("Footprint")
        if footprint is None or footprint == "":
            return None, None
        geometry = _parse_footprint(footprint, rid)
    if type(geometry) is not dict:
        raise MalformedRecord(rid, f"GeoFootprint is not a GeoJSON object: {str(geometry)[:120]!r}")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    polygons: Any
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates
    else:
        raise MalformedRecord(rid, f"footprint type {kind!r} is not Polygon or MultiPolygon")
    try:
        if type(polygons) is not list or not polygons:
            raise ValueError("no polygons")
        minx = miny = math.inf
        maxx = maxy = -math.inf
        crosses = False
        for polygon in polygons:
            if type(polygon) is not list or not polygon:
                raise ValueError("a polygon has no rings")
            for ring in polygon:
                lo, south, hi, north, jumps = _check_ring(ring)
                minx = min(minx, lo)
                miny = min(miny, south)
                maxx = max(maxx, hi)
                maxy = max(maxy, north)
                crosses = crosses or jumps
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise MalformedRecord(rid, f"garbage footprint ({exc}): {str(coordinates)[:120]}") from None
    if crosses:
        try:
            fixed = antimeridian.fix_shape(geometry, fix_winding=True)
        except Exception as exc:  # the package raises plain ValueError/shapely errors on odd input
            raise MalformedRecord(rid, f"footprint cannot be split at the antimeridian ({exc})") from None
        geometry = _rounded(fixed)
        return geometry, [float(v) for v in antimeridian.bbox(geometry)]
    if kind == "MultiPolygon" and len(polygons) > 1 and minx <= -180.0 and maxx >= 180.0:
        return geometry, [float(v) for v in antimeridian.bbox(geometry)]  # already split at +-180
    return geometry, [minx, miny, maxx, maxy]


# --------------------------------------------------------------------------------------------------
# public API


def collection_id(record: dict[str, Any]) -> str:
    """The STAC collection id of an OData product record (CDSE STAC ids where they exist).

    Resolution (``mapping.json`` ``collections``): the mission from the first two letters of ``Name`` (else
    ``platformShortName``), then the exact ``productType`` (S3 ids also take ``timeliness``: ``NR`` ->
    ``-nrt``, ``NT`` -> ``-ntc``, ``ST`` -> ``-stc``), then product type patterns, then the mission's
    fallback ``cdse-<mission>[-other]``; an unknown mission gives ``cdse-other``.
    """
    rid = _record_id(record)
    name = record.get("Name") if isinstance(record, dict) else None
    if type(name) is not str or not name:
        raise MalformedRecord(rid, "Name is missing")
    attributes = record.get("Attributes") or []
    if type(attributes) is not list:
        raise MalformedRecord(rid, "Attributes is not a list")
    wanted: dict[str, str | None] = {"productType": None, "timeliness": None}
    for attribute in attributes:
        if type(attribute) is dict and attribute.get("Name") in wanted:
            value = attribute.get("Value")
            wanted[attribute["Name"]] = value if type(value) is str else None
    return _COLLECTIONS.resolve(_mission(name, attributes), wanted["productType"], wanted["timeliness"])


def collection_ids() -> list[str]:
    """Every collection id :func:`collection_id` can return."""
    return _COLLECTIONS.all_ids()


def product_to_item(record: dict[str, Any], *, download_url: str, catalogue_url: str) -> dict[str, Any]:
    """Map one OData ``Products`` entity (``Attributes`` expanded; ``Assets``/``Locations`` optional) to a STAC item.

    ``download_url`` is the base of the asset hrefs (``https://zipper.dataspace.copernicus.eu/odata/v1`` or an
    emulator), ``catalogue_url`` the base of the ``via`` link. Raises :class:`MalformedRecord`.
    """
    rid, name = _identity(record)
    props = _time_fields(record, rid)
    mission, captured = _attribute_fields(record, rid, name, props)
    _platform_fields(captured, props)
    cid = _collection_fields(mission, props)
    _cdse_fields(record, rid, props)
    assets = _assets(record, rid, name, mission, download_url)
    geometry, bbox = _geometry(record, rid)
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": _extensions_used(props, assets),
        "id": _item_id(name),
        "collection": cid,
        "geometry": geometry,
    }
    if bbox is not None:
        item["bbox"] = bbox
    item["properties"] = props
    item["links"] = _links(rid, cid, catalogue_url)
    item["assets"] = assets
    return item


def _identity(record: Any) -> tuple[str, str]:
    """The record's ``Id`` and ``Name`` (both required)."""
    if type(record) is not dict:
        raise MalformedRecord(_record_id(record), "the record is not a JSON object")
    rid = record.get("Id")
    if type(rid) is not str or not rid:
        raise MalformedRecord(_record_id(record), "Id is missing")
    name = record.get("Name")
    if type(name) is not str or not name:
        raise MalformedRecord(rid, "Name is missing")
    return rid, name


_TIME_FIELDS = (
    ("OriginDate", "created"),
    ("ModificationDate", "updated"),
    ("PublicationDate", "published"),
    ("EvictionDate", "expires"),
)


def _time_fields(record: dict[str, Any], rid: str) -> dict[str, Any]:
    """The item's properties, started with its times: ``ContentDate`` and the record's dates."""
    content = record.get("ContentDate")
    if type(content) is not dict:
        raise MalformedRecord(rid, "ContentDate is missing")
    start = _date("ContentDate.Start", rid, content.get("Start"))
    if start is None:
        raise MalformedRecord(rid, "ContentDate.Start is missing")
    end = _date("ContentDate.End", rid, content.get("End")) or start
    if end < start:
        raise MalformedRecord(rid, f"ContentDate.End {end} is before Start {start}")
    props: dict[str, Any] = {"datetime": start, "start_datetime": start, "end_datetime": end}
    for key, field in _TIME_FIELDS:
        value = record.get(key)
        if value is not None and value != "":
            props[field] = _date(key, rid, value)
    if "created" in props:
        props["eopf:origin_datetime"] = props["created"]
    return props


def _attribute_fields(record: dict[str, Any], rid: str, name: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Convert the ``Attributes`` by the mission's rules into ``props``; returns the mission and the
    captured helper values (``_``-prefixed fields that feed composite properties)."""
    attributes = record.get("Attributes") or ()
    if type(attributes) is not list and attributes != ():
        raise MalformedRecord(rid, "Attributes is not a list")
    mission = _mission(name, attributes)
    rules_by_name = _ATTRIBUTE_RULES.get(mission) or _ATTRIBUTE_RULES["*"]
    captured: dict[str, Any] = {}
    attribute_name: Any = None
    try:
        for attribute in attributes:
            attribute_name = None
            attribute_name = attribute["Name"]
            value = attribute.get("Value")
            if value is None:
                continue
            value_type = attribute.get("ValueType")
            if (
                (value_type, type(value)) not in _TYPE_OK
                and value_type in _VALUE_TYPES
                and _QUIRKS.get((attribute_name, value_type)) is not type(value)
            ):
                raise TypeError(f"value {value!r} is not of its ValueType {value_type}")
            rules = rules_by_name.get(attribute_name)
            if rules is None:
                continue
            for field, convert, fallback in rules:
                if fallback and field in props:
                    continue
                converted = convert(value, props)
                if converted is not None:
                    if field[0] == "_":
                        captured[field] = converted
                    else:
                        props[field] = converted
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        where = f"attribute {attribute_name!r}" if isinstance(attribute_name, str) else "an Attributes entry"
        raise MalformedRecord(rid, f"{where}: {exc}") from None
    return mission, captured


def _platform_fields(captured: dict[str, Any], props: dict[str, Any]) -> None:
    """Composite fields: ``platform`` and its designator from name + serial, ``processing:software``."""
    short = captured.get("_platform")
    serial = captured.get("_serial")
    if short is not None:
        if serial is not None and len(serial) == 1 and serial.isalpha():
            props["platform"] = (short + serial).lower()
        elif short in _PLATFORMS_WITHOUT_SERIAL:
            props["platform"] = _PLATFORMS_WITHOUT_SERIAL[short]
        designator = _DESIGNATORS.get(short, {}).get(serial or "")
        if designator is not None:
            props["sat:platform_international_designator"] = designator
    processor = captured.get("_processor_name")
    if processor is not None and "_processor_version" in captured:
        props["processing:software"] = {processor: captured["_processor_version"]}


def _collection_fields(mission: str, props: dict[str, Any]) -> str:
    """The item's collection id; fills the collection's and the product type's constant properties."""
    product_type = props.get("product:type")
    cid = _COLLECTIONS.resolve(mission, product_type, props.get("product:timeliness_category"))
    for constants in (_COLLECTION_CONSTANTS.get(cid), _PRODUCT_TYPE_CONSTANTS.get(product_type or "")):
        if constants is not None:
            for key, value in constants.items():
                props.setdefault(key, value)
    return cid


def _cdse_fields(record: dict[str, Any], rid: str, props: dict[str, Any]) -> None:
    """How to reach the product at CDSE: ``auth:schemes``, ``cdse:id``, ``cdse:online``, ``cdse:s3_path``."""
    props["auth:schemes"] = auth_schemes("oidc")
    props["cdse:id"] = rid
    online = record.get("Online")
    if type(online) is bool:
        props["cdse:online"] = online
    s3_path = record.get("S3Path")
    if type(s3_path) is str and s3_path:
        props["cdse:s3_path"] = s3_path


def _assets(record: dict[str, Any], rid: str, name: str, mission: str, download_url: str) -> dict[str, dict[str, Any]]:
    """``product`` (the zip), ``thumbnail`` (a quicklook), ``nodes`` (the product tree), ``compressed``."""
    base = f"{download_url.rstrip('/')}/Products({rid})"
    assets: dict[str, dict[str, Any]] = {"product": _product_asset(record, rid, name, base)}
    quicklooks = record.get("Assets")
    if quicklooks:
        thumbnail = _thumbnail(quicklooks, rid, mission)
        if thumbnail is not None:
            assets["thumbnail"] = thumbnail
    assets["nodes"] = {
        "href": base + "/Nodes",
        "type": "application/json",
        "title": "Product tree (OData Nodes)",
        "description": "Lists the product's root node (no auth needed); follow Nodes.uri to browse, "
        "GET .../Nodes(<name>)/.../$value with a Bearer token to fetch one file.",
        "roles": ["metadata"],
    }
    locations = record.get("Locations")
    if locations:
        compressed = _compressed(locations, rid, base)
        if compressed is not None:
            assets["compressed"] = compressed
    return assets


def _product_asset(record: dict[str, Any], rid: str, name: str, base: str) -> dict[str, Any]:
    """The zipped product with its size, checksum and local name."""
    product: dict[str, Any] = {
        "href": base + "/$value",
        "type": "application/zip",
        "title": "Zipped product",
        "roles": ["data", "metadata", "archive"],
        "auth:refs": ["oidc"],
    }
    size = record.get("ContentLength")
    if size is not None:
        if type(size) is not int or size < 0:
            raise MalformedRecord(rid, f"ContentLength {size!r} is not a byte count")
        if size:
            product["file:size"] = size
    checksum = _multihash(record.get("Checksum"), rid, "Checksum")
    if checksum is not None:
        product["file:checksum"] = checksum
    if "/" not in name:
        product["file:local_path"] = name + ".zip"
    return product


def _extensions_used(props: dict[str, Any], assets: dict[str, dict[str, Any]]) -> list[str]:
    """Exactly the extensions whose fields the item uses, sorted."""
    extension_of = _EXTENSION_OF
    urls = {extension_of[key] for key in props}
    urls.discard(None)
    product = assets["product"]
    if "file:local_path" in product or "file:checksum" in product or "file:size" in product:
        urls.add(_EXTENSION_URLS["file"])
    if "compressed" in assets and "expires" in assets["compressed"]:
        urls.add(_EXTENSION_URLS["timestamps"])
    return sorted(url for url in urls if url is not None)


def _links(rid: str, cid: str, catalogue_url: str) -> list[dict[str, Any]]:
    """The ``collection`` link and a ``via`` link to the OData record."""
    return [
        {"rel": "collection", "href": "../collection.json", "type": "application/json", "title": cid},
        {
            "rel": "via",
            "href": f"{catalogue_url.rstrip('/')}/Products({rid})",
            "type": "application/json",
            "title": "CDSE OData product record",
        },
    ]


def _thumbnail(quicklooks: Any, rid: str, mission: str) -> dict[str, Any] | None:
    if type(quicklooks) is not list:
        raise MalformedRecord(rid, "Assets is not a list")
    for entry in quicklooks:
        if type(entry) is dict and entry.get("Type") == "QUICKLOOK":
            href = entry.get("DownloadLink")
            if type(href) is not str or not href:
                raise MalformedRecord(rid, f"QUICKLOOK asset without DownloadLink: {entry!r}")
            style = _QUICKLOOK.get(mission) or _QUICKLOOK["*"]
            thumbnail: dict[str, Any] = {"href": href}
            if "type" in style:
                thumbnail["type"] = style["type"]
            thumbnail["title"] = "Quicklook"
            thumbnail["roles"] = list(style["roles"])
            return thumbnail
    return None


def _compressed(locations: Any, rid: str, base: str) -> dict[str, Any] | None:
    if type(locations) is not list:
        raise MalformedRecord(rid, "Locations is not a list")
    for entry in locations:
        if type(entry) is dict and entry.get("FormatType") == "Compressed":
            asset: dict[str, Any] = {
                "href": base + "/$zip",
                "type": "application/zip",
                "title": "Compressed native product (short-lived copy)",
                "roles": ["data", "archive"],
                "auth:refs": ["oidc"],
            }
            size = entry.get("ContentLength")
            if type(size) is int and size > 0:
                asset["file:size"] = size
            checksum = _multihash(entry.get("Checksum"), rid, "Locations[Compressed].Checksum")
            if checksum is not None:
                asset["file:checksum"] = checksum
            expires = entry.get("EvictionDate")
            if expires:
                asset["expires"] = _date("Locations[Compressed].EvictionDate", rid, expires)
            return asset
    return None


# --------------------------------------------------------------------------------------------------
# collections

_COLLECTION_DIR = _HERE / "collections"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Shallow merge; dicts (summaries, item_assets) merged one level deep; ``links`` and the
    ``$description_suffix`` texts appended; other ``$`` keys (comments) dropped."""
    out = dict(base)
    for key, value in override.items():
        if key == "$description_suffix":
            out[key] = base.get(key, "") + value
        elif key.startswith("$"):
            continue
        elif key == "links":
            out[key] = [*base.get(key, []), *value]
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        else:
            out[key] = value
    return out


def _collection_documents() -> list[dict[str, Any]]:
    """Expand the documents in ``collections/`` into one Collection per id (``{download_url}`` left in).

    ``_common.json`` is merged under every document. A document with ``variants`` is a family: each variant
    (merged over the document's ``template``) with an id containing ``{timeliness}`` becomes one
    collection per timeliness suffix that ``mapping.json`` lists for its product types.
    """
    common = orjson.loads((_COLLECTION_DIR / "_common.json").read_bytes())
    suffixes: dict[str, dict[str, str]] = {}  # id template -> {timeliness: suffix}
    for spec in _COLLECTIONS.table.values():
        for entry in spec["product_types"].values():
            if not isinstance(entry, str):
                suffixes.setdefault(entry["id"], {}).update(entry["timeliness"])
    first = ("type", "stac_version", "stac_extensions", "id", "title", "description", "keywords", "license")
    out: list[dict[str, Any]] = []
    for path in sorted(_COLLECTION_DIR.glob("*.json")):
        if path.name.startswith("_"):
            continue
        document = orjson.loads(path.read_bytes())
        variants = document.pop("variants", None)
        template = document.pop("template", document)
        for variant in variants if variants is not None else [{}]:
            merged = _merge(_merge(common, template), variant)
            merged["description"] += merged.pop("$description_suffix", "")
            merged.pop("$comment", None)
            if "{timeliness}" not in merged["id"]:
                out.append(merged)
                continue
            for timeliness, suffix in suffixes.get(merged["id"], {}).items():
                text = orjson.dumps(merged).decode()
                text = text.replace("{timeliness}", suffix).replace("{TIMELINESS}", suffix.upper())
                one = orjson.loads(text)
                one["summaries"]["product:timeliness_category"] = [timeliness]
                if timeliness in _TIMELINESS:
                    one["summaries"]["product:timeliness"] = [_TIMELINESS[timeliness]]
                out.append(one)
    return [{**{k: doc[k] for k in first if k in doc}, **doc} for doc in out]


_DOCUMENTS: list[dict[str, Any]] | None = None


def collections(download_url: str) -> list[dict[str, Any]]:
    """STAC 1.1 Collections for every id the mapping can produce, with hrefs built on ``download_url``.

    Loaded from the JSON documents in ``indexer/cdse/collections/`` (``{download_url}`` placeholders filled);
    each carries the CDSE OpenID Connect scheme in ``auth:schemes``. Fresh copies on every call.
    """
    global _DOCUMENTS
    if _DOCUMENTS is None:
        _DOCUMENTS = _collection_documents()
    out = []
    for document in _DOCUMENTS:
        text = orjson.dumps(document).decode().replace("{download_url}", download_url.rstrip("/"))
        out.append(orjson.loads(text))
    return out
