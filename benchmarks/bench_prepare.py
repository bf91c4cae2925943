"""Throughput of the receiver's prepare stage (``FailurePreparer.prepare``) against a baseline.

``prepare`` redacts each failure's message, stacktrace and string attributes, matches it against
the catalog, templates its message, fingerprints it and builds the row. The baseline, measured in
the same run on the same events, is ``Catalog.match`` alone (one of the stages), so the ratio
``prepare / match`` is what to compare between machines and commits; absolute failures/s depend
on the machine.

The events are shaped like what ``extract_failures`` produces from real agents:

- type, message, cause types and attributes from the default catalog's test cases (positive
  and negative), with a request id and a timestamp made different per failure, as real messages
  are;
- kinds drawn with Zipf-like weights (a few kinds make most failures, a long tail the rest),
  as in production where rate limits and timeouts dominate;
- a Python traceback of 3-6 kB (application frames, library frames under ``site-packages``,
  standard-library frames, sometimes chained), one of three code paths per kind, so that
  failures of the same kind share their stacktrace as they do in production
  (``--paths-per-kind 100000`` gives nearly every failure its own: the worst case for caches
  keyed by whole texts); a frame's line number and source line are fixed by its file and
  function, as in real code, so frames repeat between stacktraces even then;
- about ten span attributes (``gen_ai.*``, ``http.*``, ``server.*``, ``url.full``, ...) plus
  ``exception.type``/``exception.message``/``exception.stacktrace``, which the OTLP extraction
  keeps in the attributes too;
- half of them carry ``failcat.fingerprint`` as ``otel_failcat`` agents send it, half not (the
  receiver computes one).

Each round prepares the events with a new ``FailurePreparer`` and empties the memo caches of
``otel_failcat.normalize``, ``otel_failcat.fingerprint``, the credential-key test and the
redactor's stacktrace memo (frames, messages) first, so
caches start empty and only repetition within the events helps, never an earlier round's work
on the very same events.

The breakdown times each stage by hand on the same events with the functions ``prepare`` uses.
It is a guide to where time goes, not an exact split: ``prepare`` may share work between stages.

Times are the CPU time of the preparing thread (``time.thread_time``): the stage runs in one
thread, and on a shared machine the wall clock also counts the waits for a core.

Run: ``.venv/bin/python benchmarks/bench_prepare.py [--failures N] [--rounds R] [--seed S]
[--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import otel_failcat.fingerprint
import otel_failcat.normalize
import otel_failcat.redaction._attributes
from collector_receiver.catalog import Catalog, load_catalog
from collector_receiver.events import FailureEvent
from collector_receiver.prepare import FailurePreparer
from otel_failcat.fingerprint import compute_fingerprint
from otel_failcat.normalize import message_template
from otel_failcat.redaction import Redactor

_CASES = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "collector_receiver"
    / "catalog"
    / "default_cases.yaml"
)
_SERVICES = ("support-agent", "research-agent", "coding-agent", "planner-agent", "triage-agent")
_APP_ROOTS = ("/srv/app", "/app", "/home/runner/work/agent/agent")
_APP_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("agent/runner.py", ("run", "Runner.step", "_dispatch")),
    ("agent/tools/__init__.py", ("call_tool", "ToolBox.invoke")),
    ("agent/llm.py", ("complete", "LLMClient.chat", "_with_retries")),
    ("agent/planner.py", ("plan", "Planner.next_action")),
    ("agent/memory.py", ("recall", "MemoryStore.search")),
)
_LIB_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("openai/_base_client.py", ("request", "_request", "_retry_request", "post")),
    ("openai/resources/chat/completions/completions.py", ("create",)),
    ("httpx/_client.py", ("send", "_send_handling_auth", "_send_single_request")),
    ("httpx/_transports/default.py", ("handle_request",)),
    ("anthropic/_base_client.py", ("request", "_request")),
    ("langchain_core/runnables/base.py", ("invoke", "_call_with_config")),
    ("tenacity/__init__.py", ("__call__", "iter")),
)
_STDLIB_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("concurrent/futures/_base.py", ("result", "__get_result")),
    ("asyncio/base_events.py", ("run_until_complete",)),
    ("contextlib.py", ("__exit__",)),
)
_SOURCE_LINES = (
    "response = self._client.send(request, stream=stream or self._should_stream_response_body())",
    "return self._retry_request(input_options, cast_to, retries_taken=retries_taken)",
    "result = await tool.ainvoke(arguments, config={'run_name': name})",
    "raise self._make_status_error_from_response(err.response) from None",
    "return func(*args, **kwargs)",
    "completion = client.chat.completions.create(model=model, messages=messages, tools=tools)",
)


def _stacktrace(rng: random.Random, final_line: str) -> str:
    """A Python traceback of 3-6 kB, sometimes chained, ending with ``final_line``."""

    def section() -> str:
        root = rng.choice(_APP_ROOTS)
        lines = ["Traceback (most recent call last):\n"]
        for depth in range(rng.randint(12, 22)):
            roll = rng.random()
            if roll < 0.45:
                name, functions = rng.choice(_APP_FILES)
                path = f"{root}/{name}"
            elif roll < 0.9:
                name, functions = rng.choice(_LIB_FILES)
                path = f"{root}/.venv/lib/python3.12/site-packages/{name}"
            else:
                name, functions = rng.choice(_STDLIB_FILES)
                path = f"/usr/lib/python3.12/{name}"
            function = rng.choice(functions)
            # A frame's line and source are the frame's own: the same code fails at the same
            # line again and again (the stacktrace as a whole stays new by its message).
            place = zlib.crc32(f"{path}:{function}".encode())
            lines.append(
                f'  File "{path}", line {20 + place % 1880}, in {function}\n'
                f"    {_SOURCE_LINES[place % len(_SOURCE_LINES)]}\n"
            )
            if depth % 7 == 6:
                lines.append("    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n")
        return "".join(lines)

    text = section() + final_line
    if rng.random() < 0.4:
        text = (
            section()
            + "httpx.ReadTimeout: The read operation timed out\n\n"
            + "The above exception was the direct cause of the following exception:\n\n"
            + text
        )
    while len(text) < 3000:
        text = section() + "ValueError: retry\n\nDuring handling of the above exception, "
        text += "another exception occurred:\n\n" + section() + final_line
    return text[-6000:] if len(text) > 6000 else text


def build_events(count: int, seed: int, paths_per_kind: int = 3) -> list[FailureEvent]:
    """``count`` realistic failures (see the module docstring); deterministic for a seed."""
    rng = random.Random(seed)
    cases = yaml.safe_load(_CASES.read_text(encoding="utf-8"))
    kinds: list[dict[str, Any]] = list(cases["positive"]) + list(cases["negative"])
    # A few dozen code paths per kind at most: failures of one kind share their stacktrace.
    paths: dict[tuple[int, int], str] = {}
    # A few kinds make most failures (rate limits, timeouts), a long tail the rest: Zipf-like.
    rng.shuffle(kinds)
    weights = [1 / (rank + 1) for rank in range(len(kinds))]
    redactor = Redactor()
    events = []
    for index in range(count):
        kind_index = rng.choices(range(len(kinds)), weights)[0]
        kind = kinds[kind_index]
        exception_type = str(kind.get("exception_type") or "")
        message = str(kind.get("message") or "")
        if rng.random() < 0.6:
            message += (
                f" (request id: req_{rng.getrandbits(64):016x},"
                f" at 2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z)"
            )
        path_key = (kind_index, rng.randrange(paths_per_kind))
        if path_key not in paths:
            paths[path_key] = _stacktrace(rng, f"{exception_type}: {message[:200]}")
        stacktrace = paths[path_key]
        service = rng.choice(_SERVICES)
        attributes: dict[str, Any] = {
            "gen_ai.system": rng.choice(["openai", "anthropic", "gcp.gemini"]),
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": rng.choice(["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"]),
            "gen_ai.usage.input_tokens": rng.randint(100, 120_000),
            "http.request.method": "POST",
            "server.address": rng.choice(["api.openai.com", "api.anthropic.com"]),
            "server.port": 443,
            "url.full": "https://api.openai.com/v1/chat/completions",
            "failcat.handled": rng.random() < 0.5,
            "failcat.agent.step": rng.randint(1, 40),
            "exception.type": exception_type,
            "exception.message": message,
            "exception.stacktrace": stacktrace,
            **{str(k): v for k, v in (kind.get("attributes") or {}).items()},
        }
        cause_types = tuple(str(c) for c in kind.get("cause_types") or ())
        fingerprint = None
        if index % 2 == 0:
            # What an otel_failcat agent sends: computed on the redacted, capped texts.
            fingerprint = compute_fingerprint(
                service,
                exception_type,
                redactor.message(message),
                redactor.stacktrace(stacktrace),
            )
            attributes["failcat.fingerprint"] = fingerprint
        if cause_types:
            attributes["failcat.cause_types"] = list(cause_types)
        events.append(
            FailureEvent(
                source="span_event",
                service_name=service,
                exception_type=exception_type,
                exception_message=message,
                stacktrace=stacktrace,
                time_unix_nano=1_780_000_000_000_000_000 + index * 1_000_000,
                trace_id=f"{rng.getrandbits(128):032x}",
                span_id=f"{rng.getrandbits(64):016x}",
                attributes=attributes,
                resource={
                    "service.name": service,
                    "service.version": "1.4.2",
                    "deployment.environment.name": "production",
                },
                scope_name="otel_failcat",
                span_name=f"execute_tool {rng.choice(['search', 'fetch', 'code'])}",
                error_type=kind.get("error_type"),
                cause_types=cause_types,
                fingerprint=fingerprint,
            )
        )
    return events


#: Redactors whose stacktrace memo (frames, messages) is emptied with the caches.
_REDACTORS: list[Redactor] = []


def _clear_caches() -> None:
    """Empty the agent modules' memo caches (where this version has them) before a round."""
    for redactor in _REDACTORS:
        clear = getattr(redactor, "clear_memo", None)  # not in versions before it
        if clear is not None:
            clear()
    for module, name in (
        (otel_failcat.normalize, "_cached_template"),
        (otel_failcat.fingerprint, "_cached_fingerprint_frames"),
        (otel_failcat.fingerprint, "_python_file"),
        (otel_failcat.fingerprint, "_python_frame"),
        (otel_failcat.redaction._attributes, "credential_key"),
    ):
        cached = getattr(module, name, None)
        if cached is not None:
            cached.cache_clear()


