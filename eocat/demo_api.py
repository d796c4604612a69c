"""``make demo`` step for the STAC API: serve the demo catalogue and query it as a STAC client would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def api_step(db: Path) -> None:
    """Start ``eocat serve`` on the catalogue, search it with pystac-client (CQL2 + bbox), stop it."""
    from pystac_client import Client

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "eocat"), "--db", str(db), "serve", "--port", str(port)]
    print(f"$ eocat serve --port {port}   (the STAC API; `make serve` keeps it running with STAC Browser)", flush=True)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("eocat serve did not start") from None
                time.sleep(0.1)
        client = Client.open(url + "/")
        print(f"collections: {', '.join(sorted(collection.id for collection in client.get_collections()))}")
        criteria: dict[str, Any] = {"collections": ["sentinel-2-l2a"], "bbox": [5, 44, 16, 52],
                                    "filter": "eo:cloud_cover < 10", "filter_lang": "cql2-text"}  # fmt: skip
        # numberMatched is optional and left out when counting is costly (spatial + filter): walk the ids instead
        matched = len(list(client.search(**criteria, fields=["id"], limit=1000).items_as_dicts()))
        search = client.search(**criteria, sortby="+properties.eo:cloud_cover", limit=3, max_items=3)
        print(f"pystac-client: {matched} Sentinel-2 L2A items over the Alps with cloud cover < 10 %; best:")
        for item in search.items_as_dicts():
            print(f"  {item['id']}  cloud {item['properties']['eo:cloud_cover']:.1f} %")
        browser = httpx.get(url + "/browser/", timeout=5).status_code
        print(f"STAC Browser at {url}/browser/: " + ("served" if browser == 200 else "not built (run `make browser`)"))
    finally:
        server.terminate()
        server.wait(10)
