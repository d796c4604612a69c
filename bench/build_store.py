"""Build the cached eocat store of a bench data set in this process, reporting time and peak RSS.

python -m bench.build_store 1M     # writes bench/work/eocat-1M-....db, prints items/s and peak RSS
python -m bench.build_store 1M --rebuild --zst   # builds it again, from the zstd-compressed input
"""

from __future__ import annotations

import json
import sys
import time

from bench import common
from bench.ingest import ChildrenMemory
from bench.query import build_eocat


def main(argv: list[str]) -> None:
    (n,) = common.parse_sizes(argv[0])
    source = common.dataset(n, compressed=True if "--zst" in argv else None)
    started = time.perf_counter()
    with ChildrenMemory() as workers:  # the import's worker processes (catalog.ingest_pipeline)
        path = build_eocat(n, source, rebuild="--rebuild" in argv)
    seconds = time.perf_counter() - started
    with open("/proc/self/status") as handle:
        status = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
    result = {
        "n": n, "store": path.name, "input": source.name,
        "seconds": round(seconds, 1), "items_per_s": round(n / seconds),
        "peak_rss_mib": round(int(status["VmHWM"].split()[0]) / 1024, 1),
        "workers_peak_rss_mib": round(workers.peak_kib / 1024, 1),
        "bytes_per_item": round(common.file_size(path) / n, 1),
    }  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
