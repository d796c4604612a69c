"""Read stac-geoparquet files (ours, stac-geoparquet's, rustac's) back into STAC items and collections.

A row becomes an item: the STAC top-level columns stay top-level, every other column goes into
``properties``; WKB geometries (``geometry`` and any other column the ``geo`` metadata names,
e.g. ``proj:geometry``) become GeoJSON; the ``bbox`` struct becomes a list; timestamps become
RFC 3339 UTC strings. Nulls are dropped: Parquet cannot tell a null from a missing field (the
spec's known drawback), so an explicit ``null`` in the original item does not come back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from catalog.parquet.schema import EMPTY_MARKER
from catalog.store import Rejected

TOP_LEVEL = frozenset({"type", "stac_version", "stac_extensions", "id", "geometry", "bbox", "collection", "links",
                       "assets"})  # fmt: skip
BATCH_ROWS = 10_000
Record = tuple[str, dict[str, Any]] | Rejected


def is_parquet(path: Path) -> bool:
    """A directory (of .parquet files), a ``*.parquet`` file, or a file starting with Parquet's magic."""
    if path.is_dir():
        return True
    if path.suffix in (".parquet", ".geoparquet", ".parq"):
        return True
    try:
        with open(path, "rb") as stream:
            return stream.read(4) == b"PAR1"
    except OSError:
        return False


def parquet_files(path: Path) -> list[Path]:
    """The file itself, or every Parquet file under a directory (sorted; hidden and ``_`` files skipped)."""
    if not path.is_dir():
        return [path]
    return sorted(
        p for p in path.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )  # fmt: skip


def _clean(value: Any) -> Any:
    """Drop nulls (and the empty-object marker) recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and k != EMPTY_MARKER}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def geometry_columns(schema: pa.Schema) -> list[str]:
    names = ["geometry"] if "geometry" in schema.names else []
    metadata = schema.metadata or {}
    try:
        geo = orjson.loads(metadata.get(b"geo", b"{}"))
        names += [name for name in geo.get("columns", {}) if name not in names and name in schema.names]
    except orjson.JSONDecodeError:
        pass
    return [name for name in names if pa.types.is_binary(schema.field(name).type)
            or pa.types.is_large_binary(schema.field(name).type)]  # fmt: skip


def _geojson(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    shapes = shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    texts = shapely.to_geojson(shapes)
    return [None if text is None else orjson.loads(text) for text in texts]


def _prepare(batch: pa.RecordBatch, geometry_columns: list[str]) -> tuple[pa.RecordBatch, dict[str, list[Any]]]:
    """Timestamps -> strings, bbox struct -> list; geometries converted aside."""
    geometries = {name: _geojson(batch.column(name)) for name in geometry_columns}
    arrays, fields = [], []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if field.name in geometries:
            continue
        if pa.types.is_timestamp(field.type):
            if field.type.tz is None:
                column = pc.assume_timezone(column, "UTC")
            column = pc.strftime(pc.cast(column, pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
            field = pa.field(field.name, pa.string())
        elif field.name == "bbox" and pa.types.is_struct(field.type):
            names = [f.name for f in field.type]
            order = [n for n in ("xmin", "ymin", "zmin", "xmax", "ymax", "zmax") if n in names]
            children = [pc.struct_field(column, n) for n in order]
            values = [list(row) for row in zip(*(c.to_pylist() for c in children), strict=True)]
            nulls = column.is_null().to_pylist()
            column = pa.array([None if null else row for row, null in zip(values, nulls, strict=True)],
                              pa.list_(pa.float64()))  # fmt: skip
            field = pa.field("bbox", column.type)
        arrays.append(column)
        fields.append(field)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields)), geometries


def collections_of(schema: pa.Schema) -> list[dict[str, Any]]:
    """Collection documents from the ``stac-geoparquet`` file metadata."""
    raw = (schema.metadata or {}).get(b"stac-geoparquet")
    if not raw:
        return []
    try:
        metadata = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    documents = list((metadata.get("collections") or {}).values())
    if isinstance(metadata.get("collection"), dict):
        documents.append(metadata["collection"])
    return [d for d in documents if isinstance(d, dict) and d.get("type") == "Collection"]


def read_parquet_records(source: str | Path) -> Iterator[Record]:
    """Yield collection documents, then ``(where, item)`` per row, of a file or a directory of files."""
    seen_collections: set[str] = set()
    for path in parquet_files(Path(source)):
        try:
            handle = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            yield Rejected(str(path), f"not a readable Parquet file: {exc}")
            continue
        for document in collections_of(handle.schema_arrow):
            if document.get("id") not in seen_collections:
                seen_collections.add(str(document.get("id")))
                yield f"{path} metadata", document
        geometry_names = geometry_columns(handle.schema_arrow)
        row = 0
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            for index, item in enumerate(batch_items(batch, geometry_names)):
                if item is None:
                    yield Rejected(f"{path}:row {row + index + 1}", "row has no 'id'")
                else:
                    yield f"{path}:row {row + index + 1}", item
            row += batch.num_rows


def batch_items(batch: pa.RecordBatch, geometry_columns: list[str]) -> Iterator[dict[str, Any] | None]:
    """The STAC item of each row of a stac-geoparquet batch (None for a row without an id)."""
    prepared, geometries = _prepare(batch, geometry_columns)
    names = prepared.schema.names
    for index, values in enumerate(prepared.to_pylist()):
        item: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for name in names:
            value = values[name]
            if value is None:
                continue
            (item if name in TOP_LEVEL else properties)[name] = _clean(value)
        for name, column in geometries.items():
            value = column[index]
            if name == "geometry":
                item["geometry"] = value
            elif value is not None:
                properties[name] = value
        item.setdefault("type", "Feature")
        item["properties"] = properties
        yield item if "id" in item else None
