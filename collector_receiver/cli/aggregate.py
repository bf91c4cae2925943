"""``failcat aggregate``: not written yet (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("aggregate", help="(not yet available)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.cli import CommandError

    raise CommandError("not implemented yet")
