"""Shared helpers for the benchmarks: cached data sets, timing, memory sampling, results.

Everything generated lives under ``bench/work/`` (git-ignored) and is keyed by what it was made
from (item count, seed and a hash of the generator's source), so a changed generator or a changed
store schema never reuses stale data. Results go to ``bench/results/<name>.json``.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
DATA = WORK / "data"
RESULTS = BENCH / "results"

DEFAULT_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000,)
SEED = 0
# Set by the --quick entry points: smoke runs write to bench/work/results-quick/, never over the real numbers.
QUICK = False


# -- sizes and names ---------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """``"100k,1M,25000"`` -> ``[100000, 1000000, 25000]``."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        factor = 1
        if part.endswith("k"):
            factor, part = 1_000, part[:-1]
        elif part.endswith("m"):
            factor, part = 1_000_000, part[:-1]
        sizes.append(int(float(part) * factor))
    return sizes


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def source_hash(*paths: Path, length: int = 10) -> str:
    """A short hash of source files' contents (missing files count as empty)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:length]


@functools.cache
def generator_hash() -> str:
    """Computed once per process: a run keeps using the data it started with even if the generator is edited."""
    return source_hash(*sorted((ROOT / "eocat" / "samples").glob("*.py")))


@functools.cache
def store_code_hash() -> str:
    """Hash of the catalog modules that decide what a store file contains (once per process)."""
    names = ("store.py", "migrations.py", "columns.py", "geo.py", "timeutil.py", "merge.py", "ingest.py",
             "bodies.py", "rtree_pack.py")  # fmt: skip
    return source_hash(*(ROOT / "catalog" / name for name in names))


# -- data sets -----------------------------------------------------------------------------------------


COMPRESSED_FROM = 2_000_000  # 10M items are 29 GB of NDJSON, 2.4 GB as zstd (read with catalog.ingest.open_bytes)


def dataset(n: int, seed: int = SEED, *, compressed: bool | None = None) -> Path:
    """An NDJSON file of ``n`` generated items (all kinds), generated once and cached (zstd from 2M items,
    or as ``compressed`` says)."""
    from eocat import samples

    DATA.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.zst" if (n >= COMPRESSED_FROM if compressed is None else compressed) else ".ndjson"
    path = DATA / f"items-{size_label(n)}-s{seed}-{generator_hash()}{suffix}"
    if path.exists():
        return path
    for stale in DATA.glob(f"items-{size_label(n)}-s{seed}-*{suffix}"):  # made by an older generator
        stale.unlink()
    tmp = path.with_name(path.name + ".tmp" + suffix)
    log(f"generating {n:,} items -> {path.relative_to(ROOT)} ...")
    started = time.perf_counter()
    if suffix == ".ndjson":
        written = samples.write_ndjson(tmp, n, seed=seed)
    else:
        import zstandard

        written = 0
        with open(tmp, "wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
            for item in samples.generate_items(n, seed):
                out.write(orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE))
                written += 1
    if written != n:
        log(f"note: generator wrote {written:,} items (asked for {n:,})")
    tmp.replace(path)
    log(f"generated in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 2**20:,.0f} MiB)")
    return path


def count_lines(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(1 for line in stream if line.strip())


def warm_file(path: Path) -> None:
    """Read a file once so every contender starts with it in the page cache."""
    with open(path, "rb") as stream:
        while stream.read(1 << 24):
            pass


def fresh_path(name: str) -> Path:
    """A path under bench/work/tmp with no file (and no WAL/SHM leftovers) at it."""
    directory = WORK / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def file_size(path: Path) -> int:
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())


# -- timing and statistics ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), like numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95, mean, min, max of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "runs": len(ms),
    }


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep what setup made (modules, stores, queries, oracle answers) out of the cyclic collector's reach
    while timing, as eocat's API server does once it has started (``gc.freeze`` in catalog.api.app).

    Wrap the timed rounds of a process that times queries in-process. Otherwise a full collection, which
    rescans every object the process holds, lands inside whichever call happens to run then: in
    ``bench.shapes`` at 1M, 4 of 1,500 timed calls held one of 16-39 ms (a continent page's p95 went from
    3.4 to 27 ms); frozen, full collections took 0.4-11 ms and no shape's p95 moved. It applies to every
    engine timed in the process alike. Unfrozen on leaving: with next to nothing left unfrozen, the
    collector runs full collections far more often, and a later step that grows a large container (the
    keyset walk's set of every id seen) would pay for rescanning it each time (1M walk: last pages 1.3 ->
    3.9 ms).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


# -- memory ---------------------------------------------------------------------------------------------


def proc_status() -> dict[str, int]:
    """VmRSS/VmHWM/RssAnon/RssFile/RssShmem of this process in KiB (Linux; empty elsewhere)."""
    fields: dict[str, int] = {}
    try:
        with open("/proc/self/status") as stream:
            for line in stream:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    fields[key] = int(value.split()[0])
    except OSError:
        pass
    return fields


def proc_io() -> dict[str, int]:
    """Bytes this process wrote through write() (``wchar``) and to storage (``write_bytes``), Linux."""
    fields: dict[str, int] = {}
    try:
        with open("/proc/self/io") as stream:
            for line in stream:
                key, _, value = line.partition(":")
                fields[key] = int(value)
    except OSError:
        pass
    return fields


class MemorySampler:
    """Samples this process's resident memory in a thread; reports peaks, split anon/file.

    ``peak_rss`` (VmHWM) counts file-backed pages too, e.g. SQLite's mmap of the
    database it writes; ``peak_anon`` is the heap (Python objects, SQLite page cache), which is
    what streaming has to keep bounded.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_anon = 0
        self.peak_file = 0
        self.baseline = proc_status()
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._wall = time.perf_counter()
        self._io = proc_io()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        status = proc_status()
        self.peak_anon = max(self.peak_anon, status.get("RssAnon", 0))
        self.peak_file = max(self.peak_file, status.get("RssFile", 0) + status.get("RssShmem", 0))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def report(self) -> dict[str, float]:
        status = proc_status()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_user_s": round(usage.ru_utime - self._usage.ru_utime, 3),
            "cpu_sys_s": round(usage.ru_stime - self._usage.ru_stime, 3),
            "wall_s": round(time.perf_counter() - self._wall, 3),
            "written_mib": round((proc_io().get("wchar", 0) - self._io.get("wchar", 0)) / 2**20, 1),
            # VmHWM only: ru_maxrss survives exec, so a child of a big process would report the parent's size
            "peak_rss_mib": round(status.get("VmHWM", 0) / 1024, 1),
            "peak_anon_mib": round(self.peak_anon / 1024, 1),
            "peak_file_mib": round(self.peak_file / 1024, 1),
            "baseline_rss_mib": round(self.baseline.get("VmRSS", 0) / 1024, 1),
        }


