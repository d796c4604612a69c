"""Time and peak memory of ``eocat ard`` per GRD (issue 17): ``python -m bench.ard [--slice-lines 200]``.

Two products from the GRD emulator, each terrain-corrected (gamma0 RTC, noise removal, layover/shadow
mask, COG written) in a fresh subprocess that reports wall time and peak RSS (``VmHWM``):

* ``emulator``: the test/demo size (300 lines × 400 samples at 20 m, 6 × 8 km) on a 20 m UTM DEM;
* ``slice``: a full-width IW swath (25,000 samples at 10 m = 250 km, ``--slice-lines`` lines) flown
  north-south so the DEM grid hugs the strip; a full IW GRD (250 × 170 km, ~16,700 lines) is extrapolated
  from it linearly in output pixels (time and memory above the emulator-size baseline).

Results go to ``bench/results/ard.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "ard.json"
FULL_IW = (250_000.0, 170_000.0)  # metres across × along track of a full IW GRD


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(case: str, lines: int, work: str) -> None:
    import numpy as np

    from emulators.cdse.grd.safe import GrdScene, render_safe
    from processing.ard import terrain_correct, write_cog
    from processing.dem import grid_for, write_dem

    start = datetime(2024, 6, 4, 5, 26, 23, tzinfo=UTC)
    if case == "emulator":
        scene = GrdScene(lon=11.0, lat=46.5, start=start, polarizations=("VV",), noise=0.2)
        resolution = 20.0
    else:
        scene = GrdScene(
            lon=11.0, lat=46.5, start=start, polarizations=("VV",), noise=0.2, lines=lines,
            samples=25_000, spacing=10.0, track_heading=0.0, targets=(), ground_offset=430_000.0,
        )  # fmt: skip
        resolution = 20.0
    root = Path(work) / scene.name
    for path, data in render_safe(scene).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    grid = grid_for(scene.corners(), "utm", resolution)
    dem = write_dem(Path(work) / "dem.tif", np.zeros((grid.height, grid.width)), grid)
    began, cpu = time.perf_counter(), time.process_time()
    result = terrain_correct(root, "VV", dem, "gamma0_rtc")
    write_cog(Path(work) / "out.tif", result.values, grid.crs, grid.transform, float("nan"))
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    valid = int(np.isfinite(result.values).sum())
    print(json.dumps({"case": case, "lines": scene.lines, "samples": scene.samples, "spacing_m": scene.spacing,
                      "grid": [grid.height, grid.width], "valid_pixels": valid, "seconds": round(seconds, 2),
                      "cpu_seconds": round(cpu_seconds, 2),
                      "peak_rss_mb": round(_peak_rss_mb(), 1)}))  # fmt: skip


def run_case(case: str, lines: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="eocat-bench-ard-") as work:
        out = subprocess.run([sys.executable, "-m", "bench.ard", "--child", case, "--slice-lines", str(lines),
                              "--work", work], check=True, capture_output=True, text=True).stdout  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice-lines", type=int, default=200)
    parser.add_argument("--child")
    parser.add_argument("--work")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.slice_lines, args.work)
        return 0
    small = run_case("emulator", args.slice_lines)
    strip = run_case("slice", args.slice_lines)
    full_pixels = FULL_IW[0] * FULL_IW[1] / 20.0**2
    factor = full_pixels / strip["valid_pixels"]
    extrapolated = {
        "valid_pixels": int(full_pixels),
        "seconds": round(small["seconds"] + (strip["seconds"] - small["seconds"]) * factor, 0),
        "cpu_seconds": round(small["cpu_seconds"] + (strip["cpu_seconds"] - small["cpu_seconds"]) * factor, 0),
        "peak_rss_mb": round(small["peak_rss_mb"] + (strip["peak_rss_mb"] - small["peak_rss_mb"]) * factor, 0),
    }
    report = {"machine": platform.machine(), "python": platform.python_version(), "emulator": small,
              "slice": strip, "full_iw_grd_extrapolated_20m": extrapolated}  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
