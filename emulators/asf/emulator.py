"""``AsfEmulator``: the ASF SearchAPI for Sentinel-1 bursts on 127.0.0.1, in a background thread."""

from __future__ import annotations

from emulators.asf.app import AsfApp, Quota
from emulators.asf.records import AsfRecord, fixture_records
from emulators.cdse.faults import FaultPlan, RequestStats
from emulators.cdse.server import Served
from emulators.s1truth import SyntheticBursts, TruthBurst

SEARCH_PATH = "/services/search/param"


class AsfEmulator(Served):
    """A local stand-in for ``api.daac.asf.alaska.edu/services/search/param`` (bursts only).

    ``bursts``: the shared burst ground truth (its ASF part is served); ``include_fixtures``: add the
    recorded burst products. ``quota``: accepted queries per ``quota_window_s`` before 429 (ASF: 250 per
    minute; None = unlimited). Faults (429/5xx/drops/truncation/delays) as in the CDSE emulator.
    """

    thread_name = "asf-emulator"

    def __init__(
        self,
        bursts: SyntheticBursts | None = None,
        include_fixtures: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        quota: int | None = 250,
        quota_window_s: float = 60.0,
        fault_seed: int = 0,
    ) -> None:
        records = fixture_records() if include_fixtures else []
        self.truth: list[TruthBurst] = [b for b in bursts.generate() if b.at_asf] if bursts is not None else []
        records += [AsfRecord.from_truth(b) for b in self.truth]
        self.quota = Quota(quota, quota_window_s)
        self.app = AsfApp(records, self.quota)
        self.faults = FaultPlan(fault_seed)
        self.requests = RequestStats()
        self.host, self.port = host, port

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def search_url(self) -> str:
        """For ``EOCAT_ASF_SEARCH_URL``."""
        return f"{self.base_url}{SEARCH_PATH}"

    def environment(self) -> dict[str, str]:
        """The variables pointing eocat at this emulator."""
        return {"EOCAT_ASF_SEARCH_URL": self.search_url}

    def file_ids(self) -> list[str]:
        """Every served burst's fileID (ground truth)."""
        return [r.file_id for r in self.app.records]
