"""``failcat catalog``: check, show and try out a failure catalog.

Which catalog: ``PATH`` / ``--catalog``, else ``$FAILCAT_CATALOG`` (the variable ``failcat serve``
reads, so these commands judge with the service's catalog), else the packaged default.

- ``failcat catalog validate [PATH]`` loads a catalog and prints
  ``ok: <path>: N entries, catalog_version X``, or the one-line reason it is refused
  (exit status 1).
- ``failcat catalog list [--catalog PATH] [--json]`` shows the entries: a table of code,
  category, severity, priority and title, or with ``--json`` an array of entries in the file's
  own shape.
- ``failcat catalog match --type T [--message M] [--cause T2 ...] [--attr key=value ...]
  [--error-type E] [--catalog PATH] [--json]`` says which entry a failure would get and why;
  the debugging aid for writing entries.
- ``failcat catalog suggest [--since 7d] [--limit 10] [--db URL] [--catalog PATH]`` drafts
  entries for the most frequent UNCATALOGED failures stored in the last ``--since``: the type, an
  RE2 message pattern built from the template, a guessed category and severity, with the count
  and an example as YAML comments. The drafts are loaded after the catalog's own entries by the
  catalog loader, and each must match its example, before they are printed, ready to review and
  paste under ``entries:``. An empty window says so (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collector_receiver._text_table import text_table
from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._flag_types import duration
from collector_receiver.cli._read_database import add_database_argument, open_reader
from collector_receiver.environment_variables import FAILCAT_CATALOG
from collector_receiver.events import AttributeValue

if TYPE_CHECKING:
    from collector_receiver.catalog import Catalog

_WHICH = f"catalog file (default: ${FAILCAT_CATALOG}, else the packaged catalog)"
_SUGGEST_LIMIT = 10
_MAX_SUGGEST_LIMIT = 100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="validate, list and try out a failure catalog",
        description="Validate, list and try out a failure catalog (format version 2).",
    )
    commands = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)

    validate = commands.add_parser("validate", help="check a catalog file")
    validate.add_argument("path", nargs="?", default=None, help=_WHICH)
    validate.set_defaults(handler=_validate)

    listing = commands.add_parser("list", help="show the entries of a catalog")
    _catalog_option(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array of entries")
    listing.set_defaults(handler=_list)

    match = commands.add_parser("match", help="show which entry a failure would match, and why")
    match.add_argument("--type", default="", help="the failure's exception.type")
    match.add_argument("--message", default="", help="the failure's exception.message")
    match.add_argument(
        "--cause",
        action="append",
        default=[],
        metavar="TYPE",
        help="a type of the cause chain (repeatable, outermost first)",
    )
    match.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an attribute of the failure (repeatable)",
    )
    match.add_argument("--error-type", default=None, help="the span attribute error.type")
    _catalog_option(match)
    match.add_argument("--json", action="store_true", help="print the verdict as JSON")
    match.set_defaults(handler=_match)

    suggest = commands.add_parser(
        "suggest",
        help="draft entries for the most frequent UNCATALOGED failures",
        description=(
            "Draft catalog entries (YAML, ready to review and paste) for the most frequent "
            "failures no entry matched."
        ),
    )
    suggest.add_argument(
        "--since",
        type=duration,
        default="7d",
        help="how far back to count (s, m, h, d or w; default 7d)",
    )
    suggest.add_argument(
        "--limit",
        type=_suggest_limit,
        default=_SUGGEST_LIMIT,
        help=f"how many drafts at most (1 to {_MAX_SUGGEST_LIMIT}; default {_SUGGEST_LIMIT})",
    )
    add_database_argument(suggest)
    _catalog_option(suggest)
    suggest.set_defaults(handler=_suggest)


def _catalog_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        default=None,
        metavar="PATH",
        help=_WHICH,
    )


def _load(path: str | None) -> Catalog:
    from collector_receiver.catalog import CatalogError, load_catalog

    try:
        return load_catalog(path or os.environ.get(FAILCAT_CATALOG) or None)
    except CatalogError as exc:
        raise CommandError(str(exc), exit_code=1) from None


def _validate(args: argparse.Namespace) -> int:
    catalog = _load(args.path)
    print(
        f"ok: {catalog.source}: {len(catalog.entries)} entries, "
        f"catalog_version {catalog.catalog_version}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    catalog = _load(args.catalog)
    if args.json:
        print(json.dumps([entry.to_dict() for entry in catalog.entries], indent=2))
        return 0
    lines = text_table(
        ["CODE", "CATEGORY", "SEVERITY", "PRIORITY", "TITLE"],
        [[e.code, e.category, e.severity, str(e.priority), e.title] for e in catalog.entries],
    )
    print("\n".join(lines))
    return 0


@dataclass(frozen=True)
class _CommandLineFailure:
    """A failure described by command-line flags (satisfies ``MatchInput``)."""

    exception_type: str
    exception_message: str
    cause_types: Sequence[str] = ()
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    error_type: str | None = None


def _match(args: argparse.Namespace) -> int:
    attributes: dict[str, AttributeValue] = {}
    for item in args.attr:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--attr {item!r}: expected KEY=VALUE")
        attributes[key] = value
    if not (args.type or args.message or args.cause or attributes or args.error_type):
        raise CommandError(
            "describe the failure: give at least one of --type, --message, --cause, --attr, "
            "--error-type"
        )
    catalog = _load(args.catalog)
    verdict = catalog.match(
        _CommandLineFailure(
            exception_type=args.type,
            exception_message=args.message,
            cause_types=tuple(args.cause),
            attributes=attributes,
            error_type=args.error_type,
        )
    )
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2))
        return 0
    title = f" ({verdict.entry.title})" if verdict.entry is not None else ""
    print(f"{verdict.code}{title}")
    print(f"  category {verdict.category}, severity {verdict.severity}")
    if verdict.entry is None:
        print("  no entry matched")
    for reason in verdict.reasons:
        print(f"  {reason}")
    return 0


def _suggest_limit(text: str) -> int:
    """``--limit``: from 1 to 100 (each draft is reviewed by a person)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _MAX_SUGGEST_LIMIT:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number from 1 to {_MAX_SUGGEST_LIMIT}"
        )
    return int(text)


