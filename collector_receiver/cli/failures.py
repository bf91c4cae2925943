"""``failcat failures``: list stored failures straight from the database (no service needed).

::

    failcat failures                              # the 20 newest, as a table
    failcat failures --service planner --code RATE_LIMITED --since 24h
    failcat failures --category timeout --limit 100 --json
    failcat failures --tool web_search --since 1h     # a tool's failures (also --provider,
                                                      # --model, --agent: exact GenAI values)
    failcat failures --trace-id 4bf92f3577b34da6a3ce929d0e0e4736   # the trace's failure chain

The table shows code, service, exception type, a short message, the time and the trace id.
``--trace-id`` prints every failure of that trace oldest first, each with its stacktrace, so the
chain from the first error to the last can be read top to bottom. ``--json`` prints the item shape
of ``GET /api/v1/failures`` (one JSON object with ``items`` and ``next_cursor``; pass
``--cursor`` to continue), including ``trace_url`` from ``FAILCAT_TRACE_URL_TEMPLATE``.

The database URL comes from ``--db``, else ``FAILCAT_DATABASE_URL``, else
``sqlite:///failcat.db``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from collector_receiver._one_line import one_line
from collector_receiver._text_table import text_table
from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._flag_types import integer, time_before
from collector_receiver.cli._read_database import add_database_argument, open_reader
from collector_receiver.environment_variables import FAILCAT_TRACE_URL_TEMPLATE
from collector_receiver.presentation import failure_json, list_json, render_trace_url
from collector_receiver.timeparse import utc_now

if TYPE_CHECKING:
    from collector_receiver.store.queries import StoredFailure

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_DEFAULT_LIMIT = 20
_MESSAGE_WIDTH = 60
#: The GenAI filters, each matching the column ``gen_ai_<flag>`` exactly (CONTRACT §8 r2).
_GENAI_FLAGS = {
    "provider": "gen_ai.provider.name (or gen_ai.system)",
    "model": "gen_ai.request.model (or gen_ai.response.model)",
    "tool": "gen_ai.tool.name",
    "agent": "gen_ai.agent.name",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "failures",
        help="list stored failures (newest first), or the failure chain of one trace",
        description="List stored failures from the database, newest first.",
    )
    # One moment for both ends, so ``--since 1h --until 1h`` is an empty range, not a sliver.
    when = time_before(utc_now())
    parser.add_argument(
        "--trace-id", type=_trace_id, help="show every failure of this trace, oldest first"
    )
    parser.add_argument("--service", help="only this service.name")
    parser.add_argument("--code", help="only this catalog code (e.g. RATE_LIMITED, UNCATALOGED)")
    parser.add_argument("--category", help="only this category (e.g. rate_limit)")
    for flag, attribute in _GENAI_FLAGS.items():
        parser.add_argument(f"--{flag}", help=f"only this {attribute} (exact)")
    parser.add_argument(
        "--since", type=when, help="RFC 3339 time or a duration back from now (15m, 24h, 7d)"
    )
    parser.add_argument(
        "--until", type=when, help="RFC 3339 time or a duration back from now (exclusive)"
    )
    parser.add_argument(
        "--limit", type=_limit, default=_DEFAULT_LIMIT, help=f"how many (default {_DEFAULT_LIMIT})"
    )
    parser.add_argument("--cursor", help="continue after a previous --json page (its next_cursor)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON item shape")
    add_database_argument(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.store import StoreError
    from collector_receiver.store.queries import MAX_LIMIT, FailureQueries

    trace_id = args.trace_id
    if args.since and args.until and args.until <= args.since:
        raise CommandError("--until: must be later than --since")
    template = os.environ.get(FAILCAT_TRACE_URL_TEMPLATE) or None

    queries = open_reader(FailureQueries.from_url, args.db)
    try:
        genai = {flag: getattr(args, flag) for flag in _GENAI_FLAGS}
        narrowed = (args.service, args.code, args.category, args.since, args.until, args.cursor)
        if trace_id is not None and not any((*narrowed, *genai.values())):
            chain = queries.failures_for_trace(trace_id, limit=MAX_LIMIT)
            if args.json:
                _print_json([failure_json(f, template) for f in chain], None)
            else:
                print(_render_chain(trace_id, chain, template))
            return 0
        page = queries.list_failures(
            service=args.service,
            code=args.code,
            category=args.category,
            trace_id=trace_id,
            since=args.since,
            until=args.until,
            limit=args.limit,
            cursor=args.cursor,
            **genai,
        )
    except ValueError as exc:  # a cursor that no list returned
        raise CommandError(f"--cursor: {exc}") from None
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from None
    finally:
        queries.close()
    if args.json:
        _print_json([failure_json(f, template) for f in page.items], page.next_cursor)
    else:
        print(_render_table(page.items, page.next_cursor is not None))
    return 0


def _limit(text: str) -> int:
    """``--limit``: from 1 to the store's largest page."""
    from collector_receiver.store.queries import MAX_LIMIT

    limit = integer(text)
    if not 1 <= limit <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_LIMIT}")
    return limit


