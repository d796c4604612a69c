"""(d) The STAC API over HTTP: ``eocat serve`` (on SQLite and on pgstac) against stac-fastapi-pgstac, same run.

    python -m bench.api [--size 100k] [--quick] [--clients 16] [--requests 3200] [--workers 2]

Both servers hold the same generated items (``common.dataset``) and the same collections. The peer is
stac-fastapi-pgstac 7.2 + pypgstac 0.10 on Debian's PostgreSQL 15 + PostGIS (a throw-away cluster in a
temporary directory, run as the ``postgres`` user; its Python packages live in their own venv under
``bench/work/pgstac-venv``, so the project does not depend on them). Both run under uvicorn with the
same number of workers. A mix of searches (GET and POST: bbox, intersects, datetime, CQL2, sort,
ids, collection items, single item) is sent by ``--clients`` concurrent asyncio clients, rotating
the servers round by round; latency is per request, throughput is requests / wall time of a round.
Any non-200 answer or transport error counts as an error. Writes ``bench/results/api.json``.

Three contenders: ``eocat`` (``eocat serve`` on its SQLite catalogue), ``eocat-pgstac`` (``eocat
serve --db postgresql://…`` on **the same pgstac database** that stac-fastapi-pgstac serves, loaded
by ``pypgstac load``; eocat's first open registers its hot properties as pgstac queryables, which
adds their indexes before either pgstac server is timed, so both read the same tables and indexes)
and ``pgstac`` (stac-fastapi-pgstac).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import common

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGSTAC_VENV = common.WORK / "pgstac-venv"
PGSTAC_PACKAGES = ("stac-fastapi-pgstac==7.2.0", "pypgstac[psycopg]==0.10.0", "uvicorn")
TRIANGLE = {"type": "Polygon", "coordinates": [[[-5, 40], [25, 38], [10, 62], [-5, 40]]]}


def queries(sample: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    """(name, path, GET params, POST body) of the request mix; ids come from the data set."""
    first = sample[0]
    ids = [item["id"] for item in sample[:5]]
    return [
        (
            "get-bbox-collection",
            "/search",
            {"collections": "sentinel-1-slc", "bbox": "-10,35,30,60", "limit": 10},
            None,
        ),
        (
            "post-bbox-datetime",
            "/search",
            None,
            {"bbox": [-10, 35, 30, 60], "datetime": "2023-01-01T00:00:00Z/2023-06-30T23:59:59Z", "limit": 10},
        ),
        (
            "post-cql2-json",
            "/search",
            None,
            {
                "collections": ["sentinel-2-l2a"],
                "filter-lang": "cql2-json",
                "limit": 10,
                "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
            },
        ),
        (
            "get-cql2-text",
            "/search",
            {"filter": "sat:relative_orbit = 37", "filter-lang": "cql2-text", "limit": 10},
            None,
        ),
        ("get-intersects", "/search", {"intersects": orjson.dumps(TRIANGLE).decode(), "limit": 10}, None),
        (
            "post-sort",
            "/search",
            None,
            {
                "collections": ["sentinel-1-grd"],
                "limit": 50,
                "sortby": [{"field": "properties.datetime", "direction": "asc"}],
            },
        ),
        ("post-ids", "/search", None, {"ids": ids, "limit": 10}),
        ("get-collection-items", "/collections/sentinel-1-slc/items", {"limit": 10}, None),
        ("get-item", f"/collections/{first['collection']}/items/{first['id']}", {}, None),
    ]


# -- servers -----------------------------------------------------------------------------------------


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {url} did not answer: {log.read_text()[-3000:]}")
        time.sleep(0.2)


@contextmanager
def server(command: list[str], url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    with log.open("wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        _wait(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def eocat_store(dataset: Path) -> Path:
    """The eocat catalogue of the data set (cached by data and store code)."""
    from catalog.ingest import import_files
    from catalog.store import Store
    from eocat import samples

    path = common.WORK / "api" / f"eocat-{dataset.stem}-{common.store_code_hash()}.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    common.log(f"building the eocat catalogue for {dataset.name} ...")
    with Store(tmp) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        import_files(store, [str(dataset)])
        store.optimize()
        store.checkpoint()
    tmp.replace(path)
    return path


def pgstac_venv() -> Path:
    """A venv with stac-fastapi-pgstac and pypgstac (made once with pip)."""
    python = PGSTAC_VENV / "bin" / "python"
    stamp = PGSTAC_VENV / ".installed"
    if not stamp.exists():
        common.log("installing stac-fastapi-pgstac and pypgstac into bench/work/pgstac-venv ...")
        subprocess.run([sys.executable, "-m", "venv", str(PGSTAC_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PGSTAC_PACKAGES], check=True)
        stamp.touch()
    return PGSTAC_VENV / "bin"


def _ensure_postgis() -> None:
    if not (PG_BIN / "initdb").exists() or not list(Path("/usr/share/postgresql/15/extension").glob("postgis.control")):
        common.log("installing PostgreSQL 15 + PostGIS (Debian packages) ...")
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql-15", "postgresql-15-postgis-3"], check=True)


@contextmanager
def pgstac_database(dataset: Path, collections: Path, bin_dir: Path) -> Iterator[dict[str, str]]:
    """A throw-away PostgreSQL cluster with pgstac and the data set loaded; yields the PG* environment
    (and ``EOCAT_PGSTAC_URL``, the same database as an eocat ``--db``)."""
    _ensure_postgis()
    root = Path(tempfile.mkdtemp(prefix="eocat-pgstac-"))
    shutil.chown(root, "postgres")
    root.chmod(0o700)
    port = str(_free_port())
    data = root / "data"
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB"
    subprocess.run(
        [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    env = {"PGUSER": "postgres", "PGPASSWORD": "unused", "PGHOST": "127.0.0.1", "PGPORT": port, "PGDATABASE": "stac"}
    dsn = f"postgresql://postgres@127.0.0.1:{port}/stac"
    try:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-q", "-c", "CREATE DATABASE stac"],
            check=True,
            capture_output=True,
        )
        pypgstac = str(bin_dir / "pypgstac")
        subprocess.run([pypgstac, "migrate", "--dsn", dsn], check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            [pypgstac, "load", "collections", str(collections), "--dsn", dsn, "--method", "upsert"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [pypgstac, "load", "items", str(dataset), "--dsn", dsn, "--method", "upsert"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-q", "-d", "stac", "-c", "ANALYZE"],
            check=True,
            capture_output=True,
        )
        common.log(f"pgstac loaded in {time.perf_counter() - started:.0f} s")
        from catalog.pgstac import PgstacStore

        with PgstacStore(dsn) as store:  # eocat's schema and queryables (indexes), then statistics
            store.optimize()
        yield {**env, "EOCAT_PGSTAC_URL": dsn}
    finally:
        subprocess.run(
            [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- load ----------------------------------------------------------------------------------------------


async def _round(
    url: str, mix: list[Any], clients: int, requests: int
) -> tuple[list[tuple[str, float]], int, float, list[str]]:
    latencies: list[tuple[str, float]] = []
    errors: list[str] = []
    per_client = requests // clients
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, session: httpx.AsyncClient) -> None:
        for index in range(per_client):
            name, path, params, body = mix[(number + index) % len(mix)]
            started = time.perf_counter()
            try:
                if body is None:
                    response = await session.get(url + path, params=params)
                else:
                    response = await session.post(url + path, json=body)
                ok = response.status_code == 200
                if not ok:
                    errors.append(f"{path}: {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {type(exc).__name__} {exc}")
                continue
            latencies.append((name, time.perf_counter() - started))

    async with httpx.AsyncClient(timeout=60, limits=limits) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(number, session) for number in range(clients)))
        wall = time.perf_counter() - started
    return latencies, per_client * clients, wall, errors


def _answers(url: str, mix: list[Any]) -> dict[str, int]:
    """Features returned per query (a sanity check that both servers answer the same questions)."""
    answers = {}
    with httpx.Client(timeout=60) as session:
        for name, path, params, body in mix:
            response = session.get(url + path, params=params) if body is None else session.post(url + path, json=body)
            document = response.json() if response.status_code == 200 else {}
            answers[name] = len(document.get("features", [])) if "features" in document else int("id" in document)
    return answers


def run(n: int, *, clients: int = 16, requests: int = 3200, workers: int = 2, rounds: int = 2) -> dict[str, Any]:
    from eocat import samples

    dataset = common.dataset(n)
    store = eocat_store(dataset)
    work = common.WORK / "api"
    work.mkdir(parents=True, exist_ok=True)
    collections = work / "collections.ndjson"
    collections.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in samples.collections()))
    with open(dataset, "rb") as stream:
        sample = [orjson.loads(next(stream)) for _ in range(5)]
    mix = queries(sample)
    bin_dir = pgstac_venv()
    eocat_port, pg_port, eocat_pg_port = _free_port(), _free_port(), _free_port()

    def eocat_serve(db: str, port: int) -> list[str]:
        eocat = str(Path(sys.executable).parent / "eocat")
        return [eocat, "--db", db, "serve", "--port", str(port), "--workers", str(workers)]

    pg_cmd = [
        str(bin_dir / "uvicorn"),
        "stac_fastapi.pgstac.app:create_app",
        "--factory",
        "--port",
        str(pg_port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    names = ["eocat", "eocat-pgstac", "pgstac"]
    results: dict[str, dict[str, Any]] = {name: {"latencies": [], "walls": [], "errors": []} for name in names}
    with (
        pgstac_database(dataset, collections, bin_dir) as pg_env,
        server(eocat_serve(str(store), eocat_port), f"http://127.0.0.1:{eocat_port}", work / "eocat.log") as eocat_url,
        server(
            pg_cmd,
            f"http://127.0.0.1:{pg_port}",
            work / "pgstac.log",
            env={**pg_env, "STAC_FASTAPI_TITLE": "pgstac", "ENABLED_EXTENSIONS": "sort,fields,filter,pagination"},
        ) as pg_url,
        server(
            eocat_serve(pg_env["EOCAT_PGSTAC_URL"], eocat_pg_port),
            f"http://127.0.0.1:{eocat_pg_port}",
            work / "eocat-pgstac.log",
        ) as eocat_pg_url,
    ):
        urls = {"eocat": eocat_url, "eocat-pgstac": eocat_pg_url, "pgstac": pg_url}
        answers = {name: _answers(url, mix) for name, url in urls.items()}
        for url in urls.values():  # warm-up: one pass of the mix on each
            asyncio.run(_round(url, mix, clients, len(mix) * clients))
        for number in range(rounds):
            for name in names[number % 3 :] + names[: number % 3]:  # each goes first in turn
                latencies, sent, wall, errors = asyncio.run(_round(urls[name], mix, clients, requests))
                results[name]["latencies"].extend(latencies)
                results[name]["walls"].append((sent, wall))
                results[name]["errors"].extend(errors)
                common.log(f"{name}: round {number + 1}: {sent / wall:.0f} req/s, {len(errors)} errors")
    contenders = {}
    for name, data in results.items():
        stats = common.summarize_ms([seconds for _, seconds in data["latencies"]]) if data["latencies"] else {}
        by_query = {
            query: round(1000 * statistics.median([s for q, s in data["latencies"] if q == query]), 1)
            for query in sorted({q for q, _ in data["latencies"]})
        }
        sent = sum(count for count, _ in data["walls"])
        wall = sum(seconds for _, seconds in data["walls"])
        contenders[name] = {
            **stats,
            "throughput_rps": round(sent / wall, 1),
            "requests": sent,
            "errors": len(data["errors"]),
            "first_errors": data["errors"][:5],
            "median_ms_by_query": by_query,
        }
    ratio = contenders["eocat"]["median_ms"] / contenders["pgstac"]["median_ms"]
    same_db = contenders["eocat-pgstac"]["median_ms"] / contenders["pgstac"]["median_ms"]
    same_db_rps = contenders["eocat-pgstac"]["throughput_rps"] / contenders["pgstac"]["throughput_rps"]
    payload = {
        "benchmark": "api",
        "machine": common.machine_facts(),
        "items": n,
        "clients": clients,
        "workers": workers,
        "rounds": rounds,
        "queries": [name for name, *_ in mix],
        "features_returned": answers,
        "contenders": contenders,
        "targets": {
            "api_p50_vs_pgstac": {
                "met": ratio <= 0.5 and contenders["eocat"]["errors"] == 0,
                "ratio": round(ratio, 3),
                "target": 0.5,
                "eocat_errors": contenders["eocat"]["errors"],
            },
            # the bar: on the same pgstac database, eocat's API is not slower than stac-fastapi-pgstac
            "api_on_pgstac_p50_vs_stac_fastapi_pgstac": {
                "met": same_db <= 1.0 and same_db_rps >= 1.0 and contenders["eocat-pgstac"]["errors"] == 0,
                "ratio": round(same_db, 3),
                "throughput_ratio": round(same_db_rps, 3),
                "target": 1.0,
                "eocat_pgstac_errors": contenders["eocat-pgstac"]["errors"],
            },
        },
    }
    common.write_result("api", payload)
    return payload


def summary(payload: dict[str, Any]) -> str:
    rows = [
        [name, c["median_ms"], c["p95_ms"], c["throughput_rps"], c["errors"], c["requests"]]
        for name, c in payload["contenders"].items()
    ]
    head = (
        f"(d) STAC API over HTTP, {common.size_label(payload['items'])} items, {payload['clients']} concurrent "
        f"clients, {payload['workers']} uvicorn workers each"
    )
    return head + "\n" + common.table(rows, ["server", "p50 ms", "p95 ms", "req/s", "errors", "requests"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=common.parse_sizes, help="item count (default 100k; --quick 10k)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, help="requests per round (default 3200; --quick 800)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    common.QUICK = args.quick
    n = args.size[0] if args.size else (10_000 if args.quick else 100_000)
    with common.exclusive_run():
        payload = run(
            n,
            clients=args.clients,
            requests=args.requests or (800 if args.quick else 3200),
            workers=args.workers,
            rounds=args.rounds,
        )
    print(summary(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
