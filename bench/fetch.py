"""Fetch benchmark: one ≥ 1 GiB product from the CDSE emulator, ``eocat`` fetch vs ``curl`` on the same URL.

The emulator runs in its own process (so the server's CPU is not charged to either client); curl and eocat
fetch the same download-host URL alternately, ``rounds`` times each, best run kept. eocat's figure is the
whole fetch as a user gets it (token, request, streaming to a ``.part`` file, MD5 verification against
``file:checksum``, fsync, atomic rename, catalogue update); curl just writes the bytes. Peak resident memory
is the eocat process's own peak (``VmHWM``: ``ru_maxrss`` survives ``exec`` and would count the
parent). Targets: throughput ≥ 90 % of curl's, RSS < 150 MiB.

    python -m bench.fetch [--size BYTES] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bench import common

GIB = 1 << 30
SERVER = """
import json, sys
from emulators.cdse import CdseEmulator, SyntheticProducts
recipe = SyntheticProducts(seed=3, count=1, collections=("SENTINEL-2",), product_types=("S2MSI2A",),
                           payload_size=int(sys.argv[1]), legacy_fraction=0.0, offline_fraction=0.0)
emulator = CdseEmulator(products=recipe, include_fixtures=False).start()
import blake3
from emulators.cdse.download import payload_chunks
hasher = blake3.blake3()
for chunk in payload_chunks(emulator.store.products[0]):
    hasher.update(chunk)
print(json.dumps({"env": emulator.environment(), "records": emulator.records(), "blake3": hasher.hexdigest()}),
      flush=True)
sys.stdin.read()
"""
CLIENT = """
import json, sys
from catalog.fetch import fetch, registry
from catalog.store import Store
registry.load_plugins()  # imports are process start-up, as curl's loading is: not part of the timed fetch
report = fetch(Store(sys.argv[1]), sys.argv[2], asset="product", dest=sys.argv[3])
result = report.results[0]
# VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child of a big process would report the parent's size
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": result.status, "error": result.error, "size": result.size, "seconds": report.elapsed,
                  "maxrss_kib": peak_kib}))
"""


def default_dir() -> Path:
    """tmpfs when there is one: this VM's shared disk (~240 MB/s with fsync) would time the disk, not the clients."""
    shm = Path("/dev/shm")
    return shm / "eocat-bench-fetch" if shm.is_dir() and os.access(shm, os.W_OK) else common.WORK / "fetch"