# -- subprocesses ---------------------------------------------------------------------------------------


def run_child(module: str, args: Sequence[str], *, timeout: float | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` and return the JSON object it prints as its last stdout line."""
    command = [sys.executable, "-m", module, *args]
    process = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{process.stderr[-4000:]}")
    lines = [line for line in process.stdout.splitlines() if line.strip()]
    return dict(json.loads(lines[-1]))


# -- machine facts and results -----------------------------------------------------------------------------


def _version(module: str) -> str | None:
    try:
        imported = __import__(module)
    except ImportError:
        return None
    return str(getattr(imported, "__version__", None))


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "catalog"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine_pulse() -> dict[str, float]:
    """How fast this machine runs right now: the best of five timings of a pure-Python loop (CPU), a random
    gather over 256 MiB (memory latency) and 20,000 reads of 16 KiB from a cached file (the kernel's copy:
    SQLite reads the pages past its mmap window so), in ms. This machine's speed drifts from minute to
    minute (at 10M items, the same query step on the same store gave a sum of shape medians of 227 ms,
    then 113 ms two minutes later); results record the pulse next to their timings so runs can be
    compared."""
    import numpy as np

    def loop() -> None:
        total = 0
        for number in range(1_000_000):
            total += number

    table = np.arange(32 * 2**20, dtype=np.int64)  # 256 MiB
    picks = np.random.default_rng(0).integers(0, len(table), 2_000_000)
    with tempfile.TemporaryFile(dir=WORK) as file:
        file.write(table[: 8 * 2**20].tobytes())  # 64 MiB
        file.flush()
        offsets = [int(block) * 16384 for block in picks[:20_000] % 4096]

        def reads() -> None:
            for offset in offsets:
                os.pread(file.fileno(), 16384, offset)

        reads()
        pread_ms = min(timed(reads)[0] for _ in range(5)) * 1000
    return {
        "python_loop_ms": round(min(timed(loop)[0] for _ in range(5)) * 1000, 2),
        "memory_gather_ms": round(min(timed(lambda: table[picks].sum())[0] for _ in range(5)) * 1000, 2),
        "pread_16k_x20000_ms": round(pread_ms, 2),
    }


def machine_facts() -> dict[str, Any]:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = None
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "duckdb": _version("duckdb"),
        "pyarrow": _version("pyarrow"),
        "orjson": _version("orjson"),
        "shapely": _version("shapely"),
        "git": _git_revision(),
        "catalog_hash": store_code_hash(),
        "generator_hash": generator_hash(),
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    directory = WORK / "results-quick" if QUICK else RESULTS
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    log(f"wrote {path.relative_to(ROOT)}")
    return path


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain-text table (right-aligned numbers)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows, strict=True):
        lines.append(
            "  ".join(
                c.rjust(w) if isinstance(v, int | float) else c.ljust(w)
                for c, w, v in zip(row, widths, raw, strict=True)
            )
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


@contextmanager
def exclusive_run() -> Iterator[None]:
    """Hold bench/work/.lock: two benchmark runs at once would share scratch files and both CPUs."""
    import fcntl

    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            log(f"another benchmark run holds bench/work/.lock ({handle.read().strip() or 'unknown'}); waiting ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}: {' '.join(sys.argv)}")
        handle.flush()
        yield


@contextmanager
def chdir(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def disk_free_gib(path: Path = WORK) -> float:
    path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(path).free / 2**30


def sized_bench_main(
    prog: str, doc: str, argv: list[str] | None, run: Callable[..., Any], child_main: Callable[[list[str]], None]
) -> None:
    """The command line of a benchmark over item counts with child processes (``--child`` re-enters)."""
    import argparse

    global QUICK
    args_list = sys.argv[1:] if argv is None else argv
    if args_list and args_list[0] == "--child":
        child_main(args_list)
        return
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, help="item counts, e.g. 100k,1M (default)")
    parser.add_argument("--quick", action="store_true", help="10k items: checks that it all works")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args(args_list)
    QUICK = args.quick
    sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    with exclusive_run():
        run(sizes, queries=args.queries, rounds=1 if args.quick else 2)
