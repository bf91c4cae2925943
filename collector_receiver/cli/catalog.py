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
from collector_receiver.environment_variables import FAILCAT_CATALOG
from collector_receiver.events import AttributeValue

if TYPE_CHECKING:
    from collector_receiver.catalog import Catalog

_WHICH = f"catalog file (default: ${FAILCAT_CATALOG}, else the packaged catalog)"


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
