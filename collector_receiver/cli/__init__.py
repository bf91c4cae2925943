"""The ``failcat`` command (CONTRACT §8).

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds its
parser and sets ``handler``; this module only dispatches. A user's mistake (bad flag value,
unreachable database, invalid catalog) ends in one line on stderr and a non-zero exit, never a
traceback: handlers raise :class:`CommandError`, every parser is a
:class:`~collector_receiver.cli._errors.CommandParser` whose refusals raise its subclass
``UsageError``, and ``main`` prints either as ``failcat <command>: <reason>``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from collector_receiver.cli._errors import CommandError, CommandParser, UsageError

__all__ = ["CommandError", "build_parser", "main"]

#: Subcommand modules, in the order ``failcat --help`` lists them.
_SUBCOMMANDS = (
    "serve",
    "db",
    "catalog",
    "failures",
    "rates",
    "aggregate",
    "traffic",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = CommandParser(
        prog="failcat",
        description="Turn agent failures into trace-linked, queryable data.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS:
        module = importlib.import_module(f"collector_receiver.cli.{name}")
        module.register(subparsers)
    return parser


#: Our own top-level packages: a missing module of these is a bug, not a missing extra.
_OWN_PACKAGES = frozenset({"collector_receiver", "otel_failcat"})


def _missing_dependency(exc: ImportError) -> str | None:
    """The third-party package whose absence raised ``exc``, or None if it is not that."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    package = exc.name.split(".")[0]
    return None if package in _OWN_PACKAGES else package


def _print_missing_receiver(module: str) -> int:
    print(
        f"failcat: {module} is not installed; "
        "install the receiver with: pip install 'otel-failcat[receiver]'",
        file=sys.stderr,
    )
    return 2


def _command_of(prog: str) -> str:
    """``failcat db upgrade`` -> ``failcat db``: a refusal names the command as handlers do."""
    return " ".join(prog.split()[:2])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``failcat`` console script."""
    command = "failcat"
    try:
        args = build_parser().parse_args(argv)
        command = f"failcat {args.command}"
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"{_command_of(exc.prog)}: {exc}", file=sys.stderr)
        return exc.exit_code
    except CommandError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except ImportError as exc:
        # `pip install otel-failcat` (the agent side alone) also installs this script; the
        # commands import the receiver's dependencies only when they run.
        missing = _missing_dependency(exc)
        if missing is None:
            raise
        return _print_missing_receiver(missing)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `failcat ... | head` closed the pipe: not an error of ours. Point stdout at devnull so
        # the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
