"""``eocat search --lake``: the same Query answered from the GeoParquet lake gives the catalogue's items."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from catalog.errors import InvalidQuery
from catalog.parquet import export_parquet
from catalog.parquet.lake_search import LakeCatalog
from catalog.search import Query, count, iter_items, search
from catalog.store import Store
from eocat.cli import main
from tests.paging import lake_order, sort_values, walk

QUERIES: list[dict[str, Any]] = [
    {},
    {"collections": "sentinel-2-l2a"},
    {"collections": "sentinel-1-grd,sentinel-2-l2a", "bbox": "5,40,20,55"},
    {"bbox": "170,-40,-170,-10"},  # crosses the antimeridian
    {"bbox": "-179.5,-30,-178,-20"},  # the east side of items that cross it
    {"intersects": {"type": "Polygon", "coordinates": [[[0, 0], [30, 0], [15, 40], [0, 0]]]}},
    {"datetime": "2023-06-01T00:00:00Z/2023-09-30T23:59:59Z"},
    {"datetime": "../2023-03-01T00:00:00Z", "collections": "sentinel-1-slc"},
    {"filter": "\"eo:cloud_cover\" < 20 AND platform = 'sentinel-2b'"},
    {"filter": '"sat:relative_orbit" IN (1, 2, 3, 44, 117) OR "sat:orbit_state" = \'ascending\''},
    {"filter": "id LIKE 'S1A%'", "bbox": "-20,30,40,70"},
    {"filter": "S_INTERSECTS(geometry, POLYGON((-10 30, 20 30, 20 60, -10 60, -10 30)))"},
    {"filter": "T_INTERSECTS(datetime, INTERVAL('2023-02-01T00:00:00Z', '2023-02-15T00:00:00Z'))"},
    {"filter": "A_CONTAINS(\"sar:polarizations\", ('VV', 'VH'))"},
    {"filter": '"eo:cloud_cover" BETWEEN 10 AND 30', "sortby": "-eo:cloud_cover,id"},
]


@pytest.fixture(scope="module")
def lake(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("lake")
    export_parquet(sample_store, directory)
    return directory


@pytest.fixture(scope="module")
def catalog(lake: Path) -> Iterator[LakeCatalog]:
    with LakeCatalog(lake) as opened:
        yield opened


def _query(parameters: dict[str, Any]) -> Query:
    return Query.parse(**parameters, limit=1000)


@pytest.mark.parametrize("parameters", QUERIES, ids=[orjson.dumps(q).decode()[:60] for q in QUERIES])
def test_lake_answers_like_the_catalogue(parameters: dict[str, Any], sample_store: Store, catalog: LakeCatalog) -> None:
    query = _query(parameters)
    expected = [item["id"] for item in iter_items(sample_store, query, page_size=1000)]
    got = [item["id"] for item in catalog.iter_items(query)]
    assert catalog.count(query) == count(sample_store, query) == len(expected)
    assert sorted(got) == sorted(expected)
    if parameters.get("sortby"):  # an explicit order with a unique last key: the same sequence
        assert got == expected


def test_lake_items_are_the_stored_items(sample_store: Store, catalog: LakeCatalog) -> None:
    query = _query({"collections": "sentinel-1-bursts", "bbox": "-180,-90,180,90"})
    stored = {item["id"]: item for item in iter_items(sample_store, query)}
    read = {item["id"]: item for item in catalog.iter_items(query)}
    assert read.keys() == stored.keys()
    some = sorted(stored)[:50]
    for item_id in some:
        assert read[item_id]["geometry"]["type"] == stored[item_id]["geometry"]["type"]
        assert read[item_id]["bbox"] == pytest.approx(stored[item_id]["bbox"])
        assert read[item_id]["properties"]["sat:relative_orbit"] == stored[item_id]["properties"]["sat:relative_orbit"]
        assert read[item_id]["assets"].keys() == stored[item_id]["assets"].keys()


def test_bbox_terms_skip_row_groups(catalog: LakeCatalog) -> None:
    """The covering predicates reach the Parquet scan (DuckDB prunes row groups on them)."""
    compiled_sql = catalog.conn.execute(
        "EXPLAIN SELECT id FROM "
        + catalog._source(_query({}))[0]  # type: ignore[index]
        + " WHERE bbox.ymin <= 50 AND bbox.ymax >= 45 AND id <> ''"
    ).fetchall()
    plan = "\n".join(str(row[1]) for row in compiled_sql)
    assert "bbox.ymin" in plan and "Filters" in plan


def test_unknown_property_matches_nothing_and_bad_cql2_is_invalid(catalog: LakeCatalog) -> None:
    assert catalog.count(_query({"filter": '"no:such" = 3'})) == 0
    with pytest.raises(InvalidQuery):
        list(catalog.iter_items(_query({"filter": "x = 1", "filter_lang": "cql2-json"})))


def test_cli_search_lake(lake: Path, sample_store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--db", str(tmp_path / "absent.db"), "search", "--lake", str(lake), "--bbox", "5,40,20,55",
            "--collections", "sentinel-2-l2a", "--format", "ndjson"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    got = [orjson.loads(line)["id"] for line in result.stdout.splitlines()]
    query = _query({"bbox": "5,40,20,55", "collections": "sentinel-2-l2a"})
    assert got == [item["id"] for item in iter_items(sample_store, query)]
    assert not (tmp_path / "absent.db").exists()
    result = runner.invoke(main, [*args[:-2], "--format", "count"])
    assert result.exit_code == 0 and int(result.stdout) == len(got)
    result = runner.invoke(main, ["search", "--lake", str(lake), "--collections", "nope"])
    assert result.exit_code == 3 and "nope" in result.output
    result = runner.invoke(main, ["search", "--lake", str(tmp_path / "nothing"), "--limit", "1"])
    assert result.exit_code == 1 and "eocat export parquet" in result.output


# -- paging: the catalogue's pages, keyset tokens --------------------------------------------------

PAGED: list[tuple[dict[str, Any], int]] = [  # (query, page size): a few dozen pages at most
    ({}, 500),  # the default sort, -datetime: the sample has hundreds of ties on it
    ({"collections": "sentinel-1-grd,sentinel-2-l2a", "bbox": "-20,30,40,70"}, 7),
    ({"bbox": "170,-40,-170,-10", "datetime": "2023-01-01T00:00:00Z/.."}, 4),
    ({"filter": '"eo:cloud_cover" < 40', "sortby": "+eo:cloud_cover"}, 50),
    ({"collections": "sentinel-1-slc", "sortby": "-sat:relative_orbit,+datetime"}, 100),
    ({"collections": "sentinel-2-l2a,destine-s3-ndvi", "sortby": "platform,-datetime,id"}, 200),  # unique keys
]


@pytest.mark.parametrize(("parameters", "size"), PAGED, ids=[orjson.dumps(q).decode()[:60] for q, _ in PAGED])
def test_lake_pages_are_the_catalogues(
    parameters: dict[str, Any], size: int, sample_store: Store, catalog: LakeCatalog
) -> None:
    query = Query.parse(**parameters, limit=size)
    expected = walk(sample_store, query)
    got = walk(catalog, query)
    assert len(expected) > 1 and [len(p.items) for p in got] == [len(p.items) for p in expected]
    # page by page the same sort values; the items are the catalogue's up to the order of ties
    for mine, theirs in zip(got, expected, strict=True):
        assert [sort_values(i, query) for i in mine.items] == [sort_values(i, query) for i in theirs.items]
    sequence = [item["id"] for page in got for item in page.items]
    assert sequence == lake_order([item for page in expected for item in page.items], query)
    if parameters.get("sortby", "").endswith(",id"):  # unique keys: exactly the catalogue's pages
        assert [[i["id"] for i in p.items] for p in got] == [[i["id"] for i in p.items] for p in expected]
    # walking back with prev tokens gives the same pages in reverse
    back = [got[-1]]
    while back[-1].prev_token is not None:
        back.append(search(catalog, replace(query, token=back[-1].prev_token)))
    assert [[i["id"] for i in p.items] for p in reversed(back)] == [[i["id"] for i in p.items] for p in got]


def test_lake_paging_tokens_are_checked(catalog: LakeCatalog, sample_store: Store) -> None:
    query = Query.parse(collections="sentinel-2-l2a", limit=5)
    page = search(catalog, query)
    assert page.next_token and page.prev_token is None
    with pytest.raises(InvalidQuery, match="different sort order"):
        search(catalog, replace(query, sortby=Query.parse(sortby="id").sortby, token=page.next_token))
    with pytest.raises(InvalidQuery, match="invalid paging token"):
        search(catalog, replace(query, token="garbage"))
    catalogue_token = search(sample_store, query).next_token
    with pytest.raises(InvalidQuery, match="invalid paging token"):  # a catalogue's token names a row number
        search(catalog, replace(query, token=catalogue_token))
    assert search(catalog, query, with_count=True).matched == count(sample_store, query) == 1200


def test_cli_search_lake_pages(lake: Path, sample_store: Store, tmp_path: Path) -> None:
    """``--limit`` makes a page; ``--token`` continues it — on the lake and on the catalogue."""
    runner = CliRunner()
    selection = ["--collections", "sentinel-1-grd,sentinel-2-l2a", "--bbox", "-20,30,40,70", "--format", "ndjson"]
    query = Query.parse(collections="sentinel-1-grd,sentinel-2-l2a", bbox="-20,30,40,70", limit=1000)
    whole = list(iter_items(sample_store, query))
    for source in (["search", "--lake", str(lake)], ["--db", str(sample_store.path), "search"]):
        seen: list[dict[str, Any]] = []
        token: list[str] = []
        while True:
            result = runner.invoke(main, [*source, *selection, "--limit", "40", *token])
            assert result.exit_code == 0, result.output
            page = [orjson.loads(line) for line in result.stdout.splitlines()]
            seen += page
            marker = [line for line in result.stderr.splitlines() if line.startswith("next page: --token ")]
            if not marker:
                break
            assert len(page) == 40
            token = ["--token", marker[0].removeprefix("next page: --token ")]
        assert len(seen) == len(whole) > 40
        assert [sort_values(i, query) for i in seen] == [sort_values(i, query) for i in whole]
        assert sorted(i["id"] for i in seen) == sorted(i["id"] for i in whole)
