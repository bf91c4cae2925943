"""End-to-end ingest of a real ``failcat serve``: OTLP/gRPC in, every failure committed, against
the limits of the same work measured in the same run.

Two paths, each on a fresh database and a freshly started receiver:

* **ingest** — ``--ingest-requests`` requests of ``--ingest-spans`` spans, ``--failure-share``
  of them (1 %) failing: spans/s of the receiver, against the **limit** of a protobuf parse of
  the same request bytes plus a Python walk that pulls the ``exception`` events and counts the
  GenAI operations as CONTRACT §5 (r2) counts them, from each span's own attributes (in this
  process, one thread; the receiver also reads the ancestors' and the resource's attributes
  and digests the span ids, which the limit leaves out).
* **persist** — ``--persist-requests`` requests of ``--persist-spans`` spans, every span
  failing: failures/s of the receiver, against the **limit** of a psycopg binary COPY of the
  same rows (read back from ``failure_matches`` after the run) into ``bench_copy``, a table
  made with ``LIKE failure_matches INCLUDING ALL`` (the same unique key and indexes), in
  transactions of the receiver's default write batch (2000 rows). On SQLite the limit is an
  ``executemany`` INSERT into a copy of the table and its indexes instead.

The requests are built with the OTLP protobuf classes: half the spans follow the GenAI semantic
conventions (``chat <model>`` and ``execute_tool <tool>`` with ``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.tool.name``), the others are HTTP
and database client spans. A failing span carries an ``exception`` event with
``exception.type``, an ``exception.message`` with variable parts and a stacktrace of about
2 KB that no other failure shares, so first-seen costs (redaction, fingerprint, a new pattern)
are paid for every failure. ``--clients`` threads (4) send them over OTLP/gRPC on
``--connections`` connections (64, as that many agents would; each request on the next one in
turn, see ``Connections``), with the raw bytes through a generic ``unary_unary`` call to the
trace service's ``Export``, retrying an UNAVAILABLE or RESOURCE_EXHAUSTED answer. The clock runs
from the first request until the last is answered — the receiver answers a request after its
failures are committed, and the run fails unless ``failure_matches`` then holds every one (a
small warm-up goes first on every connection and is not timed). The ingest limit is measured
once before the receiver's run and twice after it, the persist limit three times after it, and
the best of each kept, so load from other processes falls on both alike; the ratio product /
limit is what to compare between machines and commits, not the absolute figures.

``--workers 1 2`` repeats both paths with ``failcat serve --workers 2`` (the flag is passed to
the receiver only when it is above 1). Besides the ratio, each row says how many cores each
side kept busy on average during the timed run, from /proc: the receiver (split over its
workers), this process (the sending threads and the poll) and the PostgreSQL backends of the
run's database; on a machine with few cores that says which side was the limit.
``--py-spy DIR`` records the receiver with py-spy during each timed run, sampling only the
thread that holds the GIL (where the interpreter's one core goes; waits on the network and the
database are left out), as collapsed stacks in one file per path and worker count that
speedscope and flame graph tools read; a profiled run is slower than one without.

Prints a table (path, workers, product, limit, ratio) and writes it with the machine, the date
and the sizes as JSON (``--json PATH``). ``--smoke`` is a run of a few requests that finishes in
seconds, for CI; its figures mean nothing.

    python benchmarks/bench_ingest_e2e.py [--db postgresql|sqlite|URL] [--workers 1 [2]]
        [--ingest-requests 200] [--ingest-spans 2000] [--failure-share 0.01]
        [--persist-requests 40] [--persist-spans 500] [--clients 4] [--connections 64]
        [--json PATH]
        [--paths ingest persist] [--py-spy DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc
import psycopg
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector_receiver.demo.children import (
    ReceiverChild,
    ReceiverNotReady,
    free_ports,
    readyz_answers,
    serve_command,
    spawn,
    wait_until_ready,
)
from collector_receiver.settings import DEFAULT_WRITE_BATCH_SIZE
from tests.support import databases

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#: Answers after which a sender tries the same request again (the receiver kept nothing).
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
#: How often the sending threads are checked for being done (and the receiver for being up).
_POLL_SECONDS = 0.01
#: A run that has not stored every failure after this long has gone wrong.
_RUN_TIMEOUT_SECONDS = 900.0
#: Each limit is measured this many times (one before the receiver's run, the rest after).
_LIMIT_REPEAT = 3
_T0 = 1_790_000_000_000_000_000

_SERVICES = ("support-agent", "research-agent", "coding-agent", "planner-agent")
_MODELS = (
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("gcp.gemini", "gemini-2.5-pro"),
)
_TOOLS = ("search_docs", "run_sql", "fetch_url", "send_email", "read_file", "create_ticket")
#: Span names of the GenAI conventions start with the operation name (CONTRACT §5 r2).
_OPERATION_NAMES = frozenset(
    {
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
    }
)
#: The attributes an operation is counted by, and the one it must carry.
_CONTEXT_KEYS = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.tool.name",
        "gen_ai.agent.name",
    }
)
_HOUR_NANOS = 3_600_000_000_000
_SPANS_PER_TRACE = 20

#: (file, function, line, source line): a frame's line number is part of the frame.
_APP_FRAMES = (
    ("agent/runner.py", "run", 112, "result = self._dispatch(step, context=context)"),
    ("agent/runner.py", "_dispatch", 87, "return handler(step.arguments, timeout=step.timeout)"),
    (
        "agent/llm.py",
        "LLMClient.chat",
        241,
        "response = self._client.chat.completions.create(**req)",
    ),
    ("agent/tools/__init__.py", "ToolBox.invoke", 58, "return await tool.ainvoke(arguments)"),
    (
        "agent/planner.py",
        "Planner.next_action",
        133,
        "action = self.llm.chat(messages, tools=tools)",
    ),
    ("agent/memory.py", "MemoryStore.search", 76, "hits = self._index.query(vector, top_k=k)"),
)
_LIB_FRAMES = (
    ("openai/_base_client.py", "_request", 1012, "return self._retry_request(options, cast_to)"),
    ("openai/_base_client.py", "request", 1090, "raise self._make_status_error_from_response(r)"),
    ("httpx/_client.py", "send", 926, "response = self._send_handling_auth(request, auth=auth)"),
    (
        "httpx/_transports/default.py",
        "handle_request",
        233,
        "resp = self._pool.handle_request(req)",
    ),
    ("anthropic/_base_client.py", "_request", 1051, "raise self._make_status_error(err_text)"),
    ("tenacity/__init__.py", "__call__", 340, "do = self.iter(retry_state=retry_state)"),
    ("langchain_core/runnables/base.py", "invoke", 5122, "return self._call_with_config(func)"),
)


def _kv(key: str, value: str | int) -> KeyValue:
    pair = KeyValue(key=key)
    if isinstance(value, int):
        pair.value.int_value = value
    else:
        pair.value.string_value = value
    return pair


def _failure(rng: random.Random, span_name: str) -> tuple[str, str]:
    """An exception type and a message with variable parts (ids, counts, times)."""
    roll = rng.randrange(6)
    if roll == 0:
        used = rng.randrange(20_000, 30_000)
        return (
            "openai.RateLimitError",
            f"Error code: 429 - Rate limit reached for gpt-4o in organization "
            f"org-{rng.getrandbits(64):016x} on tokens per min (TPM): Limit 30000, Used {used}, "
            f"Requested {rng.randrange(500, 4000)}. "
            f"Please try again in {rng.randrange(90, 900)}ms.",
        )
    if roll == 1:
        return (
            "anthropic.OverloadedError",
            "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', "
            f"'message': 'Overloaded'}}, 'request_id': 'req_{rng.getrandbits(96):024x}'}}",
        )
    if roll == 2:
        return (
            "httpx.ReadTimeout",
            f"timed out after {rng.randrange(5, 120)}s reading "
            f"https://api.internal.example/v1/items/{rng.randrange(10**8)}",
        )
    if roll == 3:
        return (
            "agent.tools.ToolExecutionError",
            f"{span_name} failed for call call_{rng.getrandbits(48):012x}: upstream answered 503 "
            f"after {rng.randrange(1, 5)} attempts",
        )
    if roll == 4:
        return ("KeyError", f"'field_{rng.randrange(10**6)}'")
    return (
        "json.decoder.JSONDecodeError",
        f"Expecting value: line 1 column {rng.randrange(1, 4000)} (char {rng.randrange(4000)})",
    )


def _stacktrace(rng: random.Random, exception_type: str, message: str) -> str:
    """A Python traceback of about 2 KB, unique to its failure.

    Its frames' choice and order and its message (which carries ids, counts and times) make it
    one no other failure has; a frame's line number is the frame's own (fixed per entry of
    ``_APP_FRAMES``/``_LIB_FRAMES``), as in real code, where the same code paths fail at the same
    lines again and again, so frame lines repeat between stacktraces while whole texts do not.
    """
    root = rng.choice(("/srv/app", "/app", "/home/runner/work/agent/agent"))
    lines = ["Traceback (most recent call last):\n"]
    for depth in range(12):
        if depth < 5:
            path, function, line, source = rng.choice(_APP_FRAMES)
            path = f"{root}/{path}"
        else:
            path, function, line, source = rng.choice(_LIB_FRAMES)
            path = f"{root}/.venv/lib/python3.12/site-packages/{path}"
        lines.append(f'  File "{path}", line {line}, in {function}\n    {source}\n')
    lines.append(f"{exception_type}: {message}\n")
    return "".join(lines)


def _failing(index: int, share: float) -> bool:
    """Whether span ``index`` fails: exactly ``floor(spans * share)`` of them, spread evenly."""
    return int((index + 1) * share) > int(index * share)


def build_request(seed: int, spans: int, failure_share: float) -> tuple[bytes, int]:
    """A serialised trace export request and the number of failures it carries."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    per_service = -(-spans // len(_SERVICES))
    failures = 0
    index = 0
    for service in _SERVICES:
        if index >= spans:
            break
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(
            [
                _kv("service.name", service),
                _kv("service.version", "2.4.1"),
                _kv("deployment.environment.name", "prod"),
                _kv("telemetry.sdk.language", "python"),
            ]
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.CopyFrom(
            InstrumentationScope(name="opentelemetry.instrumentation.openai_v2", version="2.1b0")
        )
        trace_id = parent_id = b""
        for _ in range(min(per_service, spans - index)):
            if index % _SPANS_PER_TRACE == 0:
                trace_id, parent_id = rng.randbytes(16), b""
            start = _T0 + seed * 10_000_000_000 + index * 1_000_000
            span = scope_spans.spans.add()
            span.trace_id = trace_id
            span.span_id = rng.randbytes(8)
            span.parent_span_id = parent_id
            span.start_time_unix_nano = start
            span.end_time_unix_nano = start + rng.randrange(100_000, 900_000)
            provider, model = _MODELS[index % len(_MODELS)]
            kind = index % 4
            if kind == 0:
                span.name = f"chat {model}"
                span.kind = Span.SPAN_KIND_CLIENT
                span.attributes.extend(
                    [
                        _kv("gen_ai.operation.name", "chat"),
                        _kv("gen_ai.provider.name", provider),
                        _kv("gen_ai.request.model", model),
                        _kv("gen_ai.response.model", model),
                        _kv("gen_ai.usage.input_tokens", rng.randrange(100, 8000)),
                        _kv("gen_ai.usage.output_tokens", rng.randrange(10, 900)),
                        _kv("server.address", f"api.{provider}.example"),
                    ]
                )
            elif kind == 2:
                tool = _TOOLS[index % len(_TOOLS)]
                span.name = f"execute_tool {tool}"
                span.kind = Span.SPAN_KIND_INTERNAL
                span.attributes.extend(
                    [
                        _kv("gen_ai.operation.name", "execute_tool"),
                        _kv("gen_ai.provider.name", provider),
                        _kv("gen_ai.request.model", model),
                        _kv("gen_ai.tool.name", tool),
                        _kv("gen_ai.tool.call.id", f"call_{rng.getrandbits(48):012x}"),
                    ]
                )
            elif kind == 1:
                span.name = "POST"
                span.kind = Span.SPAN_KIND_CLIENT
                span.attributes.extend(
                    [
                        _kv("http.request.method", "POST"),
                        _kv("url.full", f"https://api.internal.example/v1/items/{index}"),
                        _kv("server.address", "api.internal.example"),
                        _kv("http.response.status_code", 200),
                    ]
                )
            else:
                span.name = "SELECT agents"
                span.kind = Span.SPAN_KIND_CLIENT
                span.attributes.extend(
                    [
                        _kv("db.system.name", "postgresql"),
                        _kv("db.operation.name", "SELECT"),
                        _kv("db.collection.name", "agents"),
                    ]
                )
            if _failing(index, failure_share):
                failures += 1
                exception_type, message = _failure(rng, span.name)
                event = span.events.add()
                event.name = "exception"
                event.time_unix_nano = span.end_time_unix_nano - 1_000
                event.attributes.extend(
                    [
                        _kv("exception.type", exception_type),
                        _kv("exception.message", message),
                        _kv(
                            "exception.stacktrace",
                            _stacktrace(rng, exception_type, message),
                        ),
                        _kv("exception.escaped", "true"),
                    ]
                )
                span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=message[:80]))
            parent_id = span.span_id
            index += 1
    return request.SerializeToString(), failures


