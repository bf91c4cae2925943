"""``failcat db``: migrate the failure store's schema, or show where it stands.

::

    failcat db upgrade [--db URL] [--revision REV]   # default: the newest revision
    failcat db current [--db URL]
    failcat db prune --older-than DURATION [--dry-run] [--db URL]

The database URL comes from ``--db``, else ``FAILCAT_DATABASE_URL``, else
``sqlite:///failcat.db``. ``failcat serve`` migrates on start by itself; this command is for
migrating ahead of a deployment, or with a user allowed to change the schema.

``prune`` deletes failures, patterns and GenAI operation counts older than ``DURATION`` back
from now (``30d``, ``12w``; :mod:`collector_receiver.store.retention` says what exactly) and
prints how many of each it deleted; with ``--dry-run`` it deletes nothing and prints how many it
would. It works in short batches and may run while receivers write; on a terminal it shows how
far it has got on stderr. ``failcat serve --retention`` does the same by itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from collector_receiver.cli import _flag_types
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

    prune = actions.add_parser(
        "prune", help="delete failures, patterns and operation counts older than a duration"
    )
    add_database_argument(prune)
    prune.add_argument(
        "--older-than",
        metavar="DURATION",
        required=True,
        type=_flag_types.duration,
        help="delete what is older than this, back from now (e.g. 30d, 12w)",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    prune.set_defaults(handler=_prune)


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


def _prune(args: argparse.Namespace) -> int:
    from collector_receiver.store import FailureStore, StoreError
    from collector_receiver.store.retention import WAITING
    from collector_receiver.timeparse import format_time, utc_now

    # Unlike upgrade, pruning a database that does not exist is a mistake (a wrong directory).
    url = read_database_url(args.db)
    before = utc_now() - args.older_than
    try:
        store = FailureStore.from_url(url)
    except StoreError as exc:
        raise CommandError(f"--db: {exc}") from None
    progress = _PruneProgress(sys.stderr, waiting=WAITING)
    try:
        result = store.prune(before, dry_run=args.dry_run, progress=progress)
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    finally:
        progress.close()
        store.close()
    verb = "would delete" if result.dry_run else "deleted"
    print(
        f"{verb} {_many(result.failures, 'failure')}, {_many(result.patterns, 'pattern')}, "
        f"{_many(result.operation_buckets, 'operation bucket')} "
        f"older than {format_time(result.before)}"
    )
    if result.dropped_partitions:
        dropped = "would drop" if result.dry_run else "dropped"
        print(f"{dropped} whole partitions: {', '.join(result.dropped_partitions)}")
    return 0


def _many(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class _PruneProgress:
    """``pruning: 125,000 failures deleted`` redrawn in place on a terminal; silent elsewhere
    (a pipe or a log gets the summary line alone)."""

    _REDRAW_SECONDS = 0.2

    def __init__(self, stream: TextIO, *, waiting: str) -> None:
        self._waiting = waiting  # the stage that means "another prune runs; waiting for it"
        try:
            self._enabled = stream.isatty()
        except (AttributeError, ValueError):
            self._enabled = False
        self._stream = stream
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, stage: str, done: int) -> None:
        now = time.monotonic()
        if not self._enabled or now - self._last_draw < self._REDRAW_SECONDS:
            return
        self._last_draw = now
        self._drawn = True
        text = stage if stage == self._waiting else f"{done:,} {stage} deleted"
        self._stream.write(f"\rpruning: {text}\033[K")
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
