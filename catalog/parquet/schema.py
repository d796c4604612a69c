"""Arrow schemas of the stac-geoparquet layout: what the JSON reader parses and what the files hold.

Two schemas per collection:

* the *raw* schema, the shape of the stored item JSON as ``pyarrow.json`` parses it: ``geometry``
  typed ``null`` (geometries are converted to WKB separately), ``properties`` one struct;
* the *file* schema: properties hoisted to top-level columns, native timestamps, WKB geometry and
  the GeoParquet 1.1 ``bbox`` covering struct (:func:`file_schema`).

Inferred schemas are normalised so the same items always give the same schema: properties are
ordered ``datetime``, ``start_datetime``, ``end_datetime`` then by name; the STAC timestamp
fields become ``timestamp[us, UTC]``; empty objects (``{}``, which Parquet cannot store as a
struct without fields) get one all-null marker field, :data:`EMPTY_MARKER`.
"""

from __future__ import annotations

import base64
from typing import Any

import pyarrow as pa

# The fields stac-geoparquet and rustac store as timestamps and turn back into strings.
DATETIME_FIELDS = frozenset(
    {"datetime", "start_datetime", "end_datetime", "created", "updated", "expires", "published", "unpublished"}
)
TIMESTAMP = pa.timestamp("us", tz="UTC")
EMPTY_MARKER = "__empty__"
TOP_LEVEL_ORDER = ("type", "stac_version", "stac_extensions", "id", "geometry", "bbox", "collection", "links",
                   "assets")  # fmt: skip
_FIRST_PROPERTIES = ("datetime", "start_datetime", "end_datetime")
BBOX_TYPE = pa.struct([(name, pa.float64()) for name in ("xmin", "ymin", "xmax", "ymax")])


def _fill_empty(data_type: pa.DataType) -> pa.DataType:
    """The type with struct fields sorted by name and every ``struct<>`` given the marker (recursively)."""
    if pa.types.is_struct(data_type):
        if data_type.num_fields == 0:
            return pa.struct([(EMPTY_MARKER, pa.null())])
        fields = sorted(data_type, key=lambda field: field.name)
        return pa.struct([field.with_type(_fill_empty(field.type)) for field in fields])
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return pa.list_(data_type.value_field.with_type(_fill_empty(data_type.value_type)))
    return data_type


def _property_key(field: pa.Field) -> tuple[int, str]:
    name = field.name
    return (_FIRST_PROPERTIES.index(name) if name in _FIRST_PROPERTIES else len(_FIRST_PROPERTIES), name)


def normalize_raw(schema: pa.Schema, *, timestamps: bool = True) -> pa.Schema:
    """A raw schema in canonical form (field order, timestamp types, empty structs filled)."""
    fields = {field.name: field for field in schema}
    properties: list[pa.Field] = []
    if "properties" in fields and pa.types.is_struct(fields["properties"].type):
        for field in sorted(fields["properties"].type, key=_property_key):
            data_type = _fill_empty(field.type)
            if timestamps and field.name in DATETIME_FIELDS and (pa.types.is_string(data_type) or
                                                                 pa.types.is_timestamp(data_type)):  # fmt: skip
                data_type = TIMESTAMP
            properties.append(pa.field(field.name, data_type))
    ordered = [name for name in TOP_LEVEL_ORDER if name in fields]
    ordered += sorted(name for name in fields if name not in TOP_LEVEL_ORDER and name != "properties")
    result = []
    for name in ordered:
        data_type = pa.null() if name == "geometry" else _fill_empty(fields[name].type)
        result.append(pa.field(name, data_type))
    result.append(pa.field("properties", pa.struct(properties)))
    return pa.schema(result)


def unify(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema covering all (ints widen to floats, missing fields become nullable)."""
    if len(schemas) == 1:
        return schemas[0]
    return pa.unify_schemas(schemas, promote_options="permissive")


def file_schema(raw: pa.Schema) -> pa.Schema:
    """The stac-geoparquet columns for items of the raw schema (no file metadata)."""
    fields: list[pa.Field] = []
    for field in raw:
        if field.name == "properties":
            continue
        if field.name == "geometry":
            fields.append(pa.field("geometry", pa.binary()))
        elif field.name == "bbox":
            fields.append(pa.field("bbox", BBOX_TYPE))
        else:
            fields.append(field)
    names = {field.name for field in fields}
    if "bbox" not in names:
        fields.insert(next(i for i, f in enumerate(fields) if f.name == "geometry") + 1, pa.field("bbox", BBOX_TYPE))
    for field in raw.field("properties").type:
        fields.append(field)
    return pa.schema(fields)


def serialize(schema: pa.Schema) -> str:
    """Text form of a schema for the export manifest."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def deserialize(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def describe(schema: pa.Schema) -> dict[str, Any]:
    """Column name -> Arrow type text (for people and the manifest)."""
    return {field.name: str(field.type) for field in schema}
