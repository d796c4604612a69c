"""Query shapes benchmark: every query shape of issue 13, reported per shape, peers in the same run.

Shapes are the cross product of

* boxes: 0.1°, 1°, 5°, 20°, a continent (Europe), and 5° across the antimeridian (Fiji);
* windows: 1 day, 1 month, 1 year, the whole archive (no datetime);
* filters: none, or ``collection`` + ``eo:cloud_cover < 20``;

each placed ``--placements`` times (deterministic: boxes centred on stored footprints, windows ending
inside the data), plus the issue's own mix: 20 land boxes of 1-5° with windows of 1-6 years, with
and without collection + cloud filter. Every shape runs as a limit-100 page (exact geometry, default
sort datetime desc) and as a count: exact, capped at 10,000, and the first page's ``numberMatched`` as
eocat's STAC API gives it (counted only when the page's index probe found under 2,000 candidates, up to
100,000; otherwise left out, as the field is optional).

Engines, on the same items:

* ``eocat``  -- ``catalog.search.search`` / ``count`` / ``count_upto`` on the store (public API only).
* ``naive-rtree`` -- one SQLite table with an R*Tree on the bbox (longitudes unwrapped like eocat's),
  bbox semantics only, **unsorted** ``LIMIT 100`` (the issue's "naive SQLite"), cloud cover as a column.
* ``duckdb`` -- DuckDB over the GeoParquet copy of :mod:`bench.query` (bbox struct predicates,
  ``ORDER BY datetime DESC LIMIT 100``).

Oracle: for every query the naive R*Tree table without LIMIT gives the bbox candidates, each is
tested with shapely on its parsed GeoJSON (exact, eocat's semantics), sorted by (datetime, key)
desc; eocat's page must equal its first 100 (ties broken by store key, so by id set when tied) and
its count the total. Mismatches are counted and reported (0 expected).

Each run (an engine's pages, or one of its counts) makes one untimed pass over every query and then
all its timed rounds, before the next run starts, so each is timed with its own working set in the
caches, as in a deployment that runs one of them. (Until December 2026 the engines took turns query by
query, each timed amid the others' cache traffic: at 1M eocat's page medians were 0.39 ms higher over
the median shape that way, DuckDB's 0.71 ms, the naive table's 0.23 ms. Then each round ran the runs
one after another, so eocat's pages of round two followed its capped and exact counts of round one,
which read thousands of rows over a continent and evicted the pages' entries from SQLite's page cache
of the shared connection: at 10M, the pages' sum of shape medians 135.6 ms -> 170.6 ms, 4 -> 11 shapes
over 5 ms, interleaved in one process on one store file.)

Before the timed rounds the process freezes what setup made (``bench.common.frozen_heap``, as eocat's
API server does at start), so a full cyclic collection no longer rescans the modules and the oracle's
answers inside whichever call it lands in (before: 16-39 ms added to 4 of 1,500 calls at 1M).

    python -m bench.shapes [--sizes 100k,1M] [--placements 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench import common
from bench.common import log
from bench.query import LAND, build_eocat, build_peers, canonical, overlap_sql

LIMIT = 100
CLOUD_MAX = 20
COUNT_CAP = 10_000  # the STAC API's cap for counts of filtered queries (catalog.api.app.FILTER_COUNT_CAP)
MAIN = "sentinel-2-l2a"
TARGET_MEDIAN_MS = 5.0
TARGET_P95_MS = 20.0
TARGET_COUNT_MS = 20.0
BOXES = {"0.1deg": 0.1, "1deg": 1.0, "5deg": 5.0, "20deg": 20.0}
CONTINENT = (-25.0, 34.0, 45.0, 72.0)  # Europe
ANTIMERIDIAN_CENTRES = ((179.0, -17.5), (-179.5, -16.0), (178.5, -18.5))
WINDOWS = {"1day": 1, "1month": 30, "1year": 365, "archive": None}
FILTERS = ("none", "collection+cloud")


@dataclass(frozen=True)
class Shape:
    box: str
    window: str
    filter: str

    @property
    def name(self) -> str:
        return f"{self.box}/{self.window}/{self.filter}"


@dataclass(frozen=True)
class ShapeQuery:
    shape: Shape
    bbox: tuple[float, float, float, float]
    start: str | None  # RFC 3339, inclusive; None with end None: no datetime
    end: str | None
    collections: tuple[str, ...]
    cloud: bool

    @property
    def datetime(self) -> str | None:
        return None if self.start is None else f"{self.start}/{self.end}"


# -- the generator -------------------------------------------------------------------------------------


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_queries(naive: sqlite3.Connection, placements: int, seed: int = 13) -> list[ShapeQuery]:
    """Deterministic queries for every shape, plus the issue's long-window mix."""
    first, last = naive.execute("SELECT min(datetime), max(datetime) FROM items").fetchone()
    centres = naive.execute(
        "SELECT (minx + maxx) / 2, (miny + maxy) / 2 FROM items WHERE collection = ? AND minx <= maxx "
        "AND rowid % 97 = 0 ORDER BY rowid",
        [MAIN],
    ).fetchall()
    return shape_queries(first, last, [(float(x), float(y)) for x, y in centres], placements, seed)


