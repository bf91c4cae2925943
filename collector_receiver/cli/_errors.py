"""How a ``failcat`` command fails: one line on stderr and an exit status, never a traceback.

Handlers raise :class:`CommandError` for what the user can fix (a database that cannot be
reached, an invalid catalog, flags that contradict each other); every parser of the command is a
:class:`CommandParser`, whose :meth:`~CommandParser.error` raises :class:`UsageError` for a flag
argparse (or a ``type=`` converter) refused. :func:`collector_receiver.cli.main` prints both as
``failcat <command>: <reason>``.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["CommandError", "CommandParser", "UsageError"]

#: Exit status of a usage mistake (argparse's own).
_USAGE_EXIT_STATUS = 2


class CommandError(Exception):
    """A user-facing failure of a command: printed as one line, exit status ``exit_code``."""

    def __init__(self, message: str, exit_code: int = _USAGE_EXIT_STATUS) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(CommandError):
    """A command line argparse refused; ``prog`` names the parser that refused it."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message, _USAGE_EXIT_STATUS)
        self.prog = prog


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose refusals are one line (``--count: 'x' is not an integer``).

    argparse gives sub-parsers the class of their parent, so the root parser being one makes
    every sub-parser one too.
    """

    def error(self, message: str) -> NoReturn:
        # argparse words a refused value as "argument --count: <reason>"; the flag is the name
        # a user typed, so it leads the line the way the handlers' own errors do.
        raise UsageError(self.prog, message.removeprefix("argument "))
