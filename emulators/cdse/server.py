"""HTTP plumbing: a threading stdlib server that applies faults, counts requests and serves :class:`CdseApp`."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote, urlsplit

import orjson

from emulators.cdse.app import Response, json_response
from emulators.cdse.faults import Fault

if TYPE_CHECKING:
    from emulators.cdse.emulator import CdseEmulator

log = logging.getLogger("emulators.cdse")

_GATEWAY = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def fault_response(fault: Fault) -> Response:
    """The response of an injected 429/5xx (429 and 500 in JSON, 502/503 as a proxy's HTML page)."""
    if fault.kind == "429":
        return json_response(429, {"detail": "Too Many Requests"}, {"Retry-After": str(fault.retry_after)})
    if fault.kind == "500":
        return json_response(500, {"detail": "Internal Server Error"})
    reason = {"502": "Bad Gateway", "503": "Service Temporarily Unavailable"}[fault.kind]
    html = _GATEWAY.format(code=fault.kind, reason=reason).encode()
    headers = {"Content-Type": "text/html"}
    if fault.kind == "503":
        headers["Retry-After"] = str(fault.retry_after)
    return Response(int(fault.kind), html, headers)


class Served:
    """Lifecycle of an emulator served by :class:`EmulatorServer` in a daemon thread.

    The emulator provides ``host``, ``port``, ``app``, ``faults`` and ``requests``, and may override
    :meth:`_bound` (called once the port is known, before serving starts).
    """

    host: str
    port: int
    thread_name = "emulator"
    _server: EmulatorServer | None = None
    _thread: threading.Thread | None = None

    def _bound(self) -> None:
        """Hook: the port is bound (``self.port`` is final); nothing is served yet."""

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            self._server = EmulatorServer((self.host, self.port), self)  # type: ignore[arg-type]
            self.port = self._server.server_address[1]
            self._bound()
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.thread_name, daemon=True
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmulatorServer(ThreadingHTTPServer):
    """Threading HTTP server bound to one emulator."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: CdseEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """One connection (HTTP/1.1 keep-alive); every request goes through the fault plan first."""

    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    timeout = 60

    def setup(self) -> None:
        super().setup()
        # one small write for headers, another for the body: without this, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _serve(self, method: str) -> None:
        emu = self.server.emulator
        split = urlsplit(self.path)
        path = unquote(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        fault = emu.faults.decide(method, path, self.path)
        if fault.delay_s > 0:
            time.sleep(fault.delay_s)
        if fault.kind == "drop":
            emu.requests.record(path, 0, "drop")
            self.close_connection = True
            self._abort()
            return
        if fault.kind in ("429", "500", "502", "503"):
            response = fault_response(fault)
        else:
            try:
                response = emu.app.handle(method, path, split.query, dict(self.headers.items()), body)
            except Exception as exc:  # a bug in the emulator must not kill the connection silently
                log.exception("emulator error on %s %s", method, self.path)
                response = Response(500, orjson.dumps({"detail": f"emulator error: {exc}"}))
        emu.requests.record(path, response.status, fault.kind)
        self._write(method, response, truncate=fault.kind == "truncate")

    def _abort(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, method: str, response: Response, truncate: bool) -> None:
        total = response.content_length
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        if method == "HEAD":
            return
        budget = total // 2 if truncate else total
        chunks = [response.body] if isinstance(response.body, bytes) else response.body
        try:
            for chunk in chunks:
                if budget <= 0:
                    break
                piece = chunk[:budget]
                self.wfile.write(piece)
                budget -= len(piece)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if truncate:
            self.close_connection = True
            self._abort()
