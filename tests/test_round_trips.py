"""`eocat import` reads everything `eocat search` and `eocat export` write (issue 12, observation 5)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from click.testing import CliRunner

from catalog.parquet.schema import DATETIME_FIELDS
from catalog.search import Query, iter_items
from catalog.store import Store
from eocat.cli import main


@pytest.fixture(scope="module")
def source_db(tmp_path_factory: pytest.TempPathFactory, sample_items: list[dict[str, Any]]) -> Path:
    """A catalogue of a few hundred sample items of every kind (some crossing the antimeridian)."""
    from eocat import samples

    path = tmp_path_factory.mktemp("round") / "source.db"
    with Store(path) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        crossing = [item for item in sample_items if item["bbox"][0] > item["bbox"][2]][:20]
        report = store.upsert_items(sample_items[::20] + crossing)
        assert report.rejected == 0 and report.inserted > 200
    return path


def _items(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    with Store(path) as store:
        return {(item["collection"], item["id"]): item for item in iter_items(store, Query.parse(limit=10_000))}


def _search(db: Path, fmt: str) -> bytes:
    result = CliRunner().invoke(main, ["--db", str(db), "search", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _pretty(text: bytes) -> bytes:
    return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2)


def _pages(text: bytes) -> bytes:
    """An ItemCollection per line, as saved STAC API pages would be."""
    features = orjson.loads(text)["features"]
    pages = [{"type": "FeatureCollection", "features": features[start : start + 50], "links": []}
             for start in range(0, len(features), 50)]  # fmt: skip
    return b"\n".join(orjson.dumps(page) for page in pages) + b"\n"


WRITERS: dict[str, Callable[[Path, Path], Path]] = {
    "ndjson": lambda db, out: _write(out / "items.ndjson", _search(db, "ndjson")),
    "geojson-one-line": lambda db, out: _write(out / "items.json", _search(db, "geojson")),
    "geojson-pretty": lambda db, out: _write(out / "items.json", _pretty(_search(db, "geojson"))),
    "itemcollection-pages": lambda db, out: _write(out / "pages.ndjson", _pages(_search(db, "geojson"))),
    "geoparquet": lambda db, out: _export_parquet(db, out / "lake"),
    "ndjson-gzip": lambda db, out: _write(out / "items.ndjson.gz", gzip.compress(_search(db, "ndjson"))),
    "geojson-pretty-zstd": lambda db, out: _write(
        out / "items.json.zst", zstandard.ZstdCompressor().compress(_pretty(_search(db, "geojson")))
    ),
}


def _instants(item: dict[str, Any]) -> dict[str, Any]:
    properties = {key: datetime.fromisoformat(value) if key in DATETIME_FIELDS and value else value
                  for key, value in item["properties"].items()}  # fmt: skip
    return {**item, "properties": properties}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _export_parquet(db: Path, directory: Path) -> Path:
    result = CliRunner().invoke(main, ["--db", str(db), "export", "parquet", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_import_reads_back_what_search_and_export_write(form: str, source_db: Path, tmp_path: Path) -> None:
    written = WRITERS[form](source_db, tmp_path)
    target = tmp_path / "copy.db"
    result = CliRunner().invoke(main, ["--db", str(target), "import", str(written)])
    assert result.exit_code == 0, result.output
    original, copy = _items(source_db), _items(target)
    assert copy.keys() == original.keys()
    if form == "geoparquet":  # Parquet timestamps are microseconds: the same instants, written with 6 digits
        copy = {key: _instants(item) for key, item in copy.items()}
        original = {key: _instants(item) for key, item in original.items()}
    assert copy == original


def test_a_feature_collection_without_features_is_rejected_with_its_line(tmp_path: Path) -> None:
    source = _write(tmp_path / "odd.ndjson", b'{"type": "FeatureCollection", "features": 3}\n')
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "x.db"), "import", str(source)])
    assert result.exit_code == 1
    assert f"{source}:1: FeatureCollection without a 'features' array" in result.output


def test_zstd_ndjson_on_stdin_imports_like_the_file(source_db: Path, tmp_path: Path) -> None:
    data = zstandard.ZstdCompressor().compress(_search(source_db, "ndjson"))
    target = tmp_path / "copy.db"
    result = CliRunner().invoke(main, ["--db", str(target), "import", "-"], input=data)
    assert result.exit_code == 0, result.output
    assert _items(target) == _items(source_db)
