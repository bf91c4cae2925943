"""``?prepare_threshold=`` on a PostgreSQL URL sets psycopg's prepared statements for every
connection of the store (``none`` turns them off, for PgBouncer in transaction mode), and a bad
value is refused in one line before anything connects, from every command that takes ``--db``."""

from __future__ import annotations

import pytest

from collector_receiver.cli import main
from collector_receiver.store import FailureStore, StoreConfigError


def _thresholds(url: str) -> set[int | None]:
    """The ``prepare_threshold`` of two connections the store's engine opens at once."""
    store = FailureStore.from_url(url)
    try:
        with store.engine.connect() as first, store.engine.connect() as second:
            return {
                conn.connection.driver_connection.prepare_threshold  # type: ignore[union-attr]
                for conn in (first, second)
            }
    finally:
        store.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", 5), ("?prepare_threshold=none", None), ("?prepare_threshold=None", None)],
)
def test_the_url_sets_every_connections_threshold(
    postgres_url: str, query: str, expected: int | None
) -> None:
    assert _thresholds(postgres_url + query) == {expected}


def test_a_number_of_runs_is_kept(postgres_url: str) -> None:
    assert _thresholds(f"{postgres_url}?prepare_threshold=12&connect_timeout=5") == {12}


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (
            "postgresql://u@h/db?prepare_threshold=0",
            "prepare_threshold=0 would prepare every statement at its first run; "
            "prepare_threshold=none turns prepared statements off",
        ),
        ("postgresql://u@h/db?prepare_threshold=-1", "'-1' is neither none"),
        ("postgresql://u@h/db?prepare_threshold=off", "'off' is neither none"),
        (
            "postgresql://u@h/db?prepare_threshold=none&prepare_threshold=5",
            "prepare_threshold is given 2 times",
        ),
        ("sqlite:///x.db?prepare_threshold=none", "applies to PostgreSQL URLs only"),
    ],
)
def test_a_bad_value_is_one_line(url: str, fragment: str) -> None:
    with pytest.raises(StoreConfigError) as raised:
        FailureStore.from_url(url)

    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_refusal_hides_the_password() -> None:
    with pytest.raises(StoreConfigError) as raised:
        FailureStore.from_url("postgresql://u:hunter2@h/db?prepare_threshold=x")

    assert "hunter2" not in str(raised.value)
    assert "u:***@h/db" in str(raised.value)


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["db", "prune", "--older-than", "30d"], ["failures"], ["aggregate"]],
)
def test_every_command_refuses_it_in_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://u@127.0.0.1:1/db?prepare_threshold=0"

    status = main([*command, "--db", url])

    err = capsys.readouterr().err
    assert status != 0
    assert err.count("\n") == 1 and "prepare_threshold=0 would prepare" in err, err
