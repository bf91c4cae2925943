"""``failcat rates``: failure rates by GenAI tool, model, provider, agent or operation.

::

    failcat rates --by tool                       # every tool: failures, operations, rate
    failcat rates --by model --service planner --since 24h
    failcat rates --by provider --since 7d --json # the answer of GET /api/v1/rates

One row per value of the dimension found among the stored failures or the counted operations
in the window, the absent value (``(none)``: failures and operations without that attribute)
included, sorted by failures, most first. ``OPERATIONS`` is what the receiver counted from the
GenAI spans it saw (hourly buckets whose start is in the window), and ``RATE`` is failures
divided by operations, ``-`` when no operation was counted. A value with few operations reads
high on few failures: look at both columns. ``--json`` prints exactly the API's answer (items of
``value``, ``failures``, ``operations``, ``failure_rate``; ``next_cursor`` null; ``by``).

The database URL comes from ``--db``, else ``FAILCAT_DATABASE_URL``, else
``sqlite:///failcat.db``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from collector_receiver._text_table import text_table
from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._flag_types import time_before
from collector_receiver.cli._read_database import add_database_argument, open_reader
from collector_receiver.presentation import rate_percent, rates_json
from collector_receiver.timeparse import utc_now

if TYPE_CHECKING:
    from collector_receiver.store.rates import RateRow

#: Spelled for ``--help`` only (the store is not imported until the command runs, so that
#: ``failcat --help`` does not load SQLAlchemy); ``store.rates.check_dimension`` decides, and a
#: test holds the two equal.
HELP_DIMENSIONS = ("tool", "model", "provider", "agent", "operation")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rates",
        help="failure rates by GenAI tool, model, provider, agent or operation",
        description="Failures, GenAI operations and failures / operations per value of --by.",
    )
    when = time_before(utc_now())
    parser.add_argument(
        "--by",
        required=True,
        type=_dimension,
        metavar="|".join(HELP_DIMENSIONS),
        help="the GenAI attribute to group by",
    )
    parser.add_argument("--service", help="only this service.name")
    parser.add_argument(
        "--since", type=when, help="RFC 3339 time or a duration back from now (15m, 24h, 7d)"
    )
    parser.add_argument(
        "--until", type=when, help="RFC 3339 time or a duration back from now (exclusive)"
    )
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    add_database_argument(parser)
    parser.set_defaults(handler=_run)


def _dimension(text: str) -> str:
    """``--by``: one of the store's rate dimensions."""
    from collector_receiver.store.rates import check_dimension

    try:
        return check_dimension(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.store import StoreError
    from collector_receiver.store.queries import FailureQueries

    if args.since and args.until and args.until <= args.since:
        raise CommandError("--until: must be later than --since")
    queries = open_reader(FailureQueries.from_url, args.db)
    try:
        rates = queries.rates(args.by, args.service, args.since, args.until)
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from None
    finally:
        queries.close()
    if args.json:
        print(json.dumps(rates_json(args.by, rates), indent=2, ensure_ascii=False))
    else:
        print(render_rates(args.by, rates))
    return 0


def render_rates(by: str, rates: Sequence[RateRow]) -> str:
    """The table ``failcat rates`` prints (a line saying so when there is nothing)."""
    if not rates:
        return f"no failures or operations stored by {by} in that window"
    headers = [by.upper(), "FAILURES", "OPERATIONS", "RATE"]
    rows = [
        [
            "(none)" if r.value is None else r.value,
            str(r.failures),
            str(r.operations),
            rate_percent(r.failure_rate),
        ]
        for r in rates
    ]
    return "\n".join(text_table(headers, rows, right={1, 2, 3}))
