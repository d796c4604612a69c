"""Every upstream stand-in at once (``eocat emulate all``): CDSE, ASF SearchAPI + burst extractor +
Earthdata Login, DestinE, on free ports of 127.0.0.1, with the default synthetic data of DESIGN.md.

The CDSE and ASF emulators serve the same burst truth, so the same bursts appear at both, as in reality.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from emulators.asf import AsfEmulator
from emulators.asf_extractor import AsfExtractorEmulator, burst_names
from emulators.cdse import CdseEmulator, SyntheticProducts
from emulators.destine import DestinEEmulator
from emulators.s1truth import SyntheticBursts


@contextlib.contextmanager
def everything(products: int = 20_000, burst_frames: int = 4) -> Iterator[dict[str, str]]:
    """Start every emulator; yield the environment that points eocat at all of them."""
    truth = SyntheticBursts(seed=1, frames=burst_frames, start="2021-01-01T00:00:00Z", end="2026-01-01T00:00:00Z")
    recipe = SyntheticProducts(seed=1, count=products, start="2021-01-01T00:00:00Z", end="2026-01-01T00:00:00Z",
                               payload_size=20_000_000)  # fmt: skip
    with (
        CdseEmulator(products=recipe, bursts=truth, range_mode="honour") as cdse,
        AsfEmulator(bursts=truth) as asf,
        AsfExtractorEmulator(names=burst_names(truth)) as extractor,
        DestinEEmulator() as destine,
    ):
        yield {**cdse.environment(), **asf.environment(), **extractor.environment(), **destine.environment()}


def serve_all(products: int = 20_000, burst_frames: int = 4) -> None:
    """Serve until Ctrl-C; ``export`` lines on stdout (credential variables included: the emulators'
    own throw-away accounts), progress on stderr."""
    with everything(products, burst_frames) as environment:
        print("all emulators up on 127.0.0.1 (CDSE, ASF SearchAPI + extractor + EDL, DestinE); Ctrl-C to stop",
              file=sys.stderr)  # fmt: skip
        for key, value in environment.items():
            print(f"export {key}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