def _trace_id(text: str) -> str:
    """``--trace-id``: 32 hexadecimal characters, any case; returned in lower case."""
    if not _TRACE_ID.match(text.strip()):
        raise argparse.ArgumentTypeError("must be 32 hexadecimal characters")
    return text.strip().lower()


def _print_json(items: list[dict[str, Any]], next_cursor: str | None) -> None:
    print(json.dumps(list_json(items, next_cursor), indent=2, ensure_ascii=False))


def _short(text: str, width: int) -> str:
    line = one_line(text)
    return line if len(line) <= width else line[: width - 1] + "…"


def _when(failure: StoredFailure) -> str:
    return failure.occurred_at.strftime("%Y-%m-%d %H:%M:%S")


def _render_table(failures: Sequence[StoredFailure], more: bool) -> str:
    if not failures:
        return "no failures stored that match"
    headers = ["TIME (UTC)", "CODE", "SERVICE", "TYPE", "MESSAGE", "TRACE ID"]
    rows = [
        [
            _when(f),
            f.code,
            f.service_name,
            f.exception_type.rsplit(".", 1)[-1],
            _short(f.exception_message, _MESSAGE_WIDTH),
            f.trace_id or "-",
        ]
        for f in failures
    ]
    lines = text_table(headers, rows)
    if more:
        lines.append("(more failures match; raise --limit or use --json and --cursor)")
    return "\n".join(lines)


def _genai_context(failure: StoredFailure) -> str:
    """``operation=chat model=gpt-4o ...`` for the GenAI columns that are set, else ""."""
    values = {
        "operation": failure.gen_ai_operation,
        "provider": failure.gen_ai_provider,
        "model": failure.gen_ai_model,
        "tool": failure.gen_ai_tool,
        "agent": failure.gen_ai_agent,
    }
    return " ".join(f"{name}={value}" for name, value in values.items() if value)


def _render_chain(trace_id: str, chain: Sequence[StoredFailure], template: str | None) -> str:
    if not chain:
        return f"no failures stored for trace {trace_id}"
    lines = [f"trace {trace_id}: {len(chain)} failure(s), oldest first"]
    first = chain[0]
    link = render_trace_url(template, first.trace_id, first.span_id, first.service_name)
    if link:
        lines.append(f"open: {link}")
    for number, failure in enumerate(chain, 1):
        lines.append("")
        lines.append(
            f"[{number}] {_when(failure)}  {failure.code} ({failure.category}, "
            f"{failure.severity})  service={failure.service_name}  span={failure.span_id or '-'}"
        )
        lines.append(f"    {failure.exception_type}: {_short(failure.exception_message, 200)}")
        context = _genai_context(failure)
        if context:
            lines.append(f"    {context}")
        if failure.stacktrace:
            lines.extend("    | " + line for line in failure.stacktrace.rstrip().splitlines())
    return "\n".join(lines)
