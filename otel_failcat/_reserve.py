"""File descriptors held in reserve, so a process out of them can still export the failure that
says so.

An agent that leaks files or sockets dies of ``OSError: [Errno 24] Too many open files``, and
the exporter that should send that last failure needs descriptors of its own: a socket, perhaps
a resolver's and a certificate file besides. So the instrumentor opens a few on ``os.devnull``
when it starts and closes them just before the flushes that deliver a dying process's failures: the
main thread's excepthook flush (the reserve is taken again after it, for a process that goes
on, as an interactive one does) and the providers' shutdown at exit (an ``atexit`` handler
registered after the SDK's, as ``opentelemetry-instrument`` orders them, so it runs before
it). libuv keeps one descriptor in reserve for the same reason, to answer EMFILE on ``accept``.

The cost is :data:`RESERVED_DESCRIPTORS` descriptors of the process's limit (1024 by default
on Linux), held for its life. Opening them is best effort: a process already short of
descriptors keeps what it got.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

#: How many are held. One is enough for either OTLP exporter to connect to an address and send
#: (tests/otel_failcat/test_out_of_file_descriptors.py passes with one, fails with none); the
#: others are for what a connection may open on the way, each for a moment: a resolver socket
#: for a collector's host name, the CA bundle for TLS.
RESERVED_DESCRIPTORS = 4


class DescriptorReserve:
    """Descriptors opened on ``os.devnull`` (not inherited by child processes), to be freed
    for an exporter when the process has none left."""

    __slots__ = ("_count", "_descriptors")

    def __init__(self, count: int = RESERVED_DESCRIPTORS) -> None:
        self._count = count
        self._descriptors: list[int] = []

    @property
    def held(self) -> int:
        """How many are held now."""
        return len(self._descriptors)

    def acquire(self) -> None:
        """Top the reserve up to its count, as far as the process's limit allows."""
        while len(self._descriptors) < self._count:
            try:
                self._descriptors.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                return

    def release(self) -> None:
        """Close every descriptor held (idempotent)."""
        descriptors, self._descriptors = self._descriptors, []
        for descriptor in descriptors:
            try:
                os.close(descriptor)
            except OSError:
                pass

    @contextmanager
    def released(self) -> Iterator[None]:
        """Free the reserve for the block, and take it again after."""
        self.release()
        try:
            yield
        finally:
            self.acquire()
