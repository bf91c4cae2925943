"""One failure, one row across signals: an exception log record beside a status-only span.

CONTRACT §4 (r2) drops a ``span_status`` failure (a span marked ERROR with ``error.type``, no
exception event) when a span of its lineage in the same request carries an exception event
(``otlp._lineage``). A log record that carries an exception is OpenTelemetry's other way of
recording one, and it always travels in a logs request of its own, so that rule cannot see it:
a Node.js agent that logs the error it caught, inside its step span, while the Anthropic SDK
marks its own span under it ``error.type = authentication_error``, sent two rows for one failure.
The store sees both, whatever requests carry them, so the rule is completed here, in the write
transaction:

- a ``span_status`` failure is not stored when a ``log_record`` failure of its trace is stored
  on its span or on a span of its lineage (``related_span_ids``: its ancestors and descendants
  as its request showed them; its parent always, named by the span itself);
- a ``log_record`` failure is not stored when a ``span_status`` failure of its trace is stored
  whose span, or a span of whose lineage, is the log record's span.

Whichever arrives first is the row, as for the two signals of one ``failcat.recording_id``
(the JS SDK exports logs every second and spans every five by default, so the log record, with
the exception's own type, message and stacktrace, usually is); within one batch the earlier in
the batch, which is the order of arrival. The one left out counts as a repeat of a stored
failure: neither row nor counter moves for it, and a redelivery of either stays one row.

Only a log record with a trace id and a span id takes part: without them nothing ties it to a
span, and both stay rows. Status-only spans of other lineages (siblings, cousins, other traces)
and exception events of other requests are not affected (the request stays the unit for those).

Cost: nothing for a batch without such failures (one pass over it). Otherwise one query for
the status-only rows of the batch's traces (PostgreSQL: the trace ids as one array; SQLite: an
``IN`` list per :data:`_CHUNK`), through a partial index on ``trace_id`` that holds only those
rows (migration 0007), and, only when the batch itself holds status-only failures, one for the
log records of their traces. Every batch of log records with trace context pays the first, so
it must not depend on the planner's statistics: the full ``trace_id`` index is passed over for
a sequential scan of a partition the planner has no statistics of yet (a new month's, until
autovacuum analyses it), so that each lookup read every row stored so far, while the small
partial index is taken whatever the statistics say. Measured (``bench_store_write.py``'s
``logs`` workload, log records with trace context, against span events, which do not look):
0.93-1.0 of the rows per second on PostgreSQL, 0.98-1.0 on SQLite (docs/otlp-ingest.md).

Concurrency: SQLite's writers take turns (``BEGIN IMMEDIATE``). Two PostgreSQL writers, each
storing one of the two, could each find the other not yet committed; a batch of at most
:data:`MAX_LOCKED_TRACES` traces (an agent's) therefore takes a transaction-scoped advisory lock
per trace first, in one order, so that the second waits for the first's commit and then sees its
row. A larger batch (a collector's) takes none, rather than fill PostgreSQL's lock table: two
receivers storing the two halves of one failure at the same instant may then keep both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from collector_receiver.events import MatchedFailure

#: A batch of more traces than this takes no advisory lock (see the module docstring).
MAX_LOCKED_TRACES = 32
#: Trace ids per SQLite lookup (it binds at most 32766 parameters).
_CHUNK = 500
#: The first key of the advisory locks: the receiver's own namespace ("fc").
_LOCK_NAMESPACE = 0x6663

_SOURCES = ("log_record", "span_status")


def recorded_on_other_signal(
    conn: Connection, failures: Sequence[MatchedFailure], *, postgresql: bool
) -> set[str]:
    """Event keys of ``failures`` (unique keys, arrival order) that are already stored, or
    stored earlier in the batch, on the other signal (see the module docstring)."""
    taking_part = [
        failure
        for failure in failures
        if failure.source in _SOURCES and failure.trace_id and failure.span_id
    ]
    if not taking_part:
        return set()
    traces = sorted({failure.trace_id for failure in taking_part if failure.trace_id})
    if postgresql and len(traces) <= MAX_LOCKED_TRACES:
        _lock(conn, traces)
    known = _Recorded()
    # Status-only rows of these traces, through their partial index: every batch of log records
    # with trace context asks, so this must stay cheap (see the module docstring).
    for trace_id, span_id, related in _select(
        conn,
        postgresql,
        "trace_id, span_id, related_span_ids",
        traces,
        "related_span_ids IS NOT NULL",
    ):
        known.add_status(trace_id, span_id, related.split())
    # Log records of the traces a status-only failure of the batch is in: rare, as such
    # failures are.
    status_traces = sorted(
        {f.trace_id for f in taking_part if f.source == "span_status" and f.trace_id}
    )
    if status_traces:
        for trace_id, span_id in _select(
            conn,
            postgresql,
            "trace_id, span_id",
            status_traces,
            "source = 'log_record' AND span_id IS NOT NULL",
        ):
            known.add_log(trace_id, span_id)
    repeats: set[str] = set()
    for failure in taking_part:
        if known.explains(failure):
            repeats.add(failure.event_key)
        else:
            known.add_failure(failure)
    return repeats


class _Recorded:
    """The log records and status-only spans of the batch's traces, stored or earlier in it."""

    __slots__ = ("_log_spans", "_status_lineages")

    def __init__(self) -> None:
        #: trace id -> the spans log records were recorded on
        self._log_spans: dict[str, set[str]] = {}
        #: trace id -> every span of a status-only failure's lineage, the span itself included
        self._status_lineages: dict[str, set[str]] = {}

    def add_log(self, trace_id: str, span_id: str) -> None:
        self._log_spans.setdefault(trace_id, set()).add(span_id)

    def add_status(self, trace_id: str, span_id: str, related: Sequence[str]) -> None:
        lineage = self._status_lineages.setdefault(trace_id, set())
        lineage.add(span_id)
        lineage.update(related)

    def add_failure(self, failure: MatchedFailure) -> None:
        assert failure.trace_id is not None and failure.span_id is not None
        if failure.source == "log_record":
            self.add_log(failure.trace_id, failure.span_id)
        else:
            self.add_status(failure.trace_id, failure.span_id, failure.related_span_ids)

    def explains(self, failure: MatchedFailure) -> bool:
        """Whether ``failure`` is a recording, on the other signal, of one already known."""
        assert failure.trace_id is not None and failure.span_id is not None
        if failure.source == "log_record":
            return failure.span_id in self._status_lineages.get(failure.trace_id, ())
        logged = self._log_spans.get(failure.trace_id)
        if not logged:
            return False
        return failure.span_id in logged or not logged.isdisjoint(failure.related_span_ids)


