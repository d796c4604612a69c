"""Every query shape of issue 13 against the brute-force oracle, through every planner path.

The planner finds candidates in the grid index (areas of few cells) or the R*Tree (larger ones),
reads them all when there are few, and otherwise walks the window in time slabs (shrinking a slab
whose probe is too big, growing it while it yields too little). The sample store is small, so the
cap is lowered here to make the sample's queries take every path, with each index.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cql2
import pytest

from catalog.search import Query, count, count_upto, iter_items, search
from catalog.store import Store
from tests import oracle
from tests.items import make_item

BOXES = {
    "0.1deg": [10.5, 45.2, 10.6, 45.3],
    "1deg": [10.0, 45.0, 11.0, 46.0],
    "5deg": [5.0, 42.0, 10.0, 47.0],
    "continent": [-25.0, 34.0, 45.0, 72.0],
    "antimeridian": [170.0, -60.0, -170.0, 60.0],
    "world": [-180.0, -90.0, 180.0, 90.0],
}
WINDOWS = {
    "1day": "2023-06-01T00:00:00Z/2023-06-01T23:59:59Z",
    "1month": "2023-06-01T00:00:00Z/2023-06-30T23:59:59Z",
    "1year": "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z",
    "open-start": "../2022-06-30T00:00:00Z",
    "archive": None,
}
FILTERS = {"none": {}, "collection+cloud": {"collections": "sentinel-2-l2a", "filter": "eo:cloud_cover < 20"}}
CLOUD = cql2.Expr("eo:cloud_cover < 20").to_json()


@pytest.fixture(
    params=[(cap, index) for index in ("grid", "rtree", "walk") for cap in (12, 150)],
    ids=lambda param: f"cap{param[0]}-{param[1]}",
)  # the default cap and the planner's own choice of index: test_search_bruteforce
def candidate_cap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """grid: every area through the grid; rtree: through the R*Tree; walk: along the datetime index a few
    entries at a time first, the rest through the R*Tree (as in stores of 200k items up, with larger budgets)."""
    cap, index = request.param
    planner = importlib.import_module("catalog.search")
    monkeypatch.setattr(planner, "CANDIDATE_CAP", cap)
    monkeypatch.setattr(planner, "GRID_MAX_CELLS", 10**9 if index == "grid" else -1)
    monkeypatch.setattr(planner, "WALK_MIN_ITEMS", 0 if index == "walk" else 10**12)
    monkeypatch.setattr(planner, "WALK_FIRST", 5)  # budgets this small leave most windows to the R*Tree
    monkeypatch.setattr(planner, "WALK_MAX", 40)
    return int(cap)


def _truth(items: list[dict[str, Any]], box: str, window: str, filters: str) -> list[dict[str, Any]]:
    area = oracle.bbox_geometry(BOXES[box])
    found = [
        item
        for item in items
        if oracle.matches_geometry(item, area)
        and (WINDOWS[window] is None or oracle.matches_interval_text(item, WINDOWS[window]))
        and (filters == "none" or (item["collection"] == "sentinel-2-l2a" and oracle.matches_cql2(item, CLOUD)))
    ]
    return sorted(found, key=_sort_time, reverse=True)


def _sort_time(item: dict[str, Any]) -> Any:
    properties = item["properties"]
    return oracle.ts(properties.get("datetime") or properties["start_datetime"])


def _query(box: str, window: str, filters: str, **extra: Any) -> Query:
    bbox = ",".join(str(v) for v in BOXES[box])
    return Query.parse(bbox=bbox, datetime=WINDOWS[window], **FILTERS[filters], **extra)


@pytest.mark.parametrize("filters", sorted(FILTERS))
@pytest.mark.parametrize("window", sorted(WINDOWS))
@pytest.mark.parametrize("box", sorted(BOXES))
def test_first_page_and_counts_equal_the_oracle(
    sample_store: Store, sample_items: list[dict[str, Any]], candidate_cap: int, box: str, window: str, filters: str
) -> None:
    truth = _truth(sample_items, box, window, filters)
    query = _query(box, window, filters, limit=25)
    page = search(sample_store, query)
    assert [_sort_time(item) for item in page.items] == [_sort_time(item) for item in truth[:25]]
    ids = {(item["collection"], item["id"]) for item in truth}
    assert all((item["collection"], item["id"]) in ids for item in page.items)
    assert (page.next_token is not None) == (len(truth) > 25)
    assert count(sample_store, query) == len(truth)
    assert count_upto(sample_store, query, 40) == (len(truth) if len(truth) < 40 else None)


@pytest.mark.parametrize("sortby", ["-datetime", "datetime", "id"])
@pytest.mark.parametrize("box", ["5deg", "continent", "antimeridian"])
def test_paging_through_slabs_returns_every_match_once_in_order(
    sample_store: Store, sample_items: list[dict[str, Any]], candidate_cap: int, box: str, sortby: str
) -> None:
    truth = _truth(sample_items, box, "archive", "none")
    query = _query(box, "archive", "none", sortby=sortby)
    seen = list(iter_items(sample_store, query, page_size=17))
    keys = [(item["collection"], item["id"]) for item in seen]
    assert len(keys) == len(set(keys)) == len(truth)
    assert set(keys) == {(item["collection"], item["id"]) for item in truth}
    if sortby != "id":
        times = [_sort_time(item) for item in seen]
        assert times == sorted(times, reverse=sortby.startswith("-"))
    else:
        assert [item["id"] for item in seen] == sorted(item["id"] for item in seen)


def test_prev_pages_walk_back_through_slabs(sample_store: Store, candidate_cap: int) -> None:
    query = _query("continent", "archive", "none", limit=9)
    pages = [search(sample_store, query)]
    for _ in range(4):
        token = pages[-1].next_token
        assert token is not None
        pages.append(search(sample_store, replace(query, token=token)))
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        assert back.prev_token is not None
        back = search(sample_store, replace(query, token=back.prev_token))
        assert [item["id"] for item in back.items] == [item["id"] for item in expected.items]


def test_a_page_and_its_count_probe_the_index_once(sample_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[Any] = []
    original = Store._probe

    def counting(self: Store, key: Any, *args: Any, **kwargs: Any) -> Any:
        probes.append(key)
        return original(self, key, *args, **kwargs)

    monkeypatch.setattr(Store, "_probe", counting)
    query = _query("5deg", "1year", "none", limit=5)
    page = search(sample_store, query)
    assert page.candidates is not None  # few candidates: read at once, and the API may count them
    count_upto(sample_store, query, 1000)
    assert len({repr(args) for args in probes}) == 1


def test_shapes_with_ties_on_datetime_page_without_gaps(sample_store: Store, candidate_cap: int) -> None:
    # every item of the store, 1 per page boundary: ties across slab edges must not drop items
    query = Query.parse(bbox="-180,-90,180,90", limit=50)
    walked = list(itertools.islice(iter_items(sample_store, query, page_size=50), 2000))
    keys = [(item["collection"], item["id"]) for item in walked]
    assert len(keys) == len(set(keys))


def test_a_large_area_holding_many_items_is_read_along_the_datetime_index(
    sample_store: Store, sample_items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = _walking_planner(monkeypatch, first=300)  # a tenth of the store
    monkeypatch.setitem(BOXES, "pole", [0.0, -89.9, 0.1, -89.8])
    for box in ("continent", "pole"):
        truth = _truth(sample_items, box, "archive", "none")
        query = _query(box, "archive", "none", limit=40)
        assert [_sort_time(item) for item in search(sample_store, query).items] == [
            _sort_time(item) for item in truth[:40]
        ]
        probes.append(box)
    assert probes == ["continent", "rtree", "pole"]  # Europe's page is all read along the index; the pole's not


def _walking_planner(monkeypatch: pytest.MonkeyPatch, first: int, most: int | None = None) -> list[str]:
    """Large areas walk the datetime index first (``first`` entries, up to ``most``) in this small store;
    returns a log that gets "rtree" for every R*Tree probe."""
    planner = importlib.import_module("catalog.search")
    monkeypatch.setattr(planner, "GRID_MAX_CELLS", -1)
    monkeypatch.setattr(planner, "WALK_MIN_ITEMS", 0)
    monkeypatch.setattr(planner, "WALK_FIRST", first)
    if most is not None:
        monkeypatch.setattr(planner, "WALK_MAX", most)
    log: list[str] = []
    original = Store.rtree_candidates
    monkeypatch.setattr(Store, "rtree_candidates", lambda *args: log.append("rtree") or original(*args))
    return log


def test_a_walk_for_given_collections_reads_their_own_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's newest items are another collection's: a budget of entries spent on them would find nothing."""
    probes = _walking_planner(monkeypatch, first=20)  # fewer entries than beta has
    alpha = [
        make_item(f"alpha-{n}", "alpha", x=n % 20, y=45.0, datetime=f"2020-01-{1 + n % 28:02d}T10:00:00Z",
                  properties={"eo:cloud_cover": float(n % 50)})
        for n in range(60)
    ]  # fmt: skip
    beta = [
        make_item(f"beta-{n}", "beta", x=-120.0, y=-40.0, datetime=f"2024-0{1 + n % 9}-01T10:00:00Z") for n in range(60)
    ]
    with Store(tmp_path / "eocat.db") as store:
        store.upsert_items(alpha + beta)
        query = Query.parse(bbox=[-25.0, 34.0, 45.0, 72.0], collections="alpha", filter="eo:cloud_cover < 20", limit=10)
        found = search(store, query).items
    truth = sorted(
        (i for i in alpha if i["properties"]["eo:cloud_cover"] < 20),
        key=lambda i: (i["properties"]["datetime"], i["id"]),
    )
    assert probes == []
    assert [i["properties"]["datetime"] for i in found] == [i["properties"]["datetime"] for i in truth[::-1][:10]]


