"""Timescan peak memory vs the number of frames (issue 6): ``python -m bench.timescan_memory [--frames 10,200]``.

Starts the DestinE emulator (lossless 12-bit HEVC/MP4, Europe grid 280x152), harvests enough frames, then
runs the timescan (avg, max, min, std, cov; frames decoded from the stream over HTTP) in a fresh
subprocess per frame count, reporting the child's peak RSS (``VmHWM``) and tracemalloc's peak of
Python/numpy allocations. Results go to ``bench/results/timescan_memory.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import tracemalloc
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "timescan_memory.json"


def child(db: str, frames: int, out: str) -> None:
    from catalog.search import Query, iter_items
    from catalog.store import Store
    from indexer.destine.timescan import run_timescan

    with Store(db) as store:
        query = Query.parse(collections="destine-s3-ndvi", sortby="datetime", filter="\"destine:continent\" = 'Europe'")
        items = (item for _, item in zip(range(frames), iter_items(store, query), strict=False))
        tracemalloc.start()
        report = run_timescan(items, ["avg", "max", "min", "std", "cov"], out)
        _, peak = tracemalloc.get_traced_memory()
    print(
        json.dumps(
            {
                "frames": report.frames,
                "tracemalloc_peak_mb": round(peak / 1e6, 2),
                "max_rss_mb": round(_peak_kib() / 1024, 1),
            }
        )
    )


def _peak_kib() -> int:
    """This process's own peak RSS (VmHWM; ru_maxrss survives exec and would count the parent)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", default="10,200")
    parser.add_argument("--child", nargs=3, metavar=("DB", "N", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return 0
    from catalog.store import Store
    from emulators.destine import DestinEEmulator
    from indexer.auth import Credentials
    from indexer.destine.auth import DespTokenProvider
    from indexer.destine.client import harvest_frames

    counts = [int(n) for n in args.frames.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as work, DestinEEmulator(start=date(2021, 3, 1), end=date(2021, 8, 1)) as emu:
        db = os.path.join(work, "e.db")
        with (
            Store(db) as store,
            DespTokenProvider(Credentials("u", "p"), auth_url=emu.auth_url, streamer_url=emu.base_url) as tokens,
        ):
            harvest_frames(
                store,
                "Europe",
                "2021-03-01T00:00:00Z",
                "2021-08-01T00:00:00Z",
                tokens=tokens,
                streamer_url=emu.base_url,
                progress=False,
            )
        for count in counts:
            command = [
                sys.executable,
                "-m",
                "bench.timescan_memory",
                "--child",
                db,
                str(count),
                os.path.join(work, f"ts{count}.tif"),
            ]
            result = subprocess.run(command, check=True, capture_output=True, text=True)
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python -m bench.timescan_memory --frames " + args.frames,
                "grid": "280x152 (Europe)",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
