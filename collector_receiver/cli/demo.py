"""``failcat demo``: start the receiver, send synthetic agent failures, show what was stored.

::

    failcat demo                          # sqlite:///failcat.db in the current directory
    failcat demo --count 500 --services 6 --seed 7
    failcat demo --db postgresql+psycopg://localhost/failcat --keep-running

See :mod:`collector_receiver.demo` for the steps. Exit status 0 when every failure sent was
found in the database, 1 when some were missing or the receiver failed, 2 for a bad flag.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from collector_receiver.cli._errors import CommandError
from collector_receiver.cli.traffic import add_mix_arguments
from collector_receiver.environment_variables import (
    DEFAULT_DATABASE_URL,
    FAILCAT_CATALOG,
    FAILCAT_DATABASE_URL,
)

_DEFAULT_COUNT = 200
_DEFAULT_SERVICES = 4


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the receiver on SQLite, send synthetic failures, print what was stored",
        description=(
            "Start `failcat serve` on the embedded SQLite default, run `failcat traffic` "
            "against it, wait until every failure is stored, print a summary and stop."
        ),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $FAILCAT_DATABASE_URL, else sqlite:///failcat.db)",
    )
    parser.add_argument(
        "--catalog", metavar="PATH", help="catalog YAML file (default: the packaged catalog)"
    )
    add_mix_arguments(parser, count=_DEFAULT_COUNT, services=_DEFAULT_SERVICES)
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the receiver running after the summary, until Ctrl-C",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.demo import DemoError, DemoSpec, run_demo

    try:
        spec = DemoSpec(
            db_url=args.db or os.environ.get(FAILCAT_DATABASE_URL) or DEFAULT_DATABASE_URL,
            count=args.count,
            services=args.services,
            seed=args.seed,
            keep_running=args.keep_running,
            catalog_path=args.catalog or os.environ.get(FAILCAT_CATALOG) or None,
        )
    except ValueError as exc:  # a count, service count or seed out of range
        raise CommandError(str(exc)) from None
    try:
        return run_demo(spec)
    except DemoError as exc:
        raise CommandError(str(exc), exit_code=1) from None