@dataclass(frozen=True)
class Workload:
    """The requests of one path, built before the clock starts."""

    bodies: list[bytes]
    spans: int
    failures: int


def build_workload(seed: int, requests: int, spans: int, failure_share: float) -> Workload:
    bodies, failures = [], 0
    for n in range(requests):
        body, count = build_request(seed * 100_000 + n, spans, failure_share)
        bodies.append(body)
        failures += count
    return Workload(bodies, requests * spans, failures)


# -- the limits ---------------------------------------------------------------------------------


def walk_limit(bodies: Sequence[bytes]) -> tuple[int, int, int]:
    """Parse each body and walk it: spans seen, GenAI operations counted, exception events
    pulled.

    An operation is counted as CONTRACT §5 (r2) counts it, the least way: a span whose name
    begins with an operation name and that carries ``gen_ai.operation.name``, by the hour of
    its start, its service and the context its own attributes give (the receiver also looks
    up the ancestors' attributes and the resource's, and digests the span ids: not here).
    """
    spans = genai = 0
    pulled: list[dict[str, str]] = []
    counts: dict[tuple[object, ...], int] = {}
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                (
                    pair.value.string_value
                    for pair in resource_spans.resource.attributes
                    if pair.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans += 1
                    if span.name.partition(" ")[0] in _OPERATION_NAMES:
                        found = {
                            pair.key: pair.value.string_value
                            for pair in span.attributes
                            if pair.key in _CONTEXT_KEYS
                        }
                        if found.get("gen_ai.operation.name"):
                            key = (
                                span.start_time_unix_nano // _HOUR_NANOS,
                                service,
                                found.get("gen_ai.provider.name") or found.get("gen_ai.system"),
                                found.get("gen_ai.request.model")
                                or found.get("gen_ai.response.model"),
                                found["gen_ai.operation.name"],
                                found.get("gen_ai.tool.name"),
                                found.get("gen_ai.agent.name"),
                            )
                            counts[key] = counts.get(key, 0) + 1
                            genai += 1
                    for event in span.events:
                        if event.name == "exception":
                            pulled.append(
                                {pair.key: pair.value.string_value for pair in event.attributes}
                            )
    return spans, genai, len(pulled)


def ingest_limit_rate(workload: Workload) -> float:
    started = time.perf_counter()
    spans, _, pulled = walk_limit(workload.bodies)
    elapsed = time.perf_counter() - started
    if (spans, pulled) != (workload.spans, workload.failures):
        raise AssertionError(f"walk saw {spans} spans, {pulled} exceptions; expected otherwise")
    return spans / elapsed


class Database:
    """A fresh database for one run: the receiver's URL, a count of stored failures, and the
    persist limit measured on the rows the receiver stored."""

    url: str

    def count_failures(self) -> int:
        raise NotImplementedError

    def persist_limit_rate(self) -> float:
        raise NotImplementedError

    def backend_cpu_seconds(self) -> float:
        """CPU seconds the database's server processes used for this database so far."""
        return 0.0

    def close(self) -> None:
        pass


class PostgresDatabase(Database):
    def __init__(self, url: str) -> None:
        self.url = url
        self._dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._poll: psycopg.Connection[Any] | None = None

    def count_failures(self) -> int:
        if self._poll is None:
            self._poll = psycopg.connect(self._dsn, autocommit=True)
        row = self._poll.execute("SELECT count(*) FROM failure_matches").fetchone()
        return int(row[0]) if row else 0

    def backend_cpu_seconds(self) -> float:
        return _backend_cpu_seconds(self._dsn.rsplit("/", 1)[1])

    def persist_limit_rate(self) -> float:
        with psycopg.connect(self._dsn) as conn:
            columns = conn.execute(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_name = 'failure_matches' AND column_name <> 'id' "
                "ORDER BY ordinal_position"
            ).fetchall()
            names = ", ".join(name for name, _ in columns)
            types = [udt for _, udt in columns]
            cursor = conn.cursor()
            rows: list[tuple[Any, ...]] = []
            with cursor.copy(
                f"COPY (SELECT {names} FROM failure_matches ORDER BY id) TO STDOUT (FORMAT BINARY)"
            ) as copy:
                copy.set_types(types)
                rows.extend(copy.rows())
            conn.execute("CREATE TABLE bench_copy (LIKE failure_matches INCLUDING ALL)")
            conn.commit()
            best = float("inf")
            for _ in range(_LIMIT_REPEAT):
                conn.execute("TRUNCATE bench_copy")
                conn.commit()
                started = time.perf_counter()
                for offset in range(0, len(rows), DEFAULT_WRITE_BATCH_SIZE):
                    with cursor.copy(
                        f"COPY bench_copy ({names}) FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.set_types(types)
                        for row in rows[offset : offset + DEFAULT_WRITE_BATCH_SIZE]:
                            copy.write_row(row)
                    conn.commit()
                best = min(best, time.perf_counter() - started)
            conn.execute("DROP TABLE bench_copy")
            conn.commit()
        return len(rows) / best

    def close(self) -> None:
        if self._poll is not None:
            self._poll.close()


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self._poll: sqlite3.Connection | None = None

    def count_failures(self) -> int:
        if self._poll is None:
            self._poll = sqlite3.connect(self.path, timeout=30)
        try:
            return int(self._poll.execute("SELECT count(*) FROM failure_matches").fetchone()[0])
        except sqlite3.OperationalError:  # the receiver holds the lock a moment longer
            return 0

    def persist_limit_rate(self) -> float:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            names = [
                row[1]
                for row in conn.execute("PRAGMA table_info(failure_matches)")
                if row[1] != "id"
            ]
            rows = conn.execute(
                f"SELECT {', '.join(names)} FROM failure_matches ORDER BY id"
            ).fetchall()
            schema = [
                sql.replace("failure_matches", "bench_copy")
                for (sql,) in conn.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = 'failure_matches' "
                    "AND sql IS NOT NULL ORDER BY type DESC"  # the table before its indexes
                )
            ]
            insert = (
                f"INSERT INTO bench_copy ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)})"
            )
            best = float("inf")
            for _ in range(_LIMIT_REPEAT):
                conn.execute("DROP TABLE IF EXISTS bench_copy")
                for statement in schema:
                    conn.execute(statement)
                conn.commit()
                started = time.perf_counter()
                for offset in range(0, len(rows), DEFAULT_WRITE_BATCH_SIZE):
                    conn.executemany(insert, rows[offset : offset + DEFAULT_WRITE_BATCH_SIZE])
                    conn.commit()
                best = min(best, time.perf_counter() - started)
            conn.execute("DROP TABLE bench_copy")
            conn.commit()
        finally:
            conn.close()
        return len(rows) / best

    def close(self) -> None:
        if self._poll is not None:
            self._poll.close()


@dataclass(frozen=True)
class DatabaseChoice:
    """``--db``: PostgreSQL (a fresh database on the server of ``admin_dsn``) or SQLite (fresh
    files in ``directory``, a temporary one when None)."""

    kind: str
    admin_dsn: str | None = None
    directory: Path | None = None
    stem: str = "failcat-bench"

    @contextmanager
    def fresh(self, label: str) -> Iterator[Database]:
        if self.kind == "postgresql":
            if self.admin_dsn is not None:
                os.environ["FAILCAT_TEST_PG_URL"] = self.admin_dsn
            with databases.fresh_postgres_database() as url:
                database: Database = PostgresDatabase(url)
                try:
                    yield database
                finally:
                    database.close()
            return
        with tempfile.TemporaryDirectory() as scratch:
            directory = self.directory or Path(scratch)
            path = directory / f"{self.stem}-{label}.db"
            if path.exists():
                raise SystemExit(f"{path} exists already; the benchmark needs a fresh file")
            database = SqliteDatabase(path)
            try:
                yield database
            finally:
                database.close()
                if self.directory is not None:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)


