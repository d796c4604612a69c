"""Serve any emulator app (``handle(method, path, query, headers, body) -> Response``) on 127.0.0.1.

Reuses the CDSE emulator's threading server, so every host gets the same switchable faults
(429/5xx/drop/truncate/delay) and request counters.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol, cast

from emulators.cdse.app import Response
from emulators.cdse.faults import FaultPlan, RequestStats
from emulators.cdse.server import EmulatorServer


class App(Protocol):
    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response: ...


class Host:
    """One app on one port, in a daemon thread."""

    def __init__(self, app: App, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.name = name
        self.faults = FaultPlan()
        self.requests = RequestStats()
        self._server = EmulatorServer((host, port), cast(Any, self))
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
