"""``eocat emulate``: local stand-ins for the upstream services on 127.0.0.1 (tests, demos, benchmarks).

Each emulator has its own argument parser (it also runs as ``python -m emulators.X``); these commands
pass their arguments through and name themselves ``eocat emulate X`` in its usage line.
"""

from __future__ import annotations

import sys

import click

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.group()
def emulate() -> None:
    """Serve a local stand-in for an upstream on 127.0.0.1 (for tests, demos, benchmarks)."""


@emulate.command("cdse", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_cdse(args: tuple[str, ...]) -> None:
    """The CDSE OData catalogue, identity and download services (--help for its options)."""
    from emulators.cdse import main as serve_cdse

    sys.exit(serve_cdse(list(args), prog="eocat emulate cdse"))


@emulate.command("asf", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_asf(args: tuple[str, ...]) -> None:
    """The ASF SearchAPI for Sentinel-1 bursts (--help for its options)."""
    from emulators.asf import main as serve_asf

    sys.exit(serve_asf(list(args), prog="eocat emulate asf"))


@emulate.command("destine", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulate_destine(args: tuple[str, ...]) -> None:
    """The DestinE streamer (metadata, video streams) and DESP login (--help for its options)."""
    from emulators.destine import main as serve_destine

    sys.exit(serve_destine(list(args), prog="eocat emulate destine"))


@emulate.command("all")
@click.option("--products", default=20_000, show_default=True, help="Synthetic CDSE products (2021-2025, worldwide).")
@click.option("--burst-frames", default=4, show_default=True, help="Burst frame locations of the CDSE/ASF truth.")
def emulate_all(products: int, burst_frames: int) -> None:
    """Every stand-in at once: CDSE, ASF (SearchAPI, extractor, Earthdata Login) and DestinE."""
    from emulators.everything import serve_all

    serve_all(products, burst_frames)
