"""Build the cached eocat store of a bench data set in this process, reporting time and peak RSS.

python -m bench.build_store 1M     # writes bench/work/eocat-1M-....db, prints items/s and peak RSS
"""

from __future__ import annotations

import sys
import time

from bench import common
from bench.query import build_eocat


def main(argv: list[str]) -> None:
    (n,) = common.parse_sizes(argv[0])
    source = common.dataset(n)
    started = time.perf_counter()
    path = build_eocat(n, source, rebuild=len(argv) > 1 and argv[1] == "--rebuild")
    seconds = time.perf_counter() - started
    with open("/proc/self/status") as handle:
        status = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
    print(
        f"{path.name}: {seconds:.1f} s ({n / seconds:,.0f} items/s), peak RSS {status['VmHWM'].strip()}, "
        f"{common.file_size(path) / n:,.0f} B/item"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
