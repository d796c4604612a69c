"""Stored item JSON -> Arrow record batches in the stac-geoparquet layout, column-wise.

The item JSON goes to ``pyarrow.json`` (C++, multithreaded) with the collection's schema, so no
Python object is made per property; geometries are cut out of the text first (their shape
varies: Polygon vs MultiPolygon would not fit one Arrow type) and turned into WKB by shapely
in one vectorised call. Unknown fields or values of another type raise :class:`SchemaMismatch`,
so nothing is ever dropped silently: the exporter then infers a wider schema.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.json as pj
import shapely

from catalog.parquet.schema import BBOX_TYPE

_DECODER = json.JSONDecoder()
_KEY = '"geometry":'


class SchemaMismatch(Exception):
    """Items do not fit the schema (a new field, or a value of another type)."""


def split_geometry(text: str) -> tuple[str, str | None]:
    """``(item JSON with "geometry":null, geometry JSON or None)`` for compact item JSON."""
    index = text.find(_KEY)
    start = index + len(_KEY)
    # The first "geometry" key is the item's own when it sits at depth 1 (compact JSON, as stored).
    if index > 0 and text.count("{", 0, index) - text.count("}", 0, index) == 1:
        if text.startswith("null", start):
            return text, None
        # A geometry other than a GeometryCollection holds no nested object: the first "}" closes it.
        end = text.find("}", start) + 1
        if end > start and text.find("{", start + 1, end) < 0:
            return text[:start] + "null" + text[end:], text[start:end]
        try:
            _, end = _DECODER.raw_decode(text, start)
        except ValueError:
            end = -1
        if end > start:
            return text[:start] + "null" + text[end:], text[start:end]
    item = orjson.loads(text)  # unusual layout: the slow, always-right way
    geometry = item.get("geometry")
    item["geometry"] = None
    return orjson.dumps(item).decode(), None if geometry is None else orjson.dumps(geometry).decode()


_POLYGON_PREFIX = '{"type":"Polygon","coordinates":[[['
_POLYGON_SUFFIX = "]]]}"


def geometry_wkb(geometries: Sequence[str | None]) -> npt.NDArray[np.object_]:
    """WKB of compact GeoJSON geometry texts (None stays None).

    Single-ring polygons, nearly all footprints, have their numbers read by one
    ``numpy.fromstring`` over all of them and are built by ``shapely.from_ragged_array``
    (measured ~4x faster than GEOS' GeoJSON reader, same WKB); anything else goes through
    ``shapely.from_geojson``.
    """
    out = np.full(len(geometries), None, dtype=object)
    fast: list[int] = []
    slow: list[int] = []
    bodies: list[str] = []
    counts: list[int] = []
    for index, text in enumerate(geometries):
        if text is None:
            continue
        if text.startswith(_POLYGON_PREFIX) and text.endswith(_POLYGON_SUFFIX) and "]],[[" not in text:
            body = text[len(_POLYGON_PREFIX) : -len(_POLYGON_SUFFIX)]
            points = body.count("],[") + 1
            if body.count(",") + 1 == 2 * points:  # 2-D: one comma inside each point
                fast.append(index)
                bodies.append(body.replace("],[", ","))
                counts.append(2 * points)
                continue
        slow.append(index)
    if fast:
        values = np.fromstring(",".join(bodies), sep=",")
        if values.size == sum(counts) and not np.isnan(values).any():
            rings = np.concatenate([[0], np.cumsum(np.asarray(counts) // 2)])
            shapes = shapely.from_ragged_array(
                shapely.GeometryType.POLYGON, values.reshape(-1, 2), (rings, np.arange(len(fast) + 1))
            )
            out[fast] = shapely.to_wkb(shapes)
        else:  # 3-D coordinates or something unexpected
            slow += fast
    if slow:
        out[slow] = shapely.to_wkb(shapely.from_geojson(np.array([geometries[i] for i in slow], dtype=object)))
    return out


def _geometry_of(text: str) -> str | None:
    geometry = orjson.loads(text).get("geometry")
    return None if geometry is None else orjson.dumps(geometry).decode()


def parse_bodies(bodies: Sequence[str], schema: pa.Schema | None) -> pa.Table:
    """Parse item JSON texts (one per row) with ``schema``, or infer one when it is None."""
    data = "\n".join(bodies).encode()
    block = max(1 << 20, 2 * max((len(body) for body in bodies), default=0) + 16)
    options = (
        pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        if schema is not None
        else pj.ParseOptions()
    )
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=block), parse_options=options)
    except pa.ArrowInvalid as exc:
        raise SchemaMismatch(str(exc)) from None
    if table.num_rows != len(bodies):
        raise SchemaMismatch(f"parsed {table.num_rows} rows from {len(bodies)} items")
    return table


def bbox_array(boxes: npt.NDArray[np.float64]) -> pa.StructArray:
    """The covering column from an (n, 4) array of xmin, ymin, xmax, ymax (NaN rows -> null)."""
    mask = np.isnan(boxes[:, 0])
    children = [pa.array(boxes[:, i], pa.float64()) for i in range(4)]
    return pa.StructArray.from_arrays(children, fields=list(BBOX_TYPE), mask=pa.array(mask) if mask.any() else None)


def to_table(
    contents: Sequence[str], boxes: npt.NDArray[np.float64], raw_schema: pa.Schema, out_schema: pa.Schema
) -> pa.Table:
    """Stored item JSON texts and their boxes -> a table of ``out_schema`` (raises SchemaMismatch)."""
    bodies: list[str] = []
    geometries: list[str | None] = []
    for text in contents:
        body, geometry = split_geometry(text)
        bodies.append(body)
        geometries.append(geometry)
    raw = parse_bodies(bodies, raw_schema)
    try:
        wkb = geometry_wkb(geometries)
    except shapely.errors.GEOSException:  # a geometry the fast cut got wrong: cut each the slow way
        wkb = shapely.to_wkb(shapely.from_geojson(np.array([_geometry_of(text) for text in contents], dtype=object)))
    properties = raw.column("properties").combine_chunks()
    property_names = {field.name for field in raw_schema.field("properties").type}
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for field in out_schema:
        if field.name == "geometry":
            arrays.append(pa.array(wkb, pa.binary()))
        elif field.name == "bbox":
            arrays.append(bbox_array(boxes))
        elif field.name in property_names:
            arrays.append(properties.field(field.name))
        else:
            arrays.append(raw.column(field.name))
    return pa.Table.from_arrays(arrays, schema=out_schema)


def infer_schema(contents: Sequence[str]) -> pa.Schema:
    """The raw (JSON) schema pyarrow infers for these items, geometry typed null."""
    return parse_bodies([split_geometry(text)[0] for text in contents], None).schema
