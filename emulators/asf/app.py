"""Routing and handlers of the ASF SearchAPI emulator, independent of sockets (method, path, query -> Response)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import orjson

from emulators.asf import search
from emulators.asf.records import AsfRecord, jsonlite_row
from emulators.cdse.app import Response

SEARCH_PATHS = ("/services/search/param", "/services/search/param/")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Content-Disposition"}
RATE_LIMITED = "Rate limited, please reduce your request rate to {quota}/minute or less"


def error(status: int, report: str) -> Response:
    """SearchAPI's error body ``{"error":{"type":"ERROR","report":…}}``."""
    body = orjson.dumps({"error": {"type": "ERROR", "report": report}})
    return Response(status, body, {"Content-Type": "application/json", **CORS})


class Quota:
    """At most ``limit`` accepted queries per ``window_s`` seconds (ASF: 250 per minute per IP)."""

    def __init__(self, limit: int | None, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self) -> float | None:
        """None if the query may run (and counts it), else the seconds until it may."""
        if self.limit is None:
            return None
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.window_s:
                self._times.popleft()
            if len(self._times) >= self.limit:
                self.refused += 1
                return self._times[0] + self.window_s - now
            self._times.append(now)
            return None


class AsfApp:
    """The emulated SearchAPI over a fixed list of burst records."""

    def __init__(self, records: list[AsfRecord], quota: Quota) -> None:
        self.records = records
        self.quota = quota

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Route one request."""
        if path == "/health":
            return Response(200, b'{"status": "ok"}', {"Content-Type": "application/json", **CORS})
        if path not in SEARCH_PATHS:
            return error(404, f"Not Found: {path}")
        if method not in ("GET", "HEAD", "POST"):
            return error(405, f"Method {method} not allowed")
        wait = self.quota.admit()
        if wait is not None:
            text = RATE_LIMITED.format(quota=self.quota.limit).encode()
            return Response(429, text, {"Content-Type": "text/plain", "Retry-After": str(math.ceil(wait)), **CORS})
        pairs = parse_qsl(query, keep_blank_values=True)
        if method == "POST" and body:
            content_type = (headers.get("content-type") or headers.get("Content-Type") or "").lower()
            try:
                if "json" in content_type:
                    pairs += search.as_pairs(json.loads(body))
                else:
                    pairs += parse_qsl(body.decode(), keep_blank_values=True)
            except (ValueError, AttributeError):
                return error(400, "ValueError('Could not parse the request body')")
        try:
            wanted = search.parse(pairs)
            hits, total = search.respond(wanted, self.records)
        except search.SearchError as exc:
            return error(400, exc.report)
        return self._render(wanted.output, hits, total)

    def _render(self, output: str, hits: list[AsfRecord], total: int) -> Response:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
        if output == "count":
            return Response(200, str(total).encode(), {"Content-Type": "text/html; charset=utf-8", **CORS})
        if output == "geojson":
            features = [r.feature() for r in hits]
            text = json.dumps({"type": "FeatureCollection", "features": features}, indent=4)
            return Response(200, text.encode(), {
                "Content-Type": "application/geo+json; charset=utf-8",
                "Content-Disposition": f"attachment; filename=asf-results-{stamp}.geojson", **CORS,
            })  # fmt: skip
        rows = [jsonlite_row(r.feature()) for r in hits]
        text = json.dumps({"results": rows}, sort_keys=True, indent=2)
        return Response(200, text.encode(), {
            "Content-Type": "application/json",
            "Content-Disposition": f"attachment; filename=asf-results-{stamp}.json", **CORS,
        })  # fmt: skip
