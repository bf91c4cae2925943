"""A private PostgreSQL 15 cluster that a test may stop and start at will.

The shared test server must never be stopped, so tests that need a database to go away (to
prove the store answers "unavailable" and loses nothing) get their own cluster: ``initdb`` into
a temporary directory owned by the ``postgres`` OS user, trust authentication, listening on
127.0.0.1 at a free port of its own, ``fsync=off`` for speed. Commits stay synchronous
(``synchronous_commit`` is left on), so an ``immediate`` stop — a crash of the server process —
keeps every acknowledged transaction, as a real server would. ``initdb`` takes about a second,
so share one cluster per module::

    @pytest.fixture(scope="module")
    def cluster():
        with private_postgres() as cluster:
            yield cluster

    store = FailureStore.from_url(cluster.url)
    cluster.stop()   # the database is gone
    cluster.start()  # and back, same data, same port
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@functools.cache
def _server_bin_dir() -> Path:
    """Where initdb and pg_ctl of the installed server live: ``FAILCAT_TEST_PG_BIN``, else what
    ``pg_config --bindir`` says (Debian keeps them off PATH), else the directory of ``initdb``."""
    override = os.environ.get("FAILCAT_TEST_PG_BIN")
    if override:
        return Path(override)
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0 and (Path(found.stdout.strip()) / "initdb").exists():
            return Path(found.stdout.strip())
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else Path("initdb-not-found")


PG_USER = "postgres"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*argv: str) -> list[str]:
    """``argv`` run as the postgres OS user (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return list(argv)  # already an unprivileged user: run as ourselves
    return ["runuser", "-u", PG_USER, "--", *argv]


class PrivateCluster:
    """One private PostgreSQL cluster; see the module docstring."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.log_file = root / "server.log"
        self.port = port
        self.running = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run(
            str(_server_bin_dir() / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            PG_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": "30",
            "timezone": "'UTC'",
        }
        with (self.data_dir / "postgresql.auto.conf").open("a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            str(_server_bin_dir() / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (disconnect clients, clean) or ``immediate`` (a crash)."""
        self._run(
            str(_server_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"
        )
        self.running = False

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            _as_postgres(*argv), capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}): "
                f"{result.stdout}{result.stderr}{log[-2000:]}"
            )


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """Init and start a private cluster; stop it and delete its files afterwards."""
    root = Path(tempfile.mkdtemp(prefix="failcat-pg-"))
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(PG_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        cluster = PrivateCluster(root, _free_port())
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running:
                cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