def database_choice(text: str) -> DatabaseChoice:
    """``postgresql``, ``sqlite``, a ``postgresql://`` URL of a maintenance database, or a
    ``sqlite:///DIR/NAME.db`` URL (fresh ``NAME-<path>-w<N>.db`` files in DIR)."""
    if text in ("postgresql", "sqlite"):
        return DatabaseChoice(text)
    if text.startswith(("postgresql://", "postgresql+psycopg://")):
        return DatabaseChoice("postgresql", admin_dsn=text)
    if text.startswith("sqlite:///"):
        path = Path(text.removeprefix("sqlite:///"))
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"no directory {path.parent}")
        return DatabaseChoice("sqlite", directory=path.parent, stem=path.stem)
    raise argparse.ArgumentTypeError(
        "expected postgresql, sqlite, a postgresql:// or a sqlite:/// URL"
    )


# -- the product --------------------------------------------------------------------------------


class Connections:
    """``count`` gRPC connections to ``target``, each request sent on the next one in turn.

    Every channel has a connection of its own (``grpc.use_local_subchannel_pool``: gRPC
    otherwise shares one TCP connection among channels to the same target), as separate agents
    have. ``--workers`` processes share the port with ``SO_REUSEPORT``, and the kernel hands
    each new *connection* to one of them by a hash of its addresses: 4 connections over 2
    workers are split 2 + 2 only 3 times in 8 (seen: 1 + 3), so a sender thread per connection
    measured the luck of the split more than the receiver. 16 connections were seen split
    6 + 10 to 8 + 8, 64 of them 31 + 33: requests taken in turn from many connections spread
    as many agents' would.
    """

    def __init__(self, target: str, count: int) -> None:
        options = [("grpc.max_send_message_length", -1), ("grpc.use_local_subchannel_pool", 1)]
        self._channels = [grpc.insecure_channel(target, options=options) for _ in range(count)]
        for channel in self._channels:
            grpc.channel_ready_future(channel).result(timeout=30)
        self.exports = [channel.unary_unary(TRACE_EXPORT) for channel in self._channels]
        self._turn = itertools.count()  # next() on it is atomic: the threads share it

    def next(self) -> grpc.UnaryUnaryMultiCallable:
        return self.exports[next(self._turn) % len(self.exports)]

    def close(self) -> None:
        for channel in self._channels:
            channel.close()


