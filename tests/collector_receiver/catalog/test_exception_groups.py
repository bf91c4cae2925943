"""An exception group is classified by the failures inside it (its leaves): the first leaf that
matches an entry decides; when none does, the group's own type and message are matched."""

from __future__ import annotations

from collector_receiver.events import MAX_GROUP_LEAVES, GroupLeaf
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.prepare import FailurePreparer
from otel_failcat.redaction import Redactor
from tests.collector_receiver.catalog._helpers import build, entry, failure
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request

GROUP = "ExceptionGroup"
GROUP_MESSAGE = "unhandled errors in a TaskGroup (2 sub-exceptions)"

CATALOG = build(
    entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}, category="rate_limit"),
    entry(
        "MCP_REFUSED",
        {"exception_types": ["ConnectionError"], "message_patterns": ["(?i)mcp"]},
        category="connection",
    ),
    entry("TIMED_OUT", {"message_patterns": ["(?i)timed out"]}, category="timeout"),
    entry("HTTP_429", {"attributes": {"http.response.status_code": 429}}, category="rate_limit"),
    entry("TASK_GROUP", {"message_patterns": ["TaskGroup"]}, category="tool"),
)


def test_a_group_of_one_kind_matches_that_kind() -> None:
    leaves = [GroupLeaf("openai._exceptions.RateLimitError", "429 Too Many Requests")] * 3

    verdict = CATALOG.match(failure(GROUP, GROUP_MESSAGE, leaves=leaves))

    assert verdict.code == "RATE_LIMITED" and verdict.category == "rate_limit"
    assert verdict.group_leaf == 0
    assert verdict.reasons == (
        "RATE_LIMITED: group leaf 1 of 3: exception_types 'openai.RateLimitError' matched type "
        "'openai._exceptions.RateLimitError' (via alias)",
    )


def test_the_first_leaf_that_matches_wins_and_unknown_leaves_are_passed_over() -> None:
    leaves = [
        GroupLeaf("KeyError", "'missing'"),  # an ordinary programming error: no entry
        GroupLeaf("ConnectionRefusedError", "MCP server refused", base_types=("ConnectionError",)),
        GroupLeaf("openai.RateLimitError", "429"),
    ]

    verdict = CATALOG.match(failure(GROUP, GROUP_MESSAGE, leaves=leaves))

    assert verdict.code == "MCP_REFUSED" and verdict.group_leaf == 1
    assert verdict.reasons == (
        "MCP_REFUSED: group leaf 2 of 3: exception_types 'ConnectionError' matched base "
        "'ConnectionError' of type 'ConnectionRefusedError'",
        "MCP_REFUSED: group leaf 2 of 3: message_patterns[0] '(?i)mcp' matched",
    )


def test_a_leaf_matches_by_message_and_by_its_cause_chain() -> None:
    by_message = CATALOG.match(failure(GROUP, leaves=[GroupLeaf("x.Y", "call timed out")]))
    by_cause = CATALOG.match(
        failure(
            GROUP,
            leaves=[GroupLeaf("tenacity.RetryError", "", cause_types=("openai.RateLimitError",))],
        )
    )

    assert (by_message.code, by_message.group_leaf) == ("TIMED_OUT", 0)
    assert (by_cause.code, by_cause.group_leaf) == ("RATE_LIMITED", 0)
    assert "matched cause 'openai.RateLimitError'" in by_cause.reasons[0]


def test_no_leaf_matching_falls_back_to_the_group_itself() -> None:
    leaves = [GroupLeaf("KeyError", "'a'"), GroupLeaf("TypeError", "bad operand")]

    verdict = CATALOG.match(failure(GROUP, GROUP_MESSAGE, leaves=leaves))

    assert verdict.code == "TASK_GROUP" and verdict.group_leaf is None
    assert verdict.reasons == ("TASK_GROUP: message_patterns[0] 'TaskGroup' matched",)
    assert CATALOG.match(failure(GROUP, "other", leaves=leaves)).code == "UNCATALOGED"


def test_the_spans_attributes_are_the_groups_not_a_leafs() -> None:
    # The 429 status is on the span: it may classify the group, but it does not make the
    # first leaf (a programming error) a rate limit.
    attributes = {"http.response.status_code": 429}
    leaves = [GroupLeaf("KeyError", "'a'"), GroupLeaf("x.Y", "it timed out")]

    with_leaves = CATALOG.match(failure(GROUP, "x", attributes=attributes, leaves=leaves))
    without = CATALOG.match(failure(GROUP, "x", attributes=attributes, leaves=leaves[:1]))

    assert (with_leaves.code, with_leaves.group_leaf) == ("TIMED_OUT", 1)
    assert (without.code, without.group_leaf) == ("HTTP_429", None)


def test_only_the_first_leaves_are_matched() -> None:
    unknown = [GroupLeaf("KeyError", "'k'")] * (MAX_GROUP_LEAVES - 1)
    late = GroupLeaf("openai.RateLimitError", "")

    assert CATALOG.match(failure(GROUP, leaves=[*unknown, late])).code == "RATE_LIMITED"
    assert CATALOG.match(failure(GROUP, leaves=[*unknown, unknown[0], late])).code == (
        "UNCATALOGED"
    )


def test_a_failure_that_is_not_a_group_has_no_group_leaf() -> None:
    verdict = CATALOG.match(failure("openai.RateLimitError"))

    assert verdict.code == "RATE_LIMITED" and verdict.group_leaf is None
    assert verdict.to_dict()["group_leaf"] is None


def test_a_leaf_is_matched_redacted_like_the_failure_itself() -> None:
    # A sender without the agent's redaction: the secret in a leaf is redacted by the receiver
    # before matching, so a pattern that would see it does not match.
    secret = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
    catalog = build(
        entry("SAW_THE_SECRET", {"message_patterns": ["sk-proj-a1B2"]}, priority=10),
        entry("SAW_IT_REDACTED", {"message_patterns": [r"\[REDACTED"]}),
    )
    body = trace_request(
        [
            span(
                events=[
                    exception_event(
                        "ExceptionGroup",
                        "1 sub-exception",
                        failcat__group__exception_types=[f"pkg.{secret}"],
                        failcat__group__messages=[f"bad key {secret}"],
                    )
                ]
            )
        ]
    ).SerializeToString()
    events = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))

    [(row, verdict)] = FailurePreparer(catalog, Redactor()).prepare(events.events)

    assert (verdict.code, verdict.group_leaf) == ("SAW_IT_REDACTED", 0)
    assert secret not in repr(row) and secret not in repr(verdict)
