"""Suite-wide fixtures: only the database URLs every store-touching test shares.

Fixtures used by one area live next to its tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_test_databases() -> Iterator[None]:
    yield
    if databases.postgres_available():
        databases.drop_leftover_databases()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, empty embedded database."""
    return f"sqlite:///{tmp_path / 'failcat.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the shared test server, dropped afterwards."""
    if not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it)")
    with databases.fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))
