"""A re-entrancy guard: recording a failure never records another failure on the way.

Recording runs redaction, exporters' processors and possibly logging. If any of that fails and
logs at ERROR with ``exc_info`` (or raises into a hook), a naive recorder would recurse. The flag
lives in a :class:`contextvars.ContextVar`, so it is per thread and per asyncio task, and costs a
lookup on the failure path only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_recording: ContextVar[bool] = ContextVar("otel_failcat_recording", default=False)


def is_recording() -> bool:
    """True while a failure is being recorded in the current context."""
    return _recording.get()


@contextmanager
def recording() -> Iterator[bool]:
    """Enter the recording section; yields False when already inside it (the caller must skip)."""
    if _recording.get():
        yield False
        return
    token = _recording.set(True)
    try:
        yield True
    finally:
        _recording.reset(token)