def shape_queries(
    first: str, last: str, centres: list[tuple[float, float]], placements: int, seed: int = 13
) -> list[ShapeQuery]:
    """The queries of every shape for data between ``first`` and ``last`` with footprints at ``centres``."""
    rng = random.Random(seed)
    t0 = datetime.fromisoformat(first[:19]).replace(tzinfo=UTC)
    t1 = datetime.fromisoformat(last[:19]).replace(tzinfo=UTC)

    def box_around(cx: float, cy: float, width: float) -> tuple[float, float, float, float]:
        height = width * rng.uniform(0.6, 1.0)
        x0 = max(-180.0, min(180.0 - width, cx - width / 2 + rng.uniform(-0.3, 0.3) * width))
        y0 = max(-85.0, min(85.0 - height, cy - height / 2 + rng.uniform(-0.3, 0.3) * height))
        return round(x0, 4), round(y0, 4), round(x0 + width, 4), round(y0 + height, 4)

    def window(days: int | None) -> tuple[str | None, str | None]:
        if days is None:
            return None, None
        span = (t1 - t0).total_seconds() - days * 86400
        start = t0 + timedelta(seconds=rng.uniform(0, max(span, 0)))
        return _rfc3339(start), _rfc3339(start + timedelta(days=days) - timedelta(seconds=1))

    queries: list[ShapeQuery] = []
    for box_name in [*BOXES, "continent", "antimeridian-5deg"]:
        for window_name, days in WINDOWS.items():
            for filter_name in FILTERS:
                shape = Shape(box_name, window_name, filter_name)
                for number in range(placements):
                    if box_name == "continent":
                        bbox = CONTINENT
                    elif box_name == "antimeridian-5deg":
                        cx, cy = ANTIMERIDIAN_CENTRES[number % len(ANTIMERIDIAN_CENTRES)]
                        x0, x1 = cx - 2.5, cx + 2.5
                        bbox = (x0 + 360 if x0 < -180 else x0, cy - 2.0, x1 - 360 if x1 > 180 else x1, cy + 2.0)
                    else:
                        cx, cy = rng.choice(centres)
                        bbox = box_around(float(cx), float(cy), BOXES[box_name])
                    collections = (MAIN,) if filter_name != "none" else ()
                    queries.append(ShapeQuery(shape, bbox, *window(days), collections, filter_name != "none"))
    # The mix: 20 random land boxes of 1-5 deg, windows of 1-6 years (clamped to the archive).
    regions = sorted(LAND)
    for filter_name in FILTERS:
        shape = Shape("issue-1to5deg", "issue-1to6years", filter_name)
        mix = random.Random(seed + 1)  # the same 20 boxes and windows for both filters
        for number in range(20):
            w, s, e, n = LAND[regions[number % len(regions)]]
            width = mix.uniform(1, 5)
            cx, cy = mix.uniform(w, e), mix.uniform(s, n)
            bbox = (
                round(cx - width / 2, 4),
                round(cy - width / 2, 4),
                round(cx + width / 2, 4),
                round(cy + width / 2, 4),
            )
            years = mix.uniform(1, 6)
            end = t1 - timedelta(days=mix.uniform(0, 120))
            start = max(t0 - timedelta(days=30), end - timedelta(days=365 * years))
            collections = (MAIN,) if filter_name != "none" else ()
            queries.append(ShapeQuery(shape, bbox, _rfc3339(start), _rfc3339(end), collections, filter_name != "none"))
    return queries


