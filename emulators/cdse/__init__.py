"""CDSE emulator: the OData catalogue, the Keycloak token endpoint and the zipper download host on 127.0.0.1.

Built from the recorded responses in ``emulators/cdse/fixtures`` (served verbatim when they match) plus
deterministic synthetic products at any scale, with switchable faults::

    from emulators.cdse import CdseEmulator, SyntheticProducts

    recipe = SyntheticProducts(seed=1, count=50_000, start="2023-01-01T00:00:00Z", end="2023-03-01T00:00:00Z")
    with CdseEmulator(products=recipe, include_fixtures=True, port=0) as emu:
        emu.catalogue_url   # http://127.0.0.1:PORT/odata/v1
        emu.token_url       # http://127.0.0.1:PORT/auth/realms/CDSE/protocol/openid-connect/token
        emu.download_url    # http://127.0.0.1:PORT/zipper/odata/v1
        emu.faults.set(rate_429=0.1, retry_after=1, rate_5xx=0.05)   # or emu.faults.fail_next(3, "drop")
        emu.records("Collection/Name eq 'SENTINEL-2'")               # ground truth
        emu.requests.count("/odata/v1/Products", status=429)

From a shell: ``python -m emulators.cdse --port 8765 --count 20000 --seed 1`` (see :func:`main`).
"""

from emulators.cdse.cli import main, serve
from emulators.cdse.emulator import CdseEmulator
from emulators.cdse.faults import FaultPlan, RequestStats
from emulators.cdse.synthetic import MALFORMATIONS, SyntheticProducts
from emulators.cdse.tokens import Clock

__all__ = [
    "MALFORMATIONS",
    "CdseEmulator",
    "Clock",
    "FaultPlan",
    "RequestStats",
    "SyntheticProducts",
    "main",
    "serve",
]
