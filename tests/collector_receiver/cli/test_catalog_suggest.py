"""``failcat catalog suggest``: drafts for stored UNCATALOGED failures that load and match.

Failures go through the receiver's own prepare stage (redaction, template, fingerprint, a small
catalog of the test's own, so that the default catalog's growth cannot make them cataloged) and
the store's ``write_batch``; the drafts printed are pasted after that catalog's entries as a user
would, loaded by the catalog loader, and the same failures prepared again must then get the
drafted codes. Pasted after the default catalog, they load too.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_receiver.catalog import default_catalog_path, load_catalog, parse_catalog
from collector_receiver.catalog._suggest import guess_category, pattern_from_template
from collector_receiver.cli import main
from collector_receiver.events import UNCATALOGED, FailureEvent
from collector_receiver.prepare import FailurePreparer
from collector_receiver.store import FailureStore, upgrade
from otel_failcat.normalize import message_template
from otel_failcat.redaction import Redactor
from tests.collector_receiver.catalog._helpers import catalog_text, entry

_HOUR_NS = 3600 * 10**9

# (type, message with {n} and {id} varying per occurrence, occurrences): ordinary failures of an
# agent's own code that no default entry names.
_KINDS = (
    ("agent.errors.PlannerStuck", "planner made no progress after {n} steps (run_{id})", 5),
    ("ToolCrashed", "tool 'search' crashed with exit status {n} after {n}.{n}s", 4),
    ("myapp.BudgetExceeded", "Monthly budget of {n} USD exceeded for org-{id}", 3),
)


def _events(kinds: tuple[tuple[str, str, int], ...], hours_ago: float = 1.0) -> list[FailureEvent]:
    now = time.time_ns()
    events = []
    index = 0
    for exception_type, message, count in kinds:
        for occurrence in range(count):
            index += 1
            events.append(
                FailureEvent(
                    source="span_event",
                    service_name=f"svc-{occurrence % 2}",
                    exception_type=exception_type,
                    exception_message=message.format(
                        n=occurrence * 7 + 3, id=f"a{occurrence}b9c8d7e6f5"
                    ),
                    stacktrace="",
                    time_unix_nano=now - int(hours_ago * _HOUR_NS) - index * 10**9,
                    trace_id=f"{index:032x}",
                    span_id=f"{index:016x}",
                )
            )
    return events


# Indented as the default catalog is (and as the drafts are printed), so they paste at its end.
_CATALOG = """version: 2
catalog_version: suggest-test
entries:
  - code: RATE_LIMITED
    title: Provider rate limit
    category: rate_limit
    severity: high
    match:
      exception_types: [openai.RateLimitError]