# -- engines -------------------------------------------------------------------------------------------


class Eocat:
    name = "eocat"

    def __init__(self, path: Path) -> None:
        from catalog.search import Query
        from catalog.store import Store

        self.store = Store(path)
        self.query_type = Query

    def parse(self, query: ShapeQuery) -> Any:
        return self.query_type.parse(
            collections=",".join(query.collections) or None,
            bbox=",".join(str(v) for v in query.bbox),
            datetime=query.datetime,
            filter=f"eo:cloud_cover < {CLOUD_MAX}" if query.cloud else None,
            limit=LIMIT,
        )

    def page(self, parsed: Any) -> list[str]:
        return [item["id"] for item in self.first_page(parsed).items]

    def first_page(self, parsed: Any) -> Any:
        from catalog.search import search

        return search(self.store, parsed)

    def api_count(self, parsed: Any, page: Any) -> int | None:
        """The page's ``numberMatched`` as eocat's STAC API gives it (``catalog.api.app.number_matched``):
        None where the API leaves the count out. Timed without the page's probe memo that the API's count
        reuses (the rounds run all pages, then all counts), so an upper bound on what the API spends."""
        from catalog.api.app import COUNT_CAP as API_COUNT_CAP
        from catalog.api.app import number_matched

        return number_matched(self.store, parsed, page, API_COUNT_CAP)

    def count(self, parsed: Any) -> int:
        from catalog.search import count

        return count(self.store, parsed)

    def count_upto(self, parsed: Any) -> int | None:
        from catalog.search import count_upto

        return count_upto(self.store, parsed, COUNT_CAP)

    def close(self) -> None:
        self.store.close()


def build_naive_rtree(n: int, naive_path: Path) -> Path:
    """The naive table of :mod:`bench.query` plus an R*Tree on its bbox and a cloud-cover column."""
    path = naive_path.with_name(naive_path.name.replace("naive-", "naive-rtree-"))
    if path.exists():
        return path
    for stale in common.WORK.glob(f"naive-rtree-{common.size_label(n)}-*"):
        stale.unlink()
    log(f"building naive R*Tree table for {common.size_label(n)} ...")
    tmp = common.fresh_path(path.name)
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("ATTACH DATABASE ? AS src", [f"file:{naive_path}?mode=ro"])
    conn.execute("BEGIN")
    conn.execute(
        "CREATE TABLE items AS SELECT rowid AS rowid_, id, collection, datetime, start_datetime, end_datetime, "
        "minx, miny, maxx, maxy, json_extract(content, '$.properties.\"eo:cloud_cover\"') AS cloud, content "
        "FROM src.items"
    )
    conn.execute("CREATE VIRTUAL TABLE items_rtree USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute(
        "INSERT INTO items_rtree SELECT rowid, minx, CASE WHEN minx > maxx THEN maxx + 360 ELSE maxx END, miny, maxy "
        "FROM items WHERE minx IS NOT NULL"
    )
    conn.execute("COMMIT")
    conn.close()
    tmp.replace(path)
    return path


