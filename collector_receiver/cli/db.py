"""``failcat db``: migrate the failure store's schema, or show where it stands.

::

    failcat db upgrade [--db URL] [--revision REV]   # default: the newest revision
    failcat db current [--db URL]

The database URL comes from ``--db``, else ``FAILCAT_DATABASE_URL``, else
``sqlite:///failcat.db``. ``failcat serve`` migrates on start by itself; this command is for
migrating ahead of a deployment, or with a user allowed to change the schema.
"""

from __future__ import annotations

import argparse
from typing import Any

from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._read_database import add_database_argument, read_database_url


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="migrate the database schema or show its revision")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    up = actions.add_parser("upgrade", help="migrate the schema to the newest revision")
    add_database_argument(up)
    up.add_argument(
        "--revision", default="head", help="revision to migrate to (default: head, the newest)"
    )
    up.set_defaults(handler=_upgrade)

    current = actions.add_parser("current", help="print the schema revision of the database")
    add_database_argument(current)
    current.set_defaults(handler=_current)


def _database_url(args: argparse.Namespace) -> str:
    # A missing SQLite file is what `upgrade` is for, and `current` reports "no schema".
    return read_database_url(args.db, must_exist=False)


def _upgrade(args: argparse.Namespace) -> int:
    from collector_receiver.store import StoreError, current_revision, upgrade

    url = _database_url(args)
    try:
        upgrade(url, args.revision)
        revision = current_revision(url)
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    print(f"database schema at revision {revision}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from collector_receiver.store import StoreError, current_revision, head_revision

    try:
        revision = current_revision(_database_url(args))
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    if revision is None:
        print("no schema (run: failcat db upgrade)")
    elif revision == head_revision():
        print(f"{revision} (head)")
    else:
        print(f"{revision} (head is {head_revision()}; run: failcat db upgrade)")
    return 0
