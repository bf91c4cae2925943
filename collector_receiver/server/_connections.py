"""How long a client may hold a connection of an aiohttp listener (OTLP/HTTP and the 9464 port)
without using it (CONTRACT §4 r2: slow and idle clients cannot shut others out).

An open connection costs the receiver an open file and some memory, whatever the client does
with it, so each phase of a connection has a time limit:

* **Idle, or never a complete request** — ``--idle-timeout``. aiohttp's keep-alive timer closes
  a connection that has no request in progress for that long. Its clock starts when the
  connection is accepted (aiohttp 3.14.4 and later) and again when an answer has been sent, and
  it does not restart with each byte received: it is also the limit on the request line and
  headers, so a connection that sends nothing, or half a header, or a header one byte at a
  time, is closed after ``--idle-timeout`` all the same.
* **The body** — ``--read-timeout``, counted from the end of the headers. The OTLP/HTTP handler
  reads the body itself under that deadline (``collector_receiver.server.otlp_http``). A body
  no handler reads (a request refused before it, or a body sent to the 9464 port) is read and
  thrown away for at most ``min(10 s, --read-timeout)`` after the answer, then the connection
  is closed.
* **A request being handled** is not timed here: what it waits for (the database, the write
  queue) is the receiver's, bounded elsewhere, and its connection stays open until it is
  answered.

What a client may have sent but not yet had read is bounded by aiohttp's read buffer (the
transport stops reading at 128 KiB per connection).
"""

from __future__ import annotations

from typing import Any

#: The longest an unread body is drained after its answer (aiohttp's default lingering time):
#: long enough for a sender still uploading to read the answer, short enough to free the
#: connection.
_LINGER_SECONDS = 10.0


def connection_limits(idle_timeout: float, read_timeout: float) -> dict[str, Any]:
    """The ``handler_args`` of a ``web.Application`` that put the limits above in place."""
    return {
        "keepalive_timeout": idle_timeout,
        "lingering_time": min(_LINGER_SECONDS, read_timeout),
    }


__all__ = ["connection_limits"]