def run(size: int = 2_200_000_000, rounds: int = 2, directory: Path | None = None) -> dict[str, Any]:
    """Serve a product of at least ``size // 2`` bytes and time both clients on it."""
    from catalog.fetch.verify import multihash
    from catalog.store import Store
    from indexer.cdse.mapping import collections, product_to_item

    work = directory or default_dir()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    common.log(f"fetch: starting the CDSE emulator (payload up to {size / GIB:.2f} GiB; MD5 computed once)")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(size)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              cwd=common.ROOT, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        env_urls: dict[str, str] = started["env"]
        record = started["records"][0]
        item = product_to_item(record, download_url=env_urls["EOCAT_CDSE_DOWNLOAD_URL"],
                               catalogue_url=env_urls["EOCAT_CDSE_CATALOGUE_URL"])  # fmt: skip
        twin = json.loads(json.dumps(item))  # the same bytes, verified with BLAKE3 instead of MD5
        twin["id"] += "-blake3"
        twin["assets"]["product"]["file:checksum"] = multihash("blake3", started["blake3"])
        with Store(work / "eocat.db") as store:
            for collection in collections(env_urls["EOCAT_CDSE_DOWNLOAD_URL"]):
                store.upsert_collection(collection)
            store.upsert_items([item, twin])
        product_size = int(item["assets"]["product"]["file:size"])
        href = item["assets"]["product"]["href"]
        token = httpx.post(env_urls["EOCAT_CDSE_TOKEN_URL"], data={"grant_type": "password", "username": "bench",
                           "password": "bench", "client_id": "cdse-public"}).json()["access_token"]  # fmt: skip
        env = {**os.environ, **env_urls, "CDSE_USERNAME": "bench", "CDSE_PASSWORD": "bench", "EOCAT_TOKEN_CACHE": "0"}
        curl_runs: list[dict[str, Any]] = []
        eocat_runs: list[dict[str, Any]] = []
        blake_runs: list[dict[str, Any]] = []
        for number in range(rounds):
            curl_runs.append(_curl(href, token, work / "curl.bin", product_size))
            eocat_runs.append(_eocat(work, item["id"], number, product_size, env))
            blake_runs.append(_eocat(work, twin["id"], number, product_size, env))
            common.log(f"fetch round {number + 1}: curl {curl_runs[-1]['mib_s']:.0f} MiB/s, "
                       f"eocat {eocat_runs[-1]['mib_s']:.0f} MiB/s (MD5), {blake_runs[-1]['mib_s']:.0f} MiB/s "
                       f"(BLAKE3), RSS {eocat_runs[-1]['rss_mib']:.0f} MiB")  # fmt: skip
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    curl_best = max(r["mib_s"] for r in curl_runs)
    md5_best = max(r["mib_s"] for r in eocat_runs)
    blake_best = max(r["mib_s"] for r in blake_runs)
    rss = max(r["rss_mib"] for r in eocat_runs + blake_runs)
    # each round runs the three clients back to back: per-round ratios resist a noisy shared machine
    md5_ratios = [e["mib_s"] / c["mib_s"] for e, c in zip(eocat_runs, curl_runs, strict=True)]
    blake_ratios = [e["mib_s"] / c["mib_s"] for e, c in zip(blake_runs, curl_runs, strict=True)]

    def target(best: float, ratios: list[float], verified: str) -> dict[str, Any]:
        median = statistics.median(ratios)
        return {"met": median >= 0.9, "median_round_ratio": round(median, 3), "best_ratio": round(best / curl_best, 3),
                "eocat_best_mib_s": round(best, 1), "curl_best_mib_s": round(curl_best, 1), "target": 0.9,
                "verified_with": verified}  # fmt: skip

    payload = {
        "benchmark": "fetch",
        "machine": common.machine_facts(),
        "directory": str(work),
        "load_average": os.getloadavg(),
        "bytes": product_size,
        "curl": curl_runs,
        "eocat_md5": eocat_runs,
        "eocat_blake3": blake_runs,
        "targets": {
            "fetch_vs_curl_md5": target(md5_best, md5_ratios, "MD5 (the file:checksum CDSE items carry)"),
            "fetch_vs_curl_blake3": target(blake_best, blake_ratios, "BLAKE3"),
            "fetch_rss": {"met": rss < 150, "rss_mib": round(rss, 1), "target_mib": 150},
        },
        "cpu_s_per_gib": {  # load-independent cost: CPU seconds (user + system) per GiB fetched, best run
            "curl": round(min(r["cpu_s_per_gib"] for r in curl_runs), 3),
            "eocat_md5": round(min(r["cpu_s_per_gib"] for r in eocat_runs), 3),
            "eocat_blake3": round(min(r["cpu_s_per_gib"] for r in blake_runs), 3),
        },
    }
    common.write_result("fetch", payload)
    return payload


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _curl(href: str, token: str, target: Path, size: int) -> dict[str, Any]:
    cpu = _children_cpu()
    out = subprocess.run(
        ["curl", "-sS", "--location-trusted", "-o", str(target), "-H", f"Authorization: Bearer {token}",
         "-w", "%{size_download} %{time_total}", href],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    cpu = _children_cpu() - cpu
    received, seconds = out.stdout.split()
    target.unlink()
    if int(received) != size:
        raise RuntimeError(f"curl received {received} of {size} bytes")
    return {"seconds": float(seconds), "mib_s": size / 2**20 / float(seconds), "cpu_s_per_gib": cpu / (size / GIB)}


def _eocat(work: Path, item_id: str, number: int, size: int, env: dict[str, str]) -> dict[str, Any]:
    dest = work / f"eocat-{number}"
    cpu = _children_cpu()
    out = subprocess.run([sys.executable, "-c", CLIENT, str(work / "eocat.db"), item_id, str(dest)], check=True,
                         capture_output=True, text=True, env=env, cwd=common.ROOT)  # fmt: skip
    cpu = _children_cpu() - cpu  # the whole process, start-up and imports included
    result = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(dest, ignore_errors=True)
    if result["status"] != "fetched" or result["size"] != size:
        raise RuntimeError(f"eocat fetch failed: {result}")
    return {
        "seconds": result["seconds"],
        "mib_s": size / 2**20 / result["seconds"],
        "rss_mib": result["maxrss_kib"] / 1024,
        "cpu_s_per_gib": cpu / (size / GIB),
    }


def summary(payload: dict[str, Any]) -> str:
    """A few lines for the ``make bench`` report."""
    t = payload["targets"]
    md5, blake = t["fetch_vs_curl_md5"], t["fetch_vs_curl_blake3"]
    cpu = payload["cpu_s_per_gib"]
    load = ", ".join(f"{x:.1f}" for x in payload["load_average"])
    return (
        f"fetch ({payload['bytes'] / GIB:.2f} GiB from the emulator to {payload['directory']}, "
        f"{len(payload['curl'])} rounds, load average {load}):\n"
        f"  curl                  best {md5['curl_best_mib_s']:7.1f} MiB/s\n"
        f"  eocat, MD5-verified   best {md5['eocat_best_mib_s']:7.1f} MiB/s; "
        f"median per-round ratio {md5['median_round_ratio']:.0%} of curl\n"
        f"  eocat, BLAKE3-verified best {blake['eocat_best_mib_s']:6.1f} MiB/s; "
        f"median per-round ratio {blake['median_round_ratio']:.0%} of curl\n"
        f"  eocat peak RSS {t['fetch_rss']['rss_mib']:.0f} MiB; CPU s/GiB: curl {cpu['curl']}, "
        f"eocat MD5 {cpu['eocat_md5']}, BLAKE3 {cpu['eocat_blake3']} (whole process)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2_200_000_000, help="payload bound: product in [size/2, size]")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", type=Path, help=f"scratch directory for both clients (default {default_dir()})")
    args = parser.parse_args(argv)
    with common.exclusive_run():
        payload = run(args.size, args.rounds, args.dir)
    print(summary(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
