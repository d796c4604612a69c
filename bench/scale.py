"""``make bench-scale``: the store at 10M items (or ``--size``): import, every query shape, a keyset walk,
an export and counts, each step in its own process so its peak RSS is its own; writes
``bench/results/scale.json`` (``scale-<size>.json`` for other sizes).

Data come from the deterministic generator (:func:`bench.common.dataset`). Correctness at scale is
checked on a sample of the shape queries against a brute-force oracle computed in one streaming pass
over the NDJSON (bbox arrays per chunk with numpy, exact shapely tests on the candidates).

    python -m bench.scale [--size 10M] [--placements 1] [--rounds 3] [--sample 12]
    python -m bench.scale --size 1M --only queries,oracle   # rerun steps (import too) into existing results
    python -m bench.scale --size 10M --compare 1M          # shape by shape, same queries at both sizes
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bench import common, shapes
from bench.common import log

LIMIT = shapes.LIMIT


def _child(module: str, *args: str) -> dict[str, Any]:
    import subprocess

    output = subprocess.run(
        [sys.executable, "-m", module, *args], check=True, capture_output=True, text=True, cwd=common.ROOT
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def _queries(placements: int) -> list[shapes.ShapeQuery]:
    """The same queries at every size: boxes centred on footprints of the generator's own first
    Sentinel-2 items, windows inside its archive (so 1M and 10M answer the very same questions)."""
    import inspect

    from eocat.samples import generate_items

    archive = inspect.signature(generate_items).parameters  # the datasets use its default start and end
    first, last = archive["start"].default, archive["end"].default
    boxes = [item["bbox"] for item in generate_items(14_000, common.SEED, kinds=("s2-l2a",))]
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes if b[0] <= b[2]]
    return shapes.shape_queries(first, last, centres[::7], placements)


def _source(n: int) -> Path:
    """The NDJSON every step reads: zstd-compressed at every size, as 10M must be, so the sizes compare."""
    return common.dataset(n, compressed=True)


def _store_path(n: int) -> Any:
    from bench.query import build_eocat

    return build_eocat(n, _source(n), False)


def child_queries(n: int, placements: int, rounds: int) -> dict[str, Any]:
    """Time every shape: page (limit 100), capped count, the API's numberMatched, exact count.

    Each run makes an untimed pass over every query before its timed rounds (``shapes.time_rounds``): the
    rounds then measure a store in use, not the first touch of each page of a file larger than the page
    cache holds comfortably (10M items: 13.8 GB; without a pass, the one cold call among nine set the p95
    of 10 shapes at 20-58 ms).
    """
    engine = shapes.Eocat(_store_path(n))
    queries = _queries(placements)
    parsed = [engine.parse(query) for query in queries]
    first_pages = {id(parsed_query): engine.first_page(parsed_query) for parsed_query in parsed}
    label = f"scale {common.size_label(n)}"
    pages: dict[str, shapes.Run] = {
        "eocat": lambda query, parsed_query: engine.page(parsed_query),
        "eocat_count_upto": lambda query, parsed_query: engine.count_upto(parsed_query),
        "eocat_api_count": lambda query, parsed_query: engine.api_count(parsed_query, first_pages[id(parsed_query)]),
    }
    pulse = [common.machine_pulse()]
    times = shapes.time_rounds(pages, queries, parsed, rounds, label)
    pulse.append(common.machine_pulse())
    exact: dict[str, shapes.Run] = {"eocat_count": lambda query, parsed_query: engine.count(parsed_query)}
    for name, entry in shapes.time_rounds(exact, queries, parsed, 1, label).items():  # once: large ones are slow
        times[name].update(entry)
    engine.close()
    shapes_ms = {name: {k: common.summarize_ms(v) for k, v in entry.items()} for name, entry in times.items()}
    answers: dict[str, list[int]] = {}  # items on each query's first page: sizes compare like with like
    for query, parsed_query in zip(queries, parsed, strict=True):
        answers.setdefault(query.shape.name, []).append(len(first_pages[id(parsed_query)].items))
    # pulse: before and after the pages and capped counts
    return {"shapes": shapes_ms, "answers": answers, "machine_pulse": pulse}


def child_oracle(n: int, placements: int, sample: int) -> dict[str, Any]:
    """Compare a sample of the shape queries with a brute-force pass over the NDJSON."""
    import shapely

    from catalog.ingest import open_bytes

    queries = _queries(placements)
    chosen = queries[:: max(1, len(queries) // sample)][:sample]
    areas = []
    for query in chosen:
        x0, y0, x1, y1 = query.bbox
        parts = [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)] if x0 > x1 else [(x0, y0, x1, y1)]
        area = shapely.union_all([shapely.box(*part) for part in parts])
        shapely.prepare(area)
        areas.append((parts, area))
    truth: list[list[tuple[str, str]]] = [[] for _ in chosen]
    with open_bytes(_source(n)) as stream:
        while chunk := stream.readlines(1 << 26):
            items = [orjson.loads(line) for line in chunk if line.strip()]
            boxes = np.array([_box(item) for item in items], dtype=float)
            for index, (query, (parts, area)) in enumerate(zip(chosen, areas, strict=True)):
                unwrapped = np.where(boxes[:, 0] > boxes[:, 2], boxes[:, 2] + 360, boxes[:, 2])
                hit = np.zeros(len(items), dtype=bool)
                for px0, _y0, px1, _y1 in parts:
                    for shift in (0.0, 360.0):
                        hit |= (boxes[:, 0] <= px1 + shift) & (unwrapped >= px0 + shift)
                hit &= (boxes[:, 1] <= max(p[3] for p in parts)) & (boxes[:, 3] >= min(p[1] for p in parts))
                for position in np.flatnonzero(hit):
                    item = items[position]
                    if query.collections and item["collection"] not in query.collections:
                        continue
                    properties = item["properties"]
                    if query.cloud and not (properties.get("eo:cloud_cover", 1e9) < shapes.CLOUD_MAX):
                        continue
                    when = shapes.canonical(properties.get("datetime") or properties.get("start_datetime"))
                    first = shapes.canonical(properties.get("start_datetime") or properties.get("datetime"))
                    last = shapes.canonical(properties.get("end_datetime") or properties.get("datetime"))
                    if query.start is not None and (
                        first is None or last is None
                        or first > (shapes.canonical(query.end) or "") or last < (shapes.canonical(query.start) or "")
                    ):  # fmt: skip
                        continue
                    geometry = item.get("geometry")
                    if geometry is None or not area.intersects(shapely.from_geojson(orjson.dumps(geometry).decode())):
                        continue
                    truth[index].append((when or "", item["id"]))
    engine = shapes.Eocat(_store_path(n))
    mismatches = []
    for query, expected in zip(chosen, truth, strict=True):
        expected.sort(reverse=True)
        parsed = engine.parse(query)
        page, total = engine.page(parsed), engine.count(parsed)
        if not shapes.page_matches(page, expected) or total != len(expected):
            mismatches.append(
                {"shape": query.shape.name, "bbox": query.bbox, "expected": len(expected), "count": total}
            )
    engine.close()
    return {"checked": len(chosen), "mismatches": len(mismatches), "details": mismatches}


def _box(item: dict[str, Any]) -> list[float]:
    bbox = item.get("bbox")
    if not bbox:
        return [np.nan] * 4
    return [bbox[0], bbox[1], bbox[3], bbox[4]] if len(bbox) == 6 else list(bbox[:4])


def child_walk(n: int) -> dict[str, Any]:
    """Keyset walk over every item of the main collection, 100 a page (``bench.query.walk``)."""
    from bench.query import walk

    return walk(n, rebuild=False, collection=shapes.MAIN, source=_source(n))


def child_export(n: int) -> dict[str, Any]:
    """Full GeoParquet export of the store, with its peak RSS."""
    from catalog.parquet.export import export_parquet
    from catalog.store import Store

    target = common.WORK / f"scale-export-{common.size_label(n)}"
    with Store(_store_path(n)) as store, common.MemorySampler() as sampler:
        report = export_parquet(store, target, full=True)
    return {"items": report.items, "seconds": round(report.seconds, 1),
            "items_per_s": round(report.items / max(report.seconds, 1e-9)), **sampler.report()}  # fmt: skip


def child_count(n: int) -> dict[str, Any]:
    from catalog.search import Query, count, count_upto
    from catalog.store import Store

    with Store(_store_path(n)) as store:
        total_s, total = common.timed(store.count_items)
        query = Query.parse(bbox=",".join(map(str, shapes.CONTINENT)))
        capped_s, capped = common.timed(functools.partial(count_upto, store, query, shapes.COUNT_CAP))
        exact_s, exact = common.timed(functools.partial(count, store, query))
    return {"items": total, "count_items_ms": round(total_s * 1000, 2), "continent_count": exact,
            "continent_count_ms": round(exact_s * 1000, 1), "continent_count_upto": capped,
            "continent_count_upto_ms": round(capped_s * 1000, 2)}  # fmt: skip


def compare(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Per shape, the larger store's page median over the smaller's, with both sizes' answers: a shape
    whose page is fuller at the larger size (more items in the same box and window) reads more to
    answer, so "no degradation" is judged on the shapes that answer alike."""
    rows = {}
    for name, entry in large["queries"]["shapes"].items():
        before = small["queries"]["shapes"].get(name)
        if before is None:
            continue
        small_answers = small["queries"].get("answers", {}).get(name)
        large_answers = large["queries"].get("answers", {}).get(name)
        rows[name] = {
            "small_ms": before["eocat"]["median_ms"],
            "large_ms": entry["eocat"]["median_ms"],
            "ratio": round(entry["eocat"]["median_ms"] / max(before["eocat"]["median_ms"], 1e-3), 2),
            "small_answers": small_answers,
            "large_answers": large_answers,
            "alike": small_answers is not None and small_answers == large_answers,
        }
    alike = [row["ratio"] for row in rows.values() if row["alike"]]
    return {
        "sizes": [small["n"], large["n"]],
        "shapes": rows,
        "alike": len(alike),
        "alike_over_1_5": sum(ratio > 1.5 for ratio in alike),
        "alike_worst_ratio": max(alike, default=None),
        "all_over_1_5": sum(row["ratio"] > 1.5 for row in rows.values()),
    }