def _best_seconds(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        _clear_caches()
        started = time.thread_time()
        run()
        best = min(best, time.thread_time() - started)
    return best


def _standalone(
    catalog: Catalog, redactor: Redactor, events: list[FailureEvent], rounds: int
) -> dict[str, float]:
    """Seconds per stage over all events, each stage called alone, without any sharing."""
    messages = [redactor.message(e.exception_message) for e in events]
    stacks = [redactor.stacktrace(e.stacktrace) for e in events]
    strings = [v for e in events for v in e.attributes.values() if isinstance(v, str)]
    unsent = [
        (e, m, s) for e, m, s in zip(events, messages, stacks, strict=True) if not e.fingerprint
    ]
    stages: dict[str, Callable[[], object]] = {
        "redact message": lambda: [redactor.message(e.exception_message) for e in events],
        "redact stacktrace": lambda: [redactor.stacktrace(e.stacktrace) for e in events],
        "redact string attributes": lambda: [redactor.message(v) for v in strings],
        "match": lambda: [catalog.match(e) for e in events],
        "template": lambda: [message_template(m) for m in messages],
        "fingerprint (unsent only)": lambda: [
            compute_fingerprint(e.service_name, e.exception_type, m, s) for e, m, s in unsent
        ],
        "event key": lambda: [e.event_key() for e in events],
    }
    return {name: _best_seconds(run, rounds) for name, run in stages.items()}


def _profiled(preparer: FailurePreparer, events: list[FailureEvent]) -> dict[str, float]:
    """Where ``prepare`` itself spends its time, from cProfile (shares are what count)."""
    _clear_caches()
    profile = cProfile.Profile()
    profile.enable()
    preparer.prepare(events)
    profile.disable()
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def cumulative(module: str, name: str, callers_outside: str | None = None) -> float:
        total = 0.0
        for (filename, _line, function), (_cc, _nc, _tt, ct, callers) in stats.items():
            if not filename.endswith(module) or function != name:
                continue
            if callers_outside is None:
                total += ct
            else:
                total += sum(
                    c[3] for caller, c in callers.items() if not caller[0].endswith(callers_outside)
                )
        return total

    prepare_total = cumulative("prepare.py", "prepare")
    redaction = sum(
        cumulative("redaction/_redactor.py", name, callers_outside="redaction/_redactor.py")
        for name in ("message", "stacktrace", "redact")
    )
    template = cumulative("normalize.py", "message_template")
    template_in_fingerprint = sum(
        c[3]
        for (filename, _l, function), (_cc, _nc, _tt, _ct, callers) in stats.items()
        if filename.endswith("normalize.py") and function == "message_template"
        for caller, c in callers.items()
        if caller[0].endswith("fingerprint.py")
    )
    fingerprint = cumulative("fingerprint.py", "compute_fingerprint") - template_in_fingerprint
    match = cumulative("_catalog.py", "match")
    parts = {
        "redaction": redaction,
        "template": template,
        "fingerprint (w/o template)": fingerprint,
        "match": match,
    }
    parts["row building and rest"] = prepare_total - sum(parts.values())
    return {name: seconds / prepare_total for name, seconds in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--failures", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--paths-per-kind",
        type=int,
        default=3,
        help="code paths (distinct stacktraces) per failure kind; large = no repetition",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of prepare")
    args = parser.parse_args()

    catalog = load_catalog()
    redactor = Redactor()
    _REDACTORS.append(redactor)
    events = build_events(args.failures, args.seed, args.paths_per_kind)
    preparer = FailurePreparer(catalog, redactor)
    sizes = sorted(len(e.stacktrace) for e in events)
    sent = sum(1 for e in events if e.fingerprint is not None)
    print(
        f"{len(events)} failures, {len({e.stacktrace for e in events})} distinct stacktraces"
        f" ({sizes[0]}-{sizes[-1]} chars, median {sizes[len(sizes) // 2]}),"
        f" {sent} with an agent fingerprint, best of {args.rounds} rounds"
    )

    preparer.prepare(events[:50])  # warm up lazily built state
    # Interleaved, best of each: other load on the machine hits both alike.
    baseline = prepared = float("inf")
    for _ in range(args.rounds):
        baseline = min(baseline, _best_seconds(lambda: [catalog.match(e) for e in events], 1))
        # A new preparer each round: its caches start empty, so only repetition within the
        # events counts, never a previous round's work on the very same events.
        prepared = min(
            prepared,
            _best_seconds(lambda: FailurePreparer(catalog, redactor).prepare(events), 1),
        )
    n = len(events)
    print(f"baseline Catalog.match: {n / baseline:10.0f} failures/s ({baseline / n * 1e6:7.1f} µs)")
    print(f"FailurePreparer.prepare: {n / prepared:9.0f} failures/s ({prepared / n * 1e6:7.1f} µs)")
    print(f"ratio prepare/match time: {prepared / baseline:.2f}x")

    print("\nwhere prepare spends its time (cProfile of one prepare call):")
    for name, share in _profiled(FailurePreparer(catalog, redactor), events).items():
        print(f"  {name:<26} {share:6.1%}  ~{share * prepared / n * 1e6:6.1f} µs/failure")

    print("\neach stage alone, no sharing between stages (same events):")
    for name, seconds in _standalone(catalog, redactor, events, args.rounds).items():
        print(f"  {name:<26} {seconds / n * 1e6:8.1f} µs/failure")

    if args.profile:
        _clear_caches()
        profile = cProfile.Profile()
        profile.enable()
        FailurePreparer(catalog, redactor).prepare(events)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
