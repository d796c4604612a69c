"""Command line of the ASF SearchAPI emulator (``python -m emulators.asf``, ``eocat emulate asf``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulators.asf.emulator import AsfEmulator
from emulators.s1truth import SyntheticBursts


def _parser(prog: str = "python -m emulators.asf") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Serve the ASF SearchAPI (Sentinel-1 bursts: /services/search/param) on 127.0.0.1.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--port", type=int, default=8766, help="0 picks a free port")
    data = p.add_argument_group("burst ground truth (the same recipe at the CDSE emulator gives the same bursts)")
    data.add_argument("--frames", type=int, default=4, help="parent-SLC slice locations (~1,600 bursts each a year)")
    data.add_argument("--seed", type=int, default=1, help="seed of the burst truth")
    data.add_argument("--start", default="2021-01-01T00:00:00Z", help="first burst acquisition time")
    data.add_argument("--end", default="2026-01-01T00:00:00Z", help="end of the burst acquisitions (exclusive)")
    data.add_argument("--bbox", default=None, help="W,S,E,N: frame centres inside this box")
    data.add_argument("--no-fixtures", action="store_true", help="leave out the recorded burst products")
    limits = p.add_argument_group("limits and faults")
    limits.add_argument("--quota", type=int, default=250, help="queries per minute before 429 (0 = unlimited)")
    limits.add_argument("--rate-429", type=float, default=0.0, help="share of requests answered 429")
    limits.add_argument("--rate-5xx", type=float, default=0.0, help="share of requests answered 5xx")
    limits.add_argument("--rate-drop", type=float, default=0.0, help="share of connections dropped")
    limits.add_argument("--delay", type=float, default=0.0, help="seconds added to every response")
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` and serve until Ctrl-C; returns the exit code."""
    args = (_parser(prog) if prog else _parser()).parse_args(argv)
    bbox = tuple(float(v) for v in args.bbox.split(",")) if args.bbox else None
    if bbox is not None and len(bbox) != 4:
        print("--bbox takes W,S,E,N", file=sys.stderr)
        return 2
    try:
        truth = SyntheticBursts(seed=args.seed, frames=args.frames, start=args.start, end=args.end,
                                bbox=bbox) if args.frames > 0 else None  # fmt: skip
        emulator = AsfEmulator(bursts=truth, include_fixtures=not args.no_fixtures, host=args.host, port=args.port,
                               quota=args.quota or None)  # fmt: skip
        emulator.start()
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.rate_429 or args.rate_5xx or args.rate_drop or args.delay:
        emulator.faults.set(rate_429=args.rate_429, rate_5xx=args.rate_5xx, rate_drop=args.rate_drop,
                            delay_s=args.delay)  # fmt: skip
    print(f"ASF SearchAPI emulator on {emulator.base_url}: {len(emulator.app.records)} bursts; Ctrl-C to stop",
          file=sys.stderr)  # fmt: skip
    for key, value in emulator.environment().items():
        print(f"export {key}={value}", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0
