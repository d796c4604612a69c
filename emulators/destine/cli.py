"""Command line of the DestinE emulator (``python -m emulators.destine`` / ``eocat emulate destine``)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date

from emulators.destine.emulator import DestinEEmulator
from emulators.destine.video import VideoFormat


def _parser(prog: str = "eocat emulate destine") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8766, help="port to listen on (0 picks a free port)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 1, 1), help="first day of the streams")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2022, 3, 1), help="day after the last one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic NDVI")
    parser.add_argument("--codec", default="libx265", help="libx265 (HEVC, default) or ffv1")
    parser.add_argument("--container", default="mp4", help="mp4 (default), matroska or mpegts")
    parser.add_argument("--crf", type=int, help="lossy x265 at this CRF (default: lossless)")
    parser.add_argument("--start-offset", type=float, default=0.0, help="stream start time in seconds (TS: 1.4)")
    parser.add_argument("--token-lifetime", type=float, default=300.0, help="DESP access token life in seconds")
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` and serve until Ctrl-C or SIGTERM; returns the exit code."""
    args = (_parser(prog) if prog else _parser()).parse_args(argv)
    video = VideoFormat(codec=args.codec, container=args.container, crf=args.crf, start_offset=args.start_offset)
    emulator = DestinEEmulator(
        start=args.start,
        end=args.end,
        seed=args.seed,
        host=args.host,
        port=args.port,
        video=video,
        access_lifetime=args.token_lifetime,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        for name, value in emulator.environment().items():
            print(f"export {name}={value}", flush=True)
        counts = ", ".join(f"{name}: {len(stream)} frames" for name, stream in emulator.streams.items())
        print(f"# DestinE emulator on {emulator.base_url} ({counts}); Ctrl-C stops it", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0
