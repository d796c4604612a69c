"""Validation at the boundary: what every write path (import, harvest, API) checks before an item is stored.

:func:`validated` wraps the stream of records a store's ``upsert_items`` receives, so every backend
calls the same checks in one line. Records are checked in chunks:

* **STAC version**: items older than 1.0 are migrated with pystac's own migration.
* **Property types** against the collection's queryables (:mod:`catalog.api.queryables`, which derives
  them from the hot-property table and the collection's summaries): ``"eo:cloud_cover": "lots"``
  is rejected, since a mistyped value would break the collection's Parquet export later.
* **Geometry**: rings closed, coordinates within [-180, 180] x [-90, 90], valid (OGC). An invalid
  polygon is repaired with shapely's ``make_valid`` when that is faithful (the result is still
  polygonal with the same bounds: a bow-tie becomes two triangles) and the repair is reported;
  otherwise the item is rejected with GEOS's reason.
* **bbox** must contain the geometry.
* **Duplicate ids** within one input are reported (and merged, as every upsert of a stored id is).

Polygons (nearly every footprint) are built and tested vectorised, a chunk at a time, so the
checks cost a few microseconds per item. A rejected record becomes a :class:`~catalog.store.Rejected`
with the reason, and the rest goes on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson
import shapely

CHUNK = 2000  # records validated together (vectorised geometry checks)
CURRENT_VERSIONS = frozenset({"1.0.0", "1.1.0"})
OLD_VERSIONS = ("0.", "1.0.0-")  # what pystac migrates (0.6 … 1.0.0-rc.x)
BBOX_TOLERANCE = 1e-6  # degrees: float rounding of a bbox written from the same geometry
_JSON_TYPES: dict[str, frozenset[type]] = {  # the classes a JSON parser gives for each type
    "string": frozenset({str}),
    "number": frozenset({int, float}),
    "integer": frozenset({int, float}),  # 12.0 is an integer in JSON Schema; 12.5 is caught in _has_type
    "boolean": frozenset({bool}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}
_chain = itertools.chain.from_iterable

Entry = Any  # an item, a (where, item) pair or a Rejected record, as upsert_items takes them


class Notes(Protocol):
    """Where validation reports what it changed or noticed (a store's WriteReport)."""

    def repair(self, where: str, what: str) -> None: ...
    def duplicate(self, where: str, what: str) -> None: ...


@dataclass(frozen=True)
class _Rule:
    kind: str  # JSON Schema type
    element: str | None  # type of an array's members
    minimum: Any
    maximum: Any

    @property
    def simple(self) -> bool:
        """True when the value's class alone decides (the common case, checked inline)."""
        return self.kind not in ("integer", "array") and self.minimum is None and self.maximum is None


class PropertyTypes:
    """Per collection: the JSON type of each queryable property, and the ranges of the hot ones."""

    def __init__(self, collection: Callable[[str], dict[str, Any] | None]) -> None:
        self._collection = collection
        self._cache: dict[str, dict[str, _Rule]] = {}
        self._simple: dict[str, dict[str, frozenset[type]]] = {}

    def rules(self, collection_id: str) -> dict[str, _Rule]:
        """The rule of every property with a declared type in this collection."""
        rules = self._cache.get(collection_id)
        if rules is None:
            from catalog.api.queryables import queryables

            document = self._collection(collection_id)
            schema = queryables([document] if document else [], "", "")["properties"]
            hot = queryables([], "", "")["properties"]
            rules = {}
            for name, spec in schema.items():
                kind = spec.get("type")
                if kind not in _JSON_TYPES or name in ("datetime", "start_datetime", "end_datetime"):
                    continue
                element = (spec.get("items") or {}).get("type") if kind == "array" else None
                # ranges only from the hot table (a STAC rule such as cloud cover 0..100); a
                # summary's range is what was seen so far, not a limit
                bounds = hot.get(name, {})
                rules[name] = _Rule(kind, element, bounds.get("minimum"), bounds.get("maximum"))
            self._cache[collection_id] = rules
            self._simple[collection_id] = {name: _JSON_TYPES[rule.kind] for name, rule in rules.items() if rule.simple}
        return rules

    def problem(self, item: dict[str, Any]) -> str | None:
        """Why the item's properties do not fit its collection's types, or None."""
        properties = item["properties"]
        rules = self.rules(item["collection"])
        simple = self._simple[item["collection"]]
        for name in rules.keys() & properties.keys():
            value = properties[name]
            if value is None or value.__class__ in simple.get(name, ()):
                continue
            rule = rules[name]
            if not _has_type(value, rule.kind):
                return f"property {name!r} must be {_article(rule.kind)}, got {_describe(value)}"
            if rule.element is not None and not all(_has_type(member, rule.element) for member in value):
                return f"property {name!r} must be an array of {rule.element}s, got {_describe(value)}"
            if (rule.minimum is not None and value < rule.minimum) or (
                rule.maximum is not None and value > rule.maximum
            ):
                return f"property {name!r} must be within [{rule.minimum}, {rule.maximum}], got {value!r}"
        return None


def _has_type(value: Any, kind: str) -> bool:
    if value.__class__ not in _JSON_TYPES[kind]:  # exact classes: True is not a number
        return False
    return kind != "integer" or isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _describe(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def migrate(item: dict[str, Any]) -> dict[str, Any]:
    """An item of an older STAC version migrated to the current one (pystac's migration)."""
    from pystac.serialization import identify_stac_object, migrate_to_latest

    try:
        return migrate_to_latest(item, identify_stac_object(item))
    except Exception as exc:  # pystac raises a variety of errors for what it cannot migrate
        raise ValueError(f"cannot migrate STAC {item.get('stac_version')} item: {exc}") from None


class _Seen:
    """Keys already read in this input, as sorted 64-bit hashes (8 bytes a key, for inputs of any size)."""

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def add_new(self, keys: list[tuple[str, str]]) -> list[bool]:
        """Record the keys; return for each whether it is new (not seen before, nor earlier in ``keys``)."""
        hashes = np.fromiter((hash(key) for key in keys), np.int64, len(keys))
        new = np.ones(len(keys), bool)
        for level in self._levels:
            where = np.searchsorted(level, hashes).clip(max=len(level) - 1)
            new &= level[where] != hashes
        _, first = np.unique(hashes, return_index=True)
        repeated = np.ones(len(keys), bool)
        repeated[first] = False
        new &= ~repeated
        level = np.sort(hashes[new])
        if not len(level):
            return new.tolist()
        while self._levels and len(self._levels[-1]) <= len(level):  # merge like an LSM tree: log n levels
            level = np.sort(np.concatenate([self._levels.pop(), level]))
        self._levels.append(level)
        return new.tolist()


class Duplicates:
    """Notes ids seen again within one input (over all its chunks, in input order)."""

    def __init__(self) -> None:
        self._seen = _Seen()

    def check(self, keys: list[tuple[str, str]], wheres: list[str], notes: Notes) -> None:
        """``keys`` are (collection, id) of accepted items, ``wheres`` where each was read."""
        for where, key, new in zip(wheres, keys, self._seen.add_new(keys), strict=True):
            if not new:
                notes.duplicate(where, duplicate_note(key[0], key[1]))


def duplicate_note(collection: str, item_id: str) -> str:
    """What a report says of an item read again within one input."""
    return f"item {item_id!r} of collection {collection!r} appeared earlier in this input; merged into it"


def validated(
    entries: Iterable[Entry],
    collection: Callable[[str], dict[str, Any] | None],
    notes: Notes,
    *,
    chunk: int = CHUNK,
    wkb: bool = False,
    duplicates: Duplicates | None = None,
    types: PropertyTypes | None = None,
) -> Iterator[Entry]:
    """The entries with every item checked: rejected ones replaced by ``Rejected`` records.

    ``collection(id)`` gives the collection document whose queryables type the properties;
    ``notes`` is told about each repair and each duplicate. Malformed items (no id, no properties …)
    pass through untouched for the store's own row checks to reject with their reason.

    With ``wkb`` every accepted item comes as ``(where, item, geometry_wkb)``: the geometry the checks
    built anyway, as WKB (None for a null geometry), so the store does not parse it again.
    A repaired geometry comes with None too (the store encodes the GeoJSON it stores).
    ``duplicates`` checks ids over several calls; ``NO_DUPLICATE_CHECK`` leaves it to the caller (a
    parallel import validates chunks in workers and checks ids in input order itself). ``types``
    reuses the property rules an earlier call over the same ``collection`` worked out.
    """
    from catalog.store import Rejected

    types = PropertyTypes(collection) if types is None else types
    seen = Duplicates() if duplicates is None else duplicates
    number = 0
    iterator = iter(entries)
    while batch := list(itertools.islice(iterator, chunk)):
        checked: list[Any] = []
        accepted: list[int] = []  # indexes of well-formed items that passed so far
        for entry in batch:
            number += 1
            kind = entry.__class__
            if kind is tuple:
                where, item = entry
            elif kind is dict:
                where, item = f"item {number}", entry
            else:  # a Rejected record from a reader
                checked.append(entry)
                continue
            if not _well_formed(item):
                checked.append((where, item))
                continue
            version = item.get("stac_version")
            if version not in CURRENT_VERSIONS and isinstance(version, str) and version.startswith(OLD_VERSIONS):
                try:
                    item = migrate(item)
                except ValueError as exc:
                    checked.append(Rejected(where, f"item {item['id']!r}: {exc}"))
                    continue
            problem = types.problem(item)
            if problem is None:
                accepted.append(len(checked))
                checked.append((where, item))
            else:
                checked.append(Rejected(where, f"item {item['id']!r}: {problem}"))
        accepted, wkbs = _check_geometries(checked, accepted, notes, wkb)
        if seen is not NO_DUPLICATE_CHECK:
            keys = [(checked[index][1]["collection"], checked[index][1]["id"]) for index in accepted]
            seen.check(keys, [checked[index][0] for index in accepted], notes)
        if wkb:
            for index in accepted:
                where, item = checked[index]
                checked[index] = (where, item, wkbs.get(index))
        yield from checked


def _well_formed(item: Any) -> bool:
    return (
        item.__class__ is dict
        and item.get("id").__class__ is str
        and item.get("collection").__class__ is str
        and item.get("properties").__class__ is dict
    )


def _rings(geometry: Any) -> list[list[Any]] | None:
    """The rings of a polygon with closed rings, or None when it needs the slow path."""
    if geometry.__class__ is not dict or geometry.get("type") != "Polygon":
        return None
    rings = geometry.get("coordinates")
    if rings.__class__ is not list or not rings:
        return None
    for ring in rings:
        if ring.__class__ is not list or len(ring) < 4 or ring[0] != ring[-1]:
            return None
    return rings  # that every point is 2 numbers is checked when the chunk is built (_polygons)


def _check_geometries(
    checked: list[Any], accepted: list[int], notes: Notes, wkb: bool = False
) -> tuple[list[int], dict[int, bytes]]:
    """Build the chunk's polygons at once; check ranges, validity and bbox (in place).

    Returns the indexes still accepted and (with ``wkb``) the WKB of their geometries by index."""
    from catalog.store import Rejected

    fast: list[int] = []
    rings: list[list[Any]] = []
    ring_counts: list[int] = []
    shapes: dict[int, Any] = {}
    for index in accepted:
        where, item = checked[index]
        geometry = item.get("geometry")
        if geometry is None:
            continue
        polygon = _rings(geometry)
        if polygon is not None:
            fast.append(index)
            rings.extend(polygon)
            ring_counts.append(len(polygon))
            continue
        try:
            shapes[index] = _slow_shape(geometry)
        except ValueError as exc:
            checked[index] = Rejected(where, f"item {item['id']!r}: bad geometry: {exc}")
    if fast:
        try:
            shapes.update(zip(fast, _polygons(rings, ring_counts), strict=True))
        except (ValueError, TypeError, shapely.errors.GEOSException):
            for index in fast:  # a non-numeric coordinate somewhere: find it item by item
                where, item = checked[index]
                try:
                    shapes[index] = _slow_shape(item["geometry"])
                except ValueError as exc:
                    checked[index] = Rejected(where, f"item {item['id']!r}: bad geometry: {exc}")
    if shapes:
        indexes = list(shapes)
        geometries = np.array(list(shapes.values()), dtype=object)
        bounds = shapely.bounds(geometries)
        suspect = (
            ~shapely.is_valid(geometries)
            | ~_in_range(bounds)
            | ~_bbox_contains([checked[index][1].get("bbox") for index in indexes], bounds)
        )
        for position in np.flatnonzero(suspect).tolist():
            if _judge(checked, indexes[position], geometries[position], bounds[position], notes):
                geometries[position] = None  # repaired: the store encodes the GeoJSON it keeps
        if wkb:
            wkbs = dict(zip(indexes, shapely.to_wkb(geometries).tolist(), strict=True))
            return [index for index in accepted if not isinstance(checked[index], Rejected)], wkbs
    return [index for index in accepted if not isinstance(checked[index], Rejected)], {}


def _in_range(bounds: Any) -> Any:
    with np.errstate(invalid="ignore"):
        return (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180) & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)


def _bbox_contains(bboxes: list[Any], bounds: Any) -> Any:
    """For each geometry, whether its item's bbox (if any) contains its bounds (vectorised)."""
    missing = [np.nan] * 4
    rows = []
    for bbox in bboxes:
        if bbox is None:
            rows.append(missing)
        elif bbox.__class__ is list and len(bbox) == 4:
            rows.append(bbox)
        else:
            return np.zeros(len(bboxes), bool)  # unusual bboxes (6 numbers, malformed): judged one by one
    try:
        boxes = np.fromiter(_chain(rows), np.float64, 4 * len(rows)).reshape(-1, 4)
    except (TypeError, ValueError):
        return np.zeros(len(bboxes), bool)
    west, south, east, north = boxes.T
    minx, miny, maxx, maxy = bounds.T
    tolerance = BBOX_TOLERANCE
    with np.errstate(invalid="ignore"):
        inside = (miny >= south - tolerance) & (maxy <= north + tolerance)
        inside &= (west > east) | ((minx >= west - tolerance) & (maxx <= east + tolerance))
    return inside | np.isnan(boxes).any(axis=1)


def _judge(checked: list[Any], index: int, geometry: Any, box: Any, notes: Notes) -> bool:
    """The slow, explaining path for an item whose geometry failed a vectorised check.

    Returns whether the item was repaired (and kept)."""
    from catalog.store import Rejected

    where, item = checked[index]
    problem = _range_problem(box)
    fixed = None
    if problem is None and not shapely.is_valid(geometry):
        fixed = _faithful_repair(geometry)
        reason = shapely.is_valid_reason(geometry)
        if fixed is None:
            problem = f"invalid geometry ({reason}) that make_valid cannot repair faithfully"
        else:
            item = {**item, "geometry": orjson.loads(shapely.to_geojson(fixed))}
            notes.repair(where, f"item {item['id']!r}: invalid geometry ({reason}) repaired with make_valid into a "
                                f"{fixed.geom_type}")  # fmt: skip
            checked[index] = (where, item)
    if problem is None:
        problem = _bbox_problem(item.get("bbox"), box)
    if problem is not None:
        checked[index] = Rejected(where, f"item {item['id']!r}: {problem}")
        return False
    return fixed is not None


def _slow_shape(geometry: Any) -> Any:
    """Any GeoJSON geometry through GEOS; unclosed rings are reported as such."""
    if not isinstance(geometry, dict):
        raise ValueError("geometry must be a GeoJSON object or null")
    if geometry.get("type") in ("Polygon", "MultiPolygon"):
        polygons = geometry.get("coordinates") or []
        for polygon in polygons if geometry["type"] == "MultiPolygon" else [polygons]:
            for ring in polygon if isinstance(polygon, list) else []:
                if isinstance(ring, list) and ring and ring[0] != ring[-1]:
                    raise ValueError(f"polygon ring is not closed (first point {ring[0]}, last {ring[-1]})")
    try:
        shape = shapely.from_geojson(orjson.dumps(geometry))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    if shape is None or shape.is_empty:
        raise ValueError("the geometry is empty (use null for none)")
    return shape


def _polygons(rings: list[list[Any]], ring_counts: list[int]) -> Any:
    """Shapely polygons from many rings at once; ValueError/TypeError unless every point is 2 numbers."""
    lengths = np.fromiter(map(len, rings), np.int64, len(rings))
    numbers = np.fromiter(_chain(_chain(rings)), np.float64)
    if numbers.size != 2 * lengths.sum():
        raise ValueError("points are not all [x, y]")
    coordinates = numbers.reshape(-1, 2)
    ring_offsets = np.concatenate([[0], np.cumsum(lengths)])
    polygon_offsets = np.concatenate([[0], np.cumsum(ring_counts)])
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, coordinates, (ring_offsets, polygon_offsets))


