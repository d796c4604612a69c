"""Item JSON -> Arrow pieces: geometry cutting and WKB on fast and slow paths agree with the obvious way."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import shapely

from catalog.parquet.convert import geometry_wkb, split_geometry
from catalog.parquet.hilbert import hilbert_keys

GEOMETRIES = [
    {"type": "Polygon", "coordinates": [[[0.5, 1.25], [2, 1], [2, 3e-5], [0.5, 1.25]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]]},
    {"type": "Polygon", "coordinates": [[[0, 0, 5], [4, 0, 5], [4, 4, 5], [0, 0, 5]]]},
    {
        "type": "MultiPolygon",
        "coordinates": [[[[179, 0], [180, 0], [180, 1], [179, 0]]], [[[-180, 0], [-179, 0], [-180, 1], [-180, 0]]]],
    },
    {"type": "Point", "coordinates": [3, 4]},
    {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
    {"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]], "type": "Polygon"},
]


@pytest.mark.parametrize("geometry", [*GEOMETRIES, None])
def test_split_geometry_any_layout(geometry: dict | None) -> None:
    items = [
        {"type": "Feature", "id": "a", "geometry": geometry, "properties": {"x": 1}},
        # a nested "geometry" key before the item's own, and braces inside strings
        {"type": "Feature", "id": "b}{", "properties": {"geometry": {"k": "{"}}, "geometry": geometry},
    ]
    for item in items:
        body, cut = split_geometry(orjson.dumps(item).decode())
        assert orjson.loads(body) == {**item, "geometry": None}
        assert (None if cut is None else orjson.loads(cut)) == geometry


def test_geometry_wkb_matches_geos_reader() -> None:
    texts = [orjson.dumps(g).decode() for g in GEOMETRIES] + [None]
    expected = shapely.to_wkb(shapely.from_geojson(np.array(texts, dtype=object)))
    assert list(geometry_wkb(texts)) == list(expected)


def test_hilbert_keys_keep_neighbours_close() -> None:
    xs = np.array([10.0, 10.001, -170.0, 170.0, np.nan])
    keys = hilbert_keys(xs, np.array([45.0, 45.0, 0.0, 0.0, np.nan]), xs + 0.01, np.array([45.01, 45.01, 1, 1, np.nan]))
    assert abs(int(keys[0]) - int(keys[1])) < abs(int(keys[0]) - int(keys[2]))
    assert keys[4] == keys.max()  # missing boxes sort last
    crossing = hilbert_keys(np.array([179.0]), np.array([0.0]), np.array([-179.0]), np.array([1.0]))
    east_edge = hilbert_keys(np.array([179.9]), np.array([0.0]), np.array([179.99]), np.array([1.0]))
    assert abs(int(crossing[0]) - int(east_edge[0])) < abs(int(crossing[0]) - int(keys[0]))
