"""ASF SearchAPI emulator for Sentinel-1 bursts on 127.0.0.1.

Serves the recorded burst products (``emulators/asf/fixtures``) and the ASF part of the shared burst
ground truth (:mod:`emulators.s1truth`), so the same burst appears here and at the CDSE emulator with
consistent identifiers::

    from emulators.asf import AsfEmulator
    from emulators.s1truth import SyntheticBursts

    truth = SyntheticBursts(seed=1, frames=13)          # ~20,000 bursts over 2024
    with AsfEmulator(bursts=truth, quota=250) as asf:
        asf.search_url                                  # http://127.0.0.1:PORT/services/search/param

From a shell: ``python -m emulators.asf --port 8766`` or ``eocat emulate asf``.
"""

from emulators.asf.cli import main
from emulators.asf.emulator import AsfEmulator

__all__ = ["AsfEmulator", "main"]
