"""Identity-based dedupe: one exception object is recorded once, whichever hooks see it.

An exception raised inside nested ``track`` blocks, logged with ``logger.exception`` and then
left unhandled passes through several hooks; only the first sighting is recorded. Identity, not
equality, decides (two ``ValueError("x")`` are two failures). No strong reference is kept: the
table maps ``id(exc)`` to a weak reference, and its entry disappears with the exception, so a
later object that reuses the address is not mistaken for it.

The built-in exception types (``ValueError``, ``KeyError``...) and classes with ``__slots__``
cannot be weakly referenced. Those get a marker in their instance ``__dict__`` (every
``BaseException`` has one) whose value is ``(pid, id(exc))``: it dies with the object, and a
copy or an unpickled twin (another ``id`` or another process) does not carry a valid mark.
"""

from __future__ import annotations

import os
import threading
import weakref

_MARKER = "_otel_failcat_recorded"


class SeenExceptions:
    """A set of exception objects, by identity, that does not keep them alive."""

    def __init__(self) -> None:
        self._seen: weakref.WeakValueDictionary[int, BaseException] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def first_sighting(self, exc: BaseException) -> bool:
        """Remember ``exc``; True if it was not seen before (the caller records it)."""
        key = id(exc)
        with self._lock:
            if self._seen.get(key) is exc:
                return False
            try:
                self._seen[key] = exc
            except TypeError:
                return self._mark(exc)
            return True

    def __contains__(self, exc: object) -> bool:
        if not isinstance(exc, BaseException):
            return False
        return self._seen.get(id(exc)) is exc or exc.__dict__.get(_MARKER) == _mark_of(exc)

    def __len__(self) -> int:
        return len(self._seen)

    @staticmethod
    def _mark(exc: BaseException) -> bool:
        # Not weakly referenceable: fall back to a marker on the object itself (dies with it).
        mark = _mark_of(exc)
        if exc.__dict__.get(_MARKER) == mark:
            return False
        exc.__dict__[_MARKER] = mark
        return True


def _mark_of(exc: BaseException) -> tuple[int, int]:
    return (os.getpid(), id(exc))
