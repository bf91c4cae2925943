"""The database a command (``failures``, ``aggregate``, ``db``) opens, and how ``--db`` fails.

``--db``, else ``FAILCAT_DATABASE_URL``, else ``sqlite:///failcat.db``. A reading command run in
the wrong directory must not leave an empty ``failcat.db`` behind and then complain about
missing tables, so an SQLite file that does not exist is reported as such; ``failcat db``, which
creates the schema, opts out of that check.

The commands share the ``--db`` flag and the way a URL becomes an open reader; they live here so
the commands cannot drift apart. Imports stay inside the functions so ``failcat --help`` does
not load SQLAlchemy.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from collector_receiver.cli._errors import CommandError
from collector_receiver.environment_variables import DEFAULT_DATABASE_URL, FAILCAT_DATABASE_URL

T = TypeVar("T")


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--db URL`` flag, as every reading command spells it."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $FAILCAT_DATABASE_URL, else sqlite:///failcat.db)",
    )


def read_database_url(flag_value: str | None, *, must_exist: bool = True) -> str:
    """The URL of ``--db``; CommandError when it names a missing SQLite file and ``must_exist``."""
    url = (flag_value or os.environ.get(FAILCAT_DATABASE_URL) or DEFAULT_DATABASE_URL).strip()
    if must_exist and url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :].split("?", 1)[0]
        if path and path != ":memory:" and not Path(path).exists():
            raise CommandError(
                f"--db: no database file {path!r} (start failcat serve or run failcat db upgrade "
                "there first, or pass --db / FAILCAT_DATABASE_URL)"
            )
    return url


def open_reader(open_url: Callable[[str], T], flag_value: str | None) -> T:
    """``open_url(url)`` for the database of ``--db``; a URL it refuses is a ``--db`` error."""
    from collector_receiver.store import StoreError

    url = read_database_url(flag_value)
    try:
        return open_url(url)
    except StoreError as exc:
        raise CommandError(f"--db: {exc}") from None