class NaiveRtree:
    name = "naive-rtree"

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.conn.execute("PRAGMA cache_size = -262144")
        self.conn.execute("PRAGMA mmap_size = 1073741824")

    def sql(self, query: ShapeQuery, select: str) -> tuple[str, list[Any]]:
        x0, y0, x1, y1 = query.bbox
        if x0 > x1:
            x1 += 360
        # entries live in [-180, 540): the unwrapped query box, and it shifted by -360 and +360
        lookups = " UNION ".join(
            "SELECT id FROM items_rtree WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?" for _ in range(3)
        )
        params: list[Any] = []
        for shift in (-360.0, 0.0, 360.0):
            params += [x1 + shift, x0 + shift, y1, y0]
        sql = f"SELECT {select} FROM items WHERE rowid IN ({lookups})"
        if query.start is not None:
            sql += " AND start_datetime <= ? AND end_datetime >= ?"
            params += [canonical(query.end), canonical(query.start)]
        if query.collections:
            sql += f" AND collection IN ({', '.join('?' * len(query.collections))})"
            params += list(query.collections)
        if query.cloud:
            sql += " AND cloud < ?"
            params.append(CLOUD_MAX)
        return sql, params

    def page(self, query: ShapeQuery) -> list[str]:
        sql, params = self.sql(query, "id, content")
        rows = self.conn.execute(sql + f" LIMIT {LIMIT}", params).fetchall()
        return [orjson.loads(row[1])["id"] for row in rows]  # items parsed, like eocat returns them

    def count(self, query: ShapeQuery) -> int:
        sql, params = self.sql(query, "1")
        return int(self.conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class DuckDB:
    name = "duckdb"

    def __init__(self, path: Path) -> None:
        import duckdb

        self.conn = duckdb.connect()
        self.conn.execute(f"CREATE VIEW items AS SELECT * FROM read_parquet('{path}')")

    def sql(self, query: ShapeQuery, select: str) -> tuple[str, list[Any]]:
        spatial, box_params = overlap_sql(query.bbox, ("bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax"))
        params: list[Any] = list(box_params)
        sql = f"SELECT {select} FROM items WHERE {spatial}"
        if query.start is not None:
            sql += " AND datetime >= CAST(? AS TIMESTAMPTZ) AND datetime <= CAST(? AS TIMESTAMPTZ)"
            params = [*params, query.start, query.end]
        if query.collections:
            sql += f" AND collection IN ({', '.join('?' * len(query.collections))})"
            params = [*params, *query.collections]
        if query.cloud:
            sql += ' AND "eo:cloud_cover" < ?'
            params = [*params, CLOUD_MAX]
        return sql, params

    def page(self, query: ShapeQuery) -> list[str]:
        sql, params = self.sql(query, "id")
        return [row[0] for row in self.conn.execute(sql + f" ORDER BY datetime DESC LIMIT {LIMIT}", params).fetchall()]

    def count(self, query: ShapeQuery) -> int:
        sql, params = self.sql(query, "count(*)")
        row = self.conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


# -- oracle --------------------------------------------------------------------------------------------


def oracle(naive: NaiveRtree, query: ShapeQuery) -> tuple[list[tuple[str, str]], int]:
    """(datetime, id) of every exact match, newest first, and their number."""
    import shapely

    x0, y0, x1, y1 = query.bbox
    if x0 > x1:
        area = shapely.union(shapely.box(x0, y0, 180.0, y1), shapely.box(-180.0, y0, x1, y1))
    else:
        area = shapely.box(x0, y0, x1, y1)
    shapely.prepare(area)
    sql, params = naive.sql(query, "id, datetime, content")
    matches = []
    for item_id, when, content in naive.conn.execute(sql, params):
        geometry = orjson.loads(content).get("geometry")
        if geometry is not None and area.intersects(shapely.from_geojson(orjson.dumps(geometry).decode())):
            matches.append((when, item_id))
    matches.sort(reverse=True)
    return matches, len(matches)


def page_matches(page: list[str], truth: list[tuple[str, str]]) -> bool:
    """eocat's page is the first 100 of the truth (ties on datetime at the cut may go either way)."""
    if len(page) != min(LIMIT, len(truth)):
        return False
    top = truth[:LIMIT]
    if [item_id for _, item_id in top] == page:
        return True
    when = {item_id: moment for moment, item_id in truth}
    if any(item_id not in when for item_id in page):
        return False
    # same multiset of datetimes in the same order: differences only among equal datetimes
    return [when[item_id] for item_id in page] == [moment for moment, _ in top]


# -- driver --------------------------------------------------------------------------------------------


#: One timed call: (the query, eocat's parse of it) -> anything.
Run = Callable[[ShapeQuery, Any], Any]


def time_rounds(
    runs: dict[str, Run], queries: list[ShapeQuery], parsed: list[Any], rounds: int, label: str
) -> dict[str, dict[str, list[float]]]:
    """Seconds of each run on each query, by shape name and run name, heap frozen (``common.frozen_heap``).
    Each run makes an untimed pass over every query, then its timed rounds, before the next run (see the
    module's docstring)."""
    times: dict[str, dict[str, list[float]]] = {}
    with common.frozen_heap():
        for name, function in runs.items():
            log(f"{label}: {name}, untimed pass, then {rounds} timed round(s) ...")
            for query, parsed_query in zip(queries, parsed, strict=True):
                function(query, parsed_query)
            for _round in range(rounds):
                for query, parsed_query in zip(queries, parsed, strict=True):
                    seconds, _ = common.timed(lambda: function(query, parsed_query))  # noqa: B023 (called at once)
                    times.setdefault(query.shape.name, {}).setdefault(name, []).append(seconds)
    return times


def run_size(n: int, *, placements: int, rounds: int, rebuild: bool) -> dict[str, Any]:
    source = common.dataset(n)
    eocat_path = build_eocat(n, source, rebuild)
    naive_path, parquet_path = build_peers(n, source, rebuild)
    rtree_path = build_naive_rtree(n, naive_path)
    eocat, naive, duck = Eocat(eocat_path), NaiveRtree(rtree_path), DuckDB(parquet_path)
    queries = make_queries(naive.conn, placements)
    log(f"shapes {common.size_label(n)}: {len(queries)} queries, checking against the oracle ...")
    parsed = [eocat.parse(query) for query in queries]
    mismatches: list[dict[str, Any]] = []
    totals: list[int] = []
    pages = {id(parsed_query): eocat.first_page(parsed_query) for parsed_query in parsed}
    api_counted: dict[str, int] = {}
    for query, parsed_query in zip(queries, parsed, strict=True):
        truth, total = oracle(naive, query)
        totals.append(total)
        first_page = pages[id(parsed_query)]
        page = [item["id"] for item in first_page.items]
        counted = eocat.count(parsed_query)
        capped = eocat.count_upto(parsed_query)
        numbered = eocat.api_count(parsed_query, first_page)
        api_counted[query.shape.name] = api_counted.get(query.shape.name, 0) + (numbered is not None)
        ok = page_matches(page, truth) and counted == total and capped == (total if total < COUNT_CAP else None)
        if not ok or numbered not in (None, total):
            mismatches.append({"shape": query.shape.name, "bbox": query.bbox, "datetime": query.datetime,
                               "total": total, "count": counted, "count_upto": capped,
                               "api_count": numbered})  # fmt: skip
    runs: dict[str, Run] = {
        "eocat": lambda query, parsed_query: eocat.page(parsed_query),
        "eocat_count": lambda query, parsed_query: eocat.count(parsed_query),
        "eocat_count_upto": lambda query, parsed_query: eocat.count_upto(parsed_query),
        "eocat_api_count": lambda query, parsed_query: eocat.api_count(parsed_query, pages[id(parsed_query)]),
        "naive-rtree": lambda query, parsed_query: naive.page(query),
        "naive-rtree_count": lambda query, parsed_query: naive.count(query),
        "duckdb": lambda query, parsed_query: duck.page(query),
        "duckdb_count": lambda query, parsed_query: duck.count(query),
    }
    pulse = [common.machine_pulse()]
    times = time_rounds(runs, queries, parsed, rounds, f"shapes {common.size_label(n)}")
    pulse.append(common.machine_pulse())
    for engine in (eocat, naive, duck):
        engine.close()
    matched: dict[str, list[int]] = {}
    for query, total in zip(queries, totals, strict=True):
        matched.setdefault(query.shape.name, []).append(total)
    shapes: dict[str, dict[str, Any]] = {
        name: {
            "matches_median": int(statistics.median(matched[name])),
            "api_counted": f"{api_counted[name]} of {len(matched[name])}",
            **{engine: common.summarize_ms(values) for engine, values in entries.items()},
        }
        for name, entries in times.items()
    }
    page_shapes = [s for name, s in shapes.items() if not name.startswith("issue-")]
    worst_median = max(s["eocat"]["median_ms"] for s in page_shapes)
    worst_p95 = max(s["eocat"]["p95_ms"] for s in page_shapes)
    worst_count = max(s["eocat_count_upto"]["median_ms"] for s in page_shapes)
    worst_api_count = max(s["eocat_api_count"]["median_ms"] for s in page_shapes)
    return {
        "n": n,
        "queries": len(queries),
        "placements": placements,
        "rounds": rounds,
        "bytes_per_item": round(common.file_size(eocat_path) / n, 1),
        "machine_pulse": pulse,  # before and after the timed rounds (common.machine_pulse)
        "oracle_mismatches": len(mismatches),
        "mismatches": mismatches[:20],
        "worst_shape_median_ms": worst_median,
        "worst_shape_p95_ms": worst_p95,
        "worst_shape_count_upto_median_ms": worst_count,
        "worst_shape_api_count_median_ms": worst_api_count,
        "shapes": shapes,
    }


def run(sizes: list[int], *, placements: int = 3, rounds: int = 3, rebuild: bool = False) -> dict[str, Any]:
    results = [run_size(n, placements=placements, rounds=rounds, rebuild=rebuild) for n in sizes]
    largest = results[-1]
    payload = {
        "benchmark": "shapes",
        "machine": common.machine_facts(),
        "method": __doc__,
        "sizes": results,
        "targets": {
            "every_shape_median_ms": {
                "target": TARGET_MEDIAN_MS,
                "n": largest["n"],
                "measured": largest["worst_shape_median_ms"],
                "met": largest["worst_shape_median_ms"] <= TARGET_MEDIAN_MS,
            },
            "every_shape_p95_ms": {
                "target": TARGET_P95_MS,
                "n": largest["n"],
                "measured": largest["worst_shape_p95_ms"],
                "met": largest["worst_shape_p95_ms"] <= TARGET_P95_MS,
            },
            "every_shape_api_count_median_ms": {
                "target": TARGET_COUNT_MS,
                "n": largest["n"],
                "measured": largest["worst_shape_api_count_median_ms"],
                "met": largest["worst_shape_api_count_median_ms"] <= TARGET_COUNT_MS,
            },
            "shapes_oracle": {
                "mismatches": sum(r["oracle_mismatches"] for r in results),
                "met": all(r["oracle_mismatches"] == 0 for r in results),
            },
        },
    }
    common.write_result("shapes", payload)
    return payload


ENGINES = (
    "eocat",
    "naive-rtree",
    "duckdb",
    "eocat_count",
    "eocat_count_upto",
    "eocat_api_count",
    "naive-rtree_count",
    "duckdb_count",
)


def summary(payload: dict[str, Any]) -> str:
    lines = []
    for result in payload["sizes"]:
        rows = []
        for name, entry in result["shapes"].items():
            cells = [f"{entry[e]['median_ms']:.1f} ({entry[e]['p95_ms']:.0f})" for e in ENGINES]
            rows.append([name, entry["matches_median"], *cells])
        lines += [
            f"Query shapes at {common.size_label(result['n'])}: median (p95) ms, limit {LIMIT}; "
            f"oracle mismatches {result['oracle_mismatches']}; {result['bytes_per_item']} B/item",
            common.table(rows, ["shape", "matches", *ENGINES]),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.shapes", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=common.parse_sizes, help="item counts, e.g. 100k,1M")
    parser.add_argument("--placements", type=int, default=3, help="queries per shape")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached stores and peer copies")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(common.DEFAULT_SIZES)
    with common.exclusive_run():
        print(summary(run(sizes, placements=args.placements, rounds=args.rounds, rebuild=args.rebuild)))


if __name__ == "__main__":
    main(sys.argv[1:])
