"""Harvest benchmarks (issue 3): CDSE harvest throughput against the emulator, and the translation rate.

    python -m bench.harvest [--count 100000] [--deadline SECONDS]

(a) end to end: the CDSE emulator runs in its own process on 127.0.0.1 with ``count`` synthetic
    Sentinel-2 products over two months (so windows must split); ``harvest_products`` stores
    them into a fresh catalogue (items/s, wall clock, including counts, paging, retries; the
    peak RSS of the process, which runs one count and the harvest first; the emulator's not counted).
(b) translation: the same pages (of 200,000 products at most) fetched once and kept as JSON bytes,
    then parsed, mapped (``product_to_item``) and stored into a fresh catalogue (records/s, JSON in ->
    items stored).
The peer for (b) is the bare floor of the same work: ``orjson.loads`` of the pages alone.
Writes ``bench/results/harvest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from bench import common
from catalog.store import Store
from indexer.cdse.client import CdseProducts, ProductQuery, harvest_products
from indexer.cdse.mapping import product_to_item
from indexer.harvest import Window

START, END = "2023-01-01T00:00:00.000000Z", "2023-03-01T00:00:00.000000Z"
TRANSLATE_SAMPLE = 200_000  # (b) keeps the pages of at most about this many products (10M would be 36 GB)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_emulator(count: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "emulators.cdse", "--port", str(port), "--count", str(count), "--seed", "7",
               "--start", START, "--end", END, "--collections", "SENTINEL-2", "--no-fixtures"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/odata/v1/Products?$top=0", timeout=2)
            return process, base
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the emulator did not start")


@contextlib.contextmanager
def _interrupted_after(seconds: float | None) -> Iterator[None]:
    """Ctrl-C (SIGINT) to this process after ``seconds``: a harvest stops as a user's would, keeping
    what it stored."""
    timer = None if seconds is None else threading.Timer(seconds, os.kill, [os.getpid(), signal.SIGINT])
    if timer is not None:
        # a process started in the background (nohup, `&`) inherits SIGINT ignored, and Python then
        # leaves it ignored: the deadline would pass unnoticed
        signal.signal(signal.SIGINT, signal.default_int_handler)
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def run(count: int, deadline: float | None = None) -> dict[str, Any]:
    process, base = _start_emulator(count)
    try:
        os.environ.update({"EOCAT_CDSE_CATALOGUE_URL": f"{base}/odata/v1",
                           "EOCAT_CDSE_DOWNLOAD_URL": f"{base}/zipper/odata/v1", "EOCAT_TOKEN_CACHE": "0"})  # fmt: skip
        path = common.fresh_path("harvest.db")
        complete = True
        with Store(path) as store, common.MemorySampler() as memory:
            began = time.perf_counter()
            try:
                with _interrupted_after(deadline):
                    report = harvest_products(store, ProductQuery("SENTINEL-2"), START, END, progress=False)
            except KeyboardInterrupt:
                complete = False
            harvest_s = time.perf_counter() - began
        harvest_memory = memory.report()  # before counting: a count(*) of 10M rows reads 120 MiB of pages
        with Store(path) as store:
            stored = store.count_items()
        common.log(
            f"harvest: {stored:,} items in {harvest_s:.1f} s" + ("" if complete else " (stopped at the deadline)")
        )
        harvested = {"items": stored, "complete": complete, "seconds": round(harvest_s, 2),
                     "items_per_s": round(stored / harvest_s), "peak_rss_mib": harvest_memory["peak_rss_mib"],
                     "peak_anon_mib": harvest_memory["peak_anon_mib"]}  # fmt: skip
        if complete:
            harvested.update(splits=report.splits, windows=report.windows)
        # (b) fetch the pages once, keep the bytes
        pages: list[bytes] = []
        with httpx.Client(timeout=120) as client:
            source = CdseProducts(client, ProductQuery("SENTINEL-2"), catalogue_url=f"{base}/odata/v1",
                                  download_url=f"{base}/zipper/odata/v1")  # fmt: skip
            windows, kept = [Window(START, END)], 0
            while windows and kept < TRANSLATE_SAMPLE:
                window = windows.pop()
                if source.count(window) > source.max_per_window:
                    windows.extend(window.split())
                    continue
                for fetched in source.fetch(window):
                    pages.append(orjson.dumps(fetched))
                    kept += len(fetched)
    finally:
        process.terminate()
        process.wait()
    records = sum(len(orjson.loads(page)) for page in pages)
    began = time.perf_counter()
    for page in pages:
        orjson.loads(page)
    parse_s = time.perf_counter() - began
    download = f"{base}/zipper/odata/v1"
    with Store(common.fresh_path("translate.db")) as store:
        began = time.perf_counter()

        def items() -> Any:
            for page in pages:
                for record in orjson.loads(page):
                    yield product_to_item(record, download_url=download, catalogue_url=f"{base}/odata/v1")

        written = store.upsert_items(items())
        translate_s = time.perf_counter() - began
    result = {
        "count": count,
        "harvest": harvested,
        "translate_and_store": {"records": records, "stored": written.inserted, "seconds": round(translate_s, 2),
                                "records_per_s": round(records / translate_s)},
        "peer_parse_only": {"seconds": round(parse_s, 2), "records_per_s": round(records / parse_s)},
        "targets": {"translate_records_per_s": {"target": 10_000, "measured": round(records / translate_s),
                                                "met": records / translate_s >= 10_000}},
    }  # fmt: skip
    return result


def measure(count: int, deadline: float | None = None) -> dict[str, Any]:
    """:func:`run` in a process of its own, so the peak RSS it reports is the harvest's alone."""
    return common.run_child(
        "bench.harvest", ["--child", str(count), *(["--deadline", str(deadline)] if deadline else [])]
    )


def summary(runs: list[dict[str, Any]]) -> str:
    rows = [[common.size_label(r["count"]), f"{r['harvest']['items_per_s']:,}",
             f"{r['harvest']['peak_rss_mib']}", f"{r['translate_and_store']['records_per_s']:,}",
             f"{r['peer_parse_only']['records_per_s']:,}"]
            for r in runs]  # fmt: skip
    headers = [
        "products",
        "harvest items/s",
        "harvest peak RSS MiB",
        "translate+store records/s",
        "parse only records/s",
    ]
    return "CDSE harvest against the emulator\n" + common.table(rows, headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.harvest", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=common.parse_sizes, default=[100_000], help="synthetic products, e.g. 100k")
    parser.add_argument("--deadline", type=float, help="stop each harvest after this many seconds (as Ctrl-C "
                        "would) and report what it stored: a 10M harvest's memory without its hours")  # fmt: skip
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(orjson.dumps(run(args.child, args.deadline)).decode())
        return 0
    payload: dict[str, Any] = {
        "benchmark": "harvest",
        "machine": common.machine_facts(),
        "runs": [measure(n, args.deadline) for n in args.count],
    }
    common.write_result("harvest", payload)
    print(summary(payload["runs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
