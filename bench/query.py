"""Query benchmark: limit-100 bbox+datetime+collection+`eo:cloud_cover < 20` searches, plus a keyset walk.

For each size the same generated items are loaded three ways (cached under ``bench/work/``):

* ``eocat``  -- a ``catalog.store.Store`` (``import_files`` then ``optimize``), queried with
  ``catalog.search.search`` (returns parsed items, sorted by datetime desc, with keyset tokens).
* ``naive``  -- the same SQL done naively: one plain SQLite table (id, collection, datetime,
  start/end, bbox columns, content JSON), **no index at all**, the cloud-cover test through
  ``json_extract(content, ...)``; bbox-overlap predicates on the columns (antimeridian aware);
  ``ORDER BY datetime DESC LIMIT 100``; the 100 contents are parsed with orjson like eocat does.
* ``duckdb`` -- DuckDB over a GeoParquet copy written with pyarrow (id, collection, datetime
  timestamp, bbox struct, eo:cloud_cover, WKB geometry; sorted by collection, datetime; zstd;
  GeoParquet 1.1 metadata with the bbox covering), bbox-struct predicates, ``ORDER BY datetime
  DESC LIMIT 100``; returns the ids (it has no full item to return).

Correctness is checked for every query against an oracle computed from the naive table without
LIMIT: ordered rows are tested with shapely (exact intersection, eocat's semantics) and with the
bbox test (the peers' semantics). Differences are counted, never fatal.

The keyset walk pages through every item of one collection (no bbox), 100 per page, timing each
page, and compares the first ten pages with the last ten.

    python -m bench.query [--sizes 100k,1M] [--quick] [--rounds N] [--no-walk] [--rebuild]
"""

from __future__ import annotations

import argparse
import functools
import random
import re
import sqlite3
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench import common
from bench.common import log

LIMIT = 100
CLOUD_MAX = 20
MAIN_COLLECTION = "sentinel-2-l2a"
TARGET_MEDIAN_MS = 10.0
TARGET_WALK_RATIO = 1.5  # last-10-pages median / first-10-pages median above this counts as slowing down
ROW_GROUP_SIZE = 65_536

# Rough land rectangles (w, s, e, n) where query boxes are centred.
LAND = {
    "western-europe": (-9.0, 37.0, 15.0, 55.0),
    "eastern-europe": (15.0, 44.0, 40.0, 60.0),
    "scandinavia": (6.0, 58.0, 30.0, 69.0),
    "sahara": (-10.0, 16.0, 30.0, 31.0),
    "east-africa": (28.0, -20.0, 40.0, 8.0),
    "southern-africa": (15.0, -33.0, 32.0, -18.0),
    "middle-east": (36.0, 22.0, 58.0, 37.0),
    "india": (72.0, 10.0, 87.0, 30.0),
    "china": (100.0, 23.0, 120.0, 42.0),
    "siberia": (60.0, 52.0, 140.0, 68.0),
    "southeast-asia": (96.0, 2.0, 118.0, 20.0),
    "australia": (116.0, -34.0, 150.0, -19.0),
    "usa": (-120.0, 31.0, -76.0, 47.0),
    "canada": (-120.0, 50.0, -72.0, 60.0),
    "mexico": (-108.0, 16.0, -92.0, 28.0),
    "brazil": (-63.0, -24.0, -40.0, -4.0),
    "argentina": (-70.0, -44.0, -60.0, -26.0),
    "alaska": (-160.0, 59.0, -142.0, 68.0),
}
SPECIAL = [
    # (name, bbox) -- crossing the antimeridian (minx > maxx), and very large boxes
    ("antimeridian-fiji", (177.0, -20.0, -178.0, -15.0)),
    ("antimeridian-chukotka", (170.0, 62.0, -170.0, 68.0)),
    ("antimeridian-new-zealand-east", (172.0, -47.0, -176.0, -38.0)),
    ("europe", (-25.0, 34.0, 45.0, 72.0)),
    ("africa", (-20.0, -35.0, 52.0, 38.0)),
    ("conterminous-us", (-125.0, 24.0, -66.0, 50.0)),
]
WINDOW_MONTHS = (1, 1, 2, 3, 3, 6, 6, 12)
WALKS = (MAIN_COLLECTION, None)  # keyset walks: one collection, then everything