def _select(
    conn: Connection, postgresql: bool, columns: str, traces: Sequence[str], where: str
) -> Iterator[Any]:
    """``columns`` of the rows of ``traces`` that satisfy ``where``.

    PostgreSQL takes the trace ids as one array parameter (``= ANY``): one short statement
    whatever their number, where an ``IN`` list of hundreds of parameters cost more to send and
    plan, for each partition, than the lookup itself. SQLite binds a list in chunks.
    """
    if postgresql:
        query = f"SELECT {columns} FROM failure_matches WHERE trace_id = ANY(:traces) AND {where}"
        yield from conn.execute(sa.text(query), {"traces": list(traces)})
        return
    for start in range(0, len(traces), _CHUNK):
        chunk = traces[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT {columns} FROM failure_matches WHERE trace_id IN ({marks}) AND {where}"
        yield from conn.exec_driver_sql(query, tuple(chunk))


def _lock(conn: Connection, traces: Sequence[str]) -> None:
    """Take a transaction-scoped advisory lock per trace, in one order for every writer (the
    order of the keys), so that two writers never wait for each other in a cycle."""
    keys = sorted({_lock_key(trace_id) for trace_id in traces})
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(:namespace, key) FROM unnest(:keys) AS key"),
        {"namespace": _LOCK_NAMESPACE, "keys": keys},
    )


def _lock_key(trace_id: str) -> int:
    """A signed 32-bit key of a trace id (two traces sharing one only wait for each other)."""
    digest = hashlib.blake2b(trace_id.encode("ascii"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)
