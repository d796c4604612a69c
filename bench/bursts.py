"""Burst harvest benchmark (issue 4): CDSE Bursts then ASF SearchAPI into one collection, against the emulators.

    python -m bench.bursts [--frames 26]

Both emulators run in their own processes on 127.0.0.1 and serve the same burst ground truth
(``frames`` parent-SLC locations over 2024, ~1,600 bursts each). Measured, end to end (counts, paging
or count-first windows, translation, merge, SQLite): CDSE harvest into an empty catalogue, ASF harvest
merging into it, and a re-harvest of ASF where every item is unchanged. The peer is the products
harvest (``bench.harvest``): items/s of the same engine on CDSE Products. Writes ``bench/results/bursts.json``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from bench import common
from catalog.store import Store
from indexer.asf.client import AsfBurstQuery, harvest_asf_bursts
from indexer.cdse.bursts import BurstQuery, harvest_cdse_bursts

START, END = "2024-01-01T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(module: str, args: list[str], probe: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(probe, timeout=2)
            return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{module} did not start")


def run(frames: int) -> dict[str, Any]:
    cdse_port, asf_port = _free_port(), _free_port()
    truth = ["--start", START, "--end", END]
    cdse = _start("emulators.cdse", ["--port", str(cdse_port), "--count", "0", "--no-fixtures", "--burst-frames",
                                     str(frames), "--burst-start", START, "--burst-end", END],
                  f"http://127.0.0.1:{cdse_port}/odata/v1/Bursts?$top=0")  # fmt: skip
    asf = _start("emulators.asf", ["--port", str(asf_port), "--frames", str(frames), "--no-fixtures", "--quota", "0",
                                   *truth], f"http://127.0.0.1:{asf_port}/health")  # fmt: skip
    try:
        os.environ.update({"EOCAT_CDSE_CATALOGUE_URL": f"http://127.0.0.1:{cdse_port}/odata/v1",
                           "EOCAT_ASF_SEARCH_URL": f"http://127.0.0.1:{asf_port}/services/search/param",
                           "EOCAT_TOKEN_CACHE": "0"})  # fmt: skip
        with Store(common.fresh_path("bursts.db")) as store:
            timings = {}
            for name, harvest in (
                ("cdse", lambda: harvest_cdse_bursts(store, BurstQuery(), START, END, progress=False)),
                ("asf_merge", lambda: harvest_asf_bursts(store, AsfBurstQuery(), START, END, progress=False)),
                ("asf_again", lambda: harvest_asf_bursts(store, AsfBurstQuery(), START, END, progress=False,
                                                         restart=True)),
            ):  # fmt: skip
                began = time.perf_counter()
                report = harvest()
                seconds = time.perf_counter() - began
                timings[name] = {"records": report.received, "inserted": report.items.inserted,
                                 "updated": report.items.updated, "unchanged": report.items.unchanged,
                                 "windows": report.windows, "splits": report.splits, "seconds": round(seconds, 2),
                                 "records_per_s": round(report.received / seconds)}  # fmt: skip
                common.log(f"bursts {name}: {report.received:,} records in {seconds:.1f} s")
            items = store.count_items()
    finally:
        for process in (cdse, asf):
            process.terminate()
            process.wait()
    return {"frames": frames, "items": items, **timings}


def summary(runs: list[dict[str, Any]]) -> str:
    rows = [[f"{r['items']:,}", f"{r['cdse']['records_per_s']:,}", f"{r['asf_merge']['records_per_s']:,}",
             f"{r['asf_again']['records_per_s']:,}"] for r in runs]  # fmt: skip
    headers = ["bursts", "CDSE records/s", "ASF merge records/s", "ASF re-harvest records/s"]
    return "Burst harvests against the emulators\n" + common.table(rows, headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bursts", description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=26, help="parent-SLC locations (~1,600 bursts a year each)")
    args = parser.parse_args(argv)
    payload: dict[str, Any] = {"benchmark": "bursts", "machine": common.machine_facts(), "runs": [run(args.frames)]}
    common.write_result("bursts", payload)
    print(summary(payload["runs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
