"""``AsfEmulator``: the ASF SearchAPI for Sentinel-1 bursts on 127.0.0.1, in a background thread."""

from __future__ import annotations

import threading

from emulators.asf.app import AsfApp, Quota
from emulators.asf.records import AsfRecord, fixture_records
from emulators.cdse.faults import FaultPlan, RequestStats
from emulators.cdse.server import EmulatorServer
from emulators.s1truth import SyntheticBursts, TruthBurst

SEARCH_PATH = "/services/search/param"


class AsfEmulator:
    """A local stand-in for ``api.daac.asf.alaska.edu/services/search/param`` (bursts only).

    ``bursts``: the shared burst ground truth (its ASF part is served); ``include_fixtures``: add the
    recorded burst products. ``quota``: accepted queries per ``quota_window_s`` before 429 (ASF: 250 per
    minute; None = unlimited). Faults (429/5xx/drops/truncation/delays) as in the CDSE emulator.
    """

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
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> AsfEmulator:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            self._server = EmulatorServer((self.host, self.port), self)  # type: ignore[arg-type]
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="asf-emulator", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    def __enter__(self) -> AsfEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