def test_a_walk_that_finds_few_rows_leaves_the_rest_of_the_window_to_the_rtree(
    sample_store: Store, sample_items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row is found once: those the walk read, then those of the window it left."""
    probes = _walking_planner(monkeypatch, first=30, most=30)
    truth = _truth(sample_items, "continent", "archive", "none")
    walked = list(iter_items(sample_store, _query("continent", "archive", "none"), page_size=len(truth) // 3))
    assert [(item["collection"], item["id"]) for item in walked] == [(item["collection"], item["id"]) for item in truth]
    assert probes  # the budget of 30 entries did not hold a page


def test_the_first_slab_holds_about_half_the_cap_were_items_spread_evenly(tmp_path: Path) -> None:
    """101 items over 100 days: the world holds one a day, a quarter of the globe a quarter."""
    planner = importlib.import_module("catalog.search")
    day = 86_400
    items = [make_item(f"i{n}", "c", x=0.0, y=0.0, datetime=_iso(1_600_000_000 + n * day)) for n in range(101)]
    with Store(tmp_path / "eocat.db") as store:
        store.upsert_items(items)
        world = Query.parse(bbox="-180,-90,180,90").area
        quarter = Query.parse(bbox="-180,-90,0,0").area
        assert planner._slab_days(store, world, 20) == pytest.approx(10 * 100 / 101)
        assert planner._slab_days(store, quarter, 20) == pytest.approx(40 * 100 / 101)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