def _range_problem(box: Any) -> str | None:
    minx, miny, maxx, maxy = (float(value) for value in box)
    if not all(np.isfinite(box)):
        return "geometry has non-finite coordinates"
    if minx < -180 or maxx > 180:
        return f"longitude {maxx if maxx > 180 else minx} outside [-180, 180] (split geometries at the antimeridian)"
    if miny < -90 or maxy > 90:
        return f"latitude {maxy if maxy > 90 else miny} outside [-90, 90]"
    return None


def _faithful_repair(geometry: Any) -> Any | None:
    """make_valid's result when it keeps the footprint (still polygonal, same bounds), else None."""
    fixed = shapely.make_valid(geometry)
    if fixed.geom_type not in ("Polygon", "MultiPolygon") or fixed.is_empty:
        return None
    if not np.allclose(shapely.bounds(fixed), shapely.bounds(geometry), atol=BBOX_TOLERANCE):
        return None
    return fixed


def _bbox_problem(bbox: Any, bounds: Any) -> str | None:
    """Why an item's bbox does not contain its geometry's bounds, or None."""
    if bbox is None:
        return None
    if not isinstance(bbox, list) or len(bbox) not in (4, 6):
        return None  # malformed: the store's row checks reject it with their reason
    if len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    try:
        west, south, east, north = (float(value) for value in bbox)
    except (TypeError, ValueError):
        return None
    minx, miny, maxx, maxy = (float(value) for value in bounds)
    inside = miny >= south - BBOX_TOLERANCE and maxy <= north + BBOX_TOLERANCE
    if west <= east:  # a box crossing the antimeridian is checked on latitudes only
        inside = inside and minx >= west - BBOX_TOLERANCE and maxx <= east + BBOX_TOLERANCE
    if inside:
        return None
    return f"bbox {bbox} does not contain the geometry (its bounds are [{minx}, {miny}, {maxx}, {maxy}])"


NO_DUPLICATE_CHECK = Duplicates()  # as validated(duplicates=...): the caller checks ids itself
