"""A bound on the OTLP request bytes the receiver holds at once (``--max-inflight-bytes``).

The write queue bounds what waits for the database, but a request's body, its inflated copy and
its decoded messages are held from the moment it is read until it is answered. Without a bound,
a burst of large requests (a Collector flushing many 64 MiB batches at once) grows memory
without limit. Each request's reservation here counts what it holds, never what it announces:
OTLP/HTTP grows it by each chunk of the body as it arrives, then by the inflated body and (for
OTLP/JSON) by what decoding takes; gRPC as described in ``collector_receiver.server.otlp_grpc``.
It is released when the request is answered. A reservation that does not fit is refused at
once and the request answered retryably (HTTP 503 / gRPC ``UNAVAILABLE``): the sender keeps the
data and tries again later.

When nothing is in flight any size is admitted, so one request larger than the bound (but within
``--max-request-bytes``) is never refused forever.

Used from the event loop's thread only (both listeners share it), so no lock is needed.
"""

from __future__ import annotations


class InflightBytes:
    """Bytes reserved by the requests being handled, against a fixed limit."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the in-flight limit must be at least 1 byte")
        self.limit = limit
        self.held = 0

    def try_grow(self, reserved: int, size: int) -> bool:
        """Grow a reservation of ``reserved`` bytes (0 for a new one) to ``size``; False
        (unchanged) when that would pass the limit while other requests hold bytes."""
        extra = size - reserved
        if extra <= 0:
            return True
        if self.held > reserved and self.held + extra > self.limit:
            return False
        self.held += extra
        return True

    def release(self, size: int) -> None:
        self.held -= size


__all__ = ["InflightBytes"]
