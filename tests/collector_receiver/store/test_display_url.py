"""A database URL is shown with its password hidden, whoever shows it (log, terminal, error)."""

from __future__ import annotations

import pytest

from collector_receiver.store import display_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:///failcat.db", "sqlite:///failcat.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://app@db/failcat", "postgresql+psycopg://app@db/failcat"),
        (
            "postgresql+psycopg://app:s3cr3t@db:5432/failcat",
            "postgresql+psycopg://app:***@db:5432/failcat",
        ),
        # An unescaped "@" in the password: SQLAlchemy alone would show "ss@db" as the host.
        ("postgresql+psycopg://app:p@ss@db/failcat", "postgresql+psycopg://app:***@db/failcat"),
        ("postgresql://u:p%40x@h/d", "postgresql://u:***@h/d"),
        ("mysql://user:hunter2@host/db", "mysql://user:***@host/db"),
        ("not a url", "not a url"),
        ("x://a:hunter2@c:notaport/d", "x://***@c:notaport/d"),  # unparsable: cut at the @
    ],
)
def test_the_password_is_hidden(url: str, shown: str) -> None:
    assert display_url(url) == shown
