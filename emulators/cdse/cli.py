"""Command line of the CDSE emulator: ``serve(...)`` for callers, ``main(argv)`` for ``python -m``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from emulators.cdse.emulator import CdseEmulator
from emulators.cdse.synthetic import SyntheticProducts


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    products: SyntheticProducts | None = None,
    faults: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Serve in the foreground until Ctrl-C; prints the URLs (stderr) and ``export`` lines (stdout)."""
    emu = CdseEmulator(products=products, host=host, port=port, **options)
    emu.start()
    if faults:
        emu.faults.set(**faults)
    print(
        f"CDSE emulator on {emu.base_url}: {len(emu.store)} products, {len(emu.app.bursts)} bursts; Ctrl-C to stop",
        file=sys.stderr,
    )
    for key, value in emu.environment().items():
        print(f"export {key}={value}", flush=True)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def _parser(prog: str = "python -m emulators.cdse") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Serve the CDSE OData catalogue, token endpoint and download host on 127.0.0.1.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    data = p.add_argument_group("synthetic products")
    data.add_argument("--count", type=int, default=20_000, help="synthetic products to serve")
    data.add_argument("--seed", type=int, default=1, help="seed of the synthetic products")
    data.add_argument("--start", default="2021-01-01T00:00:00Z", help="first sensing time of the synthetic products")
    data.add_argument("--end", default="2026-01-01T00:00:00Z", help="end of the sensing times (exclusive)")
    data.add_argument("--collections", default="SENTINEL-1,SENTINEL-2,SENTINEL-3", help="comma-separated")
    data.add_argument("--product-types", default=None, help="comma-separated productType values to keep")
    data.add_argument("--bbox", default=None, help="W,S,E,N: footprint centres inside this box")
    data.add_argument(
        "--legacy-fraction", type=float, default=0.1, help="share of products in the older OData attribute layout"
    )
    data.add_argument(
        "--malformed-fraction",
        type=float,
        default=0.0,
        help="share of malformed records (harvests must count, not fail)",
    )
    data.add_argument("--payload-size", type=int, default=None, help="serve real payloads of up to N bytes")
    data.add_argument("--no-fixtures", action="store_true", help="leave out the recorded products")
    bursts = p.add_argument_group("bursts (/Bursts: the same recipe at the ASF emulator gives the same bursts)")
    bursts.add_argument("--burst-frames", type=int, default=4, help="parent-SLC slice locations (0 = none)")
    bursts.add_argument("--burst-seed", type=int, default=1, help="seed of the burst truth")
    bursts.add_argument("--burst-start", default="2021-01-01T00:00:00Z", help="first burst acquisition time")
    bursts.add_argument("--burst-end", default="2026-01-01T00:00:00Z", help="end of the burst acquisitions (exclusive)")
    bursts.add_argument("--burst-bbox", default=None, help="W,S,E,N: burst frame centres inside this box")
    auth = p.add_argument_group("identity")
    auth.add_argument("--access-lifetime", type=int, default=600, help="access token lifetime in seconds")
    auth.add_argument("--refresh-lifetime", type=int, default=3600, help="refresh token lifetime in seconds")
    auth.add_argument(
        "--check-credentials",
        action="store_true",
        help="accept only CDSE_USERNAME/CDSE_PASSWORD from the environment (default: any non-empty pair)",
    )
    fault = p.add_argument_group("faults")
    fault.add_argument("--rate-429", type=float, default=0.0, help="share of requests answered 429")
    fault.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with a 429")
    fault.add_argument("--rate-5xx", type=float, default=0.0, help="share of requests answered 5xx")
    fault.add_argument("--rate-drop", type=float, default=0.0, help="share of connections dropped")
    fault.add_argument("--rate-truncate", type=float, default=0.0, help="share of bodies cut short")
    fault.add_argument("--delay", type=float, default=0.0, help="seconds added to every response")
    fault.add_argument("--fault-seed", type=int, default=0, help="seed of the injected faults")
    fault.add_argument(
        "--range-mode",
        choices=("ignore", "honour", "reject"),
        default="ignore",
        help="how downloads answer Range requests",
    )
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` and serve; returns the exit code."""
    args = (_parser(prog) if prog else _parser()).parse_args(argv)
    credentials = None
    if args.check_credentials:
        user, password = os.environ.get("CDSE_USERNAME"), os.environ.get("CDSE_PASSWORD")
        if not user or not password:
            print("--check-credentials needs CDSE_USERNAME and CDSE_PASSWORD", file=sys.stderr)
            return 2
        credentials = {user: password}
    bbox = tuple(float(v) for v in args.bbox.split(",")) if args.bbox else None
    if bbox is not None and len(bbox) != 4:
        print("--bbox takes W,S,E,N", file=sys.stderr)
        return 2
    recipe = SyntheticProducts(
        seed=args.seed,
        count=args.count,
        start=args.start,
        end=args.end,
        collections=tuple(c.strip() for c in args.collections.split(",") if c.strip()),
        product_types=tuple(t.strip() for t in args.product_types.split(",")) if args.product_types else None,
        bbox=bbox,
        legacy_fraction=args.legacy_fraction,
        malformed_fraction=args.malformed_fraction,
        payload_size=args.payload_size,
    )
    faults = {
        "rate_429": args.rate_429,
        "retry_after": args.retry_after,
        "rate_5xx": args.rate_5xx,
        "rate_drop": args.rate_drop,
        "rate_truncate": args.rate_truncate,
        "delay_s": args.delay,
    }
    burst_bbox = tuple(float(v) for v in args.burst_bbox.split(",")) if args.burst_bbox else None
    if burst_bbox is not None and len(burst_bbox) != 4:
        print("--burst-bbox takes W,S,E,N", file=sys.stderr)
        return 2
    from emulators.s1truth import SyntheticBursts  # here: s1truth imports emulators.cdse.synthetic

    truth = SyntheticBursts(seed=args.burst_seed, frames=args.burst_frames, start=args.burst_start,
                            end=args.burst_end, bbox=burst_bbox) if args.burst_frames > 0 else None  # fmt: skip
    try:
        serve(
            args.host,
            args.port,
            products=recipe if args.count > 0 else None,
            faults=faults if any(faults[k] for k in faults if k != "retry_after") else None,
            include_fixtures=not args.no_fixtures,
            credentials=credentials,
            access_lifetime=args.access_lifetime,
            refresh_lifetime=args.refresh_lifetime,
            fault_seed=args.fault_seed,
            range_mode=args.range_mode,
            bursts=truth,
        )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