@dataclass(frozen=True)
class BenchQuery:
    name: str
    collections: tuple[str, ...]
    bbox: tuple[float, float, float, float]
    start: str  # RFC 3339, inclusive
    end: str  # RFC 3339, inclusive

    @property
    def datetime(self) -> str:
        return f"{self.start}/{self.end}"


# -- data preparation --------------------------------------------------------------------------------


_CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?Z$")


def canonical(value: Any) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC) so text order is time order; independent of catalog/."""
    if value is None or value == "":
        return None
    match = _CANONICAL.match(value)
    if match:
        return value[:19] + "." + (match.group(1) or "")[:6].ljust(6, "0") + "Z"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _bbox(item: dict[str, Any]) -> tuple[float, float, float, float] | None:
    bbox = item.get("bbox")
    if bbox is None:
        import shapely

        if item.get("geometry") is None:
            return None
        bounds = shapely.from_geojson(orjson.dumps(item["geometry"]).decode()).bounds
        return tuple(float(b) for b in bounds)  # type: ignore[return-value]
    if len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    return tuple(float(b) for b in bbox)  # type: ignore[return-value]


def build_eocat(n: int, source: Path, rebuild: bool) -> Path:
    from catalog.ingest import import_files
    from catalog.store import Store

    path = common.WORK / f"eocat-{common.size_label(n)}-{common.generator_hash()}-{common.store_code_hash()}.db"
    if path.exists() and not rebuild:
        return path
    tmp = common.fresh_path(path.name)
    log(f"building eocat store for {common.size_label(n)} ...")
    started = time.perf_counter()
    store = Store(tmp)
    try:
        from eocat import samples

        for collection in samples.collections():
            store.upsert_collection(collection)
    except (ImportError, AttributeError):
        pass
    report = import_files(store, [source])
    store.optimize()
    store.checkpoint()
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    # stores of older store code go only once the new one is in place: a build cut short keeps them
    # (a 10M store takes 27 min to make; the catalogue migrates an older schema in place on open)
    for old in common.WORK.glob(f"eocat-{common.size_label(n)}-*.db*"):
        if old != path:
            old.unlink()
    log(f"  {report.written:,} items ({report.rejected} rejected) in {time.perf_counter() - started:.1f} s")
    return path


def build_peers(n: int, source: Path, rebuild: bool) -> tuple[Path, Path]:
    """The naive SQLite table and the GeoParquet copy, made in one pass over the NDJSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    tag = f"{common.size_label(n)}-{common.generator_hash()}"
    naive_path = common.WORK / f"naive-{tag}.db"
    parquet_path = common.WORK / f"items-{tag}.parquet"
    if naive_path.exists() and parquet_path.exists() and not rebuild:
        return naive_path, parquet_path
    label = common.size_label(n)
    for stale in [*common.WORK.glob(f"naive-{label}-*"), *common.WORK.glob(f"items-{label}-*")]:
        stale.unlink()
    log(f"building naive table and GeoParquet copy for {common.size_label(n)} ...")
    started = time.perf_counter()
    tmp_db = common.fresh_path(naive_path.name)
    conn = sqlite3.connect(str(tmp_db), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(
        "CREATE TABLE items (id TEXT, collection TEXT, datetime TEXT, start_datetime TEXT, end_datetime TEXT, "
        "minx REAL, miny REAL, maxx REAL, maxy REAL, content TEXT)"
    )
    columns: dict[str, list[Any]] = {
        "id": [], "collection": [], "datetime": [], "xmin": [], "ymin": [], "xmax": [], "ymax": [],
        "eo:cloud_cover": [], "geometry": [],
    }  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    geometries: list[str | None] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        rows.clear()
        shapes = shapely.from_geojson(geometries)
        columns["geometry"].extend(shapely.to_wkb(shapes).tolist())
        geometries.clear()

    with open(source, "rb") as stream:
        for line in stream:
            if not line.strip():
                continue
            item = orjson.loads(line)
            if item.get("type") != "Feature":
                continue
            properties = item["properties"]
            instant = canonical(properties.get("datetime"))
            start = canonical(properties.get("start_datetime"))
            end = canonical(properties.get("end_datetime"))
            sort_time = instant or start
            first = min(t for t in (instant, start) if t)
            last = max(t for t in (instant, end) if t)
            box = _bbox(item) or (None, None, None, None)
            rows.append((item["id"], item["collection"], sort_time, first, last, *box, orjson.dumps(item).decode()))
            columns["id"].append(item["id"])
            columns["collection"].append(item["collection"])
            columns["datetime"].append(sort_time)
            for key, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
                columns[key].append(value)
            cloud = properties.get("eo:cloud_cover")
            columns["eo:cloud_cover"].append(float(cloud) if cloud is not None else None)
            geometry = item.get("geometry")
            geometries.append(orjson.dumps(geometry).decode() if geometry is not None else None)
            if len(rows) >= 10_000:
                flush()
    if rows:
        flush()
    conn.close()
    tmp_db.replace(naive_path)

    bbox_type = pa.struct([(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")])
    table = pa.table(
        {
            "id": pa.array(columns["id"], pa.string()),
            "collection": pa.array(columns["collection"], pa.string()),
            "datetime": pa.array(columns["datetime"], pa.string()).cast(pa.timestamp("us", tz="UTC")),
            "bbox": pa.StructArray.from_arrays(
                [pa.array(columns[k], pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")],
                fields=list(bbox_type),
            ),
            "eo:cloud_cover": pa.array(columns["eo:cloud_cover"], pa.float64()),
            "geometry": pa.array(columns["geometry"], pa.binary()),
        }
    )
    table = table.sort_by([("collection", "ascending"), ("datetime", "ascending")])
    xs = [v for v in table.column("bbox").combine_chunks().field("xmin").to_pylist() if v is not None]
    geo: dict[str, Any] = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": [],
                "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
            }
        },
    }
    if xs:
        geo["columns"]["geometry"]["bbox"] = [-180.0, -90.0, 180.0, 90.0]
    table = table.replace_schema_metadata({b"geo": orjson.dumps(geo)})
    tmp_parquet = parquet_path.with_suffix(".tmp")
    pq.write_table(table, tmp_parquet, compression="zstd", row_group_size=ROW_GROUP_SIZE, write_statistics=True)
    tmp_parquet.replace(parquet_path)
    log(f"  done in {time.perf_counter() - started:.1f} s (parquet {parquet_path.stat().st_size / 2**20:,.0f} MiB)")
    return naive_path, parquet_path


# -- the query set -----------------------------------------------------------------------------------


def _month_start(year: int, month: int) -> datetime:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_queries(naive: sqlite3.Connection, count: int = 50, seed: int = 2024) -> list[BenchQuery]:
    """~50 deterministic queries: land boxes 1°-10° wide, windows of 1-12 months within the data."""
    rng = random.Random(seed)
    collections = [row[0] for row in naive.execute("SELECT DISTINCT collection FROM items ORDER BY 1")]
    main = MAIN_COLLECTION if MAIN_COLLECTION in collections else collections[0]
    others = [c for c in collections if c != main]
    first, last = naive.execute(
        "SELECT min(datetime), max(datetime) FROM items WHERE collection = ?", [main]
    ).fetchone()
    first_month = (int(first[:4]), int(first[5:7]))
    last_month = (int(last[:4]), int(last[5:7]))
    span_months = (last_month[0] - first_month[0]) * 12 + last_month[1] - first_month[1] + 1

    def window() -> tuple[str, str]:
        months = min(rng.choice(WINDOW_MONTHS), span_months)
        offset = rng.randrange(0, span_months - months + 1)
        start = _month_start(first_month[0], first_month[1] + offset)
        end = _month_start(first_month[0], first_month[1] + offset + months) - timedelta(seconds=1)
        return _rfc3339(start), _rfc3339(end)

    # Two thirds of the boxes are placed around places that have data (a random S2 footprint,
    # offset so it is not always central): the generator's tiles are sparse, and users look where
    # data is. The other third are placed over land at random and may well be empty.
    centres = naive.execute(
        "SELECT DISTINCT round((minx + maxx) / 2, 1), round((miny + maxy) / 2, 1) FROM items "
        "WHERE collection = ? AND minx <= maxx ORDER BY 1, 2",
        [main],
    ).fetchall()
    queries: list[BenchQuery] = []
    regions = sorted(LAND)
    ordinary = count - len(SPECIAL)
    for number in range(ordinary):
        width = round(10 ** rng.uniform(0, 1), 2)  # 1..10 degrees, log-uniform
        height = round(width * rng.uniform(0.5, 1.0), 2)
        if number % 3 != 2 and centres:
            cx, cy = rng.choice(centres)
            cx += rng.uniform(-0.4, 0.4) * width
            cy += rng.uniform(-0.4, 0.4) * height
            label = "data"
        else:
            label = regions[number % len(regions)]
            w, s, e, n = LAND[label]
            cx, cy = rng.uniform(w, e), rng.uniform(s, n)
        x0 = max(-180.0, min(180.0 - width, round(cx - width / 2, 3)))
        y0 = max(-85.0, min(85.0 - height, round(cy - height / 2, 3)))
        box = (x0, y0, round(x0 + width, 3), round(y0 + height, 3))
        chosen: tuple[str, ...] = (main,)
        if others and number % 6 == 5:
            chosen = (main, others[(number // 6) % len(others)])
        queries.append(BenchQuery(f"{label}-{number:02d}", chosen, box, *window()))
    for name, box in SPECIAL:
        queries.append(BenchQuery(name, (main,), box, *window()))
    return queries


# -- engines -------------------------------------------------------------------------------------------


def overlap_sql(bbox: tuple[float, float, float, float], cols: tuple[str, str, str, str]) -> tuple[str, list[float]]:
    """Bbox-overlap test on bbox columns, RFC 7946 antimeridian-aware on both sides."""
    xmin, ymin, xmax, ymax = cols
    qx0, qy0, qx1, qy1 = bbox
    if qx0 > qx1:
        qx1 += 360
    unwrapped = f"(CASE WHEN {xmin} > {xmax} THEN {xmax} + 360 ELSE {xmax} END)"
    params: list[float] = [qy1, qy0]
    terms = []
    for shift in (-360, 0, 360):
        terms.append(f"({xmin} <= ? AND {unwrapped} >= ?)")
        params += [qx1 + shift, qx0 + shift]
    return f"({ymin} <= ? AND {ymax} >= ? AND ({' OR '.join(terms)}))", params


class Eocat:
    name = "eocat"

    def __init__(self, path: Path) -> None:
        from catalog.store import Store

        self.store = Store(path)
        self.parsed: dict[BenchQuery, Any] = {}

    def parse(self, query: BenchQuery) -> Any:
        from catalog.search import Query

        return Query.parse(
            collections=",".join(query.collections),
            bbox=",".join(str(v) for v in query.bbox),
            datetime=query.datetime,
            filter=f"eo:cloud_cover < {CLOUD_MAX}",
            limit=LIMIT,
        )

    def prepare(self, queries: list[BenchQuery]) -> None:
        for query in queries:
            self.parsed[query] = self.parse(query)

    def run(self, query: BenchQuery) -> list[str]:
        from catalog.search import search

        page = search(self.store, self.parsed[query])
        return [item["id"] for item in page.items]

    def count(self, query: BenchQuery) -> int:
        from catalog.search import count

        return count(self.store, self.parsed[query])

    def close(self) -> None:
        self.store.close()


class Naive:
    name = "naive"

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.conn.execute("PRAGMA cache_size = -262144")
        self.conn.execute("PRAGMA mmap_size = 1073741824")

    def sql(self, query: BenchQuery, *, limited: bool = True) -> tuple[str, list[Any]]:
        spatial, spatial_params = overlap_sql(query.bbox, ("minx", "miny", "maxx", "maxy"))
        marks = ", ".join("?" * len(query.collections))
        sql = (
            f"SELECT id, content FROM items WHERE collection IN ({marks}) "
            "AND start_datetime <= ? AND end_datetime >= ? "
            f"AND {spatial} "
            "AND json_extract(content, '$.properties.\"eo:cloud_cover\"') < ? "
            "ORDER BY datetime DESC, rowid DESC"
        )
        params: list[Any] = [*query.collections, canonical(query.end), canonical(query.start), *spatial_params]
        params.append(CLOUD_MAX)
        if limited:
            sql += f" LIMIT {LIMIT}"
        return sql, params

    def run(self, query: BenchQuery) -> list[str]:
        sql, params = self.sql(query)
        rows = self.conn.execute(sql, params).fetchall()
        items = [orjson.loads(row[1]) for row in rows]  # eocat returns parsed items too
        return [item["id"] for item in items]

    def close(self) -> None:
        self.conn.close()


class DuckDB:
    name = "duckdb"

    def __init__(self, path: Path) -> None:
        import duckdb

        self.conn = duckdb.connect()
        self.conn.execute(f"CREATE VIEW items AS SELECT * FROM read_parquet('{path}')")

    def sql(self, query: BenchQuery) -> tuple[str, list[Any]]:
        spatial, spatial_params = overlap_sql(query.bbox, ("bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax"))
        marks = ", ".join("?" * len(query.collections))
        sql = (
            f"SELECT id FROM items WHERE collection IN ({marks}) "
            "AND datetime >= CAST(? AS TIMESTAMPTZ) AND datetime <= CAST(? AS TIMESTAMPTZ) "
            f'AND "eo:cloud_cover" < ? AND {spatial} '
            f"ORDER BY datetime DESC, id DESC LIMIT {LIMIT}"
        )
        return sql, [*query.collections, query.start, query.end, CLOUD_MAX, *spatial_params]

    def run(self, query: BenchQuery) -> list[str]:
        sql, params = self.sql(query)
        return [row[0] for row in self.conn.execute(sql, params).fetchall()]

    def close(self) -> None:
        self.conn.close()


# -- oracle ------------------------------------------------------------------------------------------


def oracle(naive: Naive, query: BenchQuery) -> dict[str, Any]:
    """Top-100 ids under exact-geometry semantics and under bbox semantics, plus match totals."""
    import shapely

    x0, y0, x1, y1 = query.bbox
    if x0 > x1:
        area = shapely.union(shapely.box(x0, y0, 180.0, y1), shapely.box(-180.0, y0, x1, y1))
    else:
        area = shapely.box(x0, y0, x1, y1)
    shapely.prepare(area)
    sql, params = naive.sql(query, limited=False)
    exact: list[str] = []
    boxed: list[str] = []
    bbox_total = exact_total = 0
    for item_id, content in naive.conn.execute(sql, params):
        bbox_total += 1
        if len(boxed) < LIMIT:
            boxed.append(item_id)
        geometry = orjson.loads(content).get("geometry")
        if geometry is not None and area.intersects(shapely.from_geojson(orjson.dumps(geometry).decode())):
            exact_total += 1
            if len(exact) < LIMIT:
                exact.append(item_id)
    return {"exact": exact, "bbox": boxed, "exact_total": exact_total, "bbox_total": bbox_total}


def differences(a: list[str], b: list[str]) -> int:
    """How many ids one list has that the other lacks (order ignored)."""
    left, right = set(a), set(b)
    return max(len(left - right), len(right - left))


# -- driver --------------------------------------------------------------------------------------------


def run_queries(n: int, *, rounds: int, rebuild: bool) -> dict[str, Any]:
    source = common.dataset(n)
    eocat_path = build_eocat(n, source, rebuild)
    naive_path, parquet_path = build_peers(n, source, rebuild)

    eocat = Eocat(eocat_path)
    naive = Naive(naive_path)
    duck = DuckDB(parquet_path)
    queries = make_queries(naive.conn)

    parse_times = []
    for query in queries:
        seconds, _ = common.timed(functools.partial(eocat.parse, query))
        parse_times.append(seconds)
    eocat.prepare(queries)

    log(f"query {common.size_label(n)}: checking {len(queries)} queries against the oracle ...")
    per_query: list[dict[str, Any]] = []
    engines: list[Any] = [eocat, naive, duck]
    for query in queries:
        expected = oracle(naive, query)
        got = {engine.name: engine.run(query) for engine in engines}
        record = {
            **asdict(query),
            "matches_exact": expected["exact_total"],
            "matches_bbox": expected["bbox_total"],
            "returned": {name: len(ids) for name, ids in got.items()},
            "eocat_exact_mismatch": int(got["eocat"] != expected["exact"]),
            "eocat_exact_differences": differences(got["eocat"], expected["exact"]),
            "naive_bbox_differences": differences(got["naive"], expected["bbox"]),
            "duckdb_bbox_differences": differences(got["duckdb"], expected["bbox"]),
            "naive_vs_eocat_differences": differences(got["naive"], got["eocat"]),
            "duckdb_vs_eocat_differences": differences(got["duckdb"], got["eocat"]),
            "times_ms": {},
        }
        per_query.append(record)

    # Timed rounds (the checking pass above doubles as the warm-up).
    with common.frozen_heap():
        timings: dict[str, list[float]] = {engine.name: [] for engine in engines}
        per_query_times: list[dict[str, list[float]]] = [{e.name: [] for e in engines} for _ in queries]
        for round_number in range(rounds):
            for engine in engines:
                log(f"query {common.size_label(n)}: {engine.name} round {round_number + 1}/{rounds} ...")
                for index, query in enumerate(queries):
                    seconds, _ = common.timed(functools.partial(engine.run, query))
                    timings[engine.name].append(seconds)
                    per_query_times[index][engine.name].append(seconds)
        count_times = []
        for index, query in enumerate(queries):
            seconds, matched = common.timed(functools.partial(eocat.count, query))
            count_times.append(seconds)
            per_query[index]["eocat_count"] = matched
            per_query[index]["count_matches_oracle"] = matched == per_query[index]["matches_exact"]
            per_query[index]["count_ms"] = round(seconds * 1000, 3)
            per_query[index]["times_ms"] = {
                name: round(statistics.median(values) * 1000, 3) for name, values in per_query_times[index].items()
            }
    for engine in engines:
        engine.close()

    stats = {name: common.summarize_ms(values) for name, values in timings.items()}
    stats["eocat_count"] = common.summarize_ms(count_times)
    stats["eocat_parse"] = common.summarize_ms(parse_times)
    eocat_median = stats["eocat"]["median_ms"]
    return {
        "n": n,
        "queries": len(queries),
        "rounds": rounds,
        "files_mib": {
            "eocat": round(common.file_size(eocat_path) / 2**20, 1),
            "naive": round(common.file_size(naive_path) / 2**20, 1),
            "parquet": round(parquet_path.stat().st_size / 2**20, 1),
        },
        "stats": stats,
        "ratios": {
            "naive_over_eocat_median": round(stats["naive"]["median_ms"] / eocat_median, 2),
            "duckdb_over_eocat_median": round(stats["duckdb"]["median_ms"] / eocat_median, 2),
            "naive_over_eocat_p95": round(stats["naive"]["p95_ms"] / stats["eocat"]["p95_ms"], 2),
            "duckdb_over_eocat_p95": round(stats["duckdb"]["p95_ms"] / stats["eocat"]["p95_ms"], 2),
        },
        "checks": {
            "eocat_exact_mismatches": sum(r["eocat_exact_mismatch"] for r in per_query),
            "eocat_count_mismatches": sum(not r["count_matches_oracle"] for r in per_query),
            "naive_bbox_differences": sum(r["naive_bbox_differences"] for r in per_query),
            "duckdb_bbox_differences": sum(r["duckdb_bbox_differences"] for r in per_query),
            "naive_vs_eocat_differences": sum(r["naive_vs_eocat_differences"] for r in per_query),
            "duckdb_vs_eocat_differences": sum(r["duckdb_vs_eocat_differences"] for r in per_query),
            "queries_with_full_page": sum(r["returned"]["eocat"] == LIMIT for r in per_query),
            "queries_with_no_result": sum(r["returned"]["eocat"] == 0 for r in per_query),
        },
        "per_query": per_query,
    }


def walk(n: int, *, rebuild: bool, collection: str | None, source: Path | None = None) -> dict[str, Any]:
    """Page through every item of one collection (or of all, ``None``), limit 100, timing each page
    (the store built from ``source``, by default ``common.dataset(n)``)."""
    from catalog.gc_pause import gc_paused
    from catalog.search import Query, count, search
    from catalog.store import Store

    store = Store(build_eocat(n, source or common.dataset(n), rebuild))
    query = Query.parse(collections=collection, limit=LIMIT)
    expected = count(store, query)
    log(f"walk {common.size_label(n)}: {expected:,} items of {collection or 'all collections'} ...")
    page_times: list[float] = []
    seen: set[str] = set()
    duplicates = 0
    ordered = True
    previous_time: str | None = None
    current = query
    # The walk asks whether page N costs what page 1 costs, a property of the store's keyset plan. With the
    # cyclic collector running, each full collection rescans ``seen`` and whatever else this process holds,
    # so late pages pay for the harness (make bench on c47f371, 1M over all items: 1.76 -> 3.69 ms a page,
    # where a process holding only the walk pages flat). Pages are acyclic dicts freed by reference counting.
    with gc_paused():
        started = time.perf_counter()
        while True:
            seconds, page = common.timed(functools.partial(search, store, current))
            page_times.append(seconds)
            for item in page.items:
                if item["id"] in seen:
                    duplicates += 1
                seen.add(item["id"])
                when = item["properties"].get("datetime") or item["properties"].get("start_datetime")
                when = canonical(when)
                if previous_time is not None and when is not None and when > previous_time:
                    ordered = False
                previous_time = when
            if page.next_token is None:
                break
            current = replace(query, token=page.next_token)
        total = time.perf_counter() - started
    store.close()
    first = statistics.median(page_times[:10]) * 1000
    last = statistics.median(page_times[-10:]) * 1000
    thirds = len(page_times) // 3 or 1
    return {
        "n": n,
        "collection": collection or "(all)",
        "expected": expected,
        "walked": len(seen),
        "pages": len(page_times),
        "duplicates": duplicates,
        "complete": len(seen) == expected and duplicates == 0,
        "in_order": ordered,
        "total_s": round(total, 3),
        "items_per_s": round(len(seen) / total, 1),
        "pages_stats": common.summarize_ms(page_times),
        "first10_median_ms": round(first, 3),
        "last10_median_ms": round(last, 3),
        "last_over_first": round(last / first, 3),
        "thirds_median_ms": [
            round(statistics.median(page_times[i * thirds : (i + 1) * thirds] or [0]) * 1000, 3) for i in range(3)
        ],
        "page_ms_every_100th": [round(t * 1000, 3) for t in page_times[::100]],
    }


def run(
    sizes: list[int], *, rounds: int = 3, rebuild: bool = False, do_walk: bool = True, echo: bool = True
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    results = [run_queries(n, rounds=rounds, rebuild=rebuild) for n in sizes]
    largest = results[-1] if results else None
    payload = {
        "benchmark": "query",
        "machine": common.machine_facts(),
        "method": {
            "query": f"collections + bbox + datetime + eo:cloud_cover < {CLOUD_MAX}, limit {LIMIT}, "
            "sorted by datetime desc",
            "queries": "50 deterministic boxes: 44 of 1-10 deg (2/3 around S2 footprints, 1/3 at random "
            "over land), 3 across the antimeridian, 3 continent-sized; windows of 1-12 months within the data; "
            "every 6th names a second collection",
            "engines": {
                "eocat": "catalog.search.search (parsed items returned); Query.parse timed separately",
                "naive": "plain SQLite table, no index, json_extract for eo:cloud_cover, bbox-column overlap",
                "duckdb": f"DuckDB over GeoParquet (zstd, sorted by collection, datetime; row groups "
                f"{ROW_GROUP_SIZE}), bbox-struct overlap; returns ids",
            },
            "timing": "one untimed checking pass (warm-up), then `rounds` timed passes per engine; "
            "median/p95 over every run",
            "checks": "oracle = naive table without LIMIT, rows tested with shapely (exact) or bbox overlap",
        },
        "sizes": results,
        "targets": {
            "query_median_ms": {
                "target": TARGET_MEDIAN_MS,
                "n": largest["n"] if largest else None,
                "measured": largest["stats"]["eocat"]["median_ms"] if largest else None,
                "met": bool(largest and largest["stats"]["eocat"]["median_ms"] <= TARGET_MEDIAN_MS),
            }
        },
    }
    common.write_result("query", payload)
    walk_payload = None
    if do_walk:
        walks = [walk(n, rebuild=False, collection=c) for n in sizes for c in WALKS]
        walk_payload = {
            "benchmark": "walk",
            "machine": common.machine_facts(),
            "method": {
                "query": f"every item of {MAIN_COLLECTION}, and every item of the store; no bbox, limit {LIMIT}, "
                "default sort (datetime desc); each page fetched with the previous page's next token",
                "slowing_down": f"last-10-pages median / first-10-pages median > {TARGET_WALK_RATIO}",
            },
            "sizes": walks,
            "targets": {
                "walk_not_slowing": {
                    "threshold_ratio": TARGET_WALK_RATIO,
                    "measured": [{"n": w["n"], "last_over_first": w["last_over_first"]} for w in walks],
                    "met": all(w["last_over_first"] <= TARGET_WALK_RATIO and w["complete"] for w in walks),
                }
            },
        }
        common.write_result("walk", walk_payload)
    if echo:
        print(summary(payload, walk_payload))
    return payload, walk_payload


WALK_HEADERS = ["size", "collection", "items", "pages", "median ms", "first10 ms", "last10 ms", "last/first",
                "complete", "ordered"]  # fmt: skip


def summary(payload: dict[str, Any], walk_payload: dict[str, Any] | None) -> str:
    rows = []
    for result in payload["sizes"]:
        for name in ("eocat", "eocat_count", "naive", "duckdb"):
            stat = result["stats"][name]
            ratio = None
            if name in ("naive", "duckdb"):
                ratio = result["ratios"][f"{name}_over_eocat_median"]
            label = common.size_label(result["n"])
            rows.append([label, name, stat["median_ms"], stat["p95_ms"], stat["max_ms"], ratio])
    lines = [
        f"Query (limit {LIMIT}, bbox+datetime+collection+eo:cloud_cover<{CLOUD_MAX}, "
        f"{payload['sizes'][0]['queries'] if payload['sizes'] else 0} queries)",
        common.table(rows, ["size", "engine", "median ms", "p95 ms", "max ms", "peer/eocat (median)"]),
    ]
    for result in payload["sizes"]:
        checks = result["checks"]
        lines.append(
            f"{common.size_label(result['n'])}: eocat vs exact oracle mismatches {checks['eocat_exact_mismatches']}, "
            f"count mismatches {checks['eocat_count_mismatches']}; peers vs bbox oracle: naive "
            f"{checks['naive_bbox_differences']}, duckdb {checks['duckdb_bbox_differences']}; "
            f"bbox-vs-geometry ids differing from eocat: naive {checks['naive_vs_eocat_differences']}, duckdb "
            f"{checks['duckdb_vs_eocat_differences']}; full pages {checks['queries_with_full_page']}, "
            f"empty {checks['queries_with_no_result']}"
        )
    target = payload["targets"]["query_median_ms"]
    lines.append(
        f"target median <= {TARGET_MEDIAN_MS} ms at {common.size_label(target['n'] or 0)}: "
        f"{'met' if target['met'] else 'MISSED'} ({target['measured']} ms)"
    )
    if walk_payload:
        rows = [
            [
                common.size_label(w["n"]), w["collection"], w["walked"], w["pages"], w["pages_stats"]["median_ms"],
                w["first10_median_ms"], w["last10_median_ms"], w["last_over_first"], w["complete"], w["in_order"],
            ]
            for w in walk_payload["sizes"]
        ]  # fmt: skip
        lines += [
            "",
            f"Keyset walk (limit {LIMIT})",
            common.table(rows, WALK_HEADERS),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=common.parse_sizes, help="item counts, e.g. 100k,1M")
    parser.add_argument("--quick", action="store_true", help="10k items: a smoke run")
    parser.add_argument("--rounds", type=int, help="timed passes over the query set per engine")
    parser.add_argument("--no-walk", action="store_true", help="skip the keyset walk")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached stores and peer copies")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(common.QUICK_SIZES if args.quick else common.DEFAULT_SIZES)
    common.QUICK = args.quick
    rounds = args.rounds or (1 if args.quick else 3)
    with common.exclusive_run():
        run(sizes, rounds=rounds, rebuild=args.rebuild, do_walk=not args.no_walk)


if __name__ == "__main__":
    main(sys.argv[1:])
