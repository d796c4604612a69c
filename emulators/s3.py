"""A local S3 endpoint for tests and benchmarks: moto's standalone server on a free port of 127.0.0.1.

The server runs in its own process (``python -m moto.server``; moto is a dev dependency) and logs
every request (``"PUT /bucket/key HTTP/1.1" 200``), so callers count what a client really sent:
:meth:`MotoServer.requests`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

_REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d+)')
ACCESS_KEY = "eocat-test-key"
SECRET_KEY = "eocat-test-secret"  # moto accepts any credentials; these only prove they are passed on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Request:
    method: str
    path: str  # /bucket/key?query
    status: int

    @property
    def key(self) -> str:
        """``bucket/key`` without the query string."""
        return self.path.split("?", 1)[0].lstrip("/")

    @property
    def is_object_write(self) -> bool:
        """A request that makes an object exist: a plain PUT or the completion of a multipart upload
        (not a bucket, not an empty ``…/`` directory marker)."""
        query = self.path.partition("?")[2]
        if self.method == "PUT":
            return "partNumber=" not in query and "/" in self.key and not self.key.endswith("/")
        return self.method == "POST" and query.startswith("uploadId=")


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    buckets: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables pointing at this server."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip

    def create_bucket(self) -> str:
        name = f"lake-{uuid.uuid4().hex[:10]}"
        response = httpx.put(f"{self.endpoint}/{name}")
        response.raise_for_status()
        return name

    def mark(self) -> int:
        """A position in the request log; :meth:`requests` after it."""
        return len(self.log.read_bytes())

    def requests(self, since: int = 0) -> list[Request]:
        text = self.log.read_bytes()[since:].decode(errors="replace")
        return [Request(m[1], m[2], int(m[3])) for m in _REQUEST.finditer(text)]

    def objects(self, bucket: str) -> dict[str, dict[str, Any]]:
        """Key -> {size, etag} of every object in the bucket (through the S3 API)."""
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY, region_name="us-east-1")  # fmt: skip
        found: dict[str, dict[str, Any]] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                found[entry["Key"]] = {"size": entry["Size"], "etag": entry["ETag"]}
        return found


def start(directory: Path) -> MotoServer:
    """Start moto's server (``python -m moto.server``) and wait until it answers."""
    port = free_port()
    log = directory / "moto.log"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    server = MotoServer(process, port, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{server.endpoint}/moto-api/", timeout=2)
            return server
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def stop(server: MotoServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