"""


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(_CATALOG, encoding="utf-8")
    return path


def _store(url: str, events: list[FailureEvent]) -> None:
    upgrade(url)
    store = FailureStore.from_url(url)
    try:
        catalog = parse_catalog(_CATALOG)
        prepared = FailurePreparer(catalog, Redactor()).prepare(events)
        assert {match.code for _, match in prepared} == {UNCATALOGED}
        store.write_batch([failure for failure, _ in prepared])
    finally:
        store.close()


def test_drafts_load_after_the_catalog_and_catch_the_failures(
    db_url: str, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _events(_KINDS)
    _store(db_url, events)
    assert main(["catalog", "suggest", "--db", db_url, "--catalog", str(catalog_file)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("  - code: ") == 3
    # Most frequent first, each with its count and an example as comments.
    codes = [line.split()[-1] for line in printed.splitlines() if line.startswith("  - code: ")]
    assert codes == ["PLANNER_STUCK", "TOOL_CRASHED", "BUDGET_EXCEEDED"]
    assert "# 5 occurrences in 2 service(s); example:" in printed
    assert "category guessed from 'tool'" in printed
    assert "category guessed from 'budget'" in printed
    assert "category is a guess: nothing in the type or message names one" in printed

    # Pasted at the end of the catalog, as a user would: the loader accepts the file, and the
    # very failures that were UNCATALOGED now get the drafted codes.
    merged = parse_catalog(_CATALOG.rstrip("\n") + "\n\n" + printed, "pasted.yaml")
    prepared = FailurePreparer(merged, Redactor()).prepare(events)
    by_type = {failure.exception_type: match.code for failure, match in prepared}
    assert by_type == {
        "agent.errors.PlannerStuck": "PLANNER_STUCK",
        "ToolCrashed": "TOOL_CRASHED",
        "myapp.BudgetExceeded": "BUDGET_EXCEEDED",
    }
    assert {m.entry.category for _, m in prepared if m.entry} == {
        "bad_request",
        "tool",
        "limit_exceeded",
    }
    # The default catalog's file takes them at its end too (same indentation, no code taken).
    default = default_catalog_path().read_text(encoding="utf-8").rstrip("\n")
    assert len(parse_catalog(default + "\n\n" + printed).entries) == len(load_catalog().entries) + 3


def test_limit_and_window(
    sqlite_url: str, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _events((("OldFailure", "an old failure {n}", 9),), hours_ago=48)
    _store(sqlite_url, [*_events(_KINDS), *old])
    argv = ["catalog", "suggest", "--db", sqlite_url, "--catalog", str(catalog_file)]
    assert main([*argv, "--since", "1d", "--limit", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("  - code: ") == 1
    assert "  - code: PLANNER_STUCK" in printed
    assert main([*argv, "--since", "3d", "--limit", "1"]) == 0
    assert "  - code: OLD_FAILURE" in capsys.readouterr().out


def test_kinds_the_catalog_knows_now_are_left_out(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(sqlite_url, _events(_KINDS))
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        catalog_text(
            entry("PLANNER_STUCK", {"exception_types": ["agent.errors.PlannerStuck"]}),
            catalog_version="newer",
        ),
        encoding="utf-8",
    )
    argv = ["catalog", "suggest", "--db", sqlite_url, "--catalog", str(catalog)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    # The code the catalog holds is taken, and the kind it matches is not drafted again.
    assert "  - code: PLANNER_STUCK" not in printed
    assert "  - code: TOOL_CRASHED" in printed
    assert "catalog_version newer" in printed


def test_an_empty_store_says_so(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(db_url)
    assert main(["catalog", "suggest", "--db", db_url, "--since", "2h"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("no UNCATALOGED failures since ")
    assert captured.out.rstrip().endswith(": nothing to suggest")
    assert captured.err == ""


@pytest.mark.parametrize("since", ["7", "0d", "1.5h", "-1d", "7y", "d", ""])
def test_a_bad_since_is_refused_with_one_line(
    since: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "suggest", "--db", sqlite_url, "--since", since]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--since" in err


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_a_bad_limit_is_refused_with_one_line(
    limit: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "suggest", "--db", sqlite_url, "--limit", limit]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--limit" in err


def test_a_missing_database_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    assert main(["catalog", "suggest", "--db", url]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no database file" in err


@pytest.mark.parametrize(
    ("exception_type", "message", "category"),
    [
        ("openai.RateLimitError", "", "rate_limit"),
        ("httpx.ReadTimeout", "connection lost", "timeout"),
        ("Error", "fetch failed", "connection"),
        ("Error", "Unexpected token < in JSON at position 0", "output_parse"),
        ("ValueError", "maximum context length is 8192 tokens", "context_length"),
        ("KeyError", "'user_id'", "bad_request"),
    ],
)
def test_category_guesses(exception_type: str, message: str, category: str) -> None:
    assert guess_category(exception_type, message)[0] == category


_PIECES = st.sampled_from(
    [
        "3",
        "1.4s",
        "-2",
        "v2.0.1",
        "req_0123456789",
        "chatcmpl-9xAbCdEf0123",
        "0x1f",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "550e8400-e29b-41d4-a716-446655440000",
        "10.0.0.1",
        "fe80::1",
        "https://api.example.com/v1?x=1",
        "/srv/app/x.py",
        "C:\\Users\\a b\\x.txt",
        "'quoted'",
        '"say \\"hi\\""',
        "user@example.com",
        "2024-05-01T12:00:00Z",
        "2024-05-01",
        "10:55:37",
        "Sat, 28 Nov 2026 10:55:37 GMT",
        "gpt-4o-2024-08-06",
        "(",
        ")",
        "[x]",
        "a.b*c+d?",
        "$^|{}",
        "\\",
        "#",
        "٣٤٥",
        "word",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(_PIECES, st.sampled_from([" ", "  ", "\n", "\t", ", ", ""])), max_size=12)
)
def test_the_pattern_of_a_template_matches_the_message(pieces: list[tuple[str, str]]) -> None:
    message = "".join(piece + glue for piece, glue in pieces)
    pattern = pattern_from_template(message_template(message))
    assert re2.search(pattern, message) is not None, (message, pattern)