def _compare_summary(result: dict[str, Any]) -> str:
    small, large = (common.size_label(n) for n in result["sizes"])
    rows = [
        [name, row["small_ms"], row["large_ms"], row["ratio"], row["small_answers"], row["large_answers"]]
        for name, row in sorted(result["shapes"].items(), key=lambda item: -item[1]["ratio"])
    ]
    headers = ["shape", f"{small} ms", f"{large} ms", "ratio", f"{small} items", f"{large} items"]
    return (
        common.table(rows, headers)
        + f"\nshapes answering alike at both sizes: {result['alike']}, over 1.5x: {result['alike_over_1_5']}"
        + f" (worst {result['alike_worst_ratio']}); all shapes over 1.5x: {result['all_over_1_5']}"
    )


def _result_name(n: int) -> str:
    return "scale" if n == 10_000_000 else f"scale-{common.size_label(n)}"


def _read_result(n: int) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((common.RESULTS / f"{_result_name(n)}.json").read_text())
    return result


def _run_step(n: int, step: str, args: argparse.Namespace) -> dict[str, Any]:
    """One step in a process of its own (so its peak RSS is its own); the import builds the store again."""
    if step == "import":
        return _child("bench.build_store", common.size_label(n), "--rebuild", "--zst")
    return _child("bench.scale", "--size", common.size_label(n), "--placements", str(args.placements),
                  "--rounds", str(args.rounds), "--sample", str(args.sample), "--child", step)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=common.parse_sizes, default=[10_000_000], help="items (default 10M)")
    parser.add_argument("--placements", type=int, default=1, help="queries per shape")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--sample", type=int, default=12, help="queries checked against the brute-force oracle")
    parser.add_argument("--child", choices=["queries", "oracle", "walk", "export", "count"], help=argparse.SUPPRESS)
    parser.add_argument("--only", help="rerun these steps (e.g. queries,oracle) into --size's existing results")
    parser.add_argument("--compare", type=common.parse_sizes, help="compare --size's results with this size's, "
                        "shape by shape (from bench/results; writes the comparison into --size's)")  # fmt: skip
    args = parser.parse_args(argv)
    (n,) = args.size
    if args.only:  # rerun these steps into the size's existing results (e.g. after a change to search)
        earlier = _read_result(n)
        with common.exclusive_run():
            for step in args.only.split(","):
                log(f"scale {common.size_label(n)}: {step} (again) ...")
                earlier[step] = _run_step(n, step, args)
                earlier[step]["machine"] = common.machine_facts()  # this step's own code revision
                common.write_result(_result_name(n), earlier)
        return
    if args.compare:
        (other,) = args.compare
        large = _read_result(n)
        large["compared"] = compare(_read_result(other), large)
        common.write_result(_result_name(n), large)
        print(_compare_summary(large["compared"]))
        return
    if args.child:
        functions = {
            "queries": lambda: child_queries(n, args.placements, args.rounds),
            "oracle": lambda: child_oracle(n, args.placements, args.sample),
            "walk": lambda: child_walk(n),
            "export": lambda: child_export(n),
            "count": lambda: child_count(n),
        }
        print(json.dumps(functions[args.child]()))
        return
    with common.exclusive_run():
        started = time.perf_counter()
        _source(n)
        label = common.size_label(n)
        name = _result_name(n)
        result: dict[str, Any] = {"benchmark": "scale", "machine": common.machine_facts(), "n": n, "complete": False}
        log(f"scale {label}: import ...")
        result["import"] = _run_step(n, "import", args)
        common.write_result(name, result)  # after every step: a run cut short keeps what it measured
        for step in ("queries", "oracle", "walk", "count", "export"):  # the longest last
            log(f"scale {label}: {step} ...")
            result[step] = _run_step(n, step, args)
            common.write_result(name, result)
        result["elapsed_s"] = round(time.perf_counter() - started, 1)
        result["complete"] = True
        common.write_result(name, result)
    worst = max(entry["eocat"]["median_ms"] for entry in result["queries"]["shapes"].values())
    print(f"scale {label}: import {result['import']['items_per_s']:,} items/s, peak RSS "
          f"{result['import']['peak_rss_mib']} MiB, {result['import']['bytes_per_item']} B/item; worst shape median "
          f"{worst} ms; oracle mismatches {result['oracle']['mismatches']}/{result['oracle']['checked']}; export "
          f"{result['export']['items_per_s']:,} items/s, peak RSS {result['export']['peak_rss_mib']} MiB")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