def _suggest(args: argparse.Namespace) -> int:
    from collector_receiver.catalog import SuggestionInput, draft_entries
    from collector_receiver.store import StoreError
    from collector_receiver.store.aggregates import AggregateQueries
    from collector_receiver.timeparse import format_time, utc_now

    catalog = _load(args.catalog)
    end = utc_now()
    start = end - args.since
    queries = open_reader(AggregateQueries.from_url, args.db)
    try:
        # Read more than --limit: the catalog may have learnt some of them since they were stored.
        rows = queries.uncataloged_patterns(start, end, limit=args.limit * 3)
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from None
    finally:
        queries.close()
    since = format_time(start)
    if not rows:
        print(f"no UNCATALOGED failures since {since}: nothing to suggest")
        return 0
    drafts = draft_entries(
        [
            SuggestionInput(
                exception_type=row.exception_type,
                message_template=row.message_template,
                occurrences=row.occurrences,
                example_message=row.example_message,
                services=row.services,
            )
            for row in rows
        ],
        catalog,
    )[: args.limit]
    if not drafts:
        print(
            f"the {len(rows)} most frequent UNCATALOGED kinds of failure since {since} are "
            f"matched by {catalog.source} now: nothing to suggest"
        )
        return 0
    print(
        f"# {len(drafts)} draft entries for the most frequent UNCATALOGED failures since {since},"
    )
    print(f"# checked against {catalog.source} (catalog_version {catalog.catalog_version}).")
    print("# Review each (the categories are guesses), then paste them under 'entries:'.")
    for draft in drafts:
        print()
        print(draft.yaml_text, end="")
    return 0
