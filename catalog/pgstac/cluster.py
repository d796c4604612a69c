"""A throwaway PostgreSQL cluster in a directory: for tests, benchmarks and trying pgstac locally.

``initdb`` + ``pg_ctl`` from the Debian server packages (``make pg`` installs them), listening on
127.0.0.1 and a free port, trust authentication for local connections only. A database
migrated to pgstac once serves as the template of every fresh database, so a new empty
catalogue costs one ``CREATE DATABASE … TEMPLATE`` (a file copy), not a migration.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` system user.

:meth:`LocalCluster.standby` makes a hot standby of a running cluster (``pg_basebackup -R -X
stream``) on another loopback address and the same port, the way a read replica looks to a
client that has one port setting; :meth:`LocalCluster.wait_replayed` waits until it has
replayed everything the primary wrote.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

TEMPLATE_DB = "eocat_template"


class ClusterError(RuntimeError):
    """The local server cannot be set up (binaries missing, initdb or start failed)."""


def server_bin_dir() -> Path:
    """The directory of ``initdb``/``pg_ctl``: $EOCAT_PG_BIN, else the newest Debian install."""
    configured = os.environ.get("EOCAT_PG_BIN")
    candidates = (
        [Path(configured)]
        if configured
        else sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
    )
    for directory in reversed(candidates):
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise ClusterError(
        "PostgreSQL server binaries not found (looked for initdb in /usr/lib/postgresql/*/bin or $EOCAT_PG_BIN): "
        "run `make pg` (installs postgresql and postgresql-15-postgis-3 from Debian packages)"
    )


def free_port(host: str = "127.0.0.1", *also: str) -> int:
    """A TCP port free on ``host`` (and on every address in ``also``)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        if all(_is_free(other, port) for other in also):
            return port
    raise ClusterError(f"no port free on {host} and {', '.join(also)}")


def _is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _as_server_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class LocalCluster:
    """One PostgreSQL server on a data directory; ``start()`` creates it when needed."""

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        settings: dict[str, str] | None = None,
    ) -> None:
        # as root the server user must reach the directory: a fresh one under /tmp by default
        self.owned = directory is None
        self.directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="eocat-pg-"))
        self.data = self.directory / "data"
        self.host = host
        self.port = port or free_port(host)
        self.settings = {
            "listen_addresses": host,
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",  # a throwaway cluster: durability is not what it is for
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
            "max_connections": "100",
            **(settings or {}),
        }
        self.bin = server_bin_dir()

    def _run(self, command: Sequence[str]) -> None:
        completed = subprocess.run([*_as_server_user(), *command], capture_output=True, text=True, check=False, cwd="/")
        if completed.returncode != 0:
            raise ClusterError(f"{command[0]} failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def initdb(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._own(self.directory)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            for key, value in self.settings.items():
                conf.write(f"{key} = '{value}'\n")

    def start(self) -> LocalCluster:
        if not (self.data / "PG_VERSION").is_file():
            self.initdb()
        else:  # an existing directory: keep its settings, take the port given now
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"port = '{self.port}'\nlisten_addresses = '{self.host}'\n")
        log = self.directory / "server.log"
        log.touch()
        self._own(log)
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start"])
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ClusterError(f"PostgreSQL on {self.host}:{self.port} did not come up") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server; a directory this object created is removed with it."""
        if (self.data / "postmaster.pid").exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        if self.owned:
            shutil.rmtree(self.directory, ignore_errors=True)

    def standby(self, host: str = "127.0.0.2", directory: str | Path | None = None) -> LocalCluster:
        """Start a hot standby of this running server on ``host`` and the same port.

        ``pg_basebackup -R -X stream`` copies the data directory and writes ``standby.signal``
        and ``primary_conninfo``; the standby then streams WAL from this server and answers
        read-only queries. The primary needs ``wal_level`` replica or higher (PostgreSQL's default).
        """
        replica = LocalCluster(directory, port=self.port, host=host)
        replica.directory.mkdir(parents=True, exist_ok=True)
        replica._own(replica.directory)
        replica._run([str(self.bin / "pg_basebackup"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
                      "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"])  # fmt: skip
        return replica.start()

    def wait_replayed(self, standby: LocalCluster, timeout: float = 60.0) -> None:
        """Wait until ``standby`` has replayed all WAL this server had written when called."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        target = row[0] if row else "0/0"
        deadline = time.monotonic() + timeout
        with psycopg.connect(standby.url(), autocommit=True) as conn:
            while True:
                done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()
                if done == (True,):
                    return
                if time.monotonic() > deadline:
                    raise ClusterError(f"the standby on {standby.host}:{standby.port} did not replay up to {target}")
                time.sleep(0.05)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (optionally from a template) and return its URL."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def pgstac_template(self) -> str:
        """Create (once) a database migrated to pgstac with eocat's tables; return its name."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone()
        if not exists:
            from catalog.pgstac.store import PgstacStore

            url = self.create_database(TEMPLATE_DB)
            PgstacStore(url).close()  # migrates
        return TEMPLATE_DB

    def fresh_catalogue(self, name: str) -> str:
        """A new, empty pgstac catalogue database; returns its URL."""
        self.drop_database(name)
        return self.create_database(name, template=self.pgstac_template())