class Sender(threading.Thread):
    """A client thread: sends the bodies left in a shared queue, one at a time, each on the
    next of the shared connections; keeps count of retries, rejected spans and errors."""

    def __init__(self, connections: Connections, work: queue.Queue[bytes], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.connections = connections
        self.work = work
        self.retries = 0
        self.rejected_spans = 0
        self.errors: list[str] = []
        #: ``time.perf_counter()`` when this thread's last request was answered.
        self.last_answer = 0.0

    def run(self) -> None:
        while True:
            try:
                body = self.work.get_nowait()
            except queue.Empty:
                return
            if not self._send(body):
                return

    def _send(self, body: bytes) -> bool:
        """Send until answered OK (True) or refused for good (False, an error kept)."""
        while True:
            try:
                answer = self.connections.next()(body, timeout=120)
            except grpc.RpcError as error:
                code = error.code()
                if code in _RETRYABLE:  # the receiver kept nothing: send it again
                    self.retries += 1
                    time.sleep(0.05)
                    continue
                self.errors.append(f"{code}: {error.details()}")
                return False
            self.last_answer = time.perf_counter()
            response = ExportTraceServiceResponse.FromString(answer)
            self.rejected_spans += response.partial_success.rejected_spans
            return True


def send(connections: Connections, bodies: Sequence[bytes], clients: int) -> list[Sender]:
    """Start ``clients`` threads sending ``bodies`` between them."""
    work: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        work.put(body)
    senders = [Sender(connections, work, f"client-{n}") for n in range(clients)]
    for sender in senders:
        sender.start()
    return senders


def warm_up(connections: Connections, bodies: Sequence[bytes]) -> None:
    """Send the warm-up bodies on every connection, so every worker has served some before
    the clock starts (the repeats are stored once: the receiver is idempotent)."""
    for export in connections.exports:
        for body in bodies:
            export(body, timeout=120)


def _cpu_by_process(pid: int) -> tuple[float, dict[int, float]]:
    """User + system CPU seconds of ``pid`` and its live children together, and of each
    ``--workers`` process among them by pid (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    workers: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(entry.name) != pid and int(fields[1]) != pid:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            # A worker is a multiprocessing spawn child (its resource tracker is not).
            is_worker = b"spawn_main" in (entry / "cmdline").read_bytes()
        except OSError:
            continue
        total += seconds
        if is_worker:
            workers[int(entry.name)] = seconds
    return total, workers


def _backend_cpu_seconds(database_name: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database_name`` (0 when the server
    runs elsewhere: its processes are not in this machine's /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    needle = f" {database_name} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # A backend's title: "postgres: 15/main: USER DBNAME HOST(PORT) STATE".
            if needle not in (entry / "cmdline").read_bytes():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by the receiver's processes, this process and the database."""

    receiver: float
    workers: dict[int, float]
    clients: float
    database: float

    @classmethod
    def take(cls, receiver_pid: int, database: Database) -> CpuSnapshot:
        receiver, workers = _cpu_by_process(receiver_pid)
        return cls(receiver, workers, time.process_time(), database.backend_cpu_seconds())


@contextmanager
def py_spy(pid: int, output: Path | None) -> Iterator[None]:
    """Record ``pid`` (and its subprocesses) with py-spy while the block runs."""
    if output is None:
        yield
        return
    program = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    recorder = subprocess.Popen(
        [
            *(program, "record", "--pid", str(pid), "--subprocesses", "--threads", "--gil"),
            *("--rate", "200", "--format", "raw", "--output", str(output)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # py-spy attaches before the clock starts
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        _, err = recorder.communicate(timeout=60)
        if not output.exists():
            print(f"py-spy wrote no profile: {err.decode(errors='replace').strip()}")


@dataclass
class Row:
    """One line of the table."""

    path: str
    workers: int
    unit: str
    product: float
    limit: float
    ratio: float
    requests: int
    spans: int
    failures: int
    seconds: float
    #: CPU seconds during the timed run: every receiver process together, each worker (empty
    #: for one process), this process (the sending threads and the count poll), and the
    #: database's backends for this database (0 for SQLite, whose work is the receiver's).
    receiver_cpu_seconds: float
    worker_cpu_seconds: list[float]
    client_cpu_seconds: float
    database_cpu_seconds: float
    retries: int
    limit_kind: str

    def cores(self) -> tuple[float, float, float]:
        """Cores busy on average during the run: receiver, clients, database."""
        return (
            self.receiver_cpu_seconds / self.seconds,
            self.client_cpu_seconds / self.seconds,
            self.database_cpu_seconds / self.seconds,
        )


def run_path(
    path: str,
    workload: Workload,
    warmup: Workload,
    choice: DatabaseChoice,
    workers: int,
    args: argparse.Namespace,
    log_dir: Path,
) -> Row:
    with choice.fresh(f"{path}-w{workers}") as database:
        ingest_limits = [ingest_limit_rate(workload)] if path == "ingest" else []
        ports = free_ports()
        extra = ["--workers", str(workers)] if workers > 1 else []
        log_path = log_dir / f"receiver-{path}-w{workers}.log"
        child = ReceiverChild(
            spawn(serve_command(database.url, ports, extra_args=extra), log_path, _receiver_env()),
            ports,
            log_path,
        )
        try:
            try:
                wait_until_ready(child, readyz_answers(child), timeout=60)
            except ReceiverNotReady as exc:
                hint = " (--workers above 1 needs a failcat serve with --workers)" if extra else ""
                raise SystemExit(f"{exc}{hint}") from None
            connections = Connections(f"127.0.0.1:{ports.grpc}", args.connections)
            warm_up(connections, warmup.bodies)
            expected = warmup.failures + workload.failures
            profile = None if args.py_spy is None else args.py_spy / f"{path}-w{workers}.txt"
            with py_spy(child.process.pid, profile):
                before = CpuSnapshot.take(child.process.pid, database)
                started = time.perf_counter()
                senders = send(connections, workload.bodies, args.clients)
                elapsed = _wait_for_answers(senders, child, started)
                after = CpuSnapshot.take(child.process.pid, database)
            _check_stored(database.count_failures, expected)
            connections.close()
        finally:
            status = child.stop()
        if status != 0:
            raise SystemExit(f"the receiver exited {status}: {child.last_log_line()}")
        rejected = sum(sender.rejected_spans for sender in senders)
        if rejected:
            raise SystemExit(f"the receiver rejected {rejected} spans: {child.last_log_line()}")
        if path == "ingest":
            ingest_limits += [ingest_limit_rate(workload) for _ in range(_LIMIT_REPEAT - 1)]
            product, limit = workload.spans / elapsed, max(ingest_limits)
            unit, limit_kind = "spans/s", "protobuf parse + Python walk, one thread"
        else:
            product, limit = workload.failures / elapsed, database.persist_limit_rate()
            unit = "rows/s"
            limit_kind = (
                "psycopg binary COPY into LIKE failure_matches INCLUDING ALL"
                if choice.kind == "postgresql"
                else "sqlite3 executemany into a copy of failure_matches"
            )
    return Row(
        path=path,
        workers=workers,
        unit=unit,
        product=product,
        limit=limit,
        ratio=product / limit,
        requests=len(workload.bodies),
        spans=workload.spans,
        failures=workload.failures,
        seconds=elapsed,
        receiver_cpu_seconds=after.receiver - before.receiver,
        worker_cpu_seconds=[
            seconds - before.workers.get(pid, 0.0) for pid, seconds in sorted(after.workers.items())
        ],
        client_cpu_seconds=after.clients - before.clients,
        database_cpu_seconds=after.database - before.database,
        retries=sum(sender.retries for sender in senders),
        limit_kind=limit_kind,
    )


def _receiver_env() -> dict[str, str]:
    """This environment without the caller's receiver and SDK settings (a token, a catalog)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}


def _join(senders: Sequence[Sender]) -> None:
    for sender in senders:
        sender.join()
    errors = [error for sender in senders for error in sender.errors]
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, the first: {errors[0]}")


def _wait_for_answers(senders: Sequence[Sender], child: ReceiverChild, started: float) -> float:
    """Seconds from ``started`` until the last request was answered.

    The receiver acknowledges a request only after the transaction holding its failures
    committed (CONTRACT §4), so the last answer is the moment the database holds every
    failure (:func:`_check_stored` makes sure of it after the run). The database is not
    polled while the clock runs: a ``count(*)`` over tens of thousands of 2 KB rows every few
    milliseconds kept a PostgreSQL backend busy on the same cores as the receiver.
    """
    while any(sender.is_alive() for sender in senders):
        if not child.alive():
            raise SystemExit(f"the receiver exited: {child.last_log_line()}")
        if time.perf_counter() - started > _RUN_TIMEOUT_SECONDS:
            raise SystemExit(f"requests still unanswered after {_RUN_TIMEOUT_SECONDS:.0f}s")
        time.sleep(_POLL_SECONDS)
    _join(senders)
    return max(sender.last_answer for sender in senders) - started


def _check_stored(count: Callable[[], int], expected: int) -> None:
    stored = count()
    if stored != expected:
        raise SystemExit(f"every request was answered but {stored} of {expected} failures stored")


# -- output -------------------------------------------------------------------------------------


def machine(choice: DatabaseChoice) -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "database": choice.kind,
        "load_average_at_start": list(os.getloadavg()),
    }


def print_table(rows: Sequence[Row]) -> None:
    """The table, with the cores each side kept busy on average during the timed run (the
    receiver's split over its workers in brackets): where the machine's CPU went."""
    header = (
        f"{'path':<8} {'workers':>7} {'product':>14} {'limit':>14} {'ratio':>6}  {'unit':<8}"
        "  cores: receiver (per worker) / clients / database"
    )
    print(header)
    for row in rows:
        receiver, clients, database = row.cores()
        split = " + ".join(f"{s / row.seconds:.2f}" for s in row.worker_cpu_seconds)
        print(
            f"{row.path:<8} {row.workers:>7} {row.product:>14,.0f} {row.limit:>14,.0f} "
            f"{row.ratio:>6.2f}  {row.unit:<8}  {receiver:.2f}{f' ({split})' if split else ''}"
            f" / {clients:.2f} / {database:.2f}"
        )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        type=database_choice,
        default=DatabaseChoice("postgresql"),
        help="postgresql (default: a fresh database on FAILCAT_TEST_PG_URL's server, "
        "127.0.0.1:5432), sqlite, a postgresql:// URL of a maintenance database, or "
        "sqlite:///DIR/NAME.db",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        nargs="+",
        default=[1],
        help="receiver processes; passed as failcat serve --workers only when above 1",
    )
    parser.add_argument("--ingest-requests", type=_positive, default=200)
    parser.add_argument("--ingest-spans", type=_positive, default=2000, help="spans per request")
    parser.add_argument("--failure-share", type=_share, default=0.01, help="of the ingest spans")
    parser.add_argument("--persist-requests", type=_positive, default=40)
    parser.add_argument("--persist-spans", type=_positive, default=500, help="all failing")
    parser.add_argument("--clients", type=_positive, default=4, help="sending threads")
    parser.add_argument(
        "--connections", type=_positive, default=64, help="gRPC connections the threads share"
    )
    parser.add_argument("--paths", nargs="+", choices=["ingest", "persist"],
                        default=["ingest", "persist"])  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="record the receiver here")
    parser.add_argument("--smoke", action="store_true", help="a few requests, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.ingest_requests, args.ingest_spans = 4, 200
        args.persist_requests, args.persist_spans = 2, 50
        args.connections = min(args.connections, 4)  # the warm-up goes over every one
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    choice: DatabaseChoice = args.db
    about = machine(choice)
    started_at = datetime.now(timezone.utc)
    workloads = {
        "ingest": build_workload(1, args.ingest_requests, args.ingest_spans, args.failure_share),
        "persist": build_workload(2, args.persist_requests, args.persist_spans, 1.0),
    }
    warmup = build_workload(3, 2, 50, 0.1)
    print(
        f"ingest: {args.ingest_requests} requests x {args.ingest_spans} spans, "
        f"{workloads['ingest'].failures} failures; persist: {args.persist_requests} x "
        f"{args.persist_spans} spans, all failing; {args.clients} clients on "
        f"{args.connections} connections, {choice.kind}, "
        f"{about['nproc']} CPUs, load {about['load_average_at_start'][0]:.2f}"
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as log_dir:
        for workers in args.workers:
            for path in args.paths:
                rows.append(
                    run_path(path, workloads[path], warmup, choice, workers, args, Path(log_dir))
                )
    print_table(rows)
    if args.json is not None:
        about["load_average_at_end"] = list(os.getloadavg())
        document = {
            "benchmark": "bench_ingest_e2e",
            "date": started_at.isoformat(timespec="seconds"),
            "machine": about,
            "sizes": {
                "ingest_requests": args.ingest_requests,
                "ingest_spans": args.ingest_spans,
                "failure_share": args.failure_share,
                "persist_requests": args.persist_requests,
                "persist_spans": args.persist_spans,
                "clients": args.clients,
                "connections": args.connections,
                "smoke": args.smoke,
            },
            "rows": [asdict(row) for row in rows],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
