"""A real PgBouncer in transaction pooling mode in front of the test PostgreSQL server.

:func:`running_pgbouncer` writes its configuration into a test's directory, starts Debian's
``pgbouncer`` on a free port (as a user other than root: PgBouncer refuses to run as root, and
reads its files before it switches user), waits until it answers and stops it afterwards. The
test is skipped, with the reason, only where the binary is not installed
(``scripts/ensure-services.sh`` installs it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from tests.e2e._receiver import free_ports
from tests.support import databases

_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class PgBouncer:
    """A started PgBouncer: its port and log."""

    port: int
    log_path: Path

    def url(self, database_url: str, **query: str) -> str:
        """``database_url`` (a database on the test server) reached through this PgBouncer."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.update_query_dict(query).render_as_string(hide_password=False)


def _binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip("pgbouncer is not installed (scripts/ensure-services.sh installs it)")
    return found


def _run_as() -> list[str]:
    """PgBouncer will not run as root: switch to the server's user, else nobody."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["-u", user]
    pytest.skip("running as root and no user to run pgbouncer as")


def _config(directory: Path, port: int, pool_size: int) -> Path:
    server = conninfo_to_dict(databases.admin_dsn())
    user = str(server.get("user", "postgres"))
    target = f"host={server.get('host', '127.0.0.1')} port={server.get('port', 5432)}"
    if "password" in server:
        target += f" password={server['password']}"
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = {target}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {directory / 'userlist.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 200",
                "",
            ]
        )
    )
    return config


def _wait_answering(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    dsn = databases.admin_dsn()
    target = conninfo_to_dict(dsn)
    target.update(host="127.0.0.1", port=port)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer exited at start:\n{log_path.read_text()}")
        try:
            with psycopg.connect(connect_timeout=2, **target) as connection:  # type: ignore[arg-type]
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"pgbouncer did not answer:\n{log_path.read_text()}")


@contextmanager
def running_pgbouncer(directory: Path, *, pool_size: int) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode with ``pool_size`` server connections per database."""
    binary = _binary()
    (port,) = free_ports(1)
    config = _config(directory, port, pool_size)
    log_path = directory / "pgbouncer.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [binary, *_run_as(), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_answering(process, port, log_path)
        yield PgBouncer(port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
